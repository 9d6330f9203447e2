//! Budgets and their spend per window. A send is admitted by one statement that adds its
//! expected cost to the window only while the total stays at or below the stop threshold,
//! so instances sharing a database never admit past it between them; the rated cost later
//! replaces the expected one (`adjust_budget`), which is the only way spend can pass the
//! threshold, by at most what was in flight. Both run on the counter connections (see
//! [`Store`]'s `counters`): on PostgreSQL their commits do not wait for the disk.

use crate::{Result, Store, new_id, now_ms};
use sqlx::Row;

/// A stored budget.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BudgetRecord {
    /// Its id.
    pub id: String,
    /// Owning organisation.
    pub org_id: String,
    /// `organization`, `provider` or `campaign`.
    pub scope_kind: String,
    /// The provider or campaign id (empty for the organisation).
    pub scope_ref: String,
    /// `daily` or `monthly`.
    pub period: String,
    /// Amount per window (decimal text).
    pub amount: String,
    /// ISO 4217.
    pub currency: String,
    /// Alert threshold, percent.
    pub alert_pct: i64,
    /// Stop threshold, percent.
    pub stop_pct: i64,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

/// A budget to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewBudget {
    /// `organization`, `provider` or `campaign`.
    pub scope_kind: String,
    /// The provider or campaign id (empty for the organisation).
    pub scope_ref: String,
    /// `daily` or `monthly`.
    pub period: String,
    /// Amount per window (decimal text).
    pub amount: String,
    /// ISO 4217.
    pub currency: String,
    /// Alert threshold, percent.
    pub alert_pct: i64,
    /// Stop threshold, percent.
    pub stop_pct: i64,
}

const COLUMNS: &str = "id, org_id, scope_kind, scope_ref, period, amount, currency, alert_pct, stop_pct, created_at, updated_at";

fn from_row(r: &sqlx::any::AnyRow) -> BudgetRecord {
    BudgetRecord {
        id: r.get(0),
        org_id: r.get(1),
        scope_kind: r.get(2),
        scope_ref: r.get(3),
        period: r.get(4),
        amount: r.get(5),
        currency: r.get(6),
        alert_pct: r.get(7),
        stop_pct: r.get(8),
        created_at: r.get(9),
        updated_at: r.get(10),
    }
}

impl Store {
    /// Creates a budget; `None` when the organisation has one for that scope and period.
    pub async fn create_budget(&self, org_id: &str, b: &NewBudget) -> Result<Option<BudgetRecord>> {
        let id = new_id();
        let now = now_ms();
        let n = sqlx::query(
            "INSERT INTO budgets (id, org_id, scope_kind, scope_ref, period, amount, currency, alert_pct, stop_pct, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) \
             ON CONFLICT (org_id, scope_kind, scope_ref, period) DO NOTHING",
        )
        .bind(&id)
        .bind(org_id)
        .bind(&b.scope_kind)
        .bind(&b.scope_ref)
        .bind(&b.period)
        .bind(&b.amount)
        .bind(&b.currency)
        .bind(b.alert_pct)
        .bind(b.stop_pct)
        .bind(now)
        .execute(self.writer())
        .await?
        .rows_affected();
        if n == 0 {
            return Ok(None);
        }
        self.budget(org_id, &id).await
    }

