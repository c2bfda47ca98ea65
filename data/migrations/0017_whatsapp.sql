-- WhatsApp: a free-form message only within 24 hours of the person's last message (last_inbound_at);
-- the first message a person sends is their opt-in (opted_in_at), STOP their opt-out (opted_out_at).
-- An outbox row that could not go by WhatsApp and had no other channel waits with status 'waiting'
-- until the person writes again.

ALTER TABLE identities ADD COLUMN last_inbound_at TEXT;
ALTER TABLE identities ADD COLUMN opted_in_at TEXT;
CREATE INDEX outbox_waiting ON outbox(channel, address) WHERE status = 'waiting';
