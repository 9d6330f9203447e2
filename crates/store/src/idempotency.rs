//! Idempotency keys: the first response to a POST is stored and replayed for the same key.

use crate::{Result, Store, now_ms};
use sqlx::Row;

/// What reserving a key found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reservation {
    /// The key is new and now reserved: run the request, then complete it.
    New,
    /// The key was used for this request before: replay its response.
    Replay {
        /// Stored status.
        status: u16,
        /// Stored body.
        body: String,
    },
    /// The first request with this key is still running.
    InProgress,
    /// The key was used for a different request.
    Mismatch,
}

impl Store {
    /// Reserves `key` for a request identified by `fingerprint` (method, path, body hash).
    pub async fn reserve_idempotency(
        &self,
        org_id: &str,
        key: &str,
        fingerprint: &str,
    ) -> Result<Reservation> {
        let inserted = sqlx::query(
            "INSERT INTO idempotency_keys (org_id, idem_key, fingerprint, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (org_id, idem_key) DO NOTHING",
        )
        .bind(org_id)
        .bind(key)
        .bind(fingerprint)
        .bind(now_ms())
        .execute(self.writer())
        .await?;
        if inserted.rows_affected() == 1 {
            return Ok(Reservation::New);
        }
        let row = sqlx::query("SELECT fingerprint, status, body FROM idempotency_keys WHERE org_id = $1 AND idem_key = $2")
            .bind(org_id)
            .bind(key)
            .fetch_optional(self.pool())
            .await?;
        let Some(row) = row else {
            // Released between the two statements: the caller may retry.
            return Ok(Reservation::InProgress);
        };
        let stored: String = row.get(0);
        if stored != fingerprint {
            return Ok(Reservation::Mismatch);
        }
        match (
            row.get::<Option<i64>, _>(1),
            row.get::<Option<String>, _>(2),
        ) {
            (Some(status), Some(body)) => Ok(Reservation::Replay {
                status: u16::try_from(status).unwrap_or(500),
                body,
            }),
            _ => Ok(Reservation::InProgress),
        }
    }

    /// Stores the response of a reserved key.
    pub async fn complete_idempotency(
        &self,
        org_id: &str,
        key: &str,
        status: u16,
        body: &str,
    ) -> Result<()> {
        sqlx::query("UPDATE idempotency_keys SET status = $1, body = $2 WHERE org_id = $3 AND idem_key = $4")
            .bind(i64::from(status))
            .bind(body)
            .bind(org_id)
            .bind(key)
            .execute(self.writer())
            .await?;
        Ok(())
    }

    /// Frees a reserved key whose request failed on the server's side, so it can be retried.
    pub async fn release_idempotency(&self, org_id: &str, key: &str) -> Result<()> {
        sqlx::query(
            "DELETE FROM idempotency_keys WHERE org_id = $1 AND idem_key = $2 AND status IS NULL",
        )
        .bind(org_id)
        .bind(key)
        .execute(self.writer())
        .await?;
        Ok(())
    }
}
