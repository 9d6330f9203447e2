//! Dashboard users: people who sign in with an email address and a password. The store keeps
//! the password's hash as the server made it; it never sees the password.

use crate::keys::role_from;
use crate::{Result, Role, Store, new_id, now_ms};
use sqlx::Row;
use sqlx::any::AnyRow;

/// A user (never the password hash).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct User {
    /// Its id.
    pub id: String,
    /// Its organisation.
    pub org_id: String,
    /// Sign-in address, lower-cased.
    pub email: String,
    /// Display name.
    pub name: String,
    /// What it may do, as for API keys.
    pub role: Role,
    /// Its own feature toggles (a JSON document).
    #[serde(skip)]
    pub features: String,
    /// Creation instant, unix ms.
    pub created_at: i64,
    /// When it was disabled; a disabled user cannot sign in and its sessions stop.
    pub disabled_at: Option<i64>,
}

/// A user to create.
#[derive(Debug, Clone)]
pub struct NewUser<'a> {
    /// Its organisation.
    pub org_id: &'a str,
    /// Sign-in address (stored lower-cased).
    pub email: &'a str,
    /// Display name.
    pub name: &'a str,
    /// Its role.
    pub role: Role,
    /// The password's hash (PHC string).
    pub password_hash: &'a str,
}

/// Changes to a user; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct UserPatch {
    /// New display name.
    pub name: Option<String>,
    /// New role.
    pub role: Option<Role>,
    /// New password hash.
    pub password_hash: Option<String>,
    /// Disable (`true`) or enable (`false`).
    pub disabled: Option<bool>,
}

const COLUMNS: &str = "id, org_id, email, name, role, features, created_at, disabled_at";

fn user_from_row(r: &AnyRow) -> Result<User> {
    Ok(User {
        id: r.get("id"),
        org_id: r.get("org_id"),
        email: r.get("email"),
        name: r.get("name"),
        role: role_from(r.get("role"))?,
        features: r.get("features"),
        created_at: r.get("created_at"),
        disabled_at: r.get("disabled_at"),
    })
}

impl Store {
    /// Creates a user; `None` when the address already has an account.
    pub async fn create_user(&self, new: NewUser<'_>) -> Result<Option<User>> {
        let user = User {
            id: new_id(),
            org_id: new.org_id.to_string(),
            email: new.email.trim().to_lowercase(),
            name: new.name.to_string(),
            role: new.role,
            features: "{}".into(),
            created_at: now_ms(),
            disabled_at: None,
        };
        let done = sqlx::query(
            "INSERT INTO users (id, org_id, email, name, role, password_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (email) DO NOTHING",
        )
        .bind(&user.id)
        .bind(&user.org_id)
        .bind(&user.email)
        .bind(&user.name)
        .bind(user.role.as_str())
        .bind(new.password_hash)
        .bind(user.created_at)
        .execute(self.writer())
        .await?;
        Ok((done.rows_affected() == 1).then_some(user))
    }

    /// The organisation's users.
    pub async fn users(&self, org_id: &str) -> Result<Vec<User>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM users WHERE org_id = $1 ORDER BY id"
        )))
        .bind(org_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(user_from_row).collect()
    }

    /// One user of the organisation.
    pub async fn user(&self, org_id: &str, id: &str) -> Result<Option<User>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM users WHERE org_id = $1 AND id = $2"
        )))
        .bind(org_id)
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    /// The enabled user with this address and its password hash, to check a sign-in.
    pub async fn user_for_sign_in(&self, email: &str) -> Result<Option<(User, String)>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS}, password_hash FROM users WHERE email = $1 AND disabled_at IS NULL"
        )))
        .bind(email.trim().to_lowercase())
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| Ok((user_from_row(&r)?, r.get("password_hash"))))
            .transpose()
    }

    /// How many users exist in all (none means the first-run set-up is open).
    pub async fn user_count(&self) -> Result<i64> {
        let row = sqlx::query("SELECT COUNT(*) FROM users")
            .fetch_one(self.pool())
            .await?;
        Ok(row.get(0))
    }

    /// Applies a patch; `false` when the organisation has no such user.
    pub async fn update_user(&self, org_id: &str, id: &str, patch: &UserPatch) -> Result<bool> {
        let disabled_at = patch.disabled.map(|d| d.then(now_ms));
        let done = sqlx::query(
            "UPDATE users SET name = COALESCE($1, name), role = COALESCE($2, role), \
             password_hash = COALESCE($3, password_hash), \
             disabled_at = CASE WHEN $4 = 1 THEN $5 ELSE disabled_at END \
             WHERE org_id = $6 AND id = $7",
        )
        .bind(patch.name.clone())
        .bind(patch.role.map(|r| r.as_str()))
        .bind(patch.password_hash.clone())
        .bind(i64::from(disabled_at.is_some()))
        .bind(disabled_at.flatten())
        .bind(org_id)
        .bind(id)
        .execute(self.writer())
        .await?;
        if patch.disabled == Some(true) || patch.password_hash.is_some() {
            self.end_user_sessions(id).await?;
        }
        Ok(done.rows_affected() > 0)
    }

    /// Replaces a user's own feature toggles.
    pub async fn set_user_features(&self, org_id: &str, id: &str, doc: &str) -> Result<bool> {
        let done = sqlx::query("UPDATE users SET features = $1 WHERE org_id = $2 AND id = $3")
            .bind(doc)
            .bind(org_id)
            .bind(id)
            .execute(self.writer())
            .await?;
        Ok(done.rows_affected() > 0)
    }
}
