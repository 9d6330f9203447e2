//! Message templates, named per organisation.

use crate::{Page, Result, Store, new_id, now_ms};
use sqlx::Row;

/// A stored template.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TemplateRecord {
    /// Its id.
    pub id: String,
    /// Unique name within the organisation.
    pub name: String,
    /// `sms`, `mms` or `whatsapp`.
    pub channel: String,
    /// The minijinja source.
    pub body: String,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

const COLUMNS: &str = "id, name, channel, body, created_at, updated_at";

fn from_row(r: &sqlx::any::AnyRow) -> TemplateRecord {
    TemplateRecord {
        id: r.get(0),
        name: r.get(1),
        channel: r.get(2),
        body: r.get(3),
        created_at: r.get(4),
        updated_at: r.get(5),
    }
}

impl Store {
    /// Stores a template; `None` when the organisation already has one of that name.
    pub async fn insert_template(
        &self,
        org_id: &str,
        name: &str,
        channel: &str,
        body: &str,
    ) -> Result<Option<TemplateRecord>> {
        let now = now_ms();
        let id = new_id();
        let inserted = sqlx::query(
            "INSERT INTO templates (id, org_id, name, channel, body, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (org_id, name) DO NOTHING",
        )
        .bind(&id)
        .bind(org_id)
        .bind(name)
        .bind(channel)
        .bind(body)
        .bind(now)
        .execute(self.writer())
        .await?
        .rows_affected();
        Ok((inserted == 1).then(|| TemplateRecord {
            id,
            name: name.to_string(),
            channel: channel.to_string(),
            body: body.to_string(),
            created_at: now,
            updated_at: now,
        }))
    }

    /// One template by id or by name.
    pub async fn template(&self, org_id: &str, id_or_name: &str) -> Result<Option<TemplateRecord>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM templates WHERE org_id = $1 AND (id = $2 OR name = $2)"
        )))
        .bind(org_id)
        .bind(id_or_name)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.as_ref().map(from_row))
    }

    /// Replaces a template's body; false when there is no such template.
    pub async fn update_template(&self, org_id: &str, id: &str, body: &str) -> Result<bool> {
        let n = sqlx::query(
            "UPDATE templates SET body = $1, updated_at = $2 WHERE org_id = $3 AND id = $4",
        )
        .bind(body)
        .bind(now_ms())
        .bind(org_id)
        .bind(id)
        .execute(self.writer())
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    /// Deletes a template; false when there is no such template.
    pub async fn delete_template(&self, org_id: &str, id: &str) -> Result<bool> {
        let n = sqlx::query("DELETE FROM templates WHERE org_id = $1 AND id = $2")
            .bind(org_id)
            .bind(id)
            .execute(self.writer())
            .await?
            .rows_affected();
        Ok(n == 1)
    }

    /// A page of templates, newest first.
    pub async fn templates_page(
        &self,
        org_id: &str,
        before: Option<&str>,
        limit: usize,
    ) -> Result<Page<TemplateRecord>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM templates WHERE org_id = $1 AND ($2 = '' OR id < $2) \
             ORDER BY id DESC LIMIT $3"
        )))
        .bind(org_id)
        .bind(before.unwrap_or(""))
        .bind(limit as i64 + 1)
        .fetch_all(self.pool())
        .await?;
        Ok(Page::from_rows(
            rows.iter().map(from_row).collect(),
            limit,
            |t: &TemplateRecord| t.id.clone(),
        ))
    }
}
