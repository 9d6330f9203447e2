//! Budgets at `/v1/budgets`: per organisation, provider or campaign, daily or monthly in the
//! organisation's time zone (`PUT /v1/budgets/time-zone`), each with its current window's
//! spend and standing.

use crate::error::{ApiError, ApiResult};
use crate::json::Json;
use crate::middleware::Auth;
use crate::spend;
use crate::state::Shared;
use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{Value, json};
use switchyard_core::budget::{self, Limits, Period};
use switchyard_core::money::Currency;
use switchyard_store::{BudgetRecord, NewBudget, Role};

/// A budget to create.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BudgetBody {
    /// `{"kind": "organization"}`, `{"kind": "provider", "id": …}` or `{"kind": "campaign",
    /// "id": …}`.
    #[schema(value_type = Object)]
    scope: budget::Scope,
    /// `daily` or `monthly`.
    #[schema(value_type = String)]
    period: Period,
    /// Amount per window (decimal).
    #[schema(value_type = String)]
    amount: Decimal,
    /// ISO 4217 (only costs in this currency count).
    currency: String,
    /// Warn at this percentage (default 80).
    #[serde(default)]
    alert_pct: Option<u32>,
    /// Refuse new sends past this percentage (default 95).
    #[serde(default)]
    stop_pct: Option<u32>,
}

/// Changes to a budget.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BudgetPatch {
    /// Amount per window.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    amount: Option<Decimal>,
    /// Alert percentage.
    #[serde(default)]
    alert_pct: Option<u32>,
    /// Stop percentage.
    #[serde(default)]
    stop_pct: Option<u32>,
}

fn checked(limits: Limits) -> ApiResult<Limits> {
    limits
        .validate()
        .map_err(|e| ApiError::invalid(e.field, e.message))?;
    Ok(limits)
}

async fn view(state: &Shared, b: &BudgetRecord) -> ApiResult<Value> {
    let Some((limits, period)) = spend::limits_of(b) else {
        return Err(ApiError::internal("a stored budget does not parse"));
    };
    let tz = spend::zone_of(state, &b.org_id).await?;
    let window = budget::window(period, chrono::Utc::now(), tz);
    let spent = state.store.budget_spend(&b.id, &window.key).await?;
    // Warnings count in nano-units; shown as amounts.
    let warnings: Vec<Value> = state
        .store
        .usage_warnings(&b.org_id, &format!("budget:{}", b.id))
        .await?
        .iter()
        .map(|w| {
            json!({
                "window": w.window, "threshold": w.threshold, "created_at": w.created_at,
                "spent": budget::from_nanos(w.used).to_string(),
                "amount": budget::from_nanos(w.capacity).to_string(),
            })
        })
        .collect();
    Ok(json!({
        "id": b.id,
        "scope": { "kind": b.scope_kind, "id": (!b.scope_ref.is_empty()).then_some(&b.scope_ref) },
        "period": b.period, "amount": b.amount, "currency": b.currency,
        "alert_pct": b.alert_pct, "stop_pct": b.stop_pct,
        "alert_at": budget::from_nanos(limits.alert_nanos()).to_string(),
        "stop_at": budget::from_nanos(limits.stop_nanos()).to_string(),
        "window": {
            "key": window.key, "time_zone": tz.name(),
            "starts_at": window.starts_at.to_rfc3339(), "ends_at": window.ends_at.to_rfc3339(),
            "spent": budget::from_nanos(spent).to_string(),
            "standing": budget::standing(&limits, spent),
        },
        "warnings": warnings,
        "created_at": b.created_at, "updated_at": b.updated_at,
    }))
}

async fn owned(state: &Shared, org: &str, id: &str) -> ApiResult<BudgetRecord> {
    state
        .store
        .budget(org, id)
        .await?
        .ok_or_else(|| ApiError::not_found("budget"))
}

/// Creates a budget (one per scope and period: 409 otherwise).
#[utoipa::path(post, path = "/v1/budgets", tag = "budgets", request_body = BudgetBody,
    responses((status = 201, description = "Created"), (status = 409, description = "A budget for that scope and period exists"), (status = 422, description = "Invalid field")))]
