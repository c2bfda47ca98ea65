-- Confirmations answered by SMS carry a code printed in the prompt (a forged From never sees it).
-- Each wrong answer is remembered here for a day, so a forger cannot keep guessing by starting
-- over: after nine in a day SMS confirmations stop for that person (three wrong drop one operation).

CREATE TABLE confirm_failures (
    person_id INTEGER NOT NULL REFERENCES persons(id) ON DELETE CASCADE,
    failed_at TEXT NOT NULL
);
CREATE INDEX confirm_failures_person ON confirm_failures(person_id, failed_at);
