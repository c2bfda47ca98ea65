-- A payment to a member code or phone number that matched nobody, counted so that paying is no way
-- to learn who is registered: a few such answers an hour per payer, and a few more for everyone
-- together. No code or number is kept, only who asked and when; rows older than the hour are dropped.

CREATE TABLE troc_payee_misses (
    person_id INTEGER NOT NULL REFERENCES persons(id) ON DELETE CASCADE,
    missed_at TEXT NOT NULL
);
CREATE INDEX troc_payee_misses_at ON troc_payee_misses(missed_at);
