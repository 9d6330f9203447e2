//! Hourly usage rollups: every finished send is counted once, in one transaction with the flag
//! that says it was counted, so a crash, a second instance or a late report neither loses
//! nor doubles a send; analytics then read the rollups, not the raw records.

use crate::outbox::Outbox;
use crate::{Result, Store, now_ms};
use rust_decimal::Decimal;
use sqlx::Row;
use switchyard_core::analytics::{Counters, Finished, Outcome, RollupKey, aggregate, country_of};

/// Columns of [`Counters`], in order.
const COUNTERS: [&str; 10] = [
    "attempts",
    "finals",
    "succeeded",
    "failed",
    "failovers",
    "duration_secs",
    "pdd_ms",
    "pdd_count",
    "cost_nanos",
    "baseline_nanos",
];

fn counters_from(r: &sqlx::any::AnyRow, first: usize) -> Counters {
    let at = |i: usize| r.get::<i64, _>(first + i);
    Counters {
        attempts: at(0),
        finals: at(1),
        succeeded: at(2),
        failed: at(3),
        failovers: at(4),
        duration_secs: at(5),
        pdd_ms: at(6),
        pdd_count: at(7),
        cost_nanos: at(8),
        baseline_nanos: at(9),
    }
}

/// Rollup rows per upsert statement: binding slows down with the square of the parameters
/// on SQLite, so statements stay small.
const ROWS_PER_UPSERT: usize = 25;

/// Adds sums to the organisation's rollup rows, creating them as needed. The keys must be
/// distinct (as [`aggregate`] gives them).
pub(crate) async fn add_to_rollups(
    conn: &mut sqlx::AnyConnection,
    org_id: &str,
    rows: &[(RollupKey, Counters)],
) -> Result<()> {
    let update = COUNTERS
        .iter()
        .map(|c| format!("{c} = usage_rollups.{c} + excluded.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    for chunk in rows.chunks(ROWS_PER_UPSERT) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| {
                let first = 2 + i * 16;
                let params: Vec<String> = (first..first + 16).map(|p| format!("${p}")).collect();
                format!("($1, {})", params.join(", "))
            })
            .collect();
        let sql = format!(
            "INSERT INTO usage_rollups (org_id, hour_ms, provider_id, country, channel, campaign, \
             currency, {}) VALUES {} ON CONFLICT (org_id, hour_ms, provider_id, country, channel, \
             campaign, currency) DO UPDATE SET {update}",
            COUNTERS.join(", "),
            values.join(", ")
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(org_id);
        for (k, c) in chunk {
            q = q
                .bind(k.hour_ms)
                .bind(k.provider_id.clone())
                .bind(k.country.clone())
                .bind(k.channel.clone())
                .bind(k.campaign.clone())
                .bind(k.currency.clone())
                .bind(c.attempts)
                .bind(c.finals)
                .bind(c.succeeded)
                .bind(c.failed)
                .bind(c.failovers)
                .bind(c.duration_secs)
                .bind(c.pdd_ms)
                .bind(c.pdd_count)
                .bind(c.cost_nanos)
                .bind(c.baseline_nanos);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// A dimension rollups can be grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dimension {
    /// The UTC hour.
    Hour,
    /// The provider.
    Provider,
    /// The destination country.
    Country,
    /// The channel.
    Channel,
    /// The campaign.
    Campaign,
}

/// What to read from the rollups: the organisation's sums over `[from_ms, to_ms)`, grouped by
/// `group` (and always by currency), optionally only for one channel.
#[derive(Debug, Clone)]
pub struct RollupQuery<'a> {
    /// Organisation.
    pub org_id: &'a str,
    /// First hour included (unix ms).
    pub from_ms: i64,
    /// End of the range (unix ms, excluded).
    pub to_ms: i64,
    /// Dimensions to group by.
    pub group: &'a [Dimension],
    /// Only this channel (`voice`, `sms`, …).
    pub channel: Option<&'a str>,
}

/// What the tally of one finished entry reads of it.
struct EntryFacts {
    org_id: String,
    created_at: i64,
    channel: String,
    to: String,
    provider_id: Option<String>,
    status: String,
    cost: Option<String>,
    baseline: Option<String>,
    currency: Option<String>,
    metadata: String,
    duration_secs: Option<i64>,
    ringing_at: Option<i64>,
    answered_at: Option<i64>,
}

impl Outbox {
    /// The columns [`EntryFacts`] is read from.
    fn facts_columns(self) -> &'static str {
        match self {
            Outbox::Messages => {
                "org_id, created_at, channel, to_e164, provider_id, status, cost, baseline_cost, \
                 currency, metadata, CAST(NULL AS BIGINT), CAST(NULL AS BIGINT), CAST(NULL AS BIGINT)"
            }
            Outbox::Calls => {
                "org_id, created_at, 'voice', to_e164, provider_id, status, cost, baseline_cost, \
                 currency, metadata, duration_secs, ringing_at, answered_at"
            }
            Outbox::Emails => {
                "org_id, created_at, 'email', '', provider_id, status, cost, baseline_cost, \
                 currency, metadata, CAST(NULL AS BIGINT), CAST(NULL AS BIGINT), CAST(NULL AS BIGINT)"
            }
        }
    }

    /// How a final status counts.
    pub fn outcome(self, status: &str, answered: bool) -> Outcome {
        match (self, status) {
            (Outbox::Calls, "completed") if answered => Outcome::Succeeded,
            (Outbox::Calls, "busy" | "no-answer" | "failed") => Outcome::Failed,
            (Outbox::Messages | Outbox::Emails, "delivered") => Outcome::Succeeded,
            (Outbox::Messages, "undelivered" | "failed") => Outcome::Failed,
            (Outbox::Emails, "bounced" | "failed") => Outcome::Failed,
            _ => Outcome::Neither,
        }
    }
}

