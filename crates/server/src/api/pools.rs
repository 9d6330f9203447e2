//! `/v1/pools`: named sets of the organisation's numbers that calls and messages take their
//! caller ID from (`"from": {"pool": "sales-east"}`), with the selection rules (daily cap,
//! local presence, rotation, warm-up, stickiness).

use crate::error::{ApiError, ApiResult};
use crate::json::Json;
use crate::middleware::Auth;
use crate::state::Shared;
use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use switchyard_core::pool::{LocalPresence, PoolRules, Rotation, SpamRule};
use switchyard_store::{PoolRecord, Role};

/// A pool to create, or the fields of one to change.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PoolBody {
    /// Unique name in the organisation.
    #[serde(default)]
    name: Option<String>,
    /// E.164 numbers the organisation owns (imported or synced); replaces the members.
    #[serde(default)]
    numbers: Option<Vec<String>>,
    /// Uses per number and local day, per channel (default 100).
    #[serde(default)]
    daily_cap: Option<u32>,
    /// Locality levels: `area_code`, `region`, `country`, `any` (all on by default).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    local_presence: Option<LocalPresence>,
    /// `round_robin` (default) or `least_used`.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    rotation: Option<Rotation>,
    /// Caps of a new number's first days, e.g. `[20, 40, 60, 80]`.
    #[serde(default)]
    warmup: Option<Vec<u32>>,
    /// Whether a contact keeps receiving messages from the same number (default true).
    #[serde(default)]
    sticky: Option<bool>,
    /// Automatic resting on low answer rates: `enabled` (true), `last_calls` (50),
    /// `min_calls` (20), `below_pct_of_pool` (50), `rest_hours` (72).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    spam: Option<SpamRule>,
}

impl PoolBody {
    fn rules(&self, base: PoolRules) -> ApiResult<PoolRules> {
        let rules = PoolRules {
            daily_cap: self.daily_cap.unwrap_or(base.daily_cap),
            local_presence: self.local_presence.unwrap_or(base.local_presence),
            rotation: self.rotation.unwrap_or(base.rotation),
            warmup: self.warmup.clone().unwrap_or(base.warmup),
            sticky: self.sticky.unwrap_or(base.sticky),
            spam: self.spam.unwrap_or(base.spam),
        };
        rules
            .validate()
            .map_err(|(field, message)| ApiError::invalid(field, message))?;
        Ok(rules)
    }
}

fn name_of(raw: &str) -> ApiResult<String> {
    let name = raw.trim();
    if name.is_empty()
        || name.len() > 64
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(ApiError::invalid(
            "name",
            "name must be 1 to 64 letters, digits, '-', '_' or '.'",
        ));
    }
    Ok(name.to_string())
}

/// The ids of the organisation's numbers listed, each placed (country, state, area code)
/// and, when the pool warms numbers up, a never-used one started on its warm-up; the error
/// names the first number that is not the organisation's.
async fn members(
    state: &Shared,
    org: &str,
    numbers: &[String],
    rules: &PoolRules,
) -> ApiResult<Vec<String>> {
    let mut ids = Vec::with_capacity(numbers.len());
    for (i, raw) in numbers.iter().enumerate() {
        let field = format!("numbers[{i}]");
        let e164 = super::e164_field(&field, raw)?.to_string();
        let n = state
            .store
            .number_by_e164(org, &e164)
            .await?
            .ok_or_else(|| {
                ApiError::invalid(
                    &field,
                    format!(
                        "{e164} is not one of the organisation's numbers (import or sync it first)"
                    ),
                )
            })?;
        if let Some(place) = crate::sender::place_of_text(&n.e164) {
            state.store.set_number_place(&n.id, &place).await?;
        }
        if !rules.warmup.is_empty() {
            state
                .store
                .start_warmup(&n.id, chrono::Utc::now().timestamp_millis())
                .await?;
        }
        ids.push(n.id);
    }
    Ok(ids)
}

async fn view(state: &Shared, p: &PoolRecord) -> ApiResult<Value> {
    let rules: Value = serde_json::from_str(&p.rules).unwrap_or(Value::Null);
    let numbers: Vec<Value> = state
        .store
        .pool_members(&p.id)
        .await?
        .iter()
        .map(|m| {
            json!({
                "id": m.id, "e164": m.e164, "provider_id": m.provider_id, "status": m.status,
                "country": m.country, "region": m.region, "area_code": m.area_code,
                "rest_until": m.rest_until,
            })
        })
        .collect();
    let warnings = state
        .store
        .usage_warnings(&p.org_id, &format!("pool:{}", p.id))
        .await?;
    Ok(json!({
        "id": p.id, "name": p.name, "rules": rules, "numbers": numbers, "usage_warnings": warnings,
        "created_at": p.created_at, "updated_at": p.updated_at,
    }))
}

async fn owned(state: &Shared, org: &str, id: &str) -> ApiResult<PoolRecord> {
    let found = match state.store.pool_record(org, id).await? {
        Some(p) => Some(p),
        None => state.store.pool_by_name(org, id).await?,
    };
    found.ok_or_else(|| ApiError::not_found("pool"))
}

