-- Outbound messages: the request, its routing plan and where it stands, written before any
-- provider is called (the outbox); and every attempt at a provider.
CREATE TABLE messages (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    channel TEXT NOT NULL,
    to_e164 TEXT NOT NULL,
    body TEXT NOT NULL,
    -- JSON list of media URLs.
    media TEXT NOT NULL,
    -- JSON object the caller attached.
    metadata TEXT NOT NULL,
    segments BIGINT NOT NULL,
    -- JSON list of {provider_id, from} to try in order.
    plan TEXT NOT NULL,
    -- The routing decision, as explained by the routing API.
    decision TEXT NOT NULL,
    -- accepted, queued, sent, delivered, undelivered, failed, unconfirmed.
    status TEXT NOT NULL,
    status_rank BIGINT NOT NULL,
    -- Index in the plan of the next provider to try.
    next_candidate BIGINT NOT NULL,
    -- 1 once a provider took it or it was given up; until then a dispatcher holds it by lease.
    dispatched BIGINT NOT NULL,
    lease_until BIGINT NOT NULL,
    provider_id TEXT,
    from_e164 TEXT,
    provider_message_id TEXT,
    error_code TEXT,
    error_message TEXT,
    provider_price TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX messages_org ON messages(org_id, id);
CREATE INDEX messages_undispatched ON messages(dispatched, lease_until);
CREATE INDEX messages_provider_ref ON messages(provider_id, provider_message_id);

CREATE TABLE message_attempts (
    id TEXT PRIMARY KEY,
    message_id TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    provider_id TEXT NOT NULL,
    from_e164 TEXT NOT NULL,
    -- sending (written before the provider is called), accepted, failed, unknown.
    status TEXT NOT NULL,
    provider_message_id TEXT,
    error_class TEXT,
    error_code TEXT,
    error_message TEXT,
    started_at BIGINT NOT NULL,
    finished_at BIGINT,
    UNIQUE (message_id, seq)
);
