-- Message templates, the per-channel opt-out list and the do-not-contact list.
CREATE TABLE templates (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    channel TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (org_id, name)
);

-- Numbers that asked not to be messaged on a channel (STOP) or were added by an operator.
CREATE TABLE opt_outs (
    org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    channel TEXT NOT NULL,
    e164 TEXT NOT NULL,
    -- keyword, api
    source TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, channel, e164)
);

-- Numbers never to contact on any channel.
CREATE TABLE do_not_contact (
    org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    e164 TEXT NOT NULL,
    reason TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, e164)
);

-- The organisation's replies to STOP, START and HELP (JSON; '{}' means the defaults).
ALTER TABLE orgs ADD COLUMN consent_texts TEXT NOT NULL DEFAULT '{}';
