//! What messages and calls share as outbox entries: a dispatcher holds an entry by lease
//! while it works through the entry's plan, so a dispatcher that dies leaves it to another;
//! each attempt at a provider is written before the provider is called, so an interrupted
//! attempt is visible afterwards; and a status only ever moves forward.

use crate::costs::line_json;
use crate::{Result, Store, new_id, now_ms};
use sqlx::Row;

/// After this long, the reconciler stops asking a provider about an entry.
const GIVE_UP_ASKING_MS: i64 = 3 * 24 * 3600 * 1000;

/// Which outbox an operation is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outbox {
    /// SMS, MMS and WhatsApp messages.
    Messages,
    /// Phone calls.
    Calls,
    /// Emails.
    Emails,
}

impl Outbox {
    pub(crate) fn table(self) -> &'static str {
        match self {
            Outbox::Messages => "messages",
            Outbox::Calls => "calls",
            Outbox::Emails => "emails",
        }
    }

    pub(crate) fn attempts(self) -> &'static str {
        match self {
            Outbox::Messages => "message_attempts",
            Outbox::Calls => "call_attempts",
            Outbox::Emails => "email_attempts",
        }
    }

    pub(crate) fn parent(self) -> &'static str {
        match self {
            Outbox::Messages => "message_id",
            Outbox::Calls => "call_id",
            Outbox::Emails => "email_id",
        }
    }

    /// Column holding the provider's id for the entry.
    fn reference(self) -> &'static str {
        match self {
            Outbox::Messages | Outbox::Emails => "provider_message_id",
            Outbox::Calls => "provider_call_id",
        }
    }

    /// Column holding the sender: a number, or an email address.
    fn sender(self) -> &'static str {
        match self {
            Outbox::Messages | Outbox::Calls => "from_e164",
            Outbox::Emails => "from_address",
        }
    }
}

/// The Idempotency-Key a message or call is created with, and a hash of the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyClaim {
    /// The caller's key.
    pub key: String,
    /// Hash of method, path and body: the same key with another request is refused.
    pub request_hash: String,
}

/// What creating an entry did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Created<T> {
    /// It was stored now.
    New(T),
    /// An entry with the same Idempotency-Key already existed; nothing was stored.
    Existing {
        /// That entry.
        record: T,
        /// The hash of the request that created it.
        request_hash: Option<String>,
    },
}

impl<T> Created<T> {
    /// The entry, new or earlier.
    pub fn record(self) -> T {
        match self {
            Created::New(record) | Created::Existing { record, .. } => record,
        }
    }
}

/// One attempt at one provider.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Attempt {
    /// Its id.
    #[serde(skip)]
    pub id: String,
    /// Order within the entry (0 first).
    pub seq: i64,
    /// Provider.
    pub provider_id: String,
    /// Sender.
    pub from: String,
    /// `sending` (written before the provider is called), `accepted`, `failed`, `unknown`,
    /// or `skipped` (its circuit breaker was open).
    pub status: String,
    /// The provider's id for the message or call, when accepted.
    pub provider_ref: Option<String>,
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
    pub provider_ref: Option<String>,
    /// Error class.
    pub error_class: Option<String>,
    /// Error code.
    pub error_code: Option<String>,
    /// Error message.
    pub error_message: Option<String>,
    /// Try the same step of the plan again (the provider surely did not act on it).
    pub retry_step: bool,
}

/// How dispatching an entry ended: a provider took it (`provider_ref` set) or it was given up.
#[derive(Debug, Clone, Copy)]
pub struct Dispatched<'a> {
    /// Status to move to (unless the entry is already further along).
    pub status: &'a str,
    /// Its rank.
    pub rank: i64,
    /// The provider last tried.
    pub provider_id: Option<&'a str>,
    /// The sender used there.
    pub from: Option<&'a str>,
    /// The provider's id for the entry.
    pub provider_ref: Option<&'a str>,
    /// Code and text of the failure.
    pub error: Option<(&'a str, &'a str)>,
    /// The cost, when it is known as the provider takes the entry (a message's segments).
    pub cost: Option<CostText<'a>>,
}

