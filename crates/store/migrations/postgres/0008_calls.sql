-- Outbound calls, kept like messages: written with their routing plan before any provider is
-- called (the outbox), held by lease while a dispatcher works through the plan, and every
-- attempt at a provider recorded before it is made.
CREATE TABLE calls (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    to_e164 TEXT NOT NULL,
    -- JSON: {"url": "..."} or {"instructions": [...]}.
    answer TEXT NOT NULL,
    ring_timeout_secs BIGINT NOT NULL,
    -- JSON object the caller attached.
    metadata TEXT NOT NULL,
    -- JSON list of {provider_id, from} to try in order.
    plan TEXT NOT NULL,
    decision TEXT NOT NULL,
    -- queued, initiated, ringing, in-progress, completed, busy, no-answer, failed, canceled,
    -- unconfirmed.
    status TEXT NOT NULL,
    status_rank BIGINT NOT NULL,
    next_candidate BIGINT NOT NULL,
    dispatched BIGINT NOT NULL,
    lease_until BIGINT NOT NULL,
    provider_id TEXT,
    from_e164 TEXT,
    provider_call_id TEXT,
    error_code TEXT,
    error_message TEXT,
    provider_price TEXT,
    -- Unix ms of the first ring, the answer and the end; billable seconds.
    ringing_at BIGINT,
    answered_at BIGINT,
    ended_at BIGINT,
    duration_secs BIGINT,
    cost TEXT,
    baseline_cost TEXT,
    currency TEXT,
    price_mismatch BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX calls_org ON calls(org_id, id);
CREATE INDEX calls_undispatched ON calls(dispatched, lease_until);
CREATE INDEX calls_provider_ref ON calls(provider_id, provider_call_id);

CREATE TABLE call_attempts (
    id TEXT PRIMARY KEY,
    call_id TEXT NOT NULL REFERENCES calls(id) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    provider_id TEXT NOT NULL,
    from_e164 TEXT NOT NULL,
    status TEXT NOT NULL,
    provider_call_id TEXT,
    error_class TEXT,
    error_code TEXT,
    error_message TEXT,
    started_at BIGINT NOT NULL,
    finished_at BIGINT,
    UNIQUE (call_id, seq)
);
