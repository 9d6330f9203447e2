//! Outbound calls: written, with their routing plan, before any provider is called (leases,
//! attempts and status moves are in [`crate::outbox`]), plus the moments of the call's life
//! that rating and quality statistics need.

use crate::outbox::{Created, FILTER, KeyClaim, Outbox, OutboxFilter, bind_filter};
use crate::{Page, Result, Store, new_id, now_ms};
use sqlx::Row;

/// A call to store.
#[derive(Debug, Clone)]
pub struct NewCall {
    /// Owner.
    pub org_id: String,
    /// Destination.
    pub to_e164: String,
    /// JSON: `{"url": …}` or `{"instructions": […]}`.
    pub answer: String,
    /// Seconds to let it ring.
    pub ring_timeout_secs: u32,
    /// JSON metadata.
    pub metadata: String,
    /// JSON list of `{provider_id, from}`.
    pub plan: String,
    /// Decision JSON.
    pub decision: String,
    /// How long the creating instance holds it before another may dispatch it.
    pub lease_ms: i64,
    /// The caller's Idempotency-Key, when given.
    pub idempotency: Option<KeyClaim>,
}

/// A stored call.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CallRecord {
    /// Its id.
    pub id: String,
    /// Owner.
    #[serde(skip)]
    pub org_id: String,
    /// Destination.
    pub to: String,
    /// JSON answer.
    #[serde(skip)]
    pub answer: String,
    /// Seconds to let it ring.
    pub ring_timeout_secs: i64,
    /// JSON object.
    #[serde(skip)]
    pub metadata: String,
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
    /// Caller id used.
    pub from: Option<String>,
    /// The provider's id for it.
    pub provider_call_id: Option<String>,
    /// Error code of the failure.
    pub error_code: Option<String>,
    /// Why it failed.
    pub error_message: Option<String>,
    /// The provider's price, as reported (`0.0140 USD`).
    pub provider_price: Option<String>,
    /// Moments of its life.
    #[serde(flatten)]
    pub times: CallTimes,
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

/// When a call rang, was answered and ended (unix ms), and its billable seconds. Each is
/// recorded once: a redelivered webhook does not move it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct CallTimes {
    /// First ring.
    pub ringing_at: Option<i64>,
    /// Answer.
    pub answered_at: Option<i64>,
    /// End.
    pub ended_at: Option<i64>,
    /// Billable seconds.
    pub duration_secs: Option<i64>,
}

const COLUMNS: &str = "id, org_id, to_e164, answer, ring_timeout_secs, metadata, plan, decision, status, \
    next_candidate, dispatched, provider_id, from_e164, provider_call_id, error_code, error_message, \
    provider_price, ringing_at, answered_at, ended_at, duration_secs, cost, baseline_cost, currency, \
    price_mismatch, created_at, updated_at";

fn record(r: &sqlx::any::AnyRow) -> CallRecord {
    CallRecord {
        id: r.get(0),
        org_id: r.get(1),
        to: r.get(2),
        answer: r.get(3),
        ring_timeout_secs: r.get(4),
        metadata: r.get(5),
        plan: r.get(6),
        decision: r.get(7),
        status: r.get(8),
        next_candidate: r.get(9),
        dispatched: r.get::<i64, _>(10) != 0,
        provider_id: r.get(11),
        from: r.get(12),
        provider_call_id: r.get(13),
        error_code: r.get(14),
        error_message: r.get(15),
        provider_price: r.get(16),
        times: CallTimes {
            ringing_at: r.get(17),
            answered_at: r.get(18),
            ended_at: r.get(19),
            duration_secs: r.get(20),
        },
        cost: r.get(21),
        baseline_cost: r.get(22),
        currency: r.get(23),
        price_mismatch: r.get::<i64, _>(24) != 0,
        created_at: r.get(25),
        updated_at: r.get(26),
    }
}

