//! How many calls, messages and emails an organisation started since an instant, by status:
//! the dashboard's "today" counters, read live (the hourly rollups only count sends once
//! they finish).

use crate::{Outbox, Result, Store};
use sqlx::Row;

/// Sends of one outbox in one status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusCount {
    /// Calls, messages or emails.
    pub outbox: Outbox,
    /// The status.
    pub status: String,
    /// How many.
    pub count: i64,
}

/// The smallest id [`crate::new_id`] can make at `ms`: ids are UUIDv7, whose first 48 bits
/// are the creation instant, so `id >= bound` is a time range on the `(org_id, id)` index.
fn id_bound(ms: i64) -> String {
    let ms = u64::try_from(ms.max(0)).unwrap_or(0) & 0xFFFF_FFFF_FFFF;
    format!(
        "{:08x}-{:04x}-0000-0000-000000000000",
        ms >> 16,
        ms & 0xFFFF
    )
}

impl Store {
    /// Counts by outbox and status of the organisation's sends created at or after `since_ms`.
    pub async fn activity_since(&self, org_id: &str, since_ms: i64) -> Result<Vec<StatusCount>> {
        let bound = id_bound(since_ms);
        let mut out = Vec::new();
        for outbox in [Outbox::Calls, Outbox::Messages, Outbox::Emails] {
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT status, COUNT(*) FROM {} WHERE org_id = $1 AND id >= $2 GROUP BY status ORDER BY status",
                outbox.table()
            )))
            .bind(org_id)
            .bind(&bound)
            .fetch_all(self.pool())
            .await?;
            out.extend(rows.iter().map(|r| StatusCount {
                outbox,
                status: r.get(0),
                count: r.get(1),
            }));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::id_bound;

    #[test]
    fn the_bound_sorts_with_the_ids_of_its_instant() {
        let at = 1_765_000_000_123_i64;
        let id = uuid::Uuid::new_v7(uuid::Timestamp::from_unix(
            uuid::NoContext,
            1_765_000_000,
            123_000_000,
        ))
        .to_string();
        assert!(id >= id_bound(at));
        assert!(id < id_bound(at + 1));
        assert_eq!(id_bound(0), "00000000-0000-0000-0000-000000000000");
    }
}
