-- Each organisation's routing policy (default strategy, thresholds, blocklist) as JSON;
-- '{}' means the built-in defaults.
ALTER TABLE orgs ADD COLUMN routing_policy TEXT NOT NULL DEFAULT '{}';
