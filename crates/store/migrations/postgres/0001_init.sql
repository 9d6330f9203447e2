-- Switchyard schema, PostgreSQL dialect. Kept column-for-column identical to the SQLite one:
-- ids are UUIDv7 text (time-ordered, so they double as pagination cursors), instants are
-- unix milliseconds, money is decimal text, documents are JSON text.
CREATE TABLE orgs (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    -- The routing policy (default strategy, thresholds, blocklist) as JSON; '{}' means the
    -- built-in defaults.
    routing_policy TEXT NOT NULL DEFAULT '{}'
);

CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    name TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    key_prefix TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);

CREATE TABLE providers (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    credentials BYTEA NOT NULL,
    settings TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX providers_org ON providers(org_id, id);

CREATE TABLE rate_decks (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    provider_id TEXT NOT NULL REFERENCES providers(id) ON DELETE CASCADE,
    channel TEXT NOT NULL,
    effective_from BIGINT NOT NULL,
    row_count BIGINT NOT NULL,
    source_name TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX rate_decks_org ON rate_decks(org_id, provider_id, id);

CREATE TABLE rate_rows (
    deck_id TEXT NOT NULL REFERENCES rate_decks(id) ON DELETE CASCADE,
    position BIGINT NOT NULL,
    prefix TEXT NOT NULL,
    destination TEXT NOT NULL,
    rate TEXT NOT NULL,
    connection_fee TEXT NOT NULL,
    attachment_fee TEXT NOT NULL,
    increment_initial BIGINT NOT NULL,
    increment_subsequent BIGINT NOT NULL,
    min_duration BIGINT NOT NULL,
    effective_from BIGINT,
    effective_to BIGINT,
    currency TEXT NOT NULL,
    closed BIGINT NOT NULL,
    line BIGINT NOT NULL,
    PRIMARY KEY (deck_id, position)
);

CREATE TABLE audit_log (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    outcome BIGINT NOT NULL,
    detail TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX audit_log_org ON audit_log(org_id, id);

-- Written at the rate of routing decisions: clustered on (org_id, id), which every query
-- uses, so each row costs one B-tree insertion.
CREATE TABLE routing_decisions (
    id TEXT NOT NULL,
    org_id TEXT NOT NULL,
    destination TEXT NOT NULL,
    channel TEXT NOT NULL,
    strategy TEXT NOT NULL,
    chosen_provider TEXT,
    decision TEXT NOT NULL,
    decision_ns BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, id)
);

CREATE TABLE idempotency_keys (
    org_id TEXT NOT NULL,
    idem_key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status BIGINT,
    body TEXT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, idem_key)
);
