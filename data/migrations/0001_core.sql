-- Core tables: persons and their identities on each channel, conversation state, inbound de-duplication.
-- Times are ISO 8601 UTC text.

CREATE TABLE persons (
    id INTEGER PRIMARY KEY,
    name TEXT,
    member_code TEXT UNIQUE,
    language TEXT,                          -- chosen by the person; NULL until they choose
    status TEXT NOT NULL DEFAULT 'guest',   -- guest: an unknown sender; active: registered
    created_at TEXT NOT NULL
);

CREATE TABLE person_roles (
    person_id INTEGER NOT NULL REFERENCES persons(id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    PRIMARY KEY (person_id, role)
);

CREATE TABLE identities (
    id INTEGER PRIMARY KEY,
    channel TEXT NOT NULL,                  -- sms, telegram, console
    address TEXT NOT NULL,                  -- E.164 phone number, Telegram user id, console name
    person_id INTEGER NOT NULL REFERENCES persons(id) ON DELETE CASCADE,
    language_hint TEXT,                     -- what the channel said (Telegram language_code)
    opted_out_at TEXT,                      -- STOP: nothing but direct answers
    unreachable_at TEXT,                    -- the channel said it cannot deliver (blocked bot)
    created_at TEXT NOT NULL,
    UNIQUE (channel, address)
);
CREATE INDEX identities_person ON identities(person_id);

CREATE TABLE conversations (
    person_id INTEGER PRIMARY KEY REFERENCES persons(id) ON DELETE CASCADE,
    step TEXT,                              -- the pending step, e.g. orientation.ask_area
    data TEXT NOT NULL DEFAULT '{}',        -- JSON, the step's own data
    menu TEXT NOT NULL DEFAULT '[]',        -- JSON list of the choice keys last shown as numbers
    pages TEXT NOT NULL DEFAULT '[]',       -- JSON list of SMS pages still to send on SUITE
    updated_at TEXT NOT NULL
);

CREATE TABLE inbound_seen (
    channel TEXT NOT NULL,
    message_id TEXT NOT NULL,               -- Twilio MessageSid, Telegram update_id
    received_at TEXT NOT NULL,
    PRIMARY KEY (channel, message_id)
);
CREATE INDEX inbound_seen_received ON inbound_seen(received_at);
