-- The outbox: every message that is not the direct answer to an inbound message.
-- A row is written in the same transaction as the fact that causes it; (cause, channel, address)
-- is unique, so the same cause never reaches the same recipient twice.

CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    cause TEXT NOT NULL,                    -- what caused it: link-code:12, broadcast:3, shift-reminder:8:day
    channel TEXT NOT NULL,                  -- sms, telegram
    address TEXT NOT NULL,                  -- E.164 number or Telegram chat id
    person_id INTEGER REFERENCES persons(id) ON DELETE CASCADE,
    body TEXT NOT NULL,
    choices TEXT NOT NULL DEFAULT '[]',     -- JSON [[key, label], ...]: buttons on Telegram, numbers by SMS
    due_at TEXT NOT NULL,                   -- not sent before (quiet hours, reminders)
    status TEXT NOT NULL DEFAULT 'pending', -- pending, sending, sent, delivered, undelivered, failed, skipped, cancelled
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,                   -- after a retryable failure
    provider_id TEXT,                       -- Twilio MessageSid or Telegram message id
    error TEXT,                             -- why it failed or was skipped (no personal data)
    segments INTEGER,                       -- SMS segments billed
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (cause, channel, address)
);
CREATE INDEX outbox_due ON outbox(channel, status, due_at);
CREATE INDEX outbox_person ON outbox(person_id);
CREATE INDEX outbox_provider ON outbox(provider_id);
