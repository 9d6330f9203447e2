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
            .execute(self.writer())
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

    /// A settings document of the organisation (`{}` for the defaults).
    pub async fn org_document(&self, org_id: &str, doc: OrgDocument) -> Result<Option<String>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {} FROM orgs WHERE id = $1",
            doc.column()
        )))
        .bind(org_id)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(|r| r.get(0)))
    }

    /// Replaces a settings document of the organisation.
    pub async fn set_org_document(
        &self,
        org_id: &str,
        doc: OrgDocument,
        value: &str,
    ) -> Result<bool> {
        let done = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE orgs SET {} = $1 WHERE id = $2",
            doc.column()
        )))
        .bind(value)
        .bind(org_id)
        .execute(self.writer())
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// The organisation's routing policy document (`{}` for the defaults).
    pub async fn routing_policy(&self, org_id: &str) -> Result<Option<String>> {
        self.org_document(org_id, OrgDocument::RoutingPolicy).await
    }

    /// Replaces the organisation's routing policy document.
    pub async fn set_routing_policy(&self, org_id: &str, policy: &str) -> Result<bool> {
        self.set_org_document(org_id, OrgDocument::RoutingPolicy, policy)
            .await
    }

    /// Every organisation id (to build routing snapshots at start-up).
    pub async fn org_ids(&self) -> Result<Vec<String>> {
        let rows = sqlx::query("SELECT id FROM orgs ORDER BY id")
            .fetch_all(self.pool())
            .await?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }
}

/// The JSON settings documents kept on the organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrgDocument {
    /// Default strategy, thresholds, blocklist.
    RoutingPolicy,
    /// Replies to STOP, START and HELP.
    ConsentTexts,
    /// The chain that gets numbers to assistants, campaigns and tenants.
    Provisioning,
    /// Feature toggles, simple mode and saved presets.
    Features,
}

impl OrgDocument {
    fn column(self) -> &'static str {
        match self {
            OrgDocument::RoutingPolicy => "routing_policy",
            OrgDocument::ConsentTexts => "consent_texts",
            OrgDocument::Provisioning => "provisioning",
            OrgDocument::Features => "features",
        }
    }
}
