-- The Idempotency-Key a message or call was created with, and a hash of that request, kept
-- on the entry itself so that creating it and claiming the key are one write: a retry after
-- a crash finds the entry, never a half-claimed key.
ALTER TABLE messages ADD COLUMN idempotency_key TEXT;
ALTER TABLE messages ADD COLUMN request_hash TEXT;
CREATE UNIQUE INDEX messages_idempotency ON messages(org_id, idempotency_key);
ALTER TABLE calls ADD COLUMN idempotency_key TEXT;
ALTER TABLE calls ADD COLUMN request_hash TEXT;
CREATE UNIQUE INDEX calls_idempotency ON calls(org_id, idempotency_key);
