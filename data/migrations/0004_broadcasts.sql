-- Staff broadcasts (announcements). One row per broadcast; its messages are ordinary outbox rows
-- with cause 'broadcast:<id>', one per person, so the outbox's unique (cause, channel, address)
-- makes every recipient get it once. Times are ISO 8601 UTC text.

CREATE TABLE broadcasts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,   -- never reused: an old preview's buttons cannot confirm a newer one
    texts TEXT NOT NULL,                    -- JSON {"fr": "...", "en": "..."}; "fr" always, a person without their language gets it
    audience TEXT NOT NULL,                 -- canonical words: everyone, residents,sms, volunteers,en ...
    urgent INTEGER NOT NULL DEFAULT 0,      -- 1: SMS leave even inside quiet hours
    quiet_hours TEXT,                       -- 21:00-08:00 when confirmed; NULL when urgent or none configured
    timezone TEXT NOT NULL,                 -- the zone of quiet_hours (TIMEZONE when it was made)
    status TEXT NOT NULL DEFAULT 'draft',   -- draft, confirmed (being queued), sending, done, cancelled
    created_by INTEGER REFERENCES persons(id) ON DELETE SET NULL,     -- NULL: the command line
    cancelled_by INTEGER REFERENCES persons(id) ON DELETE SET NULL,
    created_at TEXT NOT NULL,
    confirmed_at TEXT,
    expanded_at TEXT,                       -- every recipient queued
    cancelled_at TEXT,
    finished_at TEXT,
    expanded_through INTEGER NOT NULL DEFAULT 0,  -- keyset cursor: persons up to this id are queued or counted
    queued INTEGER NOT NULL DEFAULT 0,      -- outbox rows written
    skipped_opted_out INTEGER NOT NULL DEFAULT 0,    -- not queued: said STOP on every channel they have
    skipped_unreachable INTEGER NOT NULL DEFAULT 0,  -- not queued: blocked the bot, number refused
    skipped_no_channel INTEGER NOT NULL DEFAULT 0,   -- not queued: no phone and no Telegram
    progress_chat TEXT,                     -- the staff's Telegram chat whose progress message is edited in place
    progress_language TEXT,
    progress_text TEXT,                     -- what that message shows now
    progress_final INTEGER NOT NULL DEFAULT 0  -- 1: the last edit (the report) is done
);
CREATE INDEX broadcasts_status ON broadcasts(status);
