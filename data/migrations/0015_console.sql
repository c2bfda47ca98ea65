-- The staff console (/console/): login without passwords, sessions, and the audit log.
-- A login code is sent through the bot to a staff member; only its SHA-256 is kept, with how many
-- times it was tried, so a guess is bounded. An attempt for an unknown person is kept too (person_id
-- NULL): the answer and the timing are the same, and the rate limit counts it.
-- A session is a random token in an HttpOnly cookie; only its SHA-256 is kept here, with its CSRF
-- token, its last use (idle expiry) and its start (absolute expiry). Logout deletes the row.
-- The audit log keeps who changed what from the console, with the value before and after (JSON).

CREATE TABLE console_logins (
    id INTEGER PRIMARY KEY,
    attempt_hash TEXT NOT NULL UNIQUE,
    person_id INTEGER REFERENCES persons(id) ON DELETE CASCADE,
    code_hash TEXT,
    client TEXT NOT NULL,
    tries INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT
);
CREATE INDEX console_logins_person ON console_logins(person_id, created_at);
CREATE INDEX console_logins_client ON console_logins(client, created_at);

CREATE TABLE console_sessions (
    token_hash TEXT PRIMARY KEY,
    person_id INTEGER NOT NULL REFERENCES persons(id) ON DELETE CASCADE,
    csrf TEXT NOT NULL,
    language TEXT,
    created_at TEXT NOT NULL,
    seen_at TEXT NOT NULL
);
CREATE INDEX console_sessions_person ON console_sessions(person_id);

CREATE TABLE console_audit (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    person_id INTEGER REFERENCES persons(id) ON DELETE SET NULL,
    action TEXT NOT NULL,
    target TEXT,
    before TEXT,
    after TEXT
);
CREATE INDEX console_audit_at ON console_audit(at);
