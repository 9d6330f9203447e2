//! Buying, releasing and provisioning numbers: `POST /v1/numbers/buy` with search criteria,
//! `POST /v1/numbers/{id}/release`, the organisation's fallback chain at
//! `/v1/numbers/provisioning`, and `POST /v1/numbers/provision` running it for an
//! assistant, campaign, tenant or route.

use super::providers::PageQuery;
use crate::error::{ApiError, ApiResult};
use crate::json::Json;
use crate::middleware::Auth;
use crate::provisioner::{self, Chain, Wanted};
use crate::state::Shared;
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use switchyard_providers::capability::NumberKind;
use switchyard_store::{Assignment, OrgDocument, ProvisioningRecord, ProvisioningStart, Role};

/// A provisioning still `running` after this long was left by an instance that stopped: the
/// next request takes it over.
const STALE_MS: i64 = 5 * 60 * 1000;

/// What a number is assigned to.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Subject {
    /// `assistant`, `campaign`, `tenant` or `route`.
    kind: String,
    /// Its id.
    id: String,
}

impl BuyBody {
    fn wanted(&self) -> Wanted {
        let d = Wanted::default();
        Wanted {
            country: self.country.clone().unwrap_or(d.country),
            kind: self.kind.unwrap_or(d.kind),
            area_code: self.area_code.clone(),
            voice: self.voice.unwrap_or(d.voice),
            sms: self.sms.unwrap_or(d.sms),
            mms: self.mms.unwrap_or(d.mms),
        }
    }
}

impl Subject {
    /// The assignment, checked; errors name `field`.
    pub fn checked(&self, field: &str) -> ApiResult<Assignment> {
        if !matches!(
            self.kind.as_str(),
            "assistant" | "campaign" | "tenant" | "route"
        ) {
            return Err(ApiError::invalid(
                &format!("{field}.kind"),
                format!(
                    "{field}.kind must be assistant, campaign, tenant or route, not {:?}",
                    self.kind
                ),
            ));
        }
        let id = self.id.trim();
        if id.is_empty() || id.len() > 128 {
            return Err(ApiError::invalid(
                &format!("{field}.id"),
                format!("{field}.id must be 1 to 128 characters"),
            ));
        }
        Ok(Assignment {
            kind: self.kind.clone(),
            reference: id.to_string(),
        })
    }
}

/// A number to buy.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BuyBody {
    /// Provider id to buy through (default: the first of the organisation's providers that
    /// manage numbers).
    #[serde(default)]
    provider: Option<String>,
    /// ISO 3166 country (default US).
    #[serde(default)]
    country: Option<String>,
    /// `local` (default), `toll_free` or `mobile`.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    kind: Option<NumberKind>,
    /// Area code.
    #[serde(default)]
    area_code: Option<String>,
    /// Must take calls (default true).
    #[serde(default)]
    voice: Option<bool>,
    /// Must take SMS (default true).
    #[serde(default)]
    sms: Option<bool>,
    /// Must take MMS (default false).
    #[serde(default)]
    mms: Option<bool>,
    /// A pool the number joins.
    #[serde(default)]
    pool: Option<String>,
    /// What the number is assigned to.
    #[serde(default)]
    assign_to: Option<Subject>,
}

/// Buys a number matching the criteria through one of the organisation's providers.
#[utoipa::path(post, path = "/v1/numbers/buy", tag = "numbers", request_body = BuyBody,
    responses((status = 201, description = "Bought"), (status = 422, description = "Invalid field or nothing on offer"), (status = 502, description = "The provider failed")))]
pub async fn buy(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
    Json(body): Json<BuyBody>,
) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    auth.require(Role::Admin)?;
    let wanted = body.wanted();
    wanted.validate("")?;
    let subject = body
        .assign_to
        .as_ref()
        .map(|s| s.checked("assign_to"))
        .transpose()?;
    let pool = match &body.pool {
        Some(name) => Some(
            state
                .store
                .pool_by_name(auth.org(), name)
                .await?
                .ok_or_else(|| {
                    ApiError::invalid("pool", format!("there is no pool named {name:?}"))
                })?,
        ),
        None => None,
    };
    let provider =
        match &body.provider {
            Some(id) => state.store.provider(auth.org(), id).await?.ok_or_else(|| {
                ApiError::invalid("provider", format!("there is no provider {id:?}"))
            })?,
            None => provisioner::own_buyers(&state, auth.org(), &[])
                .await?
                .into_iter()
                .next()
                .ok_or_else(|| {
                    ApiError::invalid(
                        "provider",
                        "no provider of the organisation manages numbers",
                    )
                })?,
        };
    let number = provisioner::buy(&state, &provider, &wanted, false).await?;
    if let Some(subject) = &subject {
        state
            .store
            .assign_number(auth.org(), &number.id, Some(subject), false)
            .await?;
    }
    if let Some(pool) = &pool {
        provisioner::join_pool(&state, auth.org(), &pool.name, &number.id).await?;
    }
    let stored = state
        .store
        .number(auth.org(), &number.id)
        .await?
        .unwrap_or(number);
    Ok((StatusCode::CREATED, axum::Json(json!(stored))))
}

