-- What each call, message, email and number cost, part by part. The part rated on the
-- provider's deck (telephony, messaging, email) is kept on the entry itself as JSON, written
-- by the statement that writes its cost; further parts (the AI parts of AI calls, number
-- rental once per month) are rows here, one per part, so a part recorded twice (a retried
-- write, a second instance) is stored once.
ALTER TABLE messages ADD COLUMN cost_line TEXT;
ALTER TABLE calls ADD COLUMN cost_line TEXT;
ALTER TABLE emails ADD COLUMN cost_line TEXT;
CREATE TABLE cost_components (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    -- call, message, email or number.
    resource_kind TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    -- telephony, messaging, email, stt, llm, tts, ai_platform or number_rental.
    component TEXT NOT NULL,
    provider_id TEXT NOT NULL,
    -- '' for a one-off part; the month (YYYY-MM) of a recurring one.
    period TEXT NOT NULL,
    -- Decimal text: quantity in unit (second, segment, recipient, token, character, month),
    -- price per unit, fixed fee, and the amount (fee + quantity x unit price).
    quantity TEXT NOT NULL,
    unit TEXT NOT NULL,
    unit_price TEXT NOT NULL,
    fee TEXT NOT NULL,
    amount TEXT NOT NULL,
    currency TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (resource_id, component, provider_id, period)
);

-- Hourly sums per provider, destination country, channel, campaign and currency, kept up to
-- date as sends finish, so analytics read thousands of rows, not millions.
CREATE TABLE usage_rollups (
    org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    hour_ms BIGINT NOT NULL,
    provider_id TEXT NOT NULL,
    country TEXT NOT NULL,
    channel TEXT NOT NULL,
    campaign TEXT NOT NULL,
    currency TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    finals BIGINT NOT NULL,
    succeeded BIGINT NOT NULL,
    failed BIGINT NOT NULL,
    failovers BIGINT NOT NULL,
    duration_secs BIGINT NOT NULL,
    pdd_ms BIGINT NOT NULL,
    pdd_count BIGINT NOT NULL,
    cost_nanos BIGINT NOT NULL,
    baseline_nanos BIGINT NOT NULL,
    PRIMARY KEY (org_id, hour_ms, provider_id, country, channel, campaign, currency)
);

-- 1 once a finished send is counted in the rollups: counting and setting it are one
-- transaction, so no send is counted twice or missed.
ALTER TABLE messages ADD COLUMN tallied BIGINT NOT NULL DEFAULT 0;
ALTER TABLE calls ADD COLUMN tallied BIGINT NOT NULL DEFAULT 0;
ALTER TABLE emails ADD COLUMN tallied BIGINT NOT NULL DEFAULT 0;
CREATE INDEX messages_untallied ON messages(tallied, status_rank);
CREATE INDEX calls_untallied ON calls(tallied, status_rank);
CREATE INDEX emails_untallied ON emails(tallied, status_rank);
