-- Hand-off: a resident who asks for a person ("parler à quelqu'un") gets a conversation with the
-- site's team, answered from the console; and each person's last exchanges with the bot, so staff
-- see what the person already asked and was told. Times are ISO 8601 UTC text.

-- One conversation; at most one open per person (closed_at NULL). Staff answer on channel/address,
-- the identity the person asked from. It closes when staff close it or 24 hours after last_at.
CREATE TABLE handoff_conversations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,   -- never reused: the outbox causes name it
    person_id INTEGER NOT NULL REFERENCES persons(id) ON DELETE CASCADE,
    channel TEXT NOT NULL,                  -- sms, telegram, console
    address TEXT NOT NULL,                  -- the phone number or chat id staff answer to
    opened_via TEXT NOT NULL CHECK (opened_via IN ('words', 'menu', 'crisis')),
    opened_at TEXT NOT NULL,
    last_at TEXT NOT NULL,                  -- the last message, either way: the 24 hours count from here
    acked_at TEXT,                          -- the last "message transmis" sent: at most one an hour
    closed_at TEXT,
    closed_by INTEGER REFERENCES persons(id) ON DELETE SET NULL,  -- the staff member; NULL when expired
    closed_reason TEXT CHECK (closed_reason IN ('staff', 'expired'))
);
CREATE UNIQUE INDEX handoff_one_open ON handoff_conversations(person_id) WHERE closed_at IS NULL;
CREATE INDEX handoff_conversations_closed ON handoff_conversations(closed_at);

-- What the person wrote (in) and what staff answered (out), in order.
CREATE TABLE handoff_messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id INTEGER NOT NULL REFERENCES handoff_conversations(id) ON DELETE CASCADE,
    direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    staff_id INTEGER REFERENCES persons(id) ON DELETE SET NULL,  -- the author of an answer
    body TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX handoff_messages_conversation ON handoff_messages(conversation_id, id);

-- A person's last exchanges with the bot (not staff's: theirs name other people): what they wrote
-- and the replies as sent. At most 20 per person and 7 days, purged as new ones come.
CREATE TABLE handoff_exchanges (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    person_id INTEGER NOT NULL REFERENCES persons(id) ON DELETE CASCADE,
    channel TEXT NOT NULL,
    inbound TEXT NOT NULL,                  -- empty for a button pressed or a position shared
    replies TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX handoff_exchanges_person ON handoff_exchanges(person_id, id);
CREATE INDEX handoff_exchanges_at ON handoff_exchanges(at);
