-- The places the orientation answers show. data/orientation/places.yaml is the seed: a place staff
-- never edited (origin 'seed') follows the file at every start; once staff import, edit or check it
-- (origin 'staff' or 'datainclusion'), the row is theirs and the file no longer changes it.
-- `entry` is the place as JSON, in the fields of places.yaml; `verified_on` is the day (YYYY-MM-DD)
-- it was last checked, for the weekly notice of places not checked for six months; `revision` grows
-- with every write, so a running bot sees an import made from the command line at the next question.

CREATE TABLE places (
    key TEXT PRIMARY KEY,
    entry TEXT NOT NULL,
    origin TEXT NOT NULL CHECK (origin IN ('seed', 'staff', 'datainclusion')),
    verified_on TEXT NOT NULL,
    revision INTEGER NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX places_verified_on ON places(verified_on);
