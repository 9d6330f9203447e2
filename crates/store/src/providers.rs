//! Configured providers. Credentials arrive already encrypted: the store never sees them in
//! clear.

use crate::{Page, Result, Store, new_id, now_ms};
use sqlx::{AssertSqlSafe, Row};

/// A provider as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderRecord {
    /// Its id.
    pub id: String,
    /// Its organisation.
    pub org_id: String,
    /// Its provider type (`twilio`, `sandbox`…).
    pub kind: String,
    /// Display name.
    pub name: String,
    /// Encrypted credentials (nonce and ciphertext).
    pub credentials: Vec<u8>,
    /// Routing settings as a JSON document.
    pub settings: String,
    /// Creation instant.
    pub created_at: i64,
    /// Last change.
    pub updated_at: i64,
}

/// What creating a provider needs.
#[derive(Debug, Clone)]
pub struct NewProvider {
    /// Its organisation.
    pub org_id: String,
    /// Its type.
    pub kind: String,
    /// Display name.
    pub name: String,
    /// Encrypted credentials.
    pub credentials: Vec<u8>,
    /// Settings JSON.
    pub settings: String,
}

const COLUMNS: &str = "id, org_id, kind, name, credentials, settings, created_at, updated_at";

fn from_row(r: &sqlx::any::AnyRow) -> ProviderRecord {
    ProviderRecord {
        id: r.get(0),
        org_id: r.get(1),
        kind: r.get(2),
        name: r.get(3),
        credentials: r.get(4),
        settings: r.get(5),
        created_at: r.get(6),
        updated_at: r.get(7),
    }
}

impl Store {
    /// Stores a new provider.
    pub async fn insert_provider(&self, p: NewProvider) -> Result<ProviderRecord> {
        let now = now_ms();
        let record = ProviderRecord {
            id: new_id(),
            org_id: p.org_id,
            kind: p.kind,
            name: p.name,
            credentials: p.credentials,
            settings: p.settings,
            created_at: now,
            updated_at: now,
        };
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO providers ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        )))
        .bind(&record.id)
        .bind(&record.org_id)
        .bind(&record.kind)
        .bind(&record.name)
        .bind(record.credentials.clone())
        .bind(&record.settings)
        .bind(record.created_at)
        .bind(record.updated_at)
        .execute(self.writer())
        .await?;
        Ok(record)
    }

    /// Replaces a provider's name, credentials and settings; `None` when the organisation has
    /// no such provider.
    pub async fn update_provider(&self, p: &ProviderRecord) -> Result<Option<ProviderRecord>> {
        let now = now_ms();
        let done = sqlx::query(
            "UPDATE providers SET name = $1, credentials = $2, settings = $3, updated_at = $4 \
             WHERE org_id = $5 AND id = $6",
        )
        .bind(&p.name)
        .bind(p.credentials.clone())
        .bind(&p.settings)
        .bind(now)
        .bind(&p.org_id)
        .bind(&p.id)
        .execute(self.writer())
        .await?;
        if done.rows_affected() == 0 {
            return Ok(None);
        }
        self.provider(&p.org_id, &p.id).await
    }

    /// A provider of an organisation.
    pub async fn provider(&self, org_id: &str, id: &str) -> Result<Option<ProviderRecord>> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM providers WHERE org_id = $1 AND id = $2"
        )))
        .bind(org_id)
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.as_ref().map(from_row))
    }

    /// A provider by id alone (for operator commands that act across organisations).
    pub async fn provider_by_id(&self, id: &str) -> Result<Option<ProviderRecord>> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM providers WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.as_ref().map(from_row))
    }

    /// A page of the organisation's providers, newest first.
    pub async fn providers_page(
        &self,
        org_id: &str,
        before: Option<&str>,
        limit: usize,
    ) -> Result<Page<ProviderRecord>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM providers WHERE org_id = $1 AND ($2 = '' OR id < $2) ORDER BY id DESC LIMIT $3"
        )))
        .bind(org_id)
        .bind(before.unwrap_or(""))
        .bind(limit as i64 + 1)
        .fetch_all(self.pool())
        .await?;
        Ok(Page::from_rows(
            rows.iter().map(from_row).collect(),
            limit,
            |p| p.id.clone(),
        ))
    }

    /// Every provider of an organisation (for routing snapshots), oldest first.
    pub async fn all_providers(&self, org_id: &str) -> Result<Vec<ProviderRecord>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM providers WHERE org_id = $1 ORDER BY id"
        )))
        .bind(org_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(from_row).collect())
    }

    /// Deletes a provider with its decks; `false` when there is no such provider.
    pub async fn delete_provider(&self, org_id: &str, id: &str) -> Result<bool> {
        let mut tx = self.writer().begin().await?;
        sqlx::query("DELETE FROM rate_rows WHERE deck_id IN (SELECT id FROM rate_decks WHERE org_id = $1 AND provider_id = $2)")
            .bind(org_id)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM rate_decks WHERE org_id = $1 AND provider_id = $2")
            .bind(org_id)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let done = sqlx::query("DELETE FROM providers WHERE org_id = $1 AND id = $2")
            .bind(org_id)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }
}
