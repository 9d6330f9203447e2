//! Phone numbers the organisation's providers own, as imported or synced.

use crate::{Page, Result, Store, new_id, now_ms};
use sqlx::Row;

/// A number as a provider reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberAtProvider {
    /// E.164.
    pub e164: String,
    /// The provider's id for it.
    pub provider_number_id: String,
    /// Voice capable.
    pub voice: bool,
    /// SMS capable.
    pub sms: bool,
    /// MMS capable.
    pub mms: bool,
}

/// A stored number.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PhoneNumber {
    /// Its id.
    pub id: String,
    /// Owning provider.
    pub provider_id: String,
    /// E.164.
    pub e164: String,
    /// The provider's id for it.
    pub provider_number_id: String,
    /// Voice capable.
    pub voice: bool,
    /// SMS capable.
    pub sms: bool,
    /// MMS capable.
    pub mms: bool,
    /// `active`, `warming`, `resting` (after spam flags) or `released`.
    pub status: String,
    /// `local`, `toll_free` or `mobile`.
    pub kind: String,
    /// ISO 3166 country.
    pub country: String,
    /// State or province (NANP numbers).
    pub region: Option<String>,
    /// NANP area code.
    pub area_code: Option<String>,
    /// What the provider charges a month for it (decimal text), in `currency`.
    pub monthly_cost: Option<String>,
    /// Currency of `monthly_cost`.
    pub currency: Option<String>,
    /// STIR/SHAKEN attestation calls from it get: `A`, `B` or `C`.
    pub attestation: Option<String>,
    /// What it is assigned to beside pools.
    pub assignment: Option<Assignment>,
    /// Bought through the platform's account (counts against the free tier).
    pub from_platform: bool,
    /// How often it has been flagged as spam.
    pub spam_flags: i64,
    /// While resting: until when (Unix ms).
    pub rest_until: Option<i64>,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

/// What a number serves, beside the pools it is in.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Assignment {
    /// `assistant`, `campaign`, `tenant` or `route`.
    pub kind: String,
    /// The id of what it is assigned to.
    #[serde(rename = "id")]
    pub reference: String,
}

/// What a sync changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct SyncOutcome {
    /// Numbers seen for the first time.
    pub added: u32,
    /// Numbers already known (reactivated or refreshed).
    pub updated: u32,
    /// Numbers no longer at the provider, now marked released.
    pub released: u32,
}

const COLUMNS: &str = "id, provider_id, e164, provider_number_id, voice, sms, mms, status, created_at, updated_at, \
     kind, country, region, area_code, monthly_cost, currency, attestation, assigned_kind, assigned_ref, \
     from_platform, spam_flags, rest_until";

fn from_row(r: &sqlx::any::AnyRow) -> PhoneNumber {
    PhoneNumber {
        id: r.get(0),
        provider_id: r.get(1),
        e164: r.get(2),
        provider_number_id: r.get(3),
        voice: r.get::<i64, _>(4) != 0,
        sms: r.get::<i64, _>(5) != 0,
        mms: r.get::<i64, _>(6) != 0,
        status: r.get(7),
        created_at: r.get(8),
        updated_at: r.get(9),
        kind: r.get(10),
        country: r.get(11),
        region: r.get(12),
        area_code: r.get(13),
        monthly_cost: r.get(14),
        currency: r.get(15),
        attestation: r.get(16),
        assignment: r
            .get::<Option<String>, _>(17)
            .zip(r.get::<Option<String>, _>(18))
            .map(|(kind, reference)| Assignment { kind, reference }),
        from_platform: r.get::<i64, _>(19) != 0,
        spam_flags: r.get(20),
        rest_until: r.get(21),
    }
}

