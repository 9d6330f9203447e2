//! Organisations: the tenants every other record belongs to.

use crate::{Result, Store, new_id, now_ms};
use sqlx::Row;

/// An organisation.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Org {
    /// Its id.
    pub id: String,
    /// Its display name.
    pub name: String,
    /// Creation instant, unix ms.
    pub created_at: i64,
}

impl Store {
    /// Creates an organisation.
    pub async fn create_org(&self, name: &str) -> Result<Org> {
        let org = Org {
            id: new_id(),
            name: name.to_string(),
            created_at: now_ms(),
        };
        sqlx::query("INSERT INTO orgs (id, name, created_at) VALUES ($1, $2, $3)")
            .bind(&org.id)
            .bind(&org.name)
            .bind(org.created_at)
            .execute(self.pool())
            .await?;
        Ok(org)
    }

    /// An organisation by id.
    pub async fn org(&self, id: &str) -> Result<Option<Org>> {
        let row = sqlx::query("SELECT id, name, created_at FROM orgs WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.map(|r| Org {
            id: r.get(0),
            name: r.get(1),
            created_at: r.get(2),
        }))
    }

    /// The organisation's routing policy document (`{}` for the defaults).
    pub async fn routing_policy(&self, org_id: &str) -> Result<Option<String>> {
        let row = sqlx::query("SELECT routing_policy FROM orgs WHERE id = $1")
            .bind(org_id)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.map(|r| r.get(0)))
    }

    /// Replaces the organisation's routing policy document.
    pub async fn set_routing_policy(&self, org_id: &str, policy: &str) -> Result<bool> {
        let done = sqlx::query("UPDATE orgs SET routing_policy = $1 WHERE id = $2")
            .bind(policy)
            .bind(org_id)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Every organisation id (to build routing snapshots at start-up).
    pub async fn org_ids(&self) -> Result<Vec<String>> {
        let rows = sqlx::query("SELECT id FROM orgs ORDER BY id")
            .fetch_all(self.pool())
            .await?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }
}
