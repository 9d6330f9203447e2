//! Getting a number to something that needs one: the record of each provisioning through
//! the fallback chain (one per subject, so asking twice never buys twice), claiming a free
//! number of a pool atomically, recording what a number is and what it is assigned to, and
//! usage warnings given once per threshold and window.

use crate::numbers::Assignment;
use crate::{Page, PhoneNumber, Result, Store, new_id, now_ms};
use sqlx::Row;

/// A provisioning and the steps it took.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ProvisioningRecord {
    /// Its id.
    pub id: String,
    /// Owning organisation.
    pub org_id: String,
    /// What the number is for.
    #[serde(rename = "for")]
    pub subject: Assignment,
    /// `running`, `assigned` or `needs_manual_assignment`.
    pub status: String,
    /// The number assigned, once assigned.
    pub number_id: Option<String>,
    /// The steps tried, JSON.
    pub steps: String,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

/// What starting a provisioning found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProvisioningStart {
    /// This caller runs it (new, or a retry of one that needed a person).
    Run(ProvisioningRecord),
    /// It ran before or is running now: its record.
    Exists(ProvisioningRecord),
}

/// What a number is, as bought.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NumberFacts {
    /// `local`, `toll_free` or `mobile`.
    pub kind: String,
    /// Monthly cost (decimal text).
    pub monthly_cost: Option<String>,
    /// Its currency.
    pub currency: Option<String>,
    /// STIR/SHAKEN attestation.
    pub attestation: Option<String>,
    /// Bought through the platform's account.
    pub from_platform: bool,
}

/// A usage warning given.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct UsageWarning {
    /// `pool:{id}` or `free_tier`.
    pub scope: String,
    /// The window it is for (a pool's local day; `all` for the free tier).
    pub window: String,
    /// 70 or 100 (percent).
    pub threshold: i64,
    /// Use when it was given.
    pub used: i64,
    /// The limit.
    pub capacity: i64,
    /// Unix ms.
    pub created_at: i64,
}

const PROVISIONING_COLUMNS: &str =
    "id, org_id, subject_kind, subject_ref, status, number_id, steps, created_at, updated_at";

fn provisioning_from_row(r: &sqlx::any::AnyRow) -> ProvisioningRecord {
    ProvisioningRecord {
        id: r.get(0),
        org_id: r.get(1),
        subject: Assignment {
            kind: r.get(2),
            reference: r.get(3),
        },
        status: r.get(4),
        number_id: r.get(5),
        steps: r.get(6),
        created_at: r.get(7),
        updated_at: r.get(8),
    }
}

