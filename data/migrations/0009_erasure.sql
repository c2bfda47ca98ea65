-- Erasure reaches every row that names a person, and LIER tells nobody who is registered.

-- The person an outbox row is about when it is addressed to someone else (staff told of a sign-up,
-- a payee told who paid): erasing that person neutralises the row's body.
ALTER TABLE outbox ADD COLUMN about_person_id INTEGER REFERENCES persons(id);
CREATE INDEX outbox_about ON outbox(about_person_id) WHERE about_person_id IS NOT NULL;

-- A ledger memo may change once, and only to be erased (the entry, its postings and amounts stay):
-- memo_erased_at says when. Every other column stays append-only, as before.
ALTER TABLE troc_entries ADD COLUMN memo_erased_at TEXT;
DROP TRIGGER troc_entries_no_update;
CREATE TRIGGER troc_entries_no_update BEFORE UPDATE ON troc_entries
WHEN NEW.id IS NOT OLD.id
    OR NEW.idem_key IS NOT OLD.idem_key
    OR NEW.category IS NOT OLD.category
    OR NEW.actor_person_id IS NOT OLD.actor_person_id
    OR NEW.reverses_entry_id IS NOT OLD.reverses_entry_id
    OR NEW.created_at IS NOT OLD.created_at
    OR OLD.memo_erased_at IS NOT NULL
    OR NEW.memo_erased_at IS NULL
BEGIN SELECT RAISE(ABORT, 'troc_entries is append-only'); END;

-- Every LIER request leaves a code row, also when nothing was typed that anyone registered under
-- (person_id NULL: a decoy no code can match), so the next steps answer the same either way and the
-- limits per asking account and overall can be counted. SQLite cannot drop NOT NULL in place.
CREATE TABLE link_codes_new (
    id INTEGER PRIMARY KEY,
    person_id INTEGER REFERENCES persons(id) ON DELETE CASCADE,  -- NULL: nobody registered as typed, or nothing sent
    channel TEXT NOT NULL,                  -- the identity asking to be linked
    address TEXT NOT NULL,
    code TEXT NOT NULL,                     -- 6 digits; kept readable so staff can read it out
    tries INTEGER NOT NULL DEFAULT 0,
    expires_at TEXT NOT NULL,
    used_at TEXT,
    created_at TEXT NOT NULL
);
INSERT INTO link_codes_new (id, person_id, channel, address, code, tries, expires_at, used_at, created_at)
    SELECT id, person_id, channel, address, code, tries, expires_at, used_at, created_at FROM link_codes;
DROP TABLE link_codes;
ALTER TABLE link_codes_new RENAME TO link_codes;
CREATE INDEX link_codes_person ON link_codes(person_id, created_at);
CREATE INDEX link_codes_asker ON link_codes(channel, address, created_at);
CREATE INDEX link_codes_created ON link_codes(created_at);
