//! Outbound messages and their attempts. A message is written before any provider is
//! called; a dispatcher holds it by lease while it works through the plan, so a dispatcher
//! that dies leaves it to another; an attempt is written before its provider is called, so
//! an interrupted attempt is visible afterwards.

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

/// One attempt at one provider.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MessageAttempt {
    /// Order within the message (0 first).
    pub seq: i64,
    /// Provider.
    pub provider_id: String,
    /// Sender.
    pub from: String,
    /// `sending`, `accepted`, `failed`, `unknown`.
    pub status: String,
    /// The provider's id, when accepted.
    pub provider_message_id: Option<String>,
    /// Error class (`retryable`, `provider_refused`, `permanent`).
    pub error_class: Option<String>,
    /// Error code.
    pub error_code: Option<String>,
    /// Error message.
    pub error_message: Option<String>,
    /// Unix ms.
    pub started_at: i64,
    /// Unix ms.
    pub finished_at: Option<i64>,
}

/// How an attempt ended.
#[derive(Debug, Clone, Default)]
pub struct AttemptOutcome {
    /// `accepted`, `failed` or `unknown`.
    pub status: &'static str,
    /// The provider's id, when accepted.
    pub provider_message_id: Option<String>,
    /// Error class.
    pub error_class: Option<String>,
    /// Error code.
    pub error_code: Option<String>,
    /// Error message.
    pub error_message: Option<String>,
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
    /// Stores a message, held by its creator for `lease_ms`.
    pub async fn insert_message(&self, m: &NewMessage) -> Result<MessageRecord> {
        let id = new_id();
        let now = now_ms();
        sqlx::query(
            "INSERT INTO messages (id, org_id, channel, to_e164, body, media, metadata, segments, plan, decision, \
             status, status_rank, next_candidate, dispatched, lease_until, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'accepted', 0, 0, 0, $11, $12, $12)",
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
        .execute(self.pool())
        .await?;
        self.message_by_id(&id)
            .await?
            .ok_or(crate::StoreError::Corrupt {
                what: "messages",
                reason: "inserted row not found".into(),
            })
    }

    async fn message_by_id(&self, id: &str) -> Result<Option<MessageRecord>> {
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

    /// Takes the lease of a message for `lease_ms` if it is free; false when a dispatcher
    /// holds it.
    pub async fn lease_message(&self, id: &str, lease_ms: i64) -> Result<bool> {
        let now = now_ms();
        let n = sqlx::query(
            "UPDATE messages SET lease_until = $1 WHERE id = $2 AND dispatched = 0 AND lease_until <= $3",
        )
        .bind(now + lease_ms)
        .bind(id)
        .bind(now)
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    /// Claims up to `limit` undispatched messages whose lease ran out (a dispatcher died,
    /// or the creator never got to them).
    pub async fn claim_stranded_messages(
        &self,
        limit: usize,
        lease_ms: i64,
    ) -> Result<Vec<MessageRecord>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM messages WHERE dispatched = 0 AND lease_until <= $1 ORDER BY lease_until LIMIT $2"
        )))
        .bind(now_ms())
        .bind(limit as i64)
        .fetch_all(self.pool())
        .await?;
        let mut claimed = Vec::new();
        for m in rows.iter().map(record) {
            if self.lease_message(&m.id, lease_ms).await? {
                claimed.push(m);
            }
        }
        Ok(claimed)
    }

    /// Writes an attempt as `sending` before its provider is called.
    pub async fn begin_attempt(
        &self,
        message_id: &str,
        seq: i64,
        provider_id: &str,
        from: &str,
    ) -> Result<String> {
        let id = new_id();
        sqlx::query(
            "INSERT INTO message_attempts (id, message_id, seq, provider_id, from_e164, status, started_at) \
             VALUES ($1, $2, $3, $4, $5, 'sending', $6)",
        )
        .bind(&id)
        .bind(message_id)
        .bind(seq)
        .bind(provider_id)
        .bind(from)
        .bind(now_ms())
        .execute(self.pool())
        .await?;
        Ok(id)
    }

    /// Records how an attempt ended, and moves the message's plan on by one.
    pub async fn finish_attempt(
        &self,
        attempt_id: &str,
        message_id: &str,
        outcome: &AttemptOutcome,
    ) -> Result<()> {
        let now = now_ms();
        let mut tx = self.pool().begin().await?;
        sqlx::query(
            "UPDATE message_attempts SET status = $1, provider_message_id = $2, error_class = $3, error_code = $4, \
             error_message = $5, finished_at = $6 WHERE id = $7",
        )
        .bind(outcome.status)
        .bind(&outcome.provider_message_id)
        .bind(&outcome.error_class)
        .bind(&outcome.error_code)
        .bind(&outcome.error_message)
        .bind(now)
        .bind(attempt_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE messages SET next_candidate = next_candidate + 1, updated_at = $1 WHERE id = $2")
            .bind(now)
            .bind(message_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The message's attempts, in order.
    pub async fn message_attempts(&self, message_id: &str) -> Result<Vec<MessageAttempt>> {
        let rows = sqlx::query(
            "SELECT seq, provider_id, from_e164, status, provider_message_id, error_class, error_code, error_message, \
             started_at, finished_at FROM message_attempts WHERE message_id = $1 ORDER BY seq",
        )
        .bind(message_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .iter()
            .map(|r| MessageAttempt {
                seq: r.get(0),
                provider_id: r.get(1),
                from: r.get(2),
                status: r.get(3),
                provider_message_id: r.get(4),
                error_class: r.get(5),
                error_code: r.get(6),
                error_message: r.get(7),
                started_at: r.get(8),
                finished_at: r.get(9),
            })
            .collect())
    }

    /// Ends dispatching: a provider took it (`provider_message_id` set) or it is given up.
    #[allow(clippy::too_many_arguments)]
    pub async fn finish_dispatch(
        &self,
        id: &str,
        status: &str,
        rank: i64,
        provider_id: Option<&str>,
        from: Option<&str>,
        provider_message_id: Option<&str>,
        error: Option<(&str, &str)>,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE messages SET dispatched = 1, status = CASE WHEN status_rank < $1 THEN $2 ELSE status END, \
             status_rank = CASE WHEN status_rank < $1 THEN $1 ELSE status_rank END, provider_id = $3, from_e164 = $4, \
             provider_message_id = $5, error_code = $6, error_message = $7, updated_at = $8 WHERE id = $9",
        )
        .bind(rank)
        .bind(status)
        .bind(provider_id)
        .bind(from)
        .bind(provider_message_id)
        .bind(error.map(|e| e.0))
        .bind(error.map(|e| e.1))
        .bind(now_ms())
        .bind(id)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Applies a status a provider reported, unless the message is already further along
    /// (`rank` orders statuses; finals share the top rank, and the first final wins).
    /// Returns the message when it changed.
    pub async fn apply_message_status(
        &self,
        provider_id: &str,
        provider_message_id: &str,
        status: &str,
        rank: i64,
        error_code: Option<&str>,
        price: Option<&str>,
    ) -> Result<Option<MessageRecord>> {
        let row = sqlx::query(
            "SELECT id FROM messages WHERE provider_id = $1 AND provider_message_id = $2",
        )
        .bind(provider_id)
        .bind(provider_message_id)
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let id: String = row.get(0);
        let changed = sqlx::query(
            "UPDATE messages SET status = $1, status_rank = $2, error_code = COALESCE($3, error_code), \
             provider_price = COALESCE($4, provider_price), updated_at = $5 WHERE id = $6 AND status_rank < $2",
        )
        .bind(status)
        .bind(rank)
        .bind(error_code)
        .bind(price)
        .bind(now_ms())
        .bind(&id)
        .execute(self.pool())
        .await?
        .rows_affected();
        if changed == 0 {
            return Ok(None);
        }
        self.message_by_id(&id).await
    }

    /// Records what the message cost and what it would have cost on the baseline.
    pub async fn set_message_cost(
        &self,
        id: &str,
        cost: &str,
        baseline: Option<&str>,
        currency: &str,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE messages SET cost = $1, baseline_cost = $2, currency = $3 WHERE id = $4",
        )
        .bind(cost)
        .bind(baseline)
        .bind(currency)
        .bind(id)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Flags a message whose provider price disagrees with its rated cost.
    pub async fn flag_price_mismatch(&self, id: &str) -> Result<()> {
        sqlx::query("UPDATE messages SET price_mismatch = 1 WHERE id = $1")
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// How many of the organisation's messages are in each status.
    pub async fn message_status_counts(&self, org_id: &str) -> Result<Vec<(String, i64)>> {
        let rows = sqlx::query("SELECT status, COUNT(*) FROM messages WHERE org_id = $1 GROUP BY status ORDER BY status")
            .bind(org_id)
            .fetch_all(self.pool())
            .await?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    /// A page of the organisation's messages, newest first, optionally in one status.
    pub async fn messages_page(
        &self,
        org_id: &str,
        status: Option<&str>,
        before: Option<&str>,
        limit: usize,
    ) -> Result<Page<MessageRecord>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM messages WHERE org_id = $1 AND ($2 = '' OR status = $2) AND ($3 = '' OR id < $3) \
             ORDER BY id DESC LIMIT $4"
        )))
        .bind(org_id)
        .bind(status.unwrap_or(""))
        .bind(before.unwrap_or(""))
        .bind(limit as i64 + 1)
        .fetch_all(self.pool())
        .await?;
        Ok(Page::from_rows(
            rows.iter().map(record).collect(),
            limit,
            |m: &MessageRecord| m.id.clone(),
        ))
    }
}