impl Store {
    /// Records one number as in service (a released one comes back active; a resting or
    /// warming one keeps its state); true when it was new.
    pub async fn upsert_number(
        &self,
        org_id: &str,
        provider_id: &str,
        n: &NumberAtProvider,
    ) -> Result<(PhoneNumber, bool)> {
        let now = now_ms();
        let updated = sqlx::query(
            "UPDATE phone_numbers SET provider_number_id = $1, voice = $2, sms = $3, mms = $4, \
             status = CASE WHEN status = 'released' THEN 'active' ELSE status END, updated_at = $5 \
             WHERE provider_id = $6 AND e164 = $7 AND org_id = $8",
        )
        .bind(&n.provider_number_id)
        .bind(i64::from(n.voice))
        .bind(i64::from(n.sms))
        .bind(i64::from(n.mms))
        .bind(now)
        .bind(provider_id)
        .bind(&n.e164)
        .bind(org_id)
        .execute(self.writer())
        .await?
        .rows_affected();
        let created = updated == 0;
        if created {
            sqlx::query(
                "INSERT INTO phone_numbers (id, org_id, provider_id, e164, provider_number_id, voice, sms, mms, status, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'active', $9, $9) \
                 ON CONFLICT (provider_id, e164) DO NOTHING",
            )
            .bind(new_id())
            .bind(org_id)
            .bind(provider_id)
            .bind(&n.e164)
            .bind(&n.provider_number_id)
            .bind(i64::from(n.voice))
            .bind(i64::from(n.sms))
            .bind(i64::from(n.mms))
            .bind(now)
            .execute(self.writer())
            .await?;
        }
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM phone_numbers WHERE provider_id = $1 AND e164 = $2"
        )))
        .bind(provider_id)
        .bind(&n.e164)
        .fetch_one(self.pool())
        .await?;
        Ok((from_row(&row), created))
    }

    /// Makes the stored numbers of a provider match what it reports: new ones added,
    /// known ones refreshed, missing ones marked released.
    pub async fn sync_numbers(
        &self,
        org_id: &str,
        provider_id: &str,
        at_provider: &[NumberAtProvider],
    ) -> Result<SyncOutcome> {
        let mut outcome = SyncOutcome::default();
        for n in at_provider {
            if self.upsert_number(org_id, provider_id, n).await?.1 {
                outcome.added += 1;
            } else {
                outcome.updated += 1;
            }
        }
        let active = self.provider_numbers(org_id, provider_id).await?;
        for stale in active
            .iter()
            .filter(|s| s.status == "active" && !at_provider.iter().any(|n| n.e164 == s.e164))
        {
            sqlx::query(
                "UPDATE phone_numbers SET status = 'released', updated_at = $1 WHERE id = $2",
            )
            .bind(now_ms())
            .bind(&stale.id)
            .execute(self.writer())
            .await?;
            outcome.released += 1;
        }
        Ok(outcome)
    }

    /// Every stored number of one provider.
    pub async fn provider_numbers(
        &self,
        org_id: &str,
        provider_id: &str,
    ) -> Result<Vec<PhoneNumber>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM phone_numbers WHERE org_id = $1 AND provider_id = $2 ORDER BY e164"
        )))
        .bind(org_id)
        .bind(provider_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(from_row).collect())
    }

    /// One of the organisation's numbers.
    pub async fn number(&self, org_id: &str, id: &str) -> Result<Option<PhoneNumber>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM phone_numbers WHERE org_id = $1 AND id = $2"
        )))
        .bind(org_id)
        .bind(id)
        .fetch_optional(self.writer())
        .await?;
        Ok(row.as_ref().map(from_row))
    }

    /// One of the organisation's numbers by its E.164 (any provider; an active one first).
    pub async fn number_by_e164(&self, org_id: &str, e164: &str) -> Result<Option<PhoneNumber>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM phone_numbers WHERE org_id = $1 AND e164 = $2 \
             ORDER BY CASE WHEN status = 'released' THEN 1 ELSE 0 END, id LIMIT 1"
        )))
        .bind(org_id)
        .bind(e164)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.as_ref().map(from_row))
    }

    /// A page of the organisation's numbers, newest first.
    pub async fn numbers_page(
        &self,
        org_id: &str,
        before: Option<&str>,
        limit: usize,
    ) -> Result<Page<PhoneNumber>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM phone_numbers WHERE org_id = $1 AND ($2 = '' OR id < $2) \
             ORDER BY id DESC LIMIT $3"
        )))
        .bind(org_id)
        .bind(before.unwrap_or(""))
        .bind(limit as i64 + 1)
        .fetch_all(self.pool())
        .await?;
        let items = rows.iter().map(from_row).collect();
        Ok(Page::from_rows(items, limit, |n: &PhoneNumber| {
            n.id.clone()
        }))
    }
}