/// A status a provider reported, with what came with it.
#[derive(Debug, Clone, Copy, Default)]
pub struct StatusMove<'a> {
    /// New status.
    pub status: &'a str,
    /// Its rank.
    pub rank: i64,
    /// The provider's error code.
    pub error_code: Option<&'a str>,
    /// The provider's price, as reported.
    pub price: Option<&'a str>,
    /// The rated cost, when the status completes the usage.
    pub cost: Option<CostText<'a>>,
}

/// A rated cost as decimal text.
#[derive(Debug, Clone, Copy)]
pub struct CostText<'a> {
    /// On the provider used.
    pub cost: &'a str,
    /// On the baseline.
    pub baseline: Option<&'a str>,
    /// Currency of both.
    pub currency: &'a str,
    /// The cost as an invoice line, kept with it.
    pub line: Option<&'a crate::CostComponent>,
}

/// Filters of an outbox listing; empty fields do not filter.
#[derive(Debug, Clone, Default)]
pub struct OutboxFilter<'a> {
    /// Only in this status.
    pub status: Option<&'a str>,
    /// Only through this provider.
    pub provider_id: Option<&'a str>,
    /// Created at or after (unix ms).
    pub since: Option<i64>,
    /// Created before (unix ms).
    pub until: Option<i64>,
    /// Only entries whose metadata has this string value under this key.
    pub metadata: Option<(&'a str, &'a str)>,
    /// Only entries older than this id (the previous page's cursor).
    pub before: Option<&'a str>,
}

/// `WHERE` clause of a listing: `$1` is the organisation, `$2`–`$7` the filter, in the
/// order [`bind_filter`] binds them, and `$8` the limit.
pub(crate) const FILTER: &str = "org_id = $1 AND ($2 = '' OR status = $2) AND ($3 = '' OR provider_id = $3) \
    AND ($4 = 0 OR created_at >= $4) AND ($5 = 0 OR created_at < $5) \
    AND ($6 = '' OR metadata LIKE $6 ESCAPE '!') AND ($7 = '' OR id < $7)";

fn like_escape(text: &str) -> String {
    text.replace('!', "!!")
        .replace('%', "!%")
        .replace('_', "!_")
}

/// Binds an organisation, a filter and a page size to a query using [`FILTER`].
pub(crate) fn bind_filter<'q>(
    query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    org_id: &'q str,
    f: &OutboxFilter<'q>,
    limit: usize,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    // Metadata is stored as compact JSON, so `"key":"value"` appears verbatim.
    let metadata = f
        .metadata
        .and_then(|(k, v)| {
            let key = serde_json::to_string(k).ok()?;
            let value = serde_json::to_string(v).ok()?;
            Some(format!("%{}%", like_escape(&format!("{key}:{value}"))))
        })
        .unwrap_or_default();
    query
        .bind(org_id)
        .bind(f.status.unwrap_or(""))
        .bind(f.provider_id.unwrap_or(""))
        .bind(f.since.unwrap_or(0))
        .bind(f.until.unwrap_or(0))
        .bind(metadata)
        .bind(f.before.unwrap_or(""))
        .bind(limit as i64 + 1)
}

