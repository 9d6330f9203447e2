//! Cost components: what each call, message, email and number cost, part by part. The part
//! rated on the provider's deck (telephony, messaging, email) is written on the entry by the
//! statement that writes its cost, so it costs the send no extra write; AI calls add their
//! STT, LLM, TTS and platform parts through [`Store::add_cost_component`]; number rental is
//! recorded once per number and month by [`Store::record_number_rentals`].

use crate::usage::add_to_rollups;
use crate::{Result, Store, new_id, now_ms};
use rust_decimal::Decimal;
use sqlx::Row;
use switchyard_core::analytics::{Counters, RollupKey, hour_of};

/// A cost part to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCostComponent {
    /// Organisation.
    pub org_id: String,
    /// `call`, `message`, `email` or `number`.
    pub resource_kind: String,
    /// The call's, message's, email's or number's id.
    pub resource_id: String,
    /// `telephony`, `messaging`, `email`, `stt`, `llm`, `tts`, `ai_platform` or
    /// `number_rental`.
    pub component: String,
    /// Who charges it.
    pub provider_id: String,
    /// `''` for a one-off part; the month (`YYYY-MM`) of a recurring one.
    pub period: String,
    /// How much was used, in `unit`.
    pub quantity: Decimal,
    /// `second`, `segment`, `recipient`, `token`, `character`, `month`…
    pub unit: String,
    /// Price per unit.
    pub unit_price: Decimal,
    /// Fixed part (a connection fee).
    pub fee: Decimal,
    /// The part's amount.
    pub amount: Decimal,
    /// Currency of the amounts.
    pub currency: String,
}

/// A recorded cost part.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CostComponent {
    /// See [`NewCostComponent::component`].
    pub component: String,
    /// Who charges it.
    pub provider_id: String,
    /// The month of a recurring part, else empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub period: String,
    /// Quantity, decimal text.
    pub quantity: String,
    /// Unit of the quantity.
    pub unit: String,
    /// Price per unit, decimal text.
    pub unit_price: String,
    /// Fixed part, decimal text.
    pub fee: String,
    /// Amount, decimal text.
    pub amount: String,
    /// Currency.
    pub currency: String,
    /// Unix ms.
    pub created_at: i64,
}

/// The rated part as JSON, as entries keep it.
pub(crate) fn line_json(c: &CostComponent) -> String {
    serde_json::to_string(c).unwrap_or_default()
}

/// Inserts a part unless the same part is already recorded; true when stored now.
pub(crate) async fn insert_component(
    conn: &mut sqlx::AnyConnection,
    c: &NewCostComponent,
) -> Result<bool> {
    let n = sqlx::query(
        "INSERT INTO cost_components (id, org_id, resource_kind, resource_id, component, \
         provider_id, period, quantity, unit, unit_price, fee, amount, currency, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
         ON CONFLICT (resource_id, component, provider_id, period) DO NOTHING",
    )
    .bind(new_id())
    .bind(&c.org_id)
    .bind(&c.resource_kind)
    .bind(&c.resource_id)
    .bind(&c.component)
    .bind(&c.provider_id)
    .bind(&c.period)
    .bind(c.quantity.normalize().to_string())
    .bind(&c.unit)
    .bind(c.unit_price.normalize().to_string())
    .bind(c.fee.normalize().to_string())
    .bind(c.amount.normalize().to_string())
    .bind(&c.currency)
    .bind(now_ms())
    .execute(conn)
    .await?
    .rows_affected();
    Ok(n == 1)
}

impl Store {
    /// Records a cost part (an AI call's STT, LLM, TTS or platform part); recording the
    /// same part again changes nothing. True when stored now.
    pub async fn add_cost_component(&self, c: &NewCostComponent) -> Result<bool> {
        let mut conn = self.writer().acquire().await?;
        insert_component(&mut conn, c).await
    }

    /// The cost parts of a call, message or email: the part rated on its provider's deck,
    /// then those added since, in the order they were recorded.
    pub async fn cost_components(
        &self,
        outbox: crate::Outbox,
        id: &str,
    ) -> Result<Vec<CostComponent>> {
        let line: Option<String> = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT cost_line FROM {} WHERE id = $1",
            outbox.table()
        )))
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .and_then(|r| r.get(0));
        let mut parts: Vec<CostComponent> = line
            .and_then(|l| serde_json::from_str(&l).ok())
            .into_iter()
            .collect();
        parts.extend(self.added_components(id).await?);
        Ok(parts)
    }

    /// The parts recorded in the table for a resource (AI parts, number rental), in order.
    pub async fn added_components(&self, resource_id: &str) -> Result<Vec<CostComponent>> {
        let rows = sqlx::query(
            "SELECT component, provider_id, period, quantity, unit, unit_price, fee, amount, \
             currency, created_at FROM cost_components WHERE resource_id = $1 ORDER BY id",
        )
        .bind(resource_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .iter()
            .map(|r| CostComponent {
                component: r.get(0),
                provider_id: r.get(1),
                period: r.get(2),
                quantity: r.get(3),
                unit: r.get(4),
                unit_price: r.get(5),
                fee: r.get(6),
                amount: r.get(7),
                currency: r.get(8),
                created_at: r.get(9),
            })
            .collect())
    }

    /// Records the rental of every active number with a monthly cost for `month`
    /// (`YYYY-MM`), once per number and month, and adds it to the spend rollups in the same
    /// transaction. Returns how many rentals were recorded now.
    pub async fn record_number_rentals(&self, month: &str) -> Result<usize> {
        let rows = sqlx::query(
            "SELECT id, org_id, provider_id, monthly_cost, currency, country FROM phone_numbers \
             WHERE status = 'active' AND monthly_cost IS NOT NULL AND currency IS NOT NULL",
        )
        .fetch_all(self.pool())
        .await?;
        let hour_ms = hour_of(now_ms());
        let mut recorded = 0;
        for r in &rows {
            let Ok(amount) = r.get::<String, _>(3).parse::<Decimal>() else {
                continue;
            };
            let part = NewCostComponent {
                org_id: r.get(1),
                resource_kind: "number".into(),
                resource_id: r.get(0),
                component: "number_rental".into(),
                provider_id: r.get(2),
                period: month.to_owned(),
                quantity: Decimal::ONE,
                unit: "month".into(),
                unit_price: amount,
                fee: Decimal::ZERO,
                amount,
                currency: r.get(4),
            };
            let nanos = switchyard_core::budget::to_nanos(amount).unwrap_or_default();
            let mut tx = self.writer().begin().await?;
            if insert_component(&mut tx, &part).await? {
                let key = RollupKey {
                    hour_ms,
                    provider_id: part.provider_id.clone(),
                    country: r.get(5),
                    channel: "numbers".into(),
                    campaign: String::new(),
                    currency: part.currency.clone(),
                };
                let sums = Counters {
                    cost_nanos: nanos,
                    baseline_nanos: nanos,
                    ..Counters::default()
                };
                add_to_rollups(&mut tx, &part.org_id, &[(key, sums)]).await?;
                recorded += 1;
            }
            tx.commit().await?;
        }
        Ok(recorded)
    }
}
