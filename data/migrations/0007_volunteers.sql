-- Volunteers: sign-ups made by chat, and the fortnightly volunteer meeting (permanence bénévole).
-- Times are ISO 8601 UTC text; meeting days and hours are local (TIMEZONE), as staff say them.

CREATE TABLE volunteer_signups (
    id INTEGER PRIMARY KEY AUTOINCREMENT,   -- never reused: a new sign-up is news for staff again
    person_id INTEGER NOT NULL UNIQUE REFERENCES persons(id) ON DELETE CASCADE,
    name TEXT NOT NULL,                     -- as the person gave it (guests have no registered name)
    activities TEXT NOT NULL,               -- activity keys separated by spaces: gardening kitchen
    availability TEXT NOT NULL,             -- free text: "le samedi", "weekday evenings"
    consent INTEGER NOT NULL,               -- 1: agrees to be contacted (reminders, staff)
    reminders INTEGER NOT NULL DEFAULT 1,   -- 0 after STOP RAPPELS; the rest of their messages go on
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- The Wednesday the fortnightly rhythm counts from (one row).
CREATE TABLE meeting_reference (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    day TEXT NOT NULL,                      -- local date YYYY-MM-DD, a Wednesday
    set_by INTEGER REFERENCES persons(id) ON DELETE SET NULL,
    set_at TEXT NOT NULL
);

-- Meetings outside the rhythm: an extra one, or where a moved one now takes place.
CREATE TABLE meeting_extras (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    day TEXT NOT NULL,                      -- local date YYYY-MM-DD
    starts TEXT NOT NULL,                   -- local HH:MM
    ends TEXT NOT NULL,                     -- local HH:MM
    reason TEXT,                            -- shown to people
    moved_from TEXT,                        -- the key of the meeting it replaces; NULL for an extra one
    moved_from_day TEXT,                    -- that meeting's day, to say "moved from Wednesday 2"
    created_by INTEGER REFERENCES persons(id) ON DELETE SET NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX meeting_extras_day ON meeting_extras(day);

-- A meeting that will not take place where the calendar said: cancelled, or moved (moved_to).
CREATE TABLE meeting_cancellations (
    meeting TEXT PRIMARY KEY,               -- r2026-12-02 (a date of the rhythm) or x7 (meeting_extras 7)
    reason TEXT,                            -- shown to people
    moved_to INTEGER REFERENCES meeting_extras(id),
    created_by INTEGER REFERENCES persons(id) ON DELETE SET NULL,
    created_at TEXT NOT NULL
);