fn decimal(text: Option<&str>) -> Option<Decimal> {
    text.and_then(|t| t.parse().ok())
}

impl Store {
    /// Counts finished entries of `outbox` not counted yet in the usage rollups: those at
    /// `final_rank`, and those a provider took that heard nothing for `quiet_ms` (some
    /// providers never confirm). Up to `limit` entries are claimed and counted in one
    /// transaction (entries another instance is counting are skipped); returns how many.
    pub async fn tally_finished(
        &self,
        outbox: Outbox,
        final_rank: i64,
        quiet_ms: i64,
        limit: usize,
    ) -> Result<usize> {
        let skip_locked = match self.backend() {
            crate::Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            crate::Backend::Sqlite => "",
        };
        let mut tx = self.writer().begin().await?;
        let claimed: Vec<String> = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE {table} SET tallied = 1 WHERE id IN (SELECT id FROM {table} WHERE tallied = 0 \
             AND (status_rank >= $1 OR (dispatched = 1 AND updated_at < $2)) LIMIT $3{skip_locked}) \
             AND tallied = 0 RETURNING id",
            table = outbox.table()
        )))
        .bind(final_rank)
        .bind(now_ms().saturating_sub(quiet_ms))
        .bind(limit as i64)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
        if claimed.is_empty() {
            return Ok(0);
        }
        let ids = serde_json::to_string(&claimed).unwrap_or_default();
        let entries = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT id, {} FROM {} WHERE id IN ({})",
            outbox.facts_columns(),
            outbox.table(),
            self.json_values("$1")
        )))
        .bind(&ids)
        .fetch_all(&mut *tx)
        .await?;
        let mut attempts: std::collections::HashMap<String, Vec<(String, String, i64)>> =
            std::collections::HashMap::new();
        for r in sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {parent}, provider_id, status, started_at FROM {} WHERE {parent} IN ({}) \
             AND status <> 'skipped' ORDER BY {parent}, seq",
            outbox.attempts(),
            self.json_values("$1"),
            parent = outbox.parent(),
        )))
        .bind(&ids)
        .fetch_all(&mut *tx)
        .await?
        {
            attempts
                .entry(r.get(0))
                .or_default()
                .push((r.get(1), r.get(2), r.get(3)));
        }
        let mut by_org: std::collections::BTreeMap<String, Vec<Finished>> =
            std::collections::BTreeMap::new();
        for r in &entries {
            let id: String = r.get(0);
            let e = EntryFacts {
                org_id: r.get(1),
                created_at: r.get(2),
                channel: r.get(3),
                to: r.get(4),
                provider_id: r.get(5),
                status: r.get(6),
                cost: r.get(7),
                baseline: r.get(8),
                currency: r.get(9),
                metadata: r.get(10),
                duration_secs: r.get(11),
                ringing_at: r.get(12),
                answered_at: r.get(13),
            };
            let tried = attempts.get(&id).map(Vec::as_slice).unwrap_or_default();
            let f = finished(outbox, &e, tried);
            by_org.entry(e.org_id).or_default().push(f);
        }
        for (org, sends) in &by_org {
            let sums: Vec<_> = aggregate(sends).into_iter().collect();
            add_to_rollups(&mut tx, org, &sums).await?;
        }
        tx.commit().await?;
        Ok(claimed.len())
    }

    /// A subquery of the strings in a JSON array parameter, as a column named `value`.
    fn json_values(&self, param: &str) -> String {
        match self.backend() {
            crate::Backend::Postgres => {
                format!("SELECT value FROM json_array_elements_text(CAST({param} AS json))")
            }
            crate::Backend::Sqlite => format!("SELECT value FROM json_each({param})"),
        }
    }

    /// The organisation's rollup sums over a range, grouped as asked (and by currency).
    /// Dimensions not grouped by are empty in the keys (0 for the hour).
    pub async fn rollup_sums(&self, q: &RollupQuery<'_>) -> Result<Vec<(RollupKey, Counters)>> {
        // Each dimension's column, or a constant in its place when not grouped by.
        let dimensions = [
            (Dimension::Hour, "hour_ms", "CAST(0 AS BIGINT)"),
            (Dimension::Provider, "provider_id", "''"),
            (Dimension::Country, "country", "''"),
            (Dimension::Channel, "channel", "''"),
            (Dimension::Campaign, "campaign", "''"),
        ];
        let grouped = |d: &Dimension| q.group.contains(d);
        let select: Vec<&str> = dimensions
            .iter()
            .map(|(d, column, constant)| if grouped(d) { column } else { constant })
            .copied()
            .collect();
        let group: Vec<&str> = dimensions
            .iter()
            .filter(|(d, ..)| grouped(d))
            .map(|(_, column, _)| *column)
            .chain(["currency"])
            .collect();
        let sums: Vec<String> = COUNTERS
            .iter()
            .map(|c| format!("CAST(SUM({c}) AS BIGINT)"))
            .collect();
        let sql = format!(
            "SELECT {}, currency, {} FROM usage_rollups WHERE org_id = $1 AND hour_ms >= $2 \
             AND hour_ms < $3 AND ($4 = '' OR channel = $4) GROUP BY {}",
            select.join(", "),
            sums.join(", "),
            group.join(", ")
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(q.org_id)
            .bind(q.from_ms)
            .bind(q.to_ms)
            .bind(q.channel.unwrap_or(""))
            .fetch_all(self.pool())
            .await?;
        Ok(rows
            .iter()
            .map(|r| {
                let key = RollupKey {
                    hour_ms: r.get(0),
                    provider_id: r.get(1),
                    country: r.get(2),
                    channel: r.get(3),
                    campaign: r.get(4),
                    currency: r.get(5),
                };
                (key, counters_from(r, 6))
            })
            .collect())
    }
}

