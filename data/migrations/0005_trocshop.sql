-- The Trocshop time ledger: an append-only journal of entries whose postings sum to zero.
-- Amounts are whole minutes. Balances are kept on the account row for the floor check and are
-- proved against the postings by `voisins troc check`.

CREATE TABLE troc_accounts (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('person', 'place', 'issuing', 'notes')),
    person_id INTEGER UNIQUE REFERENCES persons(id),  -- kind person only; the journal outlives a forget
    label TEXT,                                         -- a place's name; never a person's name
    folded TEXT,                                        -- the label as people type it, to find a place
    floor INTEGER,                                      -- lowest allowed balance; NULL: none (issuing)
    balance INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    CHECK ((kind = 'person') = (person_id IS NOT NULL))
);
CREATE UNIQUE INDEX troc_accounts_one_system ON troc_accounts(kind) WHERE kind IN ('issuing', 'notes');
CREATE UNIQUE INDEX troc_accounts_place ON troc_accounts(folded) WHERE kind = 'place';

CREATE TABLE troc_entries (
    id INTEGER PRIMARY KEY,
    idem_key TEXT NOT NULL UNIQUE,                      -- the same request twice is written once
    category TEXT NOT NULL CHECK (category IN ('activity', 'exchange', 'purchase', 'notes', 'correction')),
    memo TEXT NOT NULL DEFAULT '',
    actor_person_id INTEGER REFERENCES persons(id),     -- who did it (NULL: the command line)
    reverses_entry_id INTEGER UNIQUE REFERENCES troc_entries(id),
    created_at TEXT NOT NULL
);

CREATE TABLE troc_postings (
    id INTEGER PRIMARY KEY,
    entry_id INTEGER NOT NULL REFERENCES troc_entries(id),
    account_id INTEGER NOT NULL REFERENCES troc_accounts(id),
    minutes INTEGER NOT NULL CHECK (minutes != 0)
);
CREATE INDEX troc_postings_account ON troc_postings(account_id, entry_id);
CREATE INDEX troc_postings_entry ON troc_postings(entry_id);

-- Paper notes moved by an entry: count > 0 leaves as notes (withdrawal), < 0 comes back (deposit).
CREATE TABLE troc_note_moves (
    id INTEGER PRIMARY KEY,
    entry_id INTEGER NOT NULL REFERENCES troc_entries(id),
    denomination INTEGER NOT NULL CHECK (denomination IN (15, 30, 60)),
    count INTEGER NOT NULL CHECK (count != 0)
);
CREATE INDEX troc_note_moves_entry ON troc_note_moves(entry_id);

CREATE TRIGGER troc_entries_no_update BEFORE UPDATE ON troc_entries
BEGIN SELECT RAISE(ABORT, 'troc_entries is append-only'); END;
CREATE TRIGGER troc_entries_no_delete BEFORE DELETE ON troc_entries
BEGIN SELECT RAISE(ABORT, 'troc_entries is append-only'); END;
CREATE TRIGGER troc_postings_no_update BEFORE UPDATE ON troc_postings
BEGIN SELECT RAISE(ABORT, 'troc_postings is append-only'); END;
CREATE TRIGGER troc_postings_no_delete BEFORE DELETE ON troc_postings
BEGIN SELECT RAISE(ABORT, 'troc_postings is append-only'); END;
CREATE TRIGGER troc_note_moves_no_update BEFORE UPDATE ON troc_note_moves
BEGIN SELECT RAISE(ABORT, 'troc_note_moves is append-only'); END;
CREATE TRIGGER troc_note_moves_no_delete BEFORE DELETE ON troc_note_moves
BEGIN SELECT RAISE(ABORT, 'troc_note_moves is append-only'); END;
