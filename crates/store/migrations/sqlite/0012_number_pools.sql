-- Caller-ID number pools: number attributes selection reads, pools and their members,
-- per-number daily usage (the cap counters), and the number each contact last received from.
ALTER TABLE phone_numbers ADD COLUMN kind TEXT NOT NULL DEFAULT 'local';
ALTER TABLE phone_numbers ADD COLUMN country TEXT NOT NULL DEFAULT '';
ALTER TABLE phone_numbers ADD COLUMN region TEXT NULL;
ALTER TABLE phone_numbers ADD COLUMN area_code TEXT NULL;
-- While resting after spam flags: when the rest ends (Unix ms).
ALTER TABLE phone_numbers ADD COLUMN rest_until BIGINT NULL;
-- While warming: when the warm-up began (Unix ms).
ALTER TABLE phone_numbers ADD COLUMN warmup_started_at BIGINT NULL;
ALTER TABLE phone_numbers ADD COLUMN spam_flags BIGINT NOT NULL DEFAULT 0;

CREATE TABLE number_pools (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    -- The selection rules as JSON (switchyard_core::pool::PoolRules).
    rules TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (org_id, name)
);

CREATE TABLE pool_numbers (
    pool_id TEXT NOT NULL REFERENCES number_pools(id) ON DELETE CASCADE,
    number_id TEXT NOT NULL REFERENCES phone_numbers(id) ON DELETE CASCADE,
    PRIMARY KEY (pool_id, number_id)
);

-- One counter per number, local day (in the number's time zone) and channel; a use is
-- reserved by one statement that increments only below the cap.
CREATE TABLE number_usage (
    number_id TEXT NOT NULL REFERENCES phone_numbers(id) ON DELETE CASCADE,
    day TEXT NOT NULL,
    channel TEXT NOT NULL,
    count BIGINT NOT NULL,
    -- The last use (Unix ms), for round-robin turns.
    last_used_at BIGINT NOT NULL,
    PRIMARY KEY (number_id, day, channel)
);

CREATE TABLE sticky_senders (
    pool_id TEXT NOT NULL REFERENCES number_pools(id) ON DELETE CASCADE,
    contact TEXT NOT NULL,
    number_id TEXT NOT NULL REFERENCES phone_numbers(id) ON DELETE CASCADE,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (pool_id, contact)
);