/// The update that ends dispatching; the status moves only forward. The cost, when known
/// now, comes with its invoice line.
fn dispatched_update<'q>(
    outbox: Outbox,
    id: &'q str,
    d: &Dispatched<'q>,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE {} SET dispatched = 1, status = CASE WHEN status_rank < $1 THEN $2 ELSE status END, \
         status_rank = CASE WHEN status_rank < $1 THEN $1 ELSE status_rank END, provider_id = $3, {} = $4, \
         {} = $5, error_code = COALESCE($6, error_code), error_message = COALESCE($7, error_message), \
         updated_at = $8, cost = COALESCE($10, cost), baseline_cost = COALESCE($11, baseline_cost), \
         currency = COALESCE($12, currency), cost_line = COALESCE($13, cost_line) WHERE id = $9",
        outbox.table(),
        outbox.sender(),
        outbox.reference()
    )))
    .bind(d.rank)
    .bind(d.status)
    .bind(d.provider_id)
    .bind(d.from)
    .bind(d.provider_ref)
    .bind(d.error.map(|e| e.0))
    .bind(d.error.map(|e| e.1))
    .bind(now_ms())
    .bind(id)
    .bind(d.cost.map(|c| c.cost))
    .bind(d.cost.and_then(|c| c.baseline))
    .bind(d.cost.map(|c| c.currency))
    .bind(d.cost.and_then(|c| c.line).map(line_json))
}