impl Store {
    /// Starts provisioning a number for `subject`: a new record in `running`, or the
    /// existing one (assigned or running), or the existing one taken back to `running` when
    /// it ended needing a person or was left running by an instance that stopped before
    /// `stale_before_ms` (exactly one caller wins that).
    pub async fn begin_provisioning(
        &self,
        org_id: &str,
        subject: &Assignment,
        stale_before_ms: i64,
    ) -> Result<ProvisioningStart> {
        let now = now_ms();
        let inserted = sqlx::query(
            "INSERT INTO provisionings (id, org_id, subject_kind, subject_ref, status, steps, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, 'running', '[]', $5, $5) \
             ON CONFLICT (org_id, subject_kind, subject_ref) DO NOTHING",
        )
        .bind(new_id())
        .bind(org_id)
        .bind(&subject.kind)
        .bind(&subject.reference)
        .bind(now)
        .execute(self.writer())
        .await?
        .rows_affected();
        let retried = inserted == 0
            && sqlx::query(
                "UPDATE provisionings SET status = 'running', updated_at = $1 \
                 WHERE org_id = $2 AND subject_kind = $3 AND subject_ref = $4 \
                 AND (status = 'needs_manual_assignment' OR (status = 'running' AND updated_at < $5))",
            )
            .bind(now)
            .bind(org_id)
            .bind(&subject.kind)
            .bind(&subject.reference)
            .bind(stale_before_ms)
            .execute(self.writer())
            .await?
            .rows_affected()
                > 0;
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {PROVISIONING_COLUMNS} FROM provisionings \
             WHERE org_id = $1 AND subject_kind = $2 AND subject_ref = $3"
        )))
        .bind(org_id)
        .bind(&subject.kind)
        .bind(&subject.reference)
        .fetch_one(self.writer())
        .await?;
        let record = provisioning_from_row(&row);
        Ok(if inserted > 0 || retried {
            ProvisioningStart::Run(record)
        } else {
            ProvisioningStart::Exists(record)
        })
    }

    /// Records how a provisioning ended.
    pub async fn finish_provisioning(
        &self,
        id: &str,
        status: &str,
        number_id: Option<&str>,
        steps: &str,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE provisionings SET status = $1, number_id = $2, steps = $3, updated_at = $4 WHERE id = $5",
        )
        .bind(status)
        .bind(number_id)
        .bind(steps)
        .bind(now_ms())
        .bind(id)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    /// One of the organisation's provisionings.
    pub async fn provisioning(&self, org_id: &str, id: &str) -> Result<Option<ProvisioningRecord>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {PROVISIONING_COLUMNS} FROM provisionings WHERE org_id = $1 AND id = $2"
        )))
        .bind(org_id)
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.as_ref().map(provisioning_from_row))
    }

    /// A page of the organisation's provisionings, newest first.
    pub async fn provisionings_page(
        &self,
        org_id: &str,
        before: Option<&str>,
        limit: usize,
    ) -> Result<Page<ProvisioningRecord>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {PROVISIONING_COLUMNS} FROM provisionings WHERE org_id = $1 AND ($2 = '' OR id < $2) \
             ORDER BY id DESC LIMIT $3"
        )))
        .bind(org_id)
        .bind(before.unwrap_or(""))
        .bind(limit as i64 + 1)
        .fetch_all(self.pool())
        .await?;
        let items = rows.iter().map(provisioning_from_row).collect();
        Ok(Page::from_rows(items, limit, |p: &ProvisioningRecord| {
            p.id.clone()
        }))
    }

    /// Assigns one unassigned, usable number of a pool to `subject`, atomically (two
    /// provisionings never get the same number); `None` when the pool has none left.
    pub async fn claim_pool_number(
        &self,
        org_id: &str,
        pool_id: &str,
        subject: &Assignment,
    ) -> Result<Option<PhoneNumber>> {
        // A number another claim took between the read and the update is skipped.
        for _ in 0..8 {
            let candidate: Option<String> = sqlx::query_scalar(
                "SELECT n.id FROM pool_numbers p JOIN phone_numbers n ON n.id = p.number_id \
                 WHERE p.pool_id = $1 AND n.org_id = $2 AND n.assigned_kind IS NULL \
                 AND n.status IN ('active', 'warming') ORDER BY n.e164 LIMIT 1",
            )
            .bind(pool_id)
            .bind(org_id)
            .fetch_optional(self.writer())
            .await?;
            let Some(id) = candidate else {
                return Ok(None);
            };
            if self.assign_number(org_id, &id, Some(subject), true).await? {
                return self.number(org_id, &id).await;
            }
        }
        Ok(None)
    }

    /// Assigns a number to `subject` (or clears its assignment); with `only_if_free`, only
    /// when it is not assigned yet. False when nothing changed.
    pub async fn assign_number(
        &self,
        org_id: &str,
        number_id: &str,
        subject: Option<&Assignment>,
        only_if_free: bool,
    ) -> Result<bool> {
        let n = sqlx::query(
            "UPDATE phone_numbers SET assigned_kind = $1, assigned_ref = $2, updated_at = $3 \
             WHERE id = $4 AND org_id = $5 AND status <> 'released' \
             AND ($6 = 0 OR assigned_kind IS NULL)",
        )
        .bind(subject.map(|s| s.kind.as_str()))
        .bind(subject.map(|s| s.reference.as_str()))
        .bind(now_ms())
        .bind(number_id)
        .bind(org_id)
        .bind(i64::from(only_if_free))
        .execute(self.writer())
        .await?
        .rows_affected();
        Ok(n > 0)
    }

    /// Records what a number is (as bought).
    pub async fn set_number_facts(&self, number_id: &str, facts: &NumberFacts) -> Result<()> {
        sqlx::query(
            "UPDATE phone_numbers SET kind = $1, monthly_cost = $2, currency = $3, attestation = $4, \
             from_platform = $5 WHERE id = $6",
        )
        .bind(&facts.kind)
        .bind(facts.monthly_cost.as_deref())
        .bind(facts.currency.as_deref())
        .bind(facts.attestation.as_deref())
        .bind(i64::from(facts.from_platform))
        .bind(number_id)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    /// Marks a number released (given back to its provider) and takes it out of every pool.
    pub async fn release_number(&self, org_id: &str, number_id: &str) -> Result<bool> {
        let n = sqlx::query(
            "UPDATE phone_numbers SET status = 'released', assigned_kind = NULL, assigned_ref = NULL, \
             updated_at = $1 WHERE id = $2 AND org_id = $3",
        )
        .bind(now_ms())
        .bind(number_id)
        .bind(org_id)
        .execute(self.writer())
        .await?
        .rows_affected();
        sqlx::query("DELETE FROM pool_numbers WHERE number_id = $1")
            .bind(number_id)
            .execute(self.writer())
            .await?;
        Ok(n > 0)
    }

    /// How many numbers in service the organisation holds through the platform's account.
    pub async fn platform_numbers_held(&self, org_id: &str) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM phone_numbers WHERE org_id = $1 AND from_platform = 1 \
             AND status <> 'released'",
        )
        .bind(org_id)
        .fetch_one(self.writer())
        .await?)
    }

    /// Records a usage warning unless it was given already for this scope, window and
    /// threshold; true when it is new (the caller then tells the organisation).
    pub async fn record_usage_warning(&self, org_id: &str, w: &UsageWarning) -> Result<bool> {
        let n = sqlx::query(
            "INSERT INTO usage_warnings (org_id, scope, window_key, threshold, used, capacity, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (org_id, scope, window_key, threshold) DO NOTHING",
        )
        .bind(org_id)
        .bind(&w.scope)
        .bind(&w.window)
        .bind(w.threshold)
        .bind(w.used)
        .bind(w.capacity)
        .bind(w.created_at)
        .execute(self.writer())
        .await?
        .rows_affected();
        Ok(n > 0)
    }

    /// The latest warnings given for a scope and its sub-scopes (`pool:{id}` covers
    /// `pool:{id}:voice`), newest first.
    pub async fn usage_warnings(&self, org_id: &str, scope: &str) -> Result<Vec<UsageWarning>> {
        let rows = sqlx::query(
            "SELECT scope, window_key, threshold, used, capacity, created_at FROM usage_warnings \
             WHERE org_id = $1 AND (scope = $2 OR scope LIKE $3) \
             ORDER BY created_at DESC, threshold DESC LIMIT 50",
        )
        .bind(org_id)
        .bind(scope)
        .bind(format!("{scope}:%"))
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .iter()
            .map(|r| UsageWarning {
                scope: r.get(0),
                window: r.get(1),
                threshold: r.get(2),
                used: r.get(3),
                capacity: r.get(4),
                created_at: r.get(5),
            })
            .collect())
    }
}
