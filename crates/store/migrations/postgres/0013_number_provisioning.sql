-- Numbers as resources (monthly cost, attestation, what they are assigned to), the record of
-- each provisioning through the fallback chain, usage warnings given once per threshold and
-- window, and indexes for per-number statistics.
ALTER TABLE phone_numbers ADD COLUMN monthly_cost TEXT NULL;
ALTER TABLE phone_numbers ADD COLUMN currency TEXT NULL;
-- The STIR/SHAKEN attestation the carrier gives calls from it: A, B or C.
ALTER TABLE phone_numbers ADD COLUMN attestation TEXT NULL;
-- What it serves beside pools: an assistant, a campaign, a tenant or an inbound route.
ALTER TABLE phone_numbers ADD COLUMN assigned_kind TEXT NULL;
ALTER TABLE phone_numbers ADD COLUMN assigned_ref TEXT NULL;
-- Bought through the platform's account (counts against the organisation's free tier).
ALTER TABLE phone_numbers ADD COLUMN from_platform BIGINT NOT NULL DEFAULT 0;

-- The organisation's provisioning chain (JSON).
ALTER TABLE orgs ADD COLUMN provisioning TEXT NOT NULL DEFAULT '{}';

-- One provisioning per subject: asking again returns it, or retries one that ended needing
-- a person.
CREATE TABLE provisionings (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    subject_kind TEXT NOT NULL,
    subject_ref TEXT NOT NULL,
    -- running, assigned, needs_manual_assignment
    status TEXT NOT NULL,
    number_id TEXT NULL REFERENCES phone_numbers(id) ON DELETE SET NULL,
    -- JSON list of the steps tried, each with its outcome.
    steps TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (org_id, subject_kind, subject_ref)
);

-- A warning is given once per scope (a pool, the free tier), window and threshold.
CREATE TABLE usage_warnings (
    org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    scope TEXT NOT NULL,
    window_key TEXT NOT NULL,
    threshold BIGINT NOT NULL,
    used BIGINT NOT NULL,
    capacity BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, scope, window_key, threshold)
);

CREATE INDEX calls_from ON calls(org_id, from_e164, created_at);
CREATE INDEX messages_from ON messages(org_id, from_e164, created_at);