impl Store {
    /// Stores a call as `queued`, held by its creator for `lease_ms`; or finds the one
    /// created with the same Idempotency-Key.
    pub async fn insert_call(&self, c: &NewCall) -> Result<Created<CallRecord>> {
        let id = new_id();
        let now = now_ms();
        let claim = c.idempotency.as_ref();
        let inserted = sqlx::query(
            "INSERT INTO calls (id, org_id, to_e164, answer, ring_timeout_secs, metadata, plan, decision, \
             status, status_rank, next_candidate, dispatched, lease_until, created_at, updated_at, \
             idempotency_key, request_hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'queued', 0, 0, 0, $9, $10, $10, $11, $12) \
             ON CONFLICT (org_id, idempotency_key) DO NOTHING",
        )
        .bind(&id)
        .bind(&c.org_id)
        .bind(&c.to_e164)
        .bind(&c.answer)
        .bind(i64::from(c.ring_timeout_secs))
        .bind(&c.metadata)
        .bind(&c.plan)
        .bind(&c.decision)
        .bind(now + c.lease_ms)
        .bind(now)
        .bind(claim.map(|k| k.key.as_str()))
        .bind(claim.map(|k| k.request_hash.as_str()))
        .execute(self.writer())
        .await?
        .rows_affected()
            == 1;
        let inserted = inserted.then_some(id);
        self.created(Outbox::Calls, inserted, &c.org_id, claim, |id| async move {
            self.call_by_id(&id).await
        })
        .await
    }

    /// A call by id, whoever owns it: for workers, never for the API.
    pub async fn call_by_id(&self, id: &str) -> Result<Option<CallRecord>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM calls WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.as_ref().map(record))
    }

    /// One of the organisation's calls.
    pub async fn call(&self, org_id: &str, id: &str) -> Result<Option<CallRecord>> {
        Ok(self.call_by_id(id).await?.filter(|c| c.org_id == org_id))
    }

    /// Records the moments a provider reported; each keeps its first value.
    pub async fn record_call_times(&self, id: &str, t: &CallTimes) -> Result<()> {
        sqlx::query(
            "UPDATE calls SET ringing_at = COALESCE(ringing_at, $1), answered_at = COALESCE(answered_at, $2), \
             ended_at = COALESCE(ended_at, $3), duration_secs = COALESCE(duration_secs, $4) WHERE id = $5",
        )
        .bind(t.ringing_at)
        .bind(t.answered_at)
        .bind(t.ended_at)
        .bind(t.duration_secs)
        .bind(id)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    /// A page of the organisation's calls, newest first.
    pub async fn calls_page(
        &self,
        org_id: &str,
        filter: &OutboxFilter<'_>,
        limit: usize,
    ) -> Result<Page<CallRecord>> {
        let query = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM calls WHERE {FILTER} ORDER BY id DESC LIMIT $8"
        )));
        let rows = bind_filter(query, org_id, filter, limit)
            .fetch_all(self.pool())
            .await?;
        Ok(Page::from_rows(
            rows.iter().map(record).collect(),
            limit,
            |c: &CallRecord| c.id.clone(),
        ))
    }
}

/// A finished call as the offline optimum reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FinishedCall {
    /// Destination, E.164.
    pub to: String,
    /// The provider that carried it, if any did.
    pub provider_id: Option<String>,
    /// Unix ms.
    pub created_at: i64,
    /// Whether it was answered.
    pub answered: bool,
    /// Talk seconds.
    pub duration_secs: i64,
}

impl Store {
    /// The organisation's calls created in `[from_ms, to_ms)` that reached a final status
    /// (rank `final_rank`), oldest first.
    pub async fn finished_calls(
        &self,
        org_id: &str,
        from_ms: i64,
        to_ms: i64,
        final_rank: i64,
    ) -> Result<Vec<FinishedCall>> {
        let rows = sqlx::query(
            "SELECT to_e164, provider_id, created_at, answered_at, duration_secs FROM calls \
             WHERE org_id = $1 AND created_at >= $2 AND created_at < $3 AND status_rank >= $4 \
             ORDER BY created_at",
        )
        .bind(org_id)
        .bind(from_ms)
        .bind(to_ms)
        .bind(final_rank)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .iter()
            .map(|r| {
                let duration: Option<i64> = r.get(4);
                let answered_at: Option<i64> = r.get(3);
                FinishedCall {
                    to: r.get(0),
                    provider_id: r.get(1),
                    created_at: r.get(2),
                    answered: answered_at.is_some() || duration.is_some_and(|d| d > 0),
                    duration_secs: duration.unwrap_or(0),
                }
            })
            .collect())
    }
}
