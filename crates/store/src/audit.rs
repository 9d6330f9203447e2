//! The audit log of mutating requests: who did what, when, with what outcome.

use crate::{Page, Result, Store, new_id, now_ms};
use sqlx::Row;

/// An entry to record.
#[derive(Debug, Clone)]
pub struct NewAuditEntry {
    /// Organisation.
    pub org_id: String,
    /// The API key id (or `cli`) that acted.
    pub actor: String,
    /// What was done, e.g. `POST /v1/providers`.
    pub action: String,
    /// The resource acted on.
    pub target: String,
    /// HTTP status of the outcome.
    pub outcome: u16,
    /// Extra facts as JSON (never secrets).
    pub detail: String,
}

/// A recorded entry.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AuditEntry {
    /// Its id.
    pub id: String,
    /// Who acted.
    pub actor: String,
    /// What was done.
    pub action: String,
    /// On what.
    pub target: String,
    /// HTTP status.
    pub outcome: i64,
    /// Extra facts (JSON text).
    pub detail: String,
    /// When, unix ms.
    pub created_at: i64,
}

impl Store {
    /// Records entries.
    pub async fn insert_audit(&self, entries: &[NewAuditEntry]) -> Result<()> {
        let mut tx = self.writer().begin().await?;
        for e in entries {
            sqlx::query(
                "INSERT INTO audit_log (id, org_id, actor, action, target, outcome, detail, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(new_id())
            .bind(&e.org_id)
            .bind(&e.actor)
            .bind(&e.action)
            .bind(&e.target)
            .bind(i64::from(e.outcome))
            .bind(&e.detail)
            .bind(now_ms())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// A page of the organisation's audit log, newest first.
    pub async fn audit_page(
        &self,
        org_id: &str,
        before: Option<&str>,
        limit: usize,
    ) -> Result<Page<AuditEntry>> {
        let rows = sqlx::query(
            "SELECT id, actor, action, target, outcome, detail, created_at FROM audit_log \
             WHERE org_id = $1 AND ($2 = '' OR id < $2) ORDER BY id DESC LIMIT $3",
        )
        .bind(org_id)
        .bind(before.unwrap_or(""))
        .bind(limit as i64 + 1)
        .fetch_all(self.pool())
        .await?;
        let items = rows
            .iter()
            .map(|r| AuditEntry {
                id: r.get(0),
                actor: r.get(1),
                action: r.get(2),
                target: r.get(3),
                outcome: r.get(4),
                detail: r.get(5),
                created_at: r.get(6),
            })
            .collect();
        Ok(Page::from_rows(items, limit, |e: &AuditEntry| e.id.clone()))
    }
}