/// Gives a number back to its provider: it is marked released and leaves every pool.
#[utoipa::path(post, path = "/v1/numbers/{id}/release", tag = "numbers",
    responses((status = 200, description = "Released"), (status = 404, description = "No such number"), (status = 502, description = "The provider failed")))]
pub async fn release(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Value>> {
    auth.require(Role::Admin)?;
    let number = state
        .store
        .number(auth.org(), &id)
        .await?
        .ok_or_else(|| ApiError::not_found("number"))?;
    if number.status != "released" {
        provisioner::release(&state, auth.org(), &number).await?;
    }
    let now = state.store.number(auth.org(), &id).await?.unwrap_or(number);
    Ok(axum::Json(json!(now)))
}

/// The organisation's provisioning chain.
#[utoipa::path(get, path = "/v1/numbers/provisioning", tag = "numbers",
    responses((status = 200, description = "The chain, defaults filled in")))]
pub async fn chain(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
) -> ApiResult<axum::Json<Value>> {
    let chain = provisioner::chain_of(&state, auth.org()).await?;
    let held = state.store.platform_numbers_held(auth.org()).await?;
    let warnings = state.store.usage_warnings(auth.org(), "free_tier").await?;
    let mut out = json!(chain);
    out["platform_numbers_held"] = json!(held);
    out["usage_warnings"] = json!(warnings);
    Ok(axum::Json(out))
}

/// Replaces the organisation's provisioning chain: `steps` (`pool`, `org_provider`,
/// `platform`, in order), `pool`, `providers`, `wanted`, `join_pool`, `free_tier`.
#[utoipa::path(put, path = "/v1/numbers/provisioning", tag = "numbers", request_body = Object,
    responses((status = 200, description = "The chain"), (status = 422, description = "Invalid field")))]
pub async fn set_chain(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
    Json(chain): Json<Chain>,
) -> ApiResult<axum::Json<Value>> {
    auth.require(Role::Admin)?;
    chain.wanted.validate("wanted.")?;
    for (field, name) in [("pool", &chain.pool), ("join_pool", &chain.join_pool)] {
        if let Some(name) = name
            && state.store.pool_by_name(auth.org(), name).await?.is_none()
        {
            return Err(ApiError::invalid(
                field,
                format!("there is no pool named {name:?}"),
            ));
        }
    }
    for (i, id) in chain.providers.iter().enumerate() {
        if state.store.provider(auth.org(), id).await?.is_none() {
            return Err(ApiError::invalid(
                &format!("providers[{i}]"),
                format!("there is no provider {id:?}"),
            ));
        }
    }
    if let Some(step) = chain
        .steps
        .iter()
        .enumerate()
        .find(|(i, s)| chain.steps[..*i].contains(s))
    {
        return Err(ApiError::invalid(
            &format!("steps[{}]", step.0),
            "each step may appear once",
        ));
    }
    let text = serde_json::to_string(&chain).map_err(ApiError::internal)?;
    state
        .store
        .set_org_document(auth.org(), OrgDocument::Provisioning, &text)
        .await?;
    Ok(axum::Json(json!(chain)))
}

/// A number to provision.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProvisionBody {
    /// What the number is for: `{"kind": "assistant", "id": "asst_42"}`. Asking again for
    /// the same subject returns the first provisioning (or retries one that needed a
    /// person).
    #[serde(rename = "for")]
    subject: Subject,
    /// What to buy, if it comes to buying (default: the chain's `wanted`).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    wanted: Option<Wanted>,
}

fn view(p: &ProvisioningRecord, number: Option<Value>) -> Value {
    json!({
        "id": p.id, "for": p.subject, "status": p.status, "number_id": p.number_id,
        "number": number,
        "steps": serde_json::from_str::<Value>(&p.steps).unwrap_or(Value::Null),
        "created_at": p.created_at, "updated_at": p.updated_at,
    })
}

