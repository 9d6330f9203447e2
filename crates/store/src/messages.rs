//! Outbound messages: written, with their routing plan, before any provider is called
//! (leases, attempts and status moves are in [`crate::outbox`]).

use crate::outbox::{Created, FILTER, KeyClaim, Outbox, OutboxFilter, bind_filter};
use crate::{Page, Result, Store, new_id, now_ms};
use sqlx::Row;

/// A message to store.
#[derive(Debug, Clone)]
pub struct NewMessage {
    /// Owner.
    pub org_id: String,
    /// `sms`, `mms`, `whatsapp`.
    pub channel: String,
    /// Destination.
    pub to_e164: String,
    /// Text.
    pub body: String,
    /// JSON list of media URLs.
    pub media: String,
    /// JSON metadata.
    pub metadata: String,
    /// Segments.
    pub segments: u32,
    /// JSON list of `{provider_id, from}`.
    pub plan: String,
    /// Decision JSON.
    pub decision: String,
    /// How long the creating instance holds it before another may dispatch it.
    pub lease_ms: i64,
    /// The caller's Idempotency-Key, when given.
    pub idempotency: Option<KeyClaim>,
}

/// A stored message.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MessageRecord {
    /// Its id.
    pub id: String,
    /// Owner.
    #[serde(skip)]
    pub org_id: String,
    /// Channel.
    pub channel: String,
    /// Destination.
    pub to: String,
    /// Text.
    pub body: String,
    /// JSON list.
    #[serde(skip)]
    pub media: String,
    /// JSON object.
    #[serde(skip)]
    pub metadata: String,
    /// Segments.
    pub segments: i64,
    /// JSON plan.
    #[serde(skip)]
    pub plan: String,
    /// JSON decision.
    #[serde(skip)]
    pub decision: String,
    /// Where it stands.
    pub status: String,
    /// Next provider in the plan.
    #[serde(skip)]
    pub next_candidate: i64,
    /// Whether dispatching is over.
    #[serde(skip)]
    pub dispatched: bool,
    /// The provider that took it.
    pub provider_id: Option<String>,
    /// Sender used.
    pub from: Option<String>,
    /// The provider's id for it.
    pub provider_message_id: Option<String>,
    /// Error code of the failure.
    pub error_code: Option<String>,
    /// Why it failed.
    pub error_message: Option<String>,
    /// The provider's price, as reported (`0.0079 USD`).
    pub provider_price: Option<String>,
    /// Cost on the provider's deck (decimal string).
    pub cost: Option<String>,
    /// Cost on the baseline (decimal string).
    pub baseline_cost: Option<String>,
    /// Currency of `cost` and `baseline_cost`.
    pub currency: Option<String>,
    /// Whether the provider's price differs from `cost` by more than 1 %.
    pub price_mismatch: bool,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

const COLUMNS: &str = "id, org_id, channel, to_e164, body, media, metadata, segments, plan, decision, status, \
    next_candidate, dispatched, provider_id, from_e164, provider_message_id, error_code, error_message, \
    provider_price, created_at, updated_at, cost, baseline_cost, currency, price_mismatch";

fn record(r: &sqlx::any::AnyRow) -> MessageRecord {
    MessageRecord {
        id: r.get(0),
        org_id: r.get(1),
        channel: r.get(2),
        to: r.get(3),
        body: r.get(4),
        media: r.get(5),
        metadata: r.get(6),
        segments: r.get(7),
        plan: r.get(8),
        decision: r.get(9),
        status: r.get(10),
        next_candidate: r.get(11),
        dispatched: r.get::<i64, _>(12) != 0,
        provider_id: r.get(13),
        from: r.get(14),
        provider_message_id: r.get(15),
        error_code: r.get(16),
        error_message: r.get(17),
        provider_price: r.get(18),
        created_at: r.get(19),
        updated_at: r.get(20),
        cost: r.get(21),
        baseline_cost: r.get(22),
        currency: r.get(23),
        price_mismatch: r.get::<i64, _>(24) != 0,
    }
}

impl Store {
    /// Stores a message, held by its creator for `lease_ms`; or finds the one created with
    /// the same Idempotency-Key.
    pub async fn insert_message(&self, m: &NewMessage) -> Result<Created<MessageRecord>> {
        let id = new_id();
        let now = now_ms();
        let claim = m.idempotency.as_ref();
        let inserted = sqlx::query(
            "INSERT INTO messages (id, org_id, channel, to_e164, body, media, metadata, segments, plan, decision, \
             status, status_rank, next_candidate, dispatched, lease_until, created_at, updated_at, \
             idempotency_key, request_hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'accepted', 0, 0, 0, $11, $12, $12, $13, $14) \
             ON CONFLICT (org_id, idempotency_key) DO NOTHING",
        )
        .bind(&id)
        .bind(&m.org_id)
        .bind(&m.channel)
        .bind(&m.to_e164)
        .bind(&m.body)
        .bind(&m.media)
        .bind(&m.metadata)
        .bind(i64::from(m.segments))
        .bind(&m.plan)
        .bind(&m.decision)
        .bind(now + m.lease_ms)
        .bind(now)
        .bind(claim.map(|c| c.key.as_str()))
        .bind(claim.map(|c| c.request_hash.as_str()))
        .execute(self.writer())
        .await?
        .rows_affected()
            == 1;
        let inserted = inserted.then_some(id);
        self.created(
            Outbox::Messages,
            inserted,
            &m.org_id,
            claim,
            |id| async move { self.message_by_id(&id).await },
        )
        .await
    }

    /// A message by id, whoever owns it: for workers, never for the API.
    pub async fn message_by_id(&self, id: &str) -> Result<Option<MessageRecord>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM messages WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.as_ref().map(record))
    }

    /// One of the organisation's messages.
    pub async fn message(&self, org_id: &str, id: &str) -> Result<Option<MessageRecord>> {
        Ok(self.message_by_id(id).await?.filter(|m| m.org_id == org_id))
    }

    /// A page of the organisation's messages, newest first.
    pub async fn messages_page(
        &self,
        org_id: &str,
        filter: &OutboxFilter<'_>,
        limit: usize,
    ) -> Result<Page<MessageRecord>> {
        let query = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM messages WHERE {FILTER} ORDER BY id DESC LIMIT $8"
        )));
        let rows = bind_filter(query, org_id, filter, limit)
            .fetch_all(self.pool())
            .await?;
        Ok(Page::from_rows(
            rows.iter().map(record).collect(),
            limit,
            |m: &MessageRecord| m.id.clone(),
        ))
    }
}
