//! Hourly usage rollups: every finished send is counted once, in one transaction with the flag
//! that says it was counted, so a crash, a second instance or a late report neither loses
//! nor doubles a send; analytics then read the rollups, not the raw records.

use crate::outbox::Outbox;
use crate::{Result, Store, now_ms};
use rust_decimal::Decimal;
use sqlx::Row;
use switchyard_core::analytics::{Counters, Finished, Outcome, RollupKey, contributions};

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

/// Adds sums to the organisation's rollup rows, creating them as needed.
pub(crate) async fn add_to_rollups(
    conn: &mut sqlx::AnyConnection,
    org_id: &str,
    rows: &[(RollupKey, Counters)],
) -> Result<()> {
    let sql = format!(
        "INSERT INTO usage_rollups (org_id, hour_ms, provider_id, country, channel, campaign, \
         currency, {}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, \
         $16, $17) ON CONFLICT (org_id, hour_ms, provider_id, country, channel, campaign, \
         currency) DO UPDATE SET {}",
        COUNTERS.join(", "),
        COUNTERS
            .iter()
            .map(|c| format!("{c} = usage_rollups.{c} + excluded.{c}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    for (k, c) in rows {
        sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(org_id)
            .bind(k.hour_ms)
            .bind(&k.provider_id)
            .bind(&k.country)
            .bind(&k.channel)
            .bind(&k.campaign)
            .bind(&k.currency)
            .bind(c.attempts)
            .bind(c.finals)
            .bind(c.succeeded)
            .bind(c.failed)
            .bind(c.failovers)
            .bind(c.duration_secs)
            .bind(c.pdd_ms)
            .bind(c.pdd_count)
            .bind(c.cost_nanos)
            .bind(c.baseline_nanos)
            .execute(&mut *conn)
            .await?;
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
    fn outcome(self, status: &str, answered: bool) -> Outcome {
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

/// The destination's ISO region, or empty.
fn country_of(to: &str) -> String {
    switchyard_core::number::parse_e164(to)
        .ok()
        .and_then(|n| n.region().map(str::to_owned))
        .unwrap_or_default()
}

impl Store {
    /// Counts finished entries of `outbox` not counted yet in the usage rollups: those at
    /// `final_rank`, and those a provider took that heard nothing for `quiet_ms` (some
    /// providers never confirm). Up to `limit` per call; returns how many were counted.
    pub async fn tally_finished(
        &self,
        outbox: Outbox,
        final_rank: i64,
        quiet_ms: i64,
        limit: usize,
    ) -> Result<usize> {
        let ids: Vec<String> = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT id FROM {} WHERE tallied = 0 AND (status_rank >= $1 \
             OR (dispatched = 1 AND updated_at < $2)) LIMIT $3",
            outbox.table()
        )))
        .bind(final_rank)
        .bind(now_ms() - quiet_ms)
        .bind(limit as i64)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
        let mut counted = 0;
        for id in ids {
            if self.tally_entry(outbox, &id).await? {
                counted += 1;
            }
        }
        Ok(counted)
    }

    /// Counts one entry in the rollups unless it was counted already; true when counted now.
    async fn tally_entry(&self, outbox: Outbox, id: &str) -> Result<bool> {
        let mut tx = self.writer().begin().await?;
        let claimed = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE {} SET tallied = 1 WHERE id = $1 AND tallied = 0",
            outbox.table()
        )))
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if claimed != 1 {
            return Ok(false);
        }
        let r = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {} FROM {} WHERE id = $1",
            outbox.facts_columns(),
            outbox.table()
        )))
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        let e = EntryFacts {
            org_id: r.get(0),
            created_at: r.get(1),
            channel: r.get(2),
            to: r.get(3),
            provider_id: r.get(4),
            status: r.get(5),
            cost: r.get(6),
            baseline: r.get(7),
            currency: r.get(8),
            metadata: r.get(9),
            duration_secs: r.get(10),
            ringing_at: r.get(11),
            answered_at: r.get(12),
        };
        let attempts: Vec<(String, String, i64)> = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT provider_id, status, started_at FROM {} WHERE {} = $1 AND status <> 'skipped' \
             ORDER BY seq",
            outbox.attempts(),
            outbox.parent()
        )))
        .bind(id)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
        let finished = finished(outbox, &e, &attempts);
        add_to_rollups(&mut tx, &e.org_id, &contributions(&finished)).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// The organisation's rollup sums over a range, grouped as asked (and by currency).
    /// Dimensions not grouped by are empty in the keys (0 for the hour).
    pub async fn rollup_sums(&self, q: &RollupQuery<'_>) -> Result<Vec<(RollupKey, Counters)>> {
        let column = |d: Dimension, name: &'static str, none: &'static str| {
            if q.group.contains(&d) { name } else { none }
        };
        let select = [
            column(Dimension::Hour, "hour_ms", "CAST(0 AS BIGINT)"),
            column(Dimension::Provider, "provider_id", "''"),
            column(Dimension::Country, "country", "''"),
            column(Dimension::Channel, "channel", "''"),
            column(Dimension::Campaign, "campaign", "''"),
        ];
        let group: Vec<&str> = select
            .iter()
            .copied()
            .filter(|c| !c.starts_with('\'') && !c.starts_with("CAST"))
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
