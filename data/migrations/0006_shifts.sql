-- Shifts of the Premières Heures workers: activities and places staff edit, shifts (one-off or made
-- from a weekly template), who is assigned, their answers and attendance, and contract hours with
-- their history. Times are stored in UTC; the local date and clock times are kept as staff typed them,
-- because "the same shift" (for an import) is the same local date, times, activity and place.

CREATE TABLE shift_activities (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    folded TEXT NOT NULL UNIQUE,              -- as people type it, to find it again
    active INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL
);

CREATE TABLE shift_places (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    folded TEXT NOT NULL UNIQUE,
    active INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL
);

-- A weekly pattern (the canteen service Monday to Thursday) that makes the shifts of a week.
CREATE TABLE shift_templates (
    id INTEGER PRIMARY KEY,
    activity_id INTEGER NOT NULL REFERENCES shift_activities(id),
    place_id INTEGER NOT NULL REFERENCES shift_places(id),
    weekdays TEXT NOT NULL,                   -- ISO weekdays, "1,2,3,4" = Monday to Thursday
    start_local TEXT NOT NULL,                -- HH:MM, Paris time
    end_local TEXT NOT NULL,
    capacity INTEGER NOT NULL CHECK (capacity >= 1),
    coordinator_person_id INTEGER REFERENCES persons(id),
    on_holidays INTEGER NOT NULL DEFAULT 0,   -- 1: also on French public holidays
    active INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL
);

CREATE TABLE shifts (
    id INTEGER PRIMARY KEY,
    activity_id INTEGER NOT NULL REFERENCES shift_activities(id),
    place_id INTEGER NOT NULL REFERENCES shift_places(id),
    local_date TEXT NOT NULL,                 -- YYYY-MM-DD in Paris
    start_local TEXT NOT NULL,                -- HH:MM in Paris
    end_local TEXT NOT NULL,
    starts_at TEXT NOT NULL,                  -- UTC
    ends_at TEXT NOT NULL,                    -- UTC
    capacity INTEGER NOT NULL CHECK (capacity >= 1),
    coordinator_person_id INTEGER REFERENCES persons(id),
    template_id INTEGER REFERENCES shift_templates(id),
    status TEXT NOT NULL DEFAULT 'planned' CHECK (status IN ('planned', 'cancelled')),
    reason TEXT,                              -- why it was cancelled or changed, shown to workers
    version INTEGER NOT NULL DEFAULT 1,       -- bumped when date, times or place change
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    CHECK (ends_at > starts_at)
);
CREATE UNIQUE INDEX shifts_same ON shifts(local_date, start_local, end_local, activity_id, place_id);
CREATE INDEX shifts_starts ON shifts(starts_at);

-- One row per time a worker was put on a shift. A seat is taken while status is 'assigned'; NON,
-- a cancellation by the worker or an unassignment by staff end it (status 'released') and keep the
-- row, so the coordinator and the payroll can see what happened.
CREATE TABLE shift_assignments (
    id INTEGER PRIMARY KEY,
    shift_id INTEGER NOT NULL REFERENCES shifts(id),
    person_id INTEGER NOT NULL REFERENCES persons(id),
    status TEXT NOT NULL DEFAULT 'assigned' CHECK (status IN ('assigned', 'released')),
    released_reason TEXT CHECK (released_reason IN ('declined', 'worker_cancelled', 'unassigned')),
    answer TEXT CHECK (answer IN ('yes', 'no')),   -- to the reminder of the current shift version
    answered_at TEXT,
    attendance TEXT CHECK (attendance IN ('present', 'absent')),
    attendance_at TEXT,
    assigned_by INTEGER REFERENCES persons(id),    -- NULL: the command line or an import
    assigned_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX shift_assignments_live ON shift_assignments(shift_id, person_id) WHERE status = 'assigned';
CREATE INDEX shift_assignments_person ON shift_assignments(person_id, status);

-- Contract hours per week from a date on; the one in force on a day is the latest valid_from <= day.
CREATE TABLE shift_contracts (
    id INTEGER PRIMARY KEY,
    person_id INTEGER NOT NULL REFERENCES persons(id),
    weekly_minutes INTEGER NOT NULL CHECK (weekly_minutes BETWEEN 0 AND 960),
    valid_from TEXT NOT NULL,                 -- YYYY-MM-DD, Paris
    created_at TEXT NOT NULL,
    UNIQUE (person_id, valid_from)
);