/// An entry's facts as analytics counts them. The last attempt is the one it ended with;
/// every earlier one failed over.
fn finished(outbox: Outbox, e: &EntryFacts, attempts: &[(String, String, i64)]) -> Finished {
    let last = attempts.last();
    let provider_id = e
        .provider_id
        .clone()
        .or_else(|| last.map(|a| a.0.clone()))
        .unwrap_or_default();
    let answered = e.answered_at.is_some() || e.duration_secs.is_some_and(|d| d > 0);
    let campaign = serde_json::from_str::<serde_json::Value>(&e.metadata)
        .ok()
        .and_then(|m| m.get("campaign")?.as_str().map(str::to_owned))
        .unwrap_or_default();
    let cost = decimal(e.cost.as_deref()).zip(e.currency.clone());
    Finished {
        created_at_ms: e.created_at,
        channel: e.channel.clone(),
        provider_id,
        country: country_of(&e.to),
        campaign,
        outcome: outbox.outcome(&e.status, answered),
        duration_secs: if answered {
            e.duration_secs.unwrap_or(0)
        } else {
            0
        },
        pdd_ms: e.ringing_at.zip(last).map(|(rang, a)| rang - a.2),
        baseline: decimal(e.baseline.as_deref()).filter(|_| cost.is_some()),
        cost,
        failed_over: attempts
            .iter()
            .take(attempts.len().saturating_sub(1))
            .map(|a| a.0.clone())
            .collect(),
    }
}
