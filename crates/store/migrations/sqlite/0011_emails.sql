-- Outbound emails: the message as it will be sent, its routing plan and where it stands,
-- written before any provider is called (the same outbox as messages and calls); every
-- attempt at a provider; everything that happened to it (provider events, opens and clicks
-- seen by Switchyard's own tracking, unsubscribes); and the addresses not to mail.
CREATE TABLE emails (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    -- marketing (carries List-Unsubscribe) or transactional.
    kind TEXT NOT NULL,
    -- The first recipient, for listings.
    to_address TEXT NOT NULL,
    subject TEXT NOT NULL,
    -- JSON: sender, recipients, bodies (tracking in place), attachments, headers, tags.
    content TEXT NOT NULL,
    -- JSON object the caller attached.
    metadata TEXT NOT NULL,
    recipients BIGINT NOT NULL,
    attachments BIGINT NOT NULL,
    size_bytes BIGINT NOT NULL,
    -- JSON list of {provider_id, from} to try in order.
    plan TEXT NOT NULL,
    decision TEXT NOT NULL,
    -- accepted, sent, deferred, delivered, bounced, failed, unconfirmed.
    status TEXT NOT NULL,
    status_rank BIGINT NOT NULL,
    next_candidate BIGINT NOT NULL,
    dispatched BIGINT NOT NULL,
    lease_until BIGINT NOT NULL,
    provider_id TEXT,
    from_address TEXT,
    provider_message_id TEXT,
    error_code TEXT,
    error_message TEXT,
    provider_price TEXT,
    cost TEXT,
    baseline_cost TEXT,
    currency TEXT,
    price_mismatch BIGINT NOT NULL DEFAULT 0,
    idempotency_key TEXT,
    request_hash TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX emails_org ON emails(org_id, id);
CREATE INDEX emails_undispatched ON emails(dispatched, lease_until);
CREATE INDEX emails_provider_ref ON emails(provider_id, provider_message_id);
CREATE INDEX emails_in_flight ON emails(status_rank, updated_at);
CREATE UNIQUE INDEX emails_idempotency ON emails(org_id, idempotency_key);

CREATE TABLE email_attempts (
    id TEXT PRIMARY KEY,
    email_id TEXT NOT NULL REFERENCES emails(id) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    provider_id TEXT NOT NULL,
    from_address TEXT NOT NULL,
    status TEXT NOT NULL,
    provider_message_id TEXT,
    error_class TEXT,
    error_code TEXT,
    error_message TEXT,
    started_at BIGINT NOT NULL,
    finished_at BIGINT,
    UNIQUE (email_id, seq)
);

CREATE TABLE email_events (
    id TEXT PRIMARY KEY,
    email_id TEXT NOT NULL REFERENCES emails(id) ON DELETE CASCADE,
    -- delivered, deferred, hard_bounce, soft_bounce, dropped, complained, opened, clicked,
    -- unsubscribed, sent.
    event TEXT NOT NULL,
    recipient TEXT,
    -- The bounce reason or the link followed.
    detail TEXT,
    -- A provider id, or 'switchyard' for its own tracking and unsubscribe pages.
    source TEXT NOT NULL,
    -- Unique per email: the same event reported twice is stored once.
    dedupe_key TEXT NOT NULL,
    occurred_at BIGINT NOT NULL,
    UNIQUE (email_id, dedupe_key)
);
CREATE INDEX email_events_email ON email_events(email_id, occurred_at);

CREATE TABLE email_suppressions (
    org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    -- Lower case.
    address TEXT NOT NULL,
    -- hard_bounce, complained, unsubscribed, manual.
    reason TEXT NOT NULL,
    -- all: no email at all; marketing: transactional email still goes (an unsubscribe).
    scope TEXT NOT NULL,
    email_id TEXT,
    detail TEXT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, address)
);
