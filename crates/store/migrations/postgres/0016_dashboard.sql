-- People who sign in to the dashboard with a password (argon2id hash; never the password).
CREATE TABLE users (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    -- Lower-cased; one account per address across organisations, so sign-in needs no org.
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    -- The user's own feature toggles (JSON); they only narrow the organisation's.
    features TEXT NOT NULL DEFAULT '{}',
    created_at BIGINT NOT NULL,
    disabled_at BIGINT
);
CREATE INDEX users_org ON users(org_id, id);

-- Dashboard sessions, signed in with a password (user_id) or an API key (key_id). The cookie
-- holds a random token; only its SHA-256 is kept. The CSRF token is sent back in a header
-- with every change made through the session.
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    user_id TEXT REFERENCES users(id) ON DELETE CASCADE,
    key_id TEXT REFERENCES api_keys(id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_expiry ON sessions(expires_at);

-- The organisation's feature toggles, simple mode and saved presets (JSON).
ALTER TABLE orgs ADD COLUMN features TEXT NOT NULL DEFAULT '{}';
