//! Verified provider webhooks, one row per distinct event.

use crate::{Page, Result, Store, new_id, now_ms};
use sqlx::Row;

/// An event to record.
#[derive(Debug, Clone)]
pub struct NewWebhookEvent {
    /// Organisation owning the provider.
    pub org_id: String,
    /// Provider that sent it.
    pub provider_id: String,
    /// Unique per provider and event.
    pub dedupe_key: String,
    /// Short name (`call.answered`).
    pub event: String,
    /// The normalised event as JSON.
    pub detail: String,
    /// The body as received.
    pub payload: String,
    /// When it happened, per the provider.
    pub occurred_at: Option<i64>,
    /// The provider's id of the message or call it is about.
    pub resource_id: Option<String>,
}

/// A stored event.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct WebhookEvent {
    /// Its id.
    pub id: String,
    /// Provider.
    pub provider_id: String,
    /// Dedupe key.
    pub dedupe_key: String,
    /// Short name.
    pub event: String,
    /// Normalised event (JSON text).
    pub detail: String,
    /// Raw body.
    pub payload: String,
    /// Per the provider, unix ms.
    pub occurred_at: Option<i64>,
    /// Arrival, unix ms.
    pub received_at: i64,
}

impl Store {
    /// Records an event unless one with its dedupe key exists; true when it was new.
    pub async fn insert_webhook_event(&self, e: &NewWebhookEvent) -> Result<bool> {
        let inserted = sqlx::query(
            "INSERT INTO webhook_events (id, org_id, provider_id, dedupe_key, event, detail, payload, occurred_at, received_at, resource_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (provider_id, dedupe_key) DO NOTHING",
        )
        .bind(new_id())
        .bind(&e.org_id)
        .bind(&e.provider_id)
        .bind(&e.dedupe_key)
        .bind(&e.event)
        .bind(&e.detail)
        .bind(&e.payload)
        .bind(e.occurred_at)
        .bind(now_ms())
        .bind(&e.resource_id)
        .execute(self.writer())
        .await?
        .rows_affected();
        Ok(inserted == 1)
    }

    /// The normalised events (detail JSON) a provider sent about one of its resources.
    pub async fn events_about(&self, provider_id: &str, resource_id: &str) -> Result<Vec<String>> {
        let rows = sqlx::query(
            "SELECT detail FROM webhook_events WHERE provider_id = $1 AND resource_id = $2 ORDER BY id",
        )
        .bind(provider_id)
        .bind(resource_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    /// A page of the organisation's events, newest first, optionally of one provider.
    pub async fn webhook_events_page(
        &self,
        org_id: &str,
        provider_id: Option<&str>,
        before: Option<&str>,
        limit: usize,
    ) -> Result<Page<WebhookEvent>> {
        let rows = sqlx::query(
            "SELECT id, provider_id, dedupe_key, event, detail, payload, occurred_at, received_at \
             FROM webhook_events WHERE org_id = $1 AND ($2 = '' OR provider_id = $2) \
             AND ($3 = '' OR id < $3) ORDER BY id DESC LIMIT $4",
        )
        .bind(org_id)
        .bind(provider_id.unwrap_or(""))
        .bind(before.unwrap_or(""))
        .bind(limit as i64 + 1)
        .fetch_all(self.pool())
        .await?;
        let items = rows
            .iter()
            .map(|r| WebhookEvent {
                id: r.get(0),
                provider_id: r.get(1),
                dedupe_key: r.get(2),
                event: r.get(3),
                detail: r.get(4),
                payload: r.get(5),
                occurred_at: r.get(6),
                received_at: r.get(7),
            })
            .collect();
        Ok(Page::from_rows(items, limit, |e: &WebhookEvent| {
            e.id.clone()
        }))
    }
}
