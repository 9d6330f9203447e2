//! Number pools: their rules and members, each member's usage, and the reservation of one
//! use under a number's cap. A reservation is one statement that increments the day's
//! counter only while it is below the cap, so instances sharing a database never hand out
//! more than the cap between them.

use crate::{Result, Store, new_id, now_ms};
use sqlx::Row;

/// A stored pool.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PoolRecord {
    /// Its id.
    pub id: String,
    /// Owning organisation.
    pub org_id: String,
    /// Unique name in the organisation (`sales-east`).
    pub name: String,
    /// Selection rules, JSON.
    pub rules: String,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

/// A number of a pool with what selection reads about it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PoolMember {
    /// Number id.
    pub id: String,
    /// Owning provider.
    pub provider_id: String,
    /// E.164.
    pub e164: String,
    /// `active`, `warming`, `resting` or `released`.
    pub status: String,
    /// Voice capable.
    pub voice: bool,
    /// SMS capable.
    pub sms: bool,
    /// MMS capable.
    pub mms: bool,
    /// ISO country, when known.
    pub country: String,
    /// State or province, when known.
    pub region: Option<String>,
    /// NANP area code, when known.
    pub area_code: Option<String>,
    /// While resting: until when (Unix ms).
    pub rest_until: Option<i64>,
    /// While warming: since when (Unix ms).
    pub warmup_started_at: Option<i64>,
}

/// One number's usage of a channel on one of its local days.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DayUsage {
    /// Number id.
    pub number_id: String,
    /// Local day (`YYYY-MM-DD`).
    pub day: String,
    /// Uses.
    pub count: u32,
    /// Last use (Unix ms).
    pub last_used_at: i64,
}

/// Where a number is, as selection needs it (set when it is imported, bought or synced).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NumberPlace {
    /// ISO country.
    pub country: String,
    /// State or province.
    pub region: Option<String>,
    /// NANP area code.
    pub area_code: Option<String>,
}

const POOL_COLUMNS: &str = "id, org_id, name, rules, created_at, updated_at";

fn pool_row(r: &sqlx::any::AnyRow) -> PoolRecord {
    PoolRecord {
        id: r.get(0),
        org_id: r.get(1),
        name: r.get(2),
        rules: r.get(3),
        created_at: r.get(4),
        updated_at: r.get(5),
    }
}

impl Store {
    /// Creates a pool; `None` when the organisation already has one of that name.
    pub async fn create_pool(
        &self,
        org_id: &str,
        name: &str,
        rules: &str,
    ) -> Result<Option<PoolRecord>> {
        let now = now_ms();
        let id = new_id();
        let inserted = sqlx::query(
            "INSERT INTO number_pools (id, org_id, name, rules, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (org_id, name) DO NOTHING",
        )
        .bind(&id)
        .bind(org_id)
        .bind(name)
        .bind(rules)
        .bind(now)
        .execute(self.writer())
        .await?
        .rows_affected();
        if inserted == 0 {
            return Ok(None);
        }
        self.pool_record(org_id, &id).await
    }

    /// One pool of the organisation, by id.
    pub async fn pool_record(&self, org_id: &str, id: &str) -> Result<Option<PoolRecord>> {
        self.pool_where(org_id, "id", id).await
    }

    /// One pool of the organisation, by name.
    pub async fn pool_by_name(&self, org_id: &str, name: &str) -> Result<Option<PoolRecord>> {
        self.pool_where(org_id, "name", name).await
    }

