-- Phone numbers brought in from providers, and the verified webhooks providers sent.
CREATE TABLE phone_numbers (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    provider_id TEXT NOT NULL REFERENCES providers(id) ON DELETE CASCADE,
    e164 TEXT NOT NULL,
    -- The provider's own id for the number (PN…, a Telnyx id).
    provider_number_id TEXT NOT NULL,
    voice BIGINT NOT NULL,
    sms BIGINT NOT NULL,
    mms BIGINT NOT NULL,
    -- active, or released when a sync no longer finds it at the provider.
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (provider_id, e164)
);
CREATE INDEX phone_numbers_org ON phone_numbers(org_id, id);

-- One row per distinct event: a webhook delivered twice has the same dedupe key.
CREATE TABLE webhook_events (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    provider_id TEXT NOT NULL REFERENCES providers(id) ON DELETE CASCADE,
    dedupe_key TEXT NOT NULL,
    event TEXT NOT NULL,
    -- The normalised event as JSON.
    detail TEXT NOT NULL,
    -- The body as received, for inspection.
    payload TEXT NOT NULL,
    occurred_at BIGINT,
    received_at BIGINT NOT NULL,
    UNIQUE (provider_id, dedupe_key)
);
CREATE INDEX webhook_events_org ON webhook_events(org_id, id);