/// Creates a pool.
#[utoipa::path(post, path = "/v1/pools", tag = "numbers", request_body = PoolBody,
    responses((status = 201, description = "Created"), (status = 409, description = "A pool of that name exists"), (status = 422, description = "Invalid field")))]
pub async fn create(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
    Json(body): Json<PoolBody>,
) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    auth.require(Role::Admin)?;
    let name = name_of(body.name.as_deref().unwrap_or_default())?;
    let rules = body.rules(PoolRules::default())?;
    let ids = members(
        &state,
        auth.org(),
        body.numbers.as_deref().unwrap_or_default(),
        &rules,
    )
    .await?;
    let text = serde_json::to_string(&rules).map_err(ApiError::internal)?;
    let created = state
        .store
        .create_pool(auth.org(), &name, &text)
        .await?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::CONFLICT,
                "pool_exists",
                format!("a pool named {name:?} exists"),
            )
            .with_details(json!({ "field": "name" }))
        })?;
    state
        .store
        .set_pool_numbers(auth.org(), &created.id, &ids)
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(view(&state, &created).await?),
    ))
}

/// The organisation's pools.
#[utoipa::path(get, path = "/v1/pools", tag = "numbers", responses((status = 200, description = "Every pool with its numbers")))]
pub async fn list(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
) -> ApiResult<axum::Json<Value>> {
    let mut data = Vec::new();
    for p in state.store.pool_records(auth.org()).await? {
        data.push(view(&state, &p).await?);
    }
    Ok(axum::Json(json!({ "data": data })))
}

/// One pool, by id or name.
#[utoipa::path(get, path = "/v1/pools/{id}", tag = "numbers", responses((status = 200, description = "The pool"), (status = 404, description = "No such pool")))]
pub async fn get(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Value>> {
    let p = owned(&state, auth.org(), &id).await?;
    Ok(axum::Json(view(&state, &p).await?))
}

/// Changes a pool's rules and, with `numbers`, its members (the name is fixed).
#[utoipa::path(patch, path = "/v1/pools/{id}", tag = "numbers", request_body = PoolBody,
    responses((status = 200, description = "The pool"), (status = 404, description = "No such pool"), (status = 422, description = "Invalid field")))]
pub async fn update(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
    Json(body): Json<PoolBody>,
) -> ApiResult<axum::Json<Value>> {
    auth.require(Role::Admin)?;
    let p = owned(&state, auth.org(), &id).await?;
    if body.name.as_deref().is_some_and(|n| n != p.name) {
        return Err(ApiError::invalid("name", "a pool's name cannot change"));
    }
    let current: PoolRules = serde_json::from_str(&p.rules).map_err(ApiError::internal)?;
    let rules = body.rules(current)?;
    if let Some(numbers) = &body.numbers {
        let ids = members(&state, auth.org(), numbers, &rules).await?;
        state
            .store
            .set_pool_numbers(auth.org(), &p.id, &ids)
            .await?;
    }
    let text = serde_json::to_string(&rules).map_err(ApiError::internal)?;
    state.store.set_pool_rules(auth.org(), &p.id, &text).await?;
    state.pools.forget();
    let now = owned(&state, auth.org(), &p.id).await?;
    Ok(axum::Json(view(&state, &now).await?))
}

/// Deletes a pool; its numbers stay.
#[utoipa::path(delete, path = "/v1/pools/{id}", tag = "numbers", responses((status = 204, description = "Deleted"), (status = 404, description = "No such pool")))]
pub async fn delete(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    auth.require(Role::Admin)?;
    let p = owned(&state, auth.org(), &id).await?;
    state.store.delete_pool(auth.org(), &p.id).await?;
    state.pools.forget();
    Ok(StatusCode::NO_CONTENT)
}

/// How long a number flagged as spam rests.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SpamFlag {
    /// Hours to rest (1–720, default 72).
    #[serde(default)]
    rest_hours: Option<u32>,
}

/// Flags a number as spam: it rests (pools skip it) for `rest_hours`.
#[utoipa::path(post, path = "/v1/numbers/{id}/spam", tag = "numbers", request_body = SpamFlag,
    responses((status = 200, description = "Resting until `rest_until`"), (status = 404, description = "No such number"), (status = 422, description = "Invalid field")))]
pub async fn flag_spam(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
    Json(body): Json<SpamFlag>,
) -> ApiResult<axum::Json<Value>> {
    auth.require(Role::Operator)?;
    let hours = body.rest_hours.unwrap_or(72);
    if !(1..=720).contains(&hours) {
        return Err(ApiError::invalid(
            "rest_hours",
            "rest_hours must be 1 to 720",
        ));
    }
    let until = switchyard_store::now_ms() + i64::from(hours) * 3_600_000;
    let rested = state.store.rest_number(auth.org(), &id, until).await?;
    state.pools.forget();
    if !rested {
        return Err(ApiError::not_found("number"));
    }
    Ok(axum::Json(
        json!({ "id": id, "status": "resting", "rest_until": until }),
    ))
}
