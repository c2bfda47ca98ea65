-- One row per confirmed operation, written in the same transaction as what the operation does:
-- a second yes (the same SMS twice, a double tap, an answer retried after a crash) finds its token
-- here and is answered "already done" without doing anything again.

CREATE TABLE confirmed (
    token TEXT PRIMARY KEY,
    person_id INTEGER REFERENCES persons(id) ON DELETE SET NULL,
    operation TEXT NOT NULL,
    confirmed_at TEXT NOT NULL
);
CREATE INDEX confirmed_at ON confirmed(confirmed_at);