    /// The organisation's pool whose `column` (a fixed column name) is `value`.
    async fn pool_where(
        &self,
        org_id: &str,
        column: &'static str,
        value: &str,
    ) -> Result<Option<PoolRecord>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {POOL_COLUMNS} FROM number_pools WHERE org_id = $1 AND {column} = $2"
        )))
        .bind(org_id)
        .bind(value)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.as_ref().map(pool_row))
    }

    /// The organisation's pools, by name.
    pub async fn pool_records(&self, org_id: &str) -> Result<Vec<PoolRecord>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {POOL_COLUMNS} FROM number_pools WHERE org_id = $1 ORDER BY name"
        )))
        .bind(org_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(pool_row).collect())
    }

    /// Replaces a pool's rules; false when there is no such pool.
    pub async fn set_pool_rules(&self, org_id: &str, id: &str, rules: &str) -> Result<bool> {
        let n = sqlx::query(
            "UPDATE number_pools SET rules = $1, updated_at = $2 WHERE org_id = $3 AND id = $4",
        )
        .bind(rules)
        .bind(now_ms())
        .bind(org_id)
        .bind(id)
        .execute(self.writer())
        .await?
        .rows_affected();
        Ok(n > 0)
    }

    /// Deletes a pool (its numbers stay); false when there is no such pool.
    pub async fn delete_pool(&self, org_id: &str, id: &str) -> Result<bool> {
        let n = sqlx::query("DELETE FROM number_pools WHERE org_id = $1 AND id = $2")
            .bind(org_id)
            .bind(id)
            .execute(self.writer())
            .await?
            .rows_affected();
        Ok(n > 0)
    }

    /// Makes the pool's members exactly these numbers, in one transaction; numbers of other
    /// organisations are not added. Returns how many are members now.
    pub async fn set_pool_numbers(
        &self,
        org_id: &str,
        pool_id: &str,
        number_ids: &[String],
    ) -> Result<usize> {
        let mut tx = self.writer().begin().await?;
        sqlx::query("DELETE FROM pool_numbers WHERE pool_id = $1")
            .bind(pool_id)
            .execute(&mut *tx)
            .await?;
        let mut added = 0;
        for number_id in number_ids {
            added += sqlx::query(
                "INSERT INTO pool_numbers (pool_id, number_id) \
                 SELECT $1, id FROM phone_numbers WHERE id = $2 AND org_id = $3 \
                 ON CONFLICT (pool_id, number_id) DO NOTHING",
            )
            .bind(pool_id)
            .bind(number_id)
            .bind(org_id)
            .execute(&mut *tx)
            .await?
            .rows_affected() as usize;
        }
        tx.commit().await?;
        Ok(added)
    }

    /// A pool's numbers with what selection reads about them.
    pub async fn pool_members(&self, pool_id: &str) -> Result<Vec<PoolMember>> {
        let rows = sqlx::query(
            "SELECT n.id, n.provider_id, n.e164, n.status, n.voice, n.sms, n.mms, n.country, n.region, \
             n.area_code, n.rest_until, n.warmup_started_at \
             FROM pool_numbers p JOIN phone_numbers n ON n.id = p.number_id \
             WHERE p.pool_id = $1 ORDER BY n.e164",
        )
        .bind(pool_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .iter()
            .map(|r| PoolMember {
                id: r.get(0),
                provider_id: r.get(1),
                e164: r.get(2),
                status: r.get(3),
                voice: r.get::<i64, _>(4) != 0,
                sms: r.get::<i64, _>(5) != 0,
                mms: r.get::<i64, _>(6) != 0,
                country: r.get(7),
                region: r.get(8),
                area_code: r.get(9),
                rest_until: r.get(10),
                warmup_started_at: r.get(11),
            })
            .collect())
    }

    /// The usage counters of a pool's numbers for one channel on `day` or later (days are
    /// `YYYY-MM-DD` in each number's zone, so "today" differs by number).
    pub async fn pool_usage(
        &self,
        pool_id: &str,
        channel: &str,
        from_day: &str,
    ) -> Result<Vec<DayUsage>> {
        let rows = sqlx::query(
            "SELECT u.number_id, u.day, u.count, u.last_used_at FROM number_usage u \
             JOIN pool_numbers p ON p.number_id = u.number_id \
             WHERE p.pool_id = $1 AND u.channel = $2 AND u.day >= $3",
        )
        .bind(pool_id)
        .bind(channel)
        .bind(from_day)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .iter()
            .map(|r| DayUsage {
                number_id: r.get(0),
                day: r.get(1),
                count: u32::try_from(r.get::<i64, _>(2)).unwrap_or(u32::MAX),
                last_used_at: r.get(3),
            })
            .collect())
    }

    /// Takes one use of a number on `day` for `channel` if fewer than `cap` are taken; the
    /// new count, or `None` when the cap is reached. One statement: safe under concurrency
    /// on one instance or many.
    pub async fn reserve_use(
        &self,
        number_id: &str,
        day: &str,
        channel: &str,
        cap: u32,
    ) -> Result<Option<u32>> {
        if cap == 0 {
            return Ok(None);
        }
        let row = sqlx::query(
            "INSERT INTO number_usage (number_id, day, channel, count, last_used_at) VALUES ($1, $2, $3, 1, $5) \
             ON CONFLICT (number_id, day, channel) DO UPDATE SET count = number_usage.count + 1, last_used_at = $5 \
             WHERE number_usage.count < $4 RETURNING count",
        )
        .bind(number_id)
        .bind(day)
        .bind(channel)
        .bind(i64::from(cap))
        .bind(now_ms())
        .fetch_optional(&self.counters)
        .await?;
        Ok(row.map(|r| u32::try_from(r.get::<i64, _>(0)).unwrap_or(u32::MAX)))
    }

    /// Gives back one reserved use (a send that will not go out after all, such as a
    /// replayed request).
    pub async fn return_use(&self, number_id: &str, day: &str, channel: &str) -> Result<()> {
        sqlx::query(
            "UPDATE number_usage SET count = count - 1 \
             WHERE number_id = $1 AND day = $2 AND channel = $3 AND count > 0",
        )
        .bind(number_id)
        .bind(day)
        .bind(channel)
        .execute(&self.counters)
        .await?;
        Ok(())
    }

    /// The number a contact last received from through this pool.
    pub async fn sticky_sender(&self, pool_id: &str, contact: &str) -> Result<Option<String>> {
        let row =
            sqlx::query("SELECT number_id FROM sticky_senders WHERE pool_id = $1 AND contact = $2")
                .bind(pool_id)
                .bind(contact)
                .fetch_optional(self.pool())
                .await?;
        Ok(row.map(|r| r.get(0)))
    }

    /// Remembers the number a contact received from through this pool.
    pub async fn set_sticky_sender(
        &self,
        pool_id: &str,
        contact: &str,
        number_id: &str,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO sticky_senders (pool_id, contact, number_id, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (pool_id, contact) DO UPDATE SET number_id = $3, updated_at = $4",
        )
        .bind(pool_id)
        .bind(contact)
        .bind(number_id)
        .bind(now_ms())
        .execute(self.writer())
        .await?;
        Ok(())
    }

    /// Records where a number is (country, state, area code).
    pub async fn set_number_place(&self, number_id: &str, place: &NumberPlace) -> Result<()> {
        sqlx::query(
            "UPDATE phone_numbers SET country = $1, region = $2, area_code = $3 WHERE id = $4",
        )
        .bind(&place.country)
        .bind(&place.region)
        .bind(&place.area_code)
        .bind(number_id)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    /// Starts the warm-up of a number that has never been used: it becomes `warming` from
    /// `at_ms`, so pools give it their warm-up caps. False when it has been used, or is not
    /// `active`.
    pub async fn start_warmup(&self, number_id: &str, at_ms: i64) -> Result<bool> {
        let now = at_ms;
        let n = sqlx::query(
            "UPDATE phone_numbers SET status = 'warming', warmup_started_at = $1, updated_at = $1 \
             WHERE id = $2 AND status = 'active' AND warmup_started_at IS NULL \
             AND NOT EXISTS (SELECT 1 FROM number_usage u WHERE u.number_id = $2)",
        )
        .bind(now)
        .bind(number_id)
        .execute(self.writer())
        .await?
        .rows_affected();
        Ok(n > 0)
    }

    /// Rests a number until `until` (Unix ms) after spam flags, counting the flag; false
    /// when the organisation has no such number.
    pub async fn rest_number(&self, org_id: &str, number_id: &str, until: i64) -> Result<bool> {
        let n = sqlx::query(
            "UPDATE phone_numbers SET status = 'resting', rest_until = $1, spam_flags = spam_flags + 1, \
             updated_at = $2 WHERE id = $3 AND org_id = $4 AND status <> 'released'",
        )
        .bind(until)
        .bind(now_ms())
        .bind(number_id)
        .bind(org_id)
        .execute(self.writer())
        .await?
        .rows_affected();
        Ok(n > 0)
    }

    /// The names of the pools a number is in.
    pub async fn pools_of_number(&self, number_id: &str) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT p.name FROM pool_numbers m JOIN number_pools p ON p.id = m.pool_id \
             WHERE m.number_id = $1 ORDER BY p.name",
        )
        .bind(number_id)
        .fetch_all(self.pool())
        .await?)
    }
}
