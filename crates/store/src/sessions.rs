//! Dashboard sessions: a browser signed in with a password or an API key. Only the token's
//! hash is kept, so a copy of the database cannot be used to sign in.

use crate::keys::role_from;
use crate::{Result, Role, Store, hash_secret, now_ms};
use sqlx::Row;

/// Who a session signed in as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionSubject {
    /// A user, by id.
    User(String),
    /// An API key, by id.
    Key(String),
}

/// A live session, with the role its user or key has now (a role change or a revocation
/// takes effect on the next request, not at the next sign-in).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Its organisation.
    pub org_id: String,
    /// Who signed in.
    pub subject: SessionSubject,
    /// The user's address or the key's label.
    pub label: String,
    /// The current role of the user or key.
    pub role: Role,
    /// The token every change through this session must carry in `X-CSRF-Token`.
    pub csrf_token: String,
    /// The user's own feature toggles (`{}` for a key).
    pub user_features: String,
    /// When it ends, unix ms.
    pub expires_at: i64,
}

impl Store {
    /// Opens a session for `subject` until `expires_at`; the caller made `token` and
    /// `csrf_token` and gives the token to the browser.
    pub async fn open_session(
        &self,
        org_id: &str,
        subject: &SessionSubject,
        token: &str,
        csrf_token: &str,
        expires_at: i64,
    ) -> Result<()> {
        let (user, key) = match subject {
            SessionSubject::User(id) => (Some(id.as_str()), None),
            SessionSubject::Key(id) => (None, Some(id.as_str())),
        };
        let now = now_ms();
        sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(now)
            .execute(self.writer())
            .await?;
        sqlx::query(
            "INSERT INTO sessions (token_hash, org_id, user_id, key_id, csrf_token, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(hash_secret(token))
        .bind(org_id)
        .bind(user)
        .bind(key)
        .bind(csrf_token)
        .bind(now)
        .bind(expires_at)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    /// The live session with this token: not expired, its user enabled or its key not
    /// revoked.
    pub async fn session(&self, token: &str) -> Result<Option<Session>> {
        let row = sqlx::query(
            "SELECT s.org_id, s.user_id, s.key_id, s.csrf_token, s.expires_at, \
             COALESCE(u.role, k.role) AS role, COALESCE(u.features, '{}') AS features, \
             COALESCE(u.email, k.name) AS label \
             FROM sessions s \
             LEFT JOIN users u ON u.id = s.user_id AND u.disabled_at IS NULL \
             LEFT JOIN api_keys k ON k.id = s.key_id AND k.revoked_at IS NULL \
             WHERE s.token_hash = $1 AND s.expires_at > $2",
        )
        .bind(hash_secret(token))
        .bind(now_ms())
        .fetch_optional(self.pool())
        .await?;
        let Some(r) = row else { return Ok(None) };
        let Some(role) = r.get::<Option<String>, _>("role") else {
            return Ok(None);
        };
        let user: Option<String> = r.get("user_id");
        let key: Option<String> = r.get("key_id");
        let subject = match (user, key) {
            (Some(u), _) => SessionSubject::User(u),
            (None, Some(k)) => SessionSubject::Key(k),
            (None, None) => return Ok(None),
        };
        Ok(Some(Session {
            org_id: r.get("org_id"),
            subject,
            label: r.get::<Option<String>, _>("label").unwrap_or_default(),
            role: role_from(role)?,
            csrf_token: r.get("csrf_token"),
            user_features: r.get("features"),
            expires_at: r.get("expires_at"),
        }))
    }

    /// Ends the session with this token (sign-out).
    pub async fn end_session(&self, token: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(hash_secret(token))
            .execute(self.writer())
            .await?;
        Ok(())
    }

    /// Ends every session of a user (disabled, new role or new password).
    pub async fn end_user_sessions(&self, user_id: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user_id)
            .execute(self.writer())
            .await?;
        Ok(())
    }
}