    /// One of the organisation's budgets.
    pub async fn budget(&self, org_id: &str, id: &str) -> Result<Option<BudgetRecord>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM budgets WHERE org_id = $1 AND id = $2"
        )))
        .bind(org_id)
        .bind(id)
        .fetch_optional(self.writer())
        .await?;
        Ok(row.as_ref().map(from_row))
    }

    /// Every budget of the organisation (a handful: one per scope and period).
    pub async fn budgets(&self, org_id: &str) -> Result<Vec<BudgetRecord>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM budgets WHERE org_id = $1 ORDER BY id"
        )))
        .bind(org_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(from_row).collect())
    }

    /// Changes a budget's amount and thresholds; false when there is no such budget.
    pub async fn update_budget(
        &self,
        org_id: &str,
        id: &str,
        amount: &str,
        alert_pct: i64,
        stop_pct: i64,
    ) -> Result<bool> {
        let n = sqlx::query(
            "UPDATE budgets SET amount = $1, alert_pct = $2, stop_pct = $3, updated_at = $4 \
             WHERE org_id = $5 AND id = $6",
        )
        .bind(amount)
        .bind(alert_pct)
        .bind(stop_pct)
        .bind(now_ms())
        .bind(org_id)
        .bind(id)
        .execute(self.writer())
        .await?
        .rows_affected();
        Ok(n > 0)
    }

    /// Deletes a budget with its windows.
    pub async fn delete_budget(&self, org_id: &str, id: &str) -> Result<bool> {
        let n = sqlx::query("DELETE FROM budgets WHERE org_id = $1 AND id = $2")
            .bind(org_id)
            .bind(id)
            .execute(self.writer())
            .await?
            .rows_affected();
        Ok(n > 0)
    }

    /// Admits a send expected to cost `expected` nano-units into a budget's window if the
    /// window's total stays at or below `stop` nano-units: the new total, or `None` when it
    /// would pass (nothing is added then).
    pub async fn admit_spend(
        &self,
        budget_id: &str,
        window: &str,
        expected: i64,
        stop: i64,
    ) -> Result<Option<i64>> {
        let row = sqlx::query(
            "INSERT INTO budget_windows (budget_id, window_key, committed) \
             SELECT $1, $2, $3 WHERE $3 <= $4 \
             ON CONFLICT (budget_id, window_key) DO UPDATE SET committed = budget_windows.committed + $3 \
             WHERE budget_windows.committed + $3 <= $4 RETURNING committed",
        )
        .bind(budget_id)
        .bind(window)
        .bind(expected)
        .bind(stop)
        .fetch_optional(&self.counters)
        .await?;
        Ok(row.map(|r| r.get(0)))
    }

    /// Adds `delta` nano-units (negative to give back) to a window unconditionally: a
    /// send's rated cost replacing its expected cost, or a refused send's reservation
    /// returned. The new total.
    pub async fn adjust_budget(&self, budget_id: &str, window: &str, delta: i64) -> Result<i64> {
        let row = sqlx::query(
            "INSERT INTO budget_windows (budget_id, window_key, committed) VALUES ($1, $2, $3) \
             ON CONFLICT (budget_id, window_key) DO UPDATE SET committed = budget_windows.committed + $3 \
             RETURNING committed",
        )
        .bind(budget_id)
        .bind(window)
        .bind(delta)
        .fetch_one(&self.counters)
        .await?;
        Ok(row.get(0))
    }

    /// A window's committed spend (0 when nothing was spent).
    pub async fn budget_spend(&self, budget_id: &str, window: &str) -> Result<i64> {
        let spent: Option<i64> = sqlx::query_scalar(
            "SELECT committed FROM budget_windows WHERE budget_id = $1 AND window_key = $2",
        )
        .bind(budget_id)
        .bind(window)
        .fetch_optional(self.pool())
        .await?;
        Ok(spent.unwrap_or(0))
    }

    /// The organisation's time zone (IANA name) for budget windows.
    pub async fn org_time_zone(&self, org_id: &str) -> Result<String> {
        let tz: Option<String> = sqlx::query_scalar("SELECT time_zone FROM orgs WHERE id = $1")
            .bind(org_id)
            .fetch_optional(self.pool())
            .await?;
        Ok(tz.unwrap_or_else(|| "UTC".into()))
    }

    /// Sets the organisation's time zone (checked by the caller).
    pub async fn set_org_time_zone(&self, org_id: &str, tz: &str) -> Result<bool> {
        let n = sqlx::query("UPDATE orgs SET time_zone = $1 WHERE id = $2")
            .bind(tz)
            .bind(org_id)
            .execute(self.writer())
            .await?
            .rows_affected();
        Ok(n > 0)
    }
}
