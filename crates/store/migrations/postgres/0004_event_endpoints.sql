-- Where organisations want their events, and every delivery of every event to them.
CREATE TABLE event_endpoints (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    url TEXT NOT NULL,
    -- The signing secret, encrypted with the master key.
    secret BYTEA NOT NULL,
    -- JSON list of event types, or ["*"].
    event_types TEXT NOT NULL,
    active BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX event_endpoints_org ON event_endpoints(org_id, id);

CREATE TABLE event_deliveries (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    endpoint_id TEXT NOT NULL REFERENCES event_endpoints(id) ON DELETE CASCADE,
    event_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    payload TEXT NOT NULL,
    -- pending, delivered, or failed once retries are exhausted.
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    last_status BIGINT,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    delivered_at BIGINT
);
CREATE INDEX event_deliveries_due ON event_deliveries(status, next_attempt_at);
CREATE INDEX event_deliveries_org ON event_deliveries(org_id, id);
