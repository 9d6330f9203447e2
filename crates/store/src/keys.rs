//! API keys: stored as SHA-256 hashes (the key itself is shown once, at creation). Keys are
//! 256 random bits, so a fast hash is as safe as a slow one and keeps per-request checks
//! cheap.

use crate::{Result, Store, StoreError, new_id, now_ms};
use sha2::{Digest, Sha256};
use sqlx::Row;
use std::fmt;
use std::str::FromStr;

/// What a key may do.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Read only.
    Viewer,
    /// Send and route; cannot change configuration.
    Operator,
    /// Change configuration (providers, decks, keys below owner).
    Admin,
    /// Everything.
    Owner,
}

impl Role {
    /// The name used in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Admin => "admin",
            Role::Owner => "owner",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "viewer" => Ok(Role::Viewer),
            "operator" => Ok(Role::Operator),
            "admin" => Ok(Role::Admin),
            "owner" => Ok(Role::Owner),
            _ => Err(format!(
                "unknown role {s:?}: expected owner, admin, operator or viewer"
            )),
        }
    }
}

/// A stored key (never the secret).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ApiKey {
    /// Its id.
    pub id: String,
    /// Its organisation.
    pub org_id: String,
    /// Its role.
    pub role: Role,
    /// A label.
    pub name: String,
    /// The first characters of the secret, to recognise it.
    pub prefix: String,
    /// Creation instant.
    pub created_at: i64,
    /// Revocation instant, if revoked.
    pub revoked_at: Option<i64>,
}

/// The SHA-256 of a key secret, hex-encoded.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// A stored role name read back.
pub(crate) fn role_from(text: String) -> Result<Role> {
    text.parse().map_err(|reason| StoreError::Corrupt {
        what: "role",
        reason,
    })
}

fn key_from_row(r: &sqlx::any::AnyRow) -> Result<ApiKey> {
    Ok(ApiKey {
        id: r.get("id"),
        org_id: r.get("org_id"),
        role: role_from(r.get("role"))?,
        name: r.get("name"),
        prefix: r.get("key_prefix"),
        created_at: r.get("created_at"),
        revoked_at: r.get("revoked_at"),
    })
}

impl Store {
    /// Creates a key and returns it with its secret, which is not stored.
    pub async fn create_key(
        &self,
        org_id: &str,
        role: Role,
        name: &str,
    ) -> Result<(ApiKey, String)> {
        let bytes: [u8; 32] = rand::random();
        let secret = format!("sy_{}", hex::encode(bytes));
        let key = ApiKey {
            id: new_id(),
            org_id: org_id.to_string(),
            role,
            name: name.to_string(),
            prefix: secret[..10].to_string(),
            created_at: now_ms(),
            revoked_at: None,
        };
        sqlx::query(
            "INSERT INTO api_keys (id, org_id, role, name, key_hash, key_prefix, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&key.id)
        .bind(&key.org_id)
        .bind(role.as_str())
        .bind(&key.name)
        .bind(hash_secret(&secret))
        .bind(&key.prefix)
        .bind(key.created_at)
        .execute(self.writer())
        .await?;
        Ok((key, secret))
    }

    /// The live (not revoked) key with this secret.
    pub async fn key_by_secret(&self, secret: &str) -> Result<Option<ApiKey>> {
        let row = sqlx::query(
            "SELECT id, org_id, role, name, key_prefix, created_at, revoked_at FROM api_keys \
             WHERE key_hash = $1 AND revoked_at IS NULL",
        )
        .bind(hash_secret(secret))
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(key_from_row).transpose()
    }

    /// The organisation's keys.
    pub async fn keys(&self, org_id: &str) -> Result<Vec<ApiKey>> {
        let rows = sqlx::query(
            "SELECT id, org_id, role, name, key_prefix, created_at, revoked_at FROM api_keys \
             WHERE org_id = $1 ORDER BY id",
        )
        .bind(org_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(key_from_row).collect()
    }

    /// Revokes a key of the organisation; `false` when there is no such live key.
    pub async fn revoke_key(&self, org_id: &str, id: &str) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE api_keys SET revoked_at = $1 WHERE org_id = $2 AND id = $3 AND revoked_at IS NULL",
        )
        .bind(now_ms())
        .bind(org_id)
        .bind(id)
        .execute(self.writer())
        .await?;
        Ok(done.rows_affected() > 0)
    }
}