impl Store {
    /// The id and request hash of the organisation's entry created with `key`.
    pub async fn find_by_idempotency_key(
        &self,
        outbox: Outbox,
        org_id: &str,
        key: &str,
    ) -> Result<Option<(String, Option<String>)>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT id, request_hash FROM {} WHERE org_id = $1 AND idempotency_key = $2",
            outbox.table()
        )))
        .bind(org_id)
        .bind(key)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(|r| (r.get(0), r.get(1))))
    }

    /// Reads back what an insert that may have met an existing Idempotency-Key did.
    pub(crate) async fn created<T, Fut>(
        &self,
        outbox: Outbox,
        inserted: Option<String>,
        org_id: &str,
        claim: Option<&KeyClaim>,
        load: impl Fn(String) -> Fut,
    ) -> Result<Created<T>>
    where
        Fut: std::future::Future<Output = Result<Option<T>>>,
    {
        let corrupt = |reason: &str| crate::StoreError::Corrupt {
            what: outbox.table(),
            reason: reason.into(),
        };
        if let Some(id) = inserted {
            let record = load(id)
                .await?
                .ok_or_else(|| corrupt("inserted row not found"))?;
            return Ok(Created::New(record));
        }
        let key = claim.map(|c| c.key.as_str()).unwrap_or_default();
        let (id, request_hash) = self
            .find_by_idempotency_key(outbox, org_id, key)
            .await?
            .ok_or_else(|| corrupt("conflicting row not found"))?;
        let record = load(id)
            .await?
            .ok_or_else(|| corrupt("conflicting row not found"))?;
        Ok(Created::Existing {
            record,
            request_hash,
        })
    }

    /// Takes the lease of an entry for `lease_ms` if it is free; false when a dispatcher
    /// holds it or it is dispatched.
    pub async fn lease(&self, outbox: Outbox, id: &str, lease_ms: i64) -> Result<bool> {
        let now = now_ms();
        let n = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE {} SET lease_until = $1 WHERE id = $2 AND dispatched = 0 AND lease_until <= $3",
            outbox.table()
        )))
        .bind(now + lease_ms)
        .bind(id)
        .bind(now)
        .execute(self.writer())
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    /// Claims up to `limit` undispatched entries whose lease ran out (a dispatcher died, or
    /// the creator never got to them); returns their ids.
    pub async fn claim_stranded(
        &self,
        outbox: Outbox,
        limit: usize,
        lease_ms: i64,
    ) -> Result<Vec<String>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT id FROM {} WHERE dispatched = 0 AND lease_until <= $1 ORDER BY lease_until LIMIT $2",
            outbox.table()
        )))
        .bind(now_ms())
        .bind(limit as i64)
        .fetch_all(self.pool())
        .await?;
        let mut claimed = Vec::new();
        for id in rows.iter().map(|r| r.get::<String, _>(0)) {
            if self.lease(outbox, &id, lease_ms).await? {
                claimed.push(id);
            }
        }
        Ok(claimed)
    }

    /// Writes an attempt as `sending` before its provider is called, and renews the
    /// dispatcher's lease on the entry for `lease_ms` (an attempt may take long).
    pub async fn begin_attempt(
        &self,
        outbox: Outbox,
        parent_id: &str,
        seq: i64,
        provider_id: &str,
        from: &str,
        lease_ms: i64,
    ) -> Result<String> {
        let id = new_id();
        let now = now_ms();
        let mut tx = self.writer().begin().await?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE {} SET lease_until = $1 WHERE id = $2",
            outbox.table()
        )))
        .bind(now + lease_ms)
        .bind(parent_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO {} (id, {}, seq, provider_id, {}, status, started_at) \
             VALUES ($1, $2, $3, $4, $5, 'sending', $6)",
            outbox.attempts(),
            outbox.parent(),
            outbox.sender()
        )))
        .bind(&id)
        .bind(parent_id)
        .bind(seq)
        .bind(provider_id)
        .bind(from)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Records how an attempt ended, and moves the entry's plan on by one unless the same
    /// step is to be tried again (`outcome.retry_step`).
    ///
    /// When the attempt ends dispatching (`then`), the entry is finished in the same
    /// transaction: a crash between the two would otherwise leave an entry a provider took
    /// looking as if it still had to be sent.
    pub async fn finish_attempt(
        &self,
        outbox: Outbox,
        attempt_id: &str,
        parent_id: &str,
        outcome: &AttemptOutcome,
        then: Option<&Dispatched<'_>>,
    ) -> Result<()> {
        let now = now_ms();
        let mut tx = self.writer().begin().await?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE {} SET status = $1, {} = $2, error_class = $3, error_code = $4, \
             error_message = $5, finished_at = $6 WHERE id = $7",
            outbox.attempts(),
            outbox.reference()
        )))
        .bind(outcome.status)
        .bind(&outcome.provider_ref)
        .bind(&outcome.error_class)
        .bind(&outcome.error_code)
        .bind(&outcome.error_message)
        .bind(now)
        .bind(attempt_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE {} SET next_candidate = next_candidate + $1, updated_at = $2 WHERE id = $3",
            outbox.table()
        )))
        .bind(i64::from(!outcome.retry_step))
        .bind(now)
        .bind(parent_id)
        .execute(&mut *tx)
        .await?;
        if let Some(d) = then {
            dispatched_update(outbox, parent_id, d)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The entry's attempts, in order.
    pub async fn attempts(&self, outbox: Outbox, parent_id: &str) -> Result<Vec<Attempt>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT seq, provider_id, {}, status, {}, error_class, error_code, error_message, \
             started_at, finished_at, id FROM {} WHERE {} = $1 ORDER BY seq",
            outbox.sender(),
            outbox.reference(),
            outbox.attempts(),
            outbox.parent()
        )))
        .bind(parent_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .iter()
            .map(|r| Attempt {
                seq: r.get(0),
                provider_id: r.get(1),
                from: r.get(2),
                status: r.get(3),
                provider_ref: r.get(4),
                error_class: r.get(5),
                error_code: r.get(6),
                error_message: r.get(7),
                started_at: r.get(8),
                finished_at: r.get(9),
                id: r.get(10),
            })
            .collect())
    }

    /// Ends dispatching: a provider took the entry or it is given up. The status moves only
    /// forward (a webhook may have overtaken the provider's answer).
    pub async fn finish_dispatch(
        &self,
        outbox: Outbox,
        id: &str,
        d: &Dispatched<'_>,
    ) -> Result<()> {
        dispatched_update(outbox, id, d)
            .execute(self.writer())
            .await?;
        Ok(())
    }

    /// The id of the entry a provider knows as `provider_ref`.
    pub async fn find_by_reference(
        &self,
        outbox: Outbox,
        provider_id: &str,
        provider_ref: &str,
    ) -> Result<Option<String>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT id FROM {} WHERE provider_id = $1 AND {} = $2",
            outbox.table(),
            outbox.reference()
        )))
        .bind(provider_id)
        .bind(provider_ref)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(|r| r.get(0)))
    }

    /// Moves an entry to a status a provider reported, unless it is already as far along
    /// (`rank` orders statuses; finals share the top rank, and the first final wins). A cost
    /// that comes with the status (a call rated as it ends) is written in the same step. True
    /// when it moved.
    pub async fn advance_status(
        &self,
        outbox: Outbox,
        id: &str,
        to: &StatusMove<'_>,
    ) -> Result<bool> {
        let cost = to.cost;
        let changed = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE {} SET status = $1, status_rank = $2, error_code = COALESCE($3, error_code), \
             provider_price = COALESCE($4, provider_price), cost = COALESCE($5, cost), \
             baseline_cost = COALESCE($6, baseline_cost), currency = COALESCE($7, currency), \
             cost_line = COALESCE($10, cost_line), updated_at = $8 WHERE id = $9 AND status_rank < $2",
            outbox.table()
        )))
        .bind(to.status)
        .bind(to.rank)
        .bind(to.error_code)
        .bind(to.price)
        .bind(cost.map(|c| c.cost))
        .bind(cost.and_then(|c| c.baseline))
        .bind(cost.map(|c| c.currency))
        .bind(now_ms())
        .bind(id)
        .bind(cost.and_then(|c| c.line).map(line_json))
        .execute(self.writer())
        .await?
        .rows_affected();
        Ok(changed == 1)
    }

    /// Flags an entry whose provider price disagrees with its rated cost.
    pub async fn flag_price_mismatch(&self, outbox: Outbox, id: &str) -> Result<()> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE {} SET price_mismatch = 1 WHERE id = $1",
            outbox.table()
        )))
        .bind(id)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    /// Entries a provider took that have not reached a final status and have not moved for
    /// `quiet_ms` (a report may have been lost while no instance was listening), oldest
    /// first, as `(id, org, provider, provider's id)`; entries older than three days are no
    /// longer asked about (some carriers never report delivery). Each is marked as looked
    /// at, so the next call returns others.
    pub async fn quiet_in_flight(
        &self,
        outbox: Outbox,
        final_rank: i64,
        quiet_ms: i64,
        limit: usize,
    ) -> Result<Vec<(String, String, String, String)>> {
        let now = now_ms();
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT id, org_id, provider_id, {} FROM {} WHERE dispatched = 1 AND status_rank < $1 \
             AND provider_id IS NOT NULL AND {} IS NOT NULL AND updated_at < $2 AND created_at > $4 \
             ORDER BY updated_at LIMIT $3",
            outbox.reference(),
            outbox.table(),
            outbox.reference()
        )))
        .bind(final_rank)
        .bind(now - quiet_ms)
        .bind(limit as i64)
        .bind(now - GIVE_UP_ASKING_MS)
        .fetch_all(self.pool())
        .await?;
        let mut quiet = Vec::with_capacity(rows.len());
        for r in &rows {
            let id: String = r.get(0);
            // Claimed by moving it: another instance's sweep skips it.
            let claimed = sqlx::query(sqlx::AssertSqlSafe(format!(
                "UPDATE {} SET updated_at = $1 WHERE id = $2 AND updated_at < $3",
                outbox.table()
            )))
            .bind(now)
            .bind(&id)
            .bind(now - quiet_ms)
            .execute(self.writer())
            .await?
            .rows_affected();
            if claimed == 1 {
                quiet.push((id, r.get(1), r.get(2), r.get(3)));
            }
        }
        Ok(quiet)
    }

    /// How many of the organisation's entries are in each status.
    pub async fn status_counts(&self, outbox: Outbox, org_id: &str) -> Result<Vec<(String, i64)>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT status, COUNT(*) FROM {} WHERE org_id = $1 GROUP BY status ORDER BY status",
            outbox.table()
        )))
        .bind(org_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::like_escape;

    #[test]
    fn like_wildcards_are_escaped() {
        assert_eq!(like_escape("50%_off!"), "50!%!_off!!");
    }
}
