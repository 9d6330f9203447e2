//! One number as a resource: what it is, what it is assigned to, the pools it is in, and
//! its statistics (calls and messages today and over 30 days with their cost, answer rate
//! over its latest calls, spam flags); and the fields a person sets on it.

use super::provisioning::Subject;
use crate::error::{ApiError, ApiResult};
use crate::json::Json;
use crate::middleware::Auth;
use crate::state::Shared;
use axum::Extension;
use axum::extract::{Path, State};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::str::FromStr;
use switchyard_store::{NumberActivity, Role};

/// How many of a number's latest calls its answer rate is over.
const ANSWER_RATE_CALLS: u32 = 100;

/// Costs added exactly per currency.
fn costs(activity: &NumberActivity) -> BTreeMap<String, String> {
    let mut sums: BTreeMap<String, Decimal> = BTreeMap::new();
    for (currency, amount) in &activity.costs {
        if let Ok(d) = Decimal::from_str(amount) {
            *sums.entry(currency.clone()).or_default() += d;
        }
    }
    sums.into_iter()
        .map(|(c, d)| (c, d.normalize().to_string()))
        .collect()
}

fn activity_view(a: &NumberActivity) -> Value {
    json!({ "calls": a.calls, "messages": a.messages, "cost": costs(a) })
}

/// A number with its statistics.
#[utoipa::path(get, path = "/v1/numbers/{id}", tag = "numbers",
    responses((status = 200, description = "The number and its statistics"), (status = 404, description = "No such number")))]
pub async fn get(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Value>> {
    let org = auth.org();
    let n = state
        .store
        .number(org, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("number"))?;
    let now = chrono::Utc::now();
    let digits = n.e164.trim_start_matches('+');
    let today_from = crate::sender::local_day_start(digits, now).timestamp_millis();
    let month_from = (now - chrono::Duration::days(30)).timestamp_millis();
    let today = state
        .store
        .number_activity(org, &n.e164, today_from)
        .await?;
    let month = state
        .store
        .number_activity(org, &n.e164, month_from)
        .await?;
    let tally = state
        .store
        .number_answer_tally(org, &n.e164, 0, ANSWER_RATE_CALLS)
        .await?;
    let rate = (tally.calls > 0).then(|| {
        (Decimal::from(tally.answered) / Decimal::from(tally.calls))
            .round_dp(4)
            .normalize()
            .to_string()
    });
    let pools = state.store.pools_of_number(&n.id).await?;
    let mut view = serde_json::to_value(&n).map_err(ApiError::internal)?;
    view["pools"] = json!(pools);
    // Monthly rentals, as recorded at the start of each month.
    view["costs"] = json!(state.store.added_components(&n.id).await?);
    view["stats"] = json!({
        "today": { "day": crate::sender::local_day(digits, now), "from": today_from, "usage": activity_view(&today) },
        "last_30_days": activity_view(&month),
        "answer_rate": { "calls": tally.calls, "answered": tally.answered, "rate": rate, "over_latest": ANSWER_RATE_CALLS },
        "spam_flags": n.spam_flags,
    });
    Ok(axum::Json(view))
}

/// Fields of a number a person sets.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NumberPatch {
    /// What the provider charges a month (decimal text, with `currency`).
    #[serde(default)]
    monthly_cost: Option<String>,
    /// ISO 4217 code of `monthly_cost`.
    #[serde(default)]
    currency: Option<String>,
    /// STIR/SHAKEN attestation: `A`, `B` or `C`.
    #[serde(default)]
    attestation: Option<String>,
    /// `{"kind": "assistant", "id": "asst_42"}`, or `null` to clear.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    assign_to: Option<Value>,
}

/// Sets a number's monthly cost, attestation or assignment.
#[utoipa::path(patch, path = "/v1/numbers/{id}", tag = "numbers", request_body = NumberPatch,
    responses((status = 200, description = "The number"), (status = 404, description = "No such number"), (status = 422, description = "Invalid field")))]
pub async fn update(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
    Json(body): Json<NumberPatch>,
) -> ApiResult<axum::Json<Value>> {
    auth.require(Role::Admin)?;
    let org = auth.org();
    let n = state
        .store
        .number(org, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("number"))?;
    let mut facts = switchyard_store::NumberFacts {
        kind: n.kind.clone(),
        monthly_cost: n.monthly_cost.clone(),
        currency: n.currency.clone(),
        attestation: n.attestation.clone(),
        from_platform: n.from_platform,
    };
    if let Some(text) = &body.monthly_cost {
        let cost = Decimal::from_str(text.trim())
            .ok()
            .filter(|d| !d.is_sign_negative())
            .ok_or_else(|| {
                ApiError::invalid(
                    "monthly_cost",
                    "monthly_cost must be a decimal amount, 0 or more",
                )
            })?;
        facts.monthly_cost = Some(cost.normalize().to_string());
    }
    if let Some(c) = &body.currency {
        if c.len() != 3 || !c.chars().all(|ch| ch.is_ascii_uppercase()) {
            return Err(ApiError::invalid(
                "currency",
                "currency must be an ISO 4217 code such as USD",
            ));
        }
        facts.currency = Some(c.clone());
    }
    if facts.monthly_cost.is_some() && facts.currency.is_none() {
        return Err(ApiError::invalid(
            "currency",
            "a monthly_cost needs its currency",
        ));
    }
    if let Some(a) = &body.attestation {
        if !matches!(a.as_str(), "A" | "B" | "C") {
            return Err(ApiError::invalid(
                "attestation",
                "attestation must be A, B or C",
            ));
        }
        facts.attestation = Some(a.clone());
    }
    state.store.set_number_facts(&n.id, &facts).await?;
    match &body.assign_to {
        None => {}
        Some(Value::Null) => {
            state.store.assign_number(org, &n.id, None, false).await?;
        }
        Some(v) => {
            let subject: Subject = serde_json::from_value(v.clone()).map_err(|e| {
                ApiError::invalid(
                    "assign_to",
                    format!("assign_to must be {{\"kind\", \"id\"}}: {e}"),
                )
            })?;
            let a = subject.checked("assign_to")?;
            state
                .store
                .assign_number(org, &n.id, Some(&a), false)
                .await?;
        }
    }
    let now = state
        .store
        .number(org, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("number"))?;
    let mut view: Map<String, Value> =
        match serde_json::to_value(&now).map_err(ApiError::internal)? {
            Value::Object(m) => m,
            _ => Map::new(),
        };
    view.insert(
        "pools".into(),
        json!(state.store.pools_of_number(&now.id).await?),
    );
    Ok(axum::Json(Value::Object(view)))
}