pub async fn create(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
    Json(body): Json<BudgetBody>,
) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    auth.require(Role::Admin)?;
    let org = auth.org();
    let limits = checked(Limits {
        amount: body.amount,
        alert_pct: body.alert_pct.unwrap_or(80),
        stop_pct: body.stop_pct.unwrap_or(95),
    })?;
    let currency: Currency =
        body.currency
            .parse()
            .map_err(|e: switchyard_core::money::UnknownCurrency| {
                ApiError::invalid("currency", e.to_string())
            })?;
    let (kind, reference) = match &body.scope {
        budget::Scope::Organization => ("organization", String::new()),
        budget::Scope::Provider(id) => {
            if state.store.provider(org, id).await?.is_none() {
                return Err(ApiError::invalid(
                    "scope.id",
                    format!("there is no provider {id:?}"),
                ));
            }
            ("provider", id.clone())
        }
        budget::Scope::Campaign(id) => {
            if id.trim().is_empty() {
                return Err(ApiError::invalid(
                    "scope.id",
                    "a campaign budget needs the campaign's id",
                ));
            }
            ("campaign", id.clone())
        }
    };
    let period = match body.period {
        Period::Daily => "daily",
        Period::Monthly => "monthly",
    };
    let created = state
        .store
        .create_budget(
            org,
            &NewBudget {
                scope_kind: kind.into(),
                scope_ref: reference,
                period: period.into(),
                amount: limits.amount.normalize().to_string(),
                currency: currency.to_string(),
                alert_pct: i64::from(limits.alert_pct),
                stop_pct: i64::from(limits.stop_pct),
            },
        )
        .await?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::CONFLICT,
                "budget_exists",
                format!("a {period} budget for this scope exists: change it instead"),
            )
            .with_details(json!({ "field": "scope" }))
        })?;
    state.forget_budgets(org);
    Ok((
        StatusCode::CREATED,
        axum::Json(view(&state, &created).await?),
    ))
}

/// The organisation's budgets with their current windows.
#[utoipa::path(get, path = "/v1/budgets", tag = "budgets", responses((status = 200, description = "Budgets")))]
pub async fn list(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
) -> ApiResult<axum::Json<Value>> {
    let mut data = Vec::new();
    for b in state.store.budgets(auth.org()).await? {
        data.push(view(&state, &b).await?);
    }
    Ok(axum::Json(json!({ "data": data })))
}

/// One budget with its current window.
#[utoipa::path(get, path = "/v1/budgets/{id}", tag = "budgets", responses((status = 200, description = "The budget"), (status = 404, description = "No such budget")))]
pub async fn get(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Value>> {
    let b = owned(&state, auth.org(), &id).await?;
    Ok(axum::Json(view(&state, &b).await?))
}

/// Changes a budget's amount or thresholds.
#[utoipa::path(patch, path = "/v1/budgets/{id}", tag = "budgets", request_body = BudgetPatch,
    responses((status = 200, description = "The budget"), (status = 404, description = "No such budget"), (status = 422, description = "Invalid field")))]
pub async fn update(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
    Json(body): Json<BudgetPatch>,
) -> ApiResult<axum::Json<Value>> {
    auth.require(Role::Admin)?;
    let b = owned(&state, auth.org(), &id).await?;
    let Some((current, _)) = spend::limits_of(&b) else {
        return Err(ApiError::internal("a stored budget does not parse"));
    };
    let limits = checked(Limits {
        amount: body.amount.unwrap_or(current.amount),
        alert_pct: body.alert_pct.unwrap_or(current.alert_pct),
        stop_pct: body.stop_pct.unwrap_or(current.stop_pct),
    })?;
    state
        .store
        .update_budget(
            auth.org(),
            &b.id,
            &limits.amount.normalize().to_string(),
            i64::from(limits.alert_pct),
            i64::from(limits.stop_pct),
        )
        .await?;
    state.forget_budgets(auth.org());
    let now = owned(&state, auth.org(), &id).await?;
    Ok(axum::Json(view(&state, &now).await?))
}

/// Deletes a budget.
#[utoipa::path(delete, path = "/v1/budgets/{id}", tag = "budgets", responses((status = 204, description = "Deleted"), (status = 404, description = "No such budget")))]
pub async fn delete(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    auth.require(Role::Admin)?;
    if !state.store.delete_budget(auth.org(), &id).await? {
        return Err(ApiError::not_found("budget"));
    }
    state.forget_budgets(auth.org());
    Ok(StatusCode::NO_CONTENT)
}

/// The organisation's time zone for budget windows.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TimeZoneBody {
    /// IANA name, such as `America/New_York`.
    time_zone: String,
}

/// Sets the time zone the organisation's budget windows follow.
#[utoipa::path(put, path = "/v1/budgets/time-zone", tag = "budgets", request_body = TimeZoneBody,
    responses((status = 200, description = "Set"), (status = 422, description = "Not an IANA time zone")))]
pub async fn set_time_zone(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
    Json(body): Json<TimeZoneBody>,
) -> ApiResult<axum::Json<Value>> {
    auth.require(Role::Admin)?;
    let tz: chrono_tz::Tz = body.time_zone.parse().map_err(|_| {
        ApiError::invalid(
            "time_zone",
            format!(
                "{:?} is not an IANA time zone such as America/New_York",
                body.time_zone
            ),
        )
    })?;
    state.store.set_org_time_zone(auth.org(), tz.name()).await?;
    state.forget_budgets(auth.org());
    Ok(axum::Json(json!({ "time_zone": tz.name() })))
}
