//! Finished calls written in bulk for benchmarks (`switchyard bench analytics`, `bench
//! overview`): the raw records, already counted, and the rollups tallying them one by one
//! would produce; and the raw-table scans that the rollups and the id-range count replace,
//! as the benchmarks' baselines.

use crate::usage::add_to_rollups;
use crate::{Result, StatusCount, Store, id_at};
use sqlx::Row;
use switchyard_core::analytics::{Finished, Outcome, aggregate};

/// Calls per INSERT statement: binding slows down with the square of the parameters on
/// SQLite, so statements stay small.
const ROWS_PER_STATEMENT: usize = 40;

/// A finished call to write: its destination and what analytics counts of it.
#[derive(Debug, Clone)]
pub struct SyntheticCall {
    /// Destination, E.164.
    pub to: String,
    /// The call as analytics sees it.
    pub finished: Finished,
}

impl Store {
    /// Writes finished calls of an organisation, marked as counted, and adds them to the
    /// usage rollups, in one transaction.
    pub async fn load_finished_calls(&self, org_id: &str, calls: &[SyntheticCall]) -> Result<()> {
        let mut tx = self.writer().begin().await?;
        for chunk in calls.chunks(ROWS_PER_STATEMENT) {
            let values: Vec<String> = (0..chunk.len())
                .map(|i| {
                    let p = 2 + i * 9;
                    format!(
                        "(${}, $1, ${}, '{{}}', 30, ${}, '[]', '{{}}', ${}, 4, 0, 1, 0, ${}, ${}, ${}, \
                         ${}, ${}, 'USD', 1, ${})",
                        p,
                        p + 1,
                        p + 2,
                        p + 3,
                        p + 4,
                        p + 5,
                        p + 5,
                        p + 6,
                        p + 7,
                        p + 8
                    )
                })
                .collect();
            let sql = format!(
                "INSERT INTO calls (id, org_id, to_e164, answer, ring_timeout_secs, metadata, plan, \
                 decision, status, status_rank, next_candidate, dispatched, lease_until, provider_id, \
                 created_at, updated_at, cost, baseline_cost, currency, tallied, duration_secs) \
                 VALUES {}",
                values.join(", ")
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(org_id);
            for c in chunk {
                let f = &c.finished;
                let metadata = if f.campaign.is_empty() {
                    "{}".to_string()
                } else {
                    serde_json::json!({ "campaign": f.campaign }).to_string()
                };
                let status = match f.outcome {
                    Outcome::Succeeded => "completed",
                    Outcome::Failed => "busy",
                    Outcome::Neither => "canceled",
                };
                q = q
                    .bind(id_at(f.created_at_ms))
                    .bind(c.to.clone())
                    .bind(metadata)
                    .bind(status)
                    .bind(f.provider_id.clone())
                    .bind(f.created_at_ms)
                    .bind(f.cost.as_ref().map(|c| c.0.to_string()))
                    .bind(f.baseline.map(|b| b.to_string()))
                    .bind(f.duration_secs);
            }
            q.execute(&mut *tx).await?;
        }
        let sums: Vec<_> = aggregate(calls.iter().map(|c| &c.finished))
            .into_iter()
            .collect();
        add_to_rollups(&mut tx, org_id, &sums).await?;
        tx.commit().await?;
        Ok(())
    }

    /// What the rollups replace: the organisation's sends and spend per provider over
    /// `[from_ms, to_ms)`, summed from the raw call records (cost as a float: this is a
    /// baseline, not an amount to show).
    pub async fn scan_spend_by_provider(
        &self,
        org_id: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<(String, i64, f64)>> {
        let rows = sqlx::query(
            "SELECT provider_id, COUNT(*), CAST(SUM(CAST(cost AS DOUBLE PRECISION)) AS DOUBLE PRECISION) \
             FROM calls WHERE org_id = $1 AND created_at >= $2 AND created_at < $3 \
             GROUP BY provider_id ORDER BY provider_id",
        )
        .bind(org_id)
        .bind(from_ms)
        .bind(to_ms)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .iter()
            .map(|r| {
                (
                    r.get::<Option<String>, _>(0).unwrap_or_default(),
                    r.get(1),
                    r.get::<Option<f64>, _>(2).unwrap_or_default(),
                )
            })
            .collect())
    }

    /// What the overview's id-range count replaces: the organisation's calls since
    /// `since_ms` by status, filtered on `created_at`, which no index leads with.
    pub async fn scan_call_activity_since(
        &self,
        org_id: &str,
        since_ms: i64,
    ) -> Result<Vec<StatusCount>> {
        let rows = sqlx::query(
            "SELECT status, COUNT(*) FROM calls WHERE org_id = $1 AND created_at >= $2 \
             GROUP BY status ORDER BY status",
        )
        .bind(org_id)
        .bind(since_ms)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .iter()
            .map(|r| StatusCount {
                outbox: crate::Outbox::Calls,
                status: r.get(0),
                count: r.get(1),
            })
            .collect())
    }
}
