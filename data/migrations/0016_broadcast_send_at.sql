-- A broadcast scheduled from the console for a later time: confirmed now, its recipients queued
-- when the time comes (handlers/broadcast/queue.py expand), so who gets it is counted then and a
-- cancel before that time sends nothing. NULL: sent as soon as it is confirmed. ISO 8601 UTC text.
ALTER TABLE broadcasts ADD COLUMN send_at TEXT;
