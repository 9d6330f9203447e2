//! The routing audit log: every decision with its request, choice and reasons.

use crate::{Page, Result, Store};
use sqlx::{AssertSqlSafe, Row};

/// One routing decision in the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionEntry {
    /// Its id (returned to the caller with the decision).
    pub id: String,
    /// Organisation.
    pub org_id: String,
    /// Destination digits or address.
    pub destination: String,
    /// Channel name.
    pub channel: String,
    /// Strategy used.
    pub strategy: String,
    /// The primary provider, if any.
    pub chosen_provider: Option<String>,
    /// The whole decision as JSON.
    pub decision: String,
    /// Time the decision took.
    pub decision_ns: i64,
    /// When it was made, unix ms.
    pub created_at: i64,
}

/// Decisions per multi-row INSERT. Full chunks all have this one shape and the remainder
/// goes one row at a time, so the database prepares two statements in all instead of one
/// per batch size.
const PER_INSERT: usize = 100;

impl Store {
    /// Records a batch of decisions in one transaction (the background writer calls this).
    pub async fn insert_decisions(&self, batch: &[DecisionEntry]) -> Result<()> {
        let mut tx = self.writer().begin().await?;
        let full = batch.len() / PER_INSERT * PER_INSERT;
        let chunks = batch[..full]
            .chunks(PER_INSERT)
            .chain(batch[full..].chunks(1));
        for chunk in chunks {
            let mut sql = String::from(
                "INSERT INTO routing_decisions (id, org_id, destination, channel, strategy, chosen_provider, decision, decision_ns, created_at) VALUES ",
            );
            sql.push_str(&self.values_list(chunk.len(), 9));
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for d in chunk {
                q = q
                    .bind(d.id.as_str())
                    .bind(d.org_id.as_str())
                    .bind(d.destination.as_str())
                    .bind(d.channel.as_str())
                    .bind(d.strategy.as_str())
                    .bind(d.chosen_provider.as_deref())
                    .bind(d.decision.as_str())
                    .bind(d.decision_ns)
                    .bind(d.created_at);
            }
            q.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// A page of the organisation's decisions, newest first, optionally for one provider.
    pub async fn decisions_page(
        &self,
        org_id: &str,
        provider: Option<&str>,
        before: Option<&str>,
        limit: usize,
    ) -> Result<Page<DecisionEntry>> {
        let rows = sqlx::query(
            "SELECT id, org_id, destination, channel, strategy, chosen_provider, decision, decision_ns, created_at \
             FROM routing_decisions WHERE org_id = $1 AND ($2 = '' OR id < $2) \
             AND ($3 = '' OR chosen_provider = $3) ORDER BY id DESC LIMIT $4",
        )
        .bind(org_id)
        .bind(before.unwrap_or(""))
        .bind(provider.unwrap_or(""))
        .bind(limit as i64 + 1)
        .fetch_all(self.pool())
        .await?;
        let items = rows
            .iter()
            .map(|r| DecisionEntry {
                id: r.get(0),
                org_id: r.get(1),
                destination: r.get(2),
                channel: r.get(3),
                strategy: r.get(4),
                chosen_provider: r.get(5),
                decision: r.get(6),
                decision_ns: r.get(7),
                created_at: r.get(8),
            })
            .collect();
        Ok(Page::from_rows(items, limit, |d: &DecisionEntry| {
            d.id.clone()
        }))
    }
}