async fn shown(state: &Shared, org: &str, p: &ProvisioningRecord) -> ApiResult<Value> {
    let number = match &p.number_id {
        Some(id) => state.store.number(org, id).await?.map(|n| json!(n)),
        None => None,
    };
    Ok(view(p, number))
}

/// Gets a number to an assistant, campaign, tenant or route through the organisation's
/// fallback chain; every step is logged in the answer. 201 when a number was assigned,
/// 202 with `needs_manual_assignment` when no step could, 200 for an earlier provisioning
/// of the same subject, 409 while one is running.
#[utoipa::path(post, path = "/v1/numbers/provision", tag = "numbers", request_body = ProvisionBody,
    responses((status = 201, description = "Assigned"), (status = 202, description = "Needs manual assignment"),
        (status = 200, description = "Provisioned before"), (status = 409, description = "Running now"), (status = 422, description = "Invalid field")))]
pub async fn provision(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
    Json(body): Json<ProvisionBody>,
) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    auth.require(Role::Admin)?;
    let org = auth.org();
    let subject = body.subject.checked("for")?;
    let chain = provisioner::chain_of(&state, org).await?;
    let wanted = body.wanted.unwrap_or_else(|| chain.wanted.clone());
    wanted.validate("wanted.")?;
    let record = match state
        .store
        .begin_provisioning(org, &subject, switchyard_store::now_ms() - STALE_MS)
        .await?
    {
        ProvisioningStart::Exists(p) if p.status == "running" => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "provisioning_running",
                format!("a provisioning for this {} is running", subject.kind),
            )
            .with_details(json!({ "provisioning_id": p.id })));
        }
        ProvisioningStart::Exists(p) => {
            return Ok((StatusCode::OK, axum::Json(shown(&state, org, &p).await?)));
        }
        ProvisioningStart::Run(p) => p,
    };
    let outcome = provisioner::run_chain(&state, org, &subject, &chain, &wanted).await;
    let outcome = match outcome {
        Ok(o) => o,
        Err(e) => {
            // Not left running: the next request retries.
            let steps = json!([{ "outcome": "failed", "detail": e.message }]).to_string();
            state
                .store
                .finish_provisioning(&record.id, "needs_manual_assignment", None, &steps)
                .await?;
            return Err(e);
        }
    };
    let steps = serde_json::to_string(&outcome.steps).map_err(ApiError::internal)?;
    let (status, code) = match &outcome.number {
        Some(_) => ("assigned", StatusCode::CREATED),
        None => ("needs_manual_assignment", StatusCode::ACCEPTED),
    };
    let number_id = outcome.number.as_ref().map(|n| n.id.as_str());
    state
        .store
        .finish_provisioning(&record.id, status, number_id, &steps)
        .await?;
    let done = state
        .store
        .provisioning(org, &record.id)
        .await?
        .ok_or_else(|| ApiError::not_found("provisioning"))?;
    let view = view(&done, outcome.number.as_ref().map(|n| json!(n)));
    let event = match outcome.number {
        Some(_) => "number.provisioned",
        None => "number.needs_manual_assignment",
    };
    crate::events_out::emit(&state, org, event, view.clone()).await?;
    Ok((code, axum::Json(view)))
}

/// The organisation's provisionings, newest first.
#[utoipa::path(get, path = "/v1/provisionings", tag = "numbers", params(PageQuery),
    responses((status = 200, description = "A page of provisionings")))]
pub async fn list(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
    Query(q): Query<PageQuery>,
) -> ApiResult<axum::Json<Value>> {
    let page = state
        .store
        .provisionings_page(auth.org(), q.cursor.as_deref(), q.limit())
        .await?;
    let data: Vec<Value> = page.items.iter().map(|p| view(p, None)).collect();
    Ok(axum::Json(
        json!({ "data": data, "next_cursor": page.next_cursor }),
    ))
}

/// One provisioning with its steps.
#[utoipa::path(get, path = "/v1/provisionings/{id}", tag = "numbers",
    responses((status = 200, description = "The provisioning"), (status = 404, description = "No such provisioning")))]
pub async fn get(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Value>> {
    let p = state
        .store
        .provisioning(auth.org(), &id)
        .await?
        .ok_or_else(|| ApiError::not_found("provisioning"))?;
    Ok(axum::Json(shown(&state, auth.org(), &p).await?))
}
