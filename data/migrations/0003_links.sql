-- Linking a new identity (often Telegram) to a registered person with a one-time code.

CREATE TABLE link_codes (
    id INTEGER PRIMARY KEY,
    person_id INTEGER NOT NULL REFERENCES persons(id) ON DELETE CASCADE,
    channel TEXT NOT NULL,                  -- the identity asking to be linked
    address TEXT NOT NULL,
    code TEXT NOT NULL,                     -- 6 digits; kept readable so staff can read it out
    tries INTEGER NOT NULL DEFAULT 0,
    expires_at TEXT NOT NULL,
    used_at TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX link_codes_person ON link_codes(person_id, created_at);

CREATE TABLE identity_links (
    id INTEGER PRIMARY KEY,
    person_id INTEGER NOT NULL REFERENCES persons(id) ON DELETE CASCADE,
    channel TEXT NOT NULL,                  -- the channel that was linked
    method TEXT NOT NULL,                   -- code: the person typed the code they received
    linked_at TEXT NOT NULL
);
