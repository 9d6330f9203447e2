//! Budgets at send time. Before a send is stored, its expected cost (the routed candidate's
//! rating of the request's usage) is admitted into every budget it falls under: a provider's
//! budget that would pass its stop takes that provider out of the plan (the send is routed
//! away), and an organisation budget that would pass it refuses the send with 402. The
//! admissions are kept with the send's decision; when the send's cost is known (or it ends
//! without one) the expected amounts are replaced by what it really cost.

use crate::dispatch::PlanStep;
use crate::error::{ApiError, ApiResult};
use crate::state::Shared;
use axum::http::StatusCode;
use chrono::Utc;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::str::FromStr;
use switchyard_core::Decision;
use switchyard_core::budget::{self, Limits, Period};
use switchyard_store::{BudgetRecord, UsageWarning};

/// One budget's share of a send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Admission {
    /// The budget.
    pub budget_id: String,
    /// Its window.
    pub window: String,
    /// Nano-units admitted.
    pub expected: i64,
    /// For a provider budget: that provider (its spend counts only if it sends).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_id: Option<String>,
    /// The budget's currency (only a cost in it counts).
    pub currency: String,
}

/// A stored budget's limits and period.
pub fn limits_of(b: &BudgetRecord) -> Option<(Limits, Period)> {
    let limits = Limits {
        amount: Decimal::from_str(&b.amount).ok()?,
        alert_pct: u32::try_from(b.alert_pct).ok()?,
        stop_pct: u32::try_from(b.stop_pct).ok()?,
    };
    let period = match b.period.as_str() {
        "daily" => Period::Daily,
        _ => Period::Monthly,
    };
    Some((limits, period))
}

/// The organisation's time zone (UTC when unset or unknown).
pub async fn zone_of(state: &Shared, org: &str) -> ApiResult<chrono_tz::Tz> {
    Ok(zone_named(&state.budgets(org).await?.1))
}

fn zone_named(name: &str) -> chrono_tz::Tz {
    name.parse().unwrap_or(chrono_tz::UTC)
}

/// The expected cost, in nano-units, of sending through `provider` in `currency`.
fn expected_on(decision: &Decision, provider: &str, currency: &str) -> Option<i64> {
    let c = decision
        .primary
        .iter()
        .chain(decision.alternates.iter())
        .find(|c| c.provider.as_str() == provider)?;
    let money = c.expected_cost();
    (money.currency.as_str() == currency)
        .then(|| budget::to_nanos(money.amount))
        .flatten()
}

fn refused(b: &BudgetRecord, window: &str, spent: i64, stop: i64) -> ApiError {
    let scope = match b.scope_kind.as_str() {
        "organization" => "the organisation's".to_string(),
        kind => format!("{kind} {}'s", b.scope_ref),
    };
    ApiError::new(
        StatusCode::PAYMENT_REQUIRED,
        "budget_exhausted",
        format!(
            "{scope} {} budget {} ({} {}) has reached its stop at {} %: no new sends until the window {window} ends",
            b.period, b.id, b.amount, b.currency, b.stop_pct
        ),
    )
    .with_details(json!({
        "budget_id": b.id, "scope": b.scope_kind, "scope_id": b.scope_ref, "period": b.period,
        "window": window, "spent": budget::from_nanos(spent).to_string(),
        "stop": budget::from_nanos(stop).to_string(), "currency": b.currency,
    }))
}

/// Tells the organisation, once per window, that a budget passed its alert or stop.
async fn warn(state: &Shared, b: &BudgetRecord, window: &str, threshold: i64, spent: i64) {
    let Some((limits, _)) = limits_of(b) else {
        return;
    };
    let warning = UsageWarning {
        scope: format!("budget:{}", b.id),
        window: window.to_string(),
        threshold,
        used: spent,
        capacity: budget::to_nanos(limits.amount).unwrap_or(i64::MAX),
        created_at: Utc::now().timestamp_millis(),
    };
    if !state.first_warning(&warning.scope, window, threshold == b.stop_pct) {
        return;
    }
    let event = if threshold == b.stop_pct {
        "budget.stopped"
    } else {
        "budget.alert"
    };
    let data = json!({
        "budget_id": b.id, "scope": b.scope_kind, "scope_id": b.scope_ref, "period": b.period,
        "window": window, "threshold_pct": threshold, "spent": budget::from_nanos(spent).to_string(),
        "amount": b.amount, "currency": b.currency,
    });
    if let Err(e) = crate::events_out::warn_once(state, &b.org_id, &warning, event, data).await {
        tracing::warn!(budget = b.id, error = ?e.message, "budget warning not recorded");
    }
}

