-- Budgets and their spend per window. Spend is whole nano-units of the budget's currency so
-- that one statement can add a send's expected cost only while the total stays under the
-- stop threshold, on every instance at once.
CREATE TABLE budgets (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    -- organization, provider or campaign; scope_ref is '' for the organisation.
    scope_kind TEXT NOT NULL,
    scope_ref TEXT NOT NULL,
    -- daily or monthly, in the organisation's time zone.
    period TEXT NOT NULL,
    amount TEXT NOT NULL,
    currency TEXT NOT NULL,
    alert_pct BIGINT NOT NULL,
    stop_pct BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (org_id, scope_kind, scope_ref, period)
);

CREATE TABLE budget_windows (
    budget_id TEXT NOT NULL REFERENCES budgets(id) ON DELETE CASCADE,
    window_key TEXT NOT NULL,
    -- Expected costs of sends admitted, corrected to their rated cost when known.
    committed BIGINT NOT NULL,
    PRIMARY KEY (budget_id, window_key)
);

-- The organisation's time zone (IANA name) for budget windows.
ALTER TABLE orgs ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'UTC';
