//! Organisations' event endpoints and the durable queue of deliveries to them: an event is
//! written once per matching endpoint, then claimed, sent and retried until delivered or
//! given up.

use crate::{Page, Result, Store, new_id, now_ms};
use sqlx::Row;

/// A stored endpoint (secret still encrypted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventEndpoint {
    /// Its id.
    pub id: String,
    /// Owner.
    pub org_id: String,
    /// Where deliveries go.
    pub url: String,
    /// The sealed signing secret.
    pub secret: Vec<u8>,
    /// JSON list of event types or `["*"]`.
    pub event_types: String,
    /// Whether deliveries are made.
    pub active: bool,
    /// Unix ms.
    pub created_at: i64,
}

/// One delivery of one event to one endpoint.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct EventDelivery {
    /// Its id.
    pub id: String,
    /// Endpoint.
    pub endpoint_id: String,
    /// The event's id (the same for every endpoint it goes to).
    pub event_id: String,
    /// `message.inbound`…
    pub event_type: String,
    /// The JSON body sent.
    pub payload: String,
    /// `pending`, `delivered` or `failed`.
    pub status: String,
    /// Attempts made.
    pub attempts: i64,
    /// When the next attempt is due (unix ms).
    pub next_attempt_at: i64,
    /// HTTP status of the last attempt.
    pub last_status: Option<i64>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub delivered_at: Option<i64>,
}

const ENDPOINT_COLUMNS: &str = "id, org_id, url, secret, event_types, active, created_at";
const DELIVERY_COLUMNS: &str = "id, endpoint_id, event_id, event_type, payload, status, attempts, next_attempt_at, last_status, last_error, created_at, delivered_at";

fn endpoint(r: &sqlx::any::AnyRow) -> EventEndpoint {
    EventEndpoint {
        id: r.get(0),
        org_id: r.get(1),
        url: r.get(2),
        secret: r.get(3),
        event_types: r.get(4),
        active: r.get::<i64, _>(5) != 0,
        created_at: r.get(6),
    }
}

fn delivery(r: &sqlx::any::AnyRow) -> EventDelivery {
    EventDelivery {
        id: r.get(0),
        endpoint_id: r.get(1),
        event_id: r.get(2),
        event_type: r.get(3),
        payload: r.get(4),
        status: r.get(5),
        attempts: r.get(6),
        next_attempt_at: r.get(7),
        last_status: r.get(8),
        last_error: r.get(9),
        created_at: r.get(10),
        delivered_at: r.get(11),
    }
}

impl Store {
    /// Adds an endpoint.
    pub async fn insert_event_endpoint(
        &self,
        org_id: &str,
        url: &str,
        sealed_secret: &[u8],
        event_types: &str,
    ) -> Result<EventEndpoint> {
        let e = EventEndpoint {
            id: new_id(),
            org_id: org_id.to_string(),
            url: url.to_string(),
            secret: sealed_secret.to_vec(),
            event_types: event_types.to_string(),
            active: true,
            created_at: now_ms(),
        };
        sqlx::query(
            "INSERT INTO event_endpoints (id, org_id, url, secret, event_types, active, created_at) \
             VALUES ($1, $2, $3, $4, $5, 1, $6)",
        )
        .bind(&e.id)
        .bind(&e.org_id)
        .bind(&e.url)
        .bind(&e.secret)
        .bind(&e.event_types)
        .bind(e.created_at)
        .execute(self.writer())
        .await?;
        Ok(e)
    }