/// Admits a send into its budgets, taking leading providers whose budget is spent out of
/// `plan`; 402 `budget_exhausted` naming the budget when the organisation's or the
/// campaign's is, or when every routed provider's is.
pub async fn admit(
    state: &Shared,
    org: &str,
    campaign: Option<&str>,
    decision: &Decision,
    plan: &mut Vec<PlanStep>,
) -> ApiResult<Vec<Admission>> {
    let (budgets, zone) = state.budgets(org).await?;
    if budgets.is_empty() {
        return Ok(Vec::new());
    }
    let tz = zone_named(&zone);
    let now = Utc::now();
    let mut admitted: Vec<Admission> = Vec::new();
    let mut last_refusal = None;
    // Provider budgets first: the first step whose provider's budgets all admit the send
    // is reserved for; steps before it, whose provider is spent, leave the plan. Failover
    // steps after it are not reserved for (a failover's spend is settled when it happens).
    while let Some(first) = plan.first().map(|s| s.provider_id.clone()) {
        let mut step_admitted = Vec::new();
        let mut refusal = None;
        for b in budgets
            .iter()
            .filter(|b| b.scope_kind == "provider" && b.scope_ref == first)
        {
            let Some((limits, period)) = limits_of(b) else {
                continue;
            };
            let Some(expected) = expected_on(decision, &first, &b.currency) else {
                continue;
            };
            let window = budget::window(period, now, tz).key;
            let stop = limits.stop_nanos();
            match state
                .store
                .admit_spend(&b.id, &window, expected, stop)
                .await?
            {
                Some(total) => {
                    if total >= limits.alert_nanos() {
                        warn(state, b, &window, b.alert_pct, total).await;
                    }
                    step_admitted.push(Admission {
                        budget_id: b.id.clone(),
                        window,
                        expected,
                        provider_id: Some(first.clone()),
                        currency: b.currency.clone(),
                    });
                }
                None => {
                    let spent = state.store.budget_spend(&b.id, &window).await?;
                    warn(state, b, &window, b.stop_pct, spent).await;
                    refusal = Some(refused(b, &window, spent, stop));
                    break;
                }
            }
        }
        match refusal {
            None => {
                admitted.extend(step_admitted);
                break;
            }
            Some(r) => {
                give_back(state, &step_admitted).await;
                plan.remove(0);
                last_refusal = Some(r);
            }
        }
    }
    if plan.is_empty() {
        give_back(state, &admitted).await;
        return Err(last_refusal.unwrap_or_else(|| ApiError::internal("an empty plan")));
    }
    // Then the organisation's and the send's campaign's: either refuses the send.
    let whole = |b: &&BudgetRecord| {
        b.scope_kind == "organization"
            || (b.scope_kind == "campaign" && Some(b.scope_ref.as_str()) == campaign)
    };
    for b in budgets.iter().filter(whole) {
        let Some((limits, period)) = limits_of(b) else {
            continue;
        };
        let window = budget::window(period, now, tz).key;
        // The dearest step the send may take.
        let Some(expected) = plan
            .iter()
            .filter_map(|s| expected_on(decision, &s.provider_id, &b.currency))
            .max()
        else {
            continue;
        };
        let stop = limits.stop_nanos();
        match state
            .store
            .admit_spend(&b.id, &window, expected, stop)
            .await?
        {
            Some(total) => {
                if total >= limits.alert_nanos() {
                    warn(state, b, &window, b.alert_pct, total).await;
                }
                admitted.push(Admission {
                    budget_id: b.id.clone(),
                    window,
                    expected,
                    provider_id: None,
                    currency: b.currency.clone(),
                });
            }
            None => {
                let spent = state.store.budget_spend(&b.id, &window).await?;
                warn(state, b, &window, b.stop_pct, spent).await;
                give_back(state, &admitted).await;
                return Err(refused(b, &window, spent, stop));
            }
        }
    }
    Ok(admitted)
}

/// Returns what a send that will not go out was admitted for.
pub async fn give_back(state: &Shared, admitted: &[Admission]) {
    for a in admitted {
        if let Err(e) = state
            .store
            .adjust_budget(&a.budget_id, &a.window, -a.expected)
            .await
        {
            tracing::warn!(budget = a.budget_id, error = %e, "budget reservation not returned");
        }
    }
}

/// Replaces a send's expected cost with what it cost: `used` is the provider that sent it
/// (none when it never went out), `cost` its rated cost in `currency` (none: nothing).
pub async fn settle(
    state: &Shared,
    decision_json: &str,
    used: Option<&str>,
    cost: Option<(&str, &str)>,
) {
    let decision: Value = serde_json::from_str(decision_json).unwrap_or(Value::Null);
    let Ok(admitted) = serde_json::from_value::<Vec<Admission>>(decision["budgets"].clone()) else {
        return;
    };
    if admitted.is_empty() {
        return;
    }
    for a in &admitted {
        let counts =
            used.is_some() && (a.provider_id.is_none() || a.provider_id.as_deref() == used);
        let actual = match (counts, cost) {
            (true, Some((amount, currency))) if currency == a.currency => Decimal::from_str(amount)
                .ok()
                .and_then(budget::to_nanos)
                .unwrap_or(a.expected),
            _ => 0,
        };
        if actual == a.expected {
            continue;
        }
        if let Err(e) = state
            .store
            .adjust_budget(&a.budget_id, &a.window, actual - a.expected)
            .await
        {
            tracing::warn!(budget = a.budget_id, error = %e, "budget not settled");
        }
    }
}
