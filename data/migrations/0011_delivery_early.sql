-- A delivery report that arrives before the outbox has recorded the provider's id (Twilio can
-- call back while the API's answer is still on its way): kept here, applied when the id is known.

CREATE TABLE delivery_early (
    provider_id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    rank INTEGER NOT NULL,
    error TEXT,
    received_at TEXT NOT NULL
);
CREATE INDEX delivery_early_received ON delivery_early(received_at);
