//! What a number has done: its calls and messages since an instant with their cost, and
//! the answer tallies the automatic spam rule compares (a number's latest calls against its
//! pool's).

use crate::{Result, Store};
use sqlx::Row;
use switchyard_core::pool::AnswerTally;

/// Calls and messages sent from a number since an instant, and their rated cost.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct NumberActivity {
    /// Calls placed from it.
    pub calls: i64,
    /// Messages sent from it.
    pub messages: i64,
    /// Rated cost per currency (decimal text each, not summed here: the caller adds them
    /// exactly).
    #[serde(skip)]
    pub costs: Vec<(String, String)>,
}

/// Turns `COUNT(*), SUM(answered)` into a tally (both dialects count in 64-bit integers).
fn tally(row: &sqlx::any::AnyRow) -> AnswerTally {
    let clamp = |v: i64| u32::try_from(v.max(0)).unwrap_or(u32::MAX);
    AnswerTally {
        calls: clamp(row.get(0)),
        answered: clamp(row.get(1)),
    }
}

impl Store {
    /// Calls and messages from `e164` created at or after `since_ms`, with their costs.
    pub async fn number_activity(
        &self,
        org_id: &str,
        e164: &str,
        since_ms: i64,
    ) -> Result<NumberActivity> {
        let mut out = NumberActivity::default();
        for table in ["calls", "messages"] {
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT cost, currency FROM {table} WHERE org_id = $1 AND from_e164 = $2 AND created_at >= $3"
            )))
            .bind(org_id)
            .bind(e164)
            .bind(since_ms)
            .fetch_all(self.pool())
            .await?;
            let count = rows.len() as i64;
            if table == "calls" {
                out.calls = count;
            } else {
                out.messages = count;
            }
            out.costs.extend(rows.iter().filter_map(|r| {
                let cost: Option<String> = r.get(0);
                let currency: Option<String> = r.get(1);
                cost.zip(currency).map(|(c, cur)| (cur, c))
            }));
        }
        Ok(out)
    }

    /// Of the latest `last` ended calls from `e164` placed after `since_ms`, how many were
    /// answered.
    pub async fn number_answer_tally(
        &self,
        org_id: &str,
        e164: &str,
        since_ms: i64,
        last: u32,
    ) -> Result<AnswerTally> {
        let row = sqlx::query(
            "SELECT COUNT(*), COALESCE(SUM(CASE WHEN answered_at IS NULL THEN 0 ELSE 1 END), 0) FROM \
             (SELECT answered_at FROM calls WHERE org_id = $1 AND from_e164 = $2 AND created_at > $3 \
              AND ended_at IS NOT NULL ORDER BY created_at DESC LIMIT $4) latest",
        )
        .bind(org_id)
        .bind(e164)
        .bind(since_ms)
        .bind(i64::from(last))
        .fetch_one(self.pool())
        .await?;
        Ok(tally(&row))
    }

    /// Of the latest `last` ended calls from any number of a pool, how many were answered.
    pub async fn pool_answer_tally(&self, pool_id: &str, last: u32) -> Result<AnswerTally> {
        let row = sqlx::query(
            "SELECT COUNT(*), COALESCE(SUM(CASE WHEN answered_at IS NULL THEN 0 ELSE 1 END), 0) FROM \
             (SELECT c.answered_at FROM pool_numbers m JOIN phone_numbers n ON n.id = m.number_id \
              JOIN calls c ON c.org_id = n.org_id AND c.from_e164 = n.e164 \
              WHERE m.pool_id = $1 AND c.ended_at IS NOT NULL ORDER BY c.created_at DESC LIMIT $2) latest",
        )
        .bind(pool_id)
        .bind(i64::from(last))
        .fetch_one(self.pool())
        .await?;
        Ok(tally(&row))
    }
}