    /// The organisation's endpoints, newest first.
    pub async fn event_endpoints(&self, org_id: &str) -> Result<Vec<EventEndpoint>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {ENDPOINT_COLUMNS} FROM event_endpoints WHERE org_id = $1 ORDER BY id DESC"
        )))
        .bind(org_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(endpoint).collect())
    }

    /// One endpoint of any organisation (for the delivery worker).
    pub async fn event_endpoint(&self, id: &str) -> Result<Option<EventEndpoint>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {ENDPOINT_COLUMNS} FROM event_endpoints WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.as_ref().map(endpoint))
    }

    /// Deletes an endpoint and its deliveries; false when there is no such endpoint.
    pub async fn delete_event_endpoint(&self, org_id: &str, id: &str) -> Result<bool> {
        let n = sqlx::query("DELETE FROM event_endpoints WHERE org_id = $1 AND id = $2")
            .bind(org_id)
            .bind(id)
            .execute(self.writer())
            .await?
            .rows_affected();
        Ok(n == 1)
    }

    /// Queues an event for each of the given endpoints, in one transaction. Returns the
    /// delivery ids.
    pub async fn enqueue_event(
        &self,
        org_id: &str,
        endpoint_ids: &[String],
        event_id: &str,
        event_type: &str,
        payload: &str,
    ) -> Result<Vec<String>> {
        let now = now_ms();
        let mut ids = Vec::with_capacity(endpoint_ids.len());
        let mut tx = self.writer().begin().await?;
        for endpoint_id in endpoint_ids {
            let id = new_id();
            sqlx::query(
                "INSERT INTO event_deliveries (id, org_id, endpoint_id, event_id, event_type, payload, status, attempts, next_attempt_at, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, 'pending', 0, $7, $7)",
            )
            .bind(&id)
            .bind(org_id)
            .bind(endpoint_id)
            .bind(event_id)
            .bind(event_type)
            .bind(payload)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            ids.push(id);
        }
        tx.commit().await?;
        Ok(ids)
    }

    /// Claims up to `limit` deliveries that are due, pushing each one's next attempt to
    /// `lease_ms` from now so that no other worker (on this or another instance) takes it
    /// meanwhile. A worker that dies leaves the delivery to be claimed again after the lease.
    pub async fn claim_due_deliveries(
        &self,
        limit: usize,
        lease_ms: i64,
    ) -> Result<Vec<EventDelivery>> {
        let now = now_ms();
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {DELIVERY_COLUMNS} FROM event_deliveries WHERE status = 'pending' AND next_attempt_at <= $1 \
             ORDER BY next_attempt_at LIMIT $2"
        )))
        .bind(now)
        .bind(limit as i64)
        .fetch_all(self.pool())
        .await?;
        let mut claimed = Vec::new();
        for r in rows.iter().map(delivery) {
            let won = sqlx::query(
                "UPDATE event_deliveries SET next_attempt_at = $1 WHERE id = $2 AND status = 'pending' AND next_attempt_at = $3",
            )
            .bind(now + lease_ms)
            .bind(&r.id)
            .bind(r.next_attempt_at)
            .execute(self.writer())
            .await?
            .rows_affected();
            if won == 1 {
                claimed.push(r);
            }
        }
        Ok(claimed)
    }

    /// Records an attempt's outcome: delivered, retry at `retry_at`, or given up (`None`).
    pub async fn record_delivery_attempt(
        &self,
        id: &str,
        http_status: Option<u16>,
        error: Option<&str>,
        delivered: bool,
        retry_at: Option<i64>,
    ) -> Result<()> {
        let now = now_ms();
        let status = match (delivered, retry_at) {
            (true, _) => "delivered",
            (false, Some(_)) => "pending",
            (false, None) => "failed",
        };
        sqlx::query(
            "UPDATE event_deliveries SET status = $1, attempts = attempts + 1, next_attempt_at = $2, \
             last_status = $3, last_error = $4, delivered_at = $5 WHERE id = $6",
        )
        .bind(status)
        .bind(retry_at.unwrap_or(now))
        .bind(http_status.map(i64::from))
        .bind(error)
        .bind(delivered.then_some(now))
        .bind(id)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    /// A page of the organisation's deliveries, newest first, optionally of one endpoint.
    pub async fn deliveries_page(
        &self,
        org_id: &str,
        endpoint_id: Option<&str>,
        before: Option<&str>,
        limit: usize,
    ) -> Result<Page<EventDelivery>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {DELIVERY_COLUMNS} FROM event_deliveries WHERE org_id = $1 AND ($2 = '' OR endpoint_id = $2) \
             AND ($3 = '' OR id < $3) ORDER BY id DESC LIMIT $4"
        )))
        .bind(org_id)
        .bind(endpoint_id.unwrap_or(""))
        .bind(before.unwrap_or(""))
        .bind(limit as i64 + 1)
        .fetch_all(self.pool())
        .await?;
        Ok(Page::from_rows(
            rows.iter().map(delivery).collect(),
            limit,
            |d: &EventDelivery| d.id.clone(),
        ))
    }
}
