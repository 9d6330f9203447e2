//! Who may not be contacted: the per-channel opt-out list (STOP and friends, or an
//! operator) and the organisation-wide do-not-contact list.

use crate::{Result, Store, now_ms};
use sqlx::Row;

/// Why a number may not be contacted.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "list", rename_all = "snake_case")]
pub enum Block {
    /// It opted out of this channel.
    OptOut {
        /// `keyword` or `api`.
        source: String,
        /// Since, unix ms.
        since: i64,
    },
    /// It is on the do-not-contact list.
    DoNotContact {
        /// The reason recorded.
        reason: String,
        /// Since, unix ms.
        since: i64,
    },
}

/// An opt-out.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OptOut {
    /// Channel.
    pub channel: String,
    /// E.164.
    pub e164: String,
    /// `keyword` or `api`.
    pub source: String,
    /// Unix ms.
    pub created_at: i64,
}

/// A do-not-contact entry.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DoNotContact {
    /// E.164.
    pub e164: String,
    /// Why.
    pub reason: String,
    /// Unix ms.
    pub created_at: i64,
}

impl Store {
    /// Opts a number out of a channel; true when it was not opted out already.
    pub async fn add_opt_out(
        &self,
        org_id: &str,
        channel: &str,
        e164: &str,
        source: &str,
    ) -> Result<bool> {
        let n = sqlx::query(
            "INSERT INTO opt_outs (org_id, channel, e164, source, created_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (org_id, channel, e164) DO NOTHING",
        )
        .bind(org_id)
        .bind(channel)
        .bind(e164)
        .bind(source)
        .bind(now_ms())
        .execute(self.writer())
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    /// Opts a number back in; true when it was opted out.
    pub async fn remove_opt_out(&self, org_id: &str, channel: &str, e164: &str) -> Result<bool> {
        let n =
            sqlx::query("DELETE FROM opt_outs WHERE org_id = $1 AND channel = $2 AND e164 = $3")
                .bind(org_id)
                .bind(channel)
                .bind(e164)
                .execute(self.writer())
                .await?
                .rows_affected();
        Ok(n == 1)
    }

    /// The organisation's opt-outs, optionally of one channel, by number.
    pub async fn opt_outs(&self, org_id: &str, channel: Option<&str>) -> Result<Vec<OptOut>> {
        let rows = sqlx::query(
            "SELECT channel, e164, source, created_at FROM opt_outs \
             WHERE org_id = $1 AND ($2 = '' OR channel = $2) ORDER BY e164, channel",
        )
        .bind(org_id)
        .bind(channel.unwrap_or(""))
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .iter()
            .map(|r| OptOut {
                channel: r.get(0),
                e164: r.get(1),
                source: r.get(2),
                created_at: r.get(3),
            })
            .collect())
    }

    /// Adds do-not-contact entries in one transaction: all or none. Returns how many were
    /// new (numbers already listed keep their first reason).
    pub async fn add_do_not_contact(
        &self,
        org_id: &str,
        entries: &[(String, String)],
    ) -> Result<u64> {
        let mut tx = self.writer().begin().await?;
        let mut added = 0;
        let now = now_ms();
        for (e164, reason) in entries {
            added += sqlx::query(
                "INSERT INTO do_not_contact (org_id, e164, reason, created_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (org_id, e164) DO NOTHING",
            )
            .bind(org_id)
            .bind(e164)
            .bind(reason)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        }
        tx.commit().await?;
        Ok(added)
    }

    /// Takes a number off the do-not-contact list; true when it was on it.
    pub async fn remove_do_not_contact(&self, org_id: &str, e164: &str) -> Result<bool> {
        let n = sqlx::query("DELETE FROM do_not_contact WHERE org_id = $1 AND e164 = $2")
            .bind(org_id)
            .bind(e164)
            .execute(self.writer())
            .await?
            .rows_affected();
        Ok(n == 1)
    }

    /// The whole do-not-contact list, by number.
    pub async fn do_not_contact(&self, org_id: &str) -> Result<Vec<DoNotContact>> {
        let rows = sqlx::query(
            "SELECT e164, reason, created_at FROM do_not_contact WHERE org_id = $1 ORDER BY e164",
        )
        .bind(org_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .iter()
            .map(|r| DoNotContact {
                e164: r.get(0),
                reason: r.get(1),
                created_at: r.get(2),
            })
            .collect())
    }

    /// Why `e164` may not be contacted on `channel`, if it may not.
    pub async fn contact_block(
        &self,
        org_id: &str,
        channel: &str,
        e164: &str,
    ) -> Result<Option<Block>> {
        let dnc = sqlx::query(
            "SELECT reason, created_at FROM do_not_contact WHERE org_id = $1 AND e164 = $2",
        )
        .bind(org_id)
        .bind(e164)
        .fetch_optional(self.pool())
        .await?;
        if let Some(r) = dnc {
            return Ok(Some(Block::DoNotContact {
                reason: r.get(0),
                since: r.get(1),
            }));
        }
        let opt = sqlx::query(
            "SELECT source, created_at FROM opt_outs WHERE org_id = $1 AND channel = $2 AND e164 = $3",
        )
        .bind(org_id)
        .bind(channel)
        .bind(e164)
        .fetch_optional(self.pool())
        .await?;
        Ok(opt.map(|r| Block::OptOut {
            source: r.get(0),
            since: r.get(1),
        }))
    }
}
