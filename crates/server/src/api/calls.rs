//! `/v1/calls`: place calls through least-cost routing with failover, follow them to their
//! end, and hang them up.

use super::listing::OutboxQuery;
use super::outbound::{self, QuietHoursSpec, RouteOptions};
use crate::dispatch::calls::{AnswerSpec, HangupError};
use crate::dispatch::{self, Outbound};
use crate::error::{ApiError, ApiResult};
use crate::json::Json;
use crate::middleware::{Auth, IdempotencyClaim};
use crate::state::Shared;
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};
use switchyard_core::Channel;
use switchyard_core::rating::Usage;
use switchyard_providers::capability::Instruction;
use switchyard_store::{CallRecord, NewCall, Outbox, Role};

/// A call to place.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlaceCall {
    /// E.164 destination.
    to: String,
    /// Caller id: one of the organisation's numbers (its provider is then the only one
    /// tried). Default: a voice number of whichever provider routing picks.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    from: Option<outbound::FromSpec>,
    /// URL the provider fetches call instructions from on answer (TwiML and the like).
    #[serde(default)]
    answer_url: Option<String>,
    /// Built-in actions on answer: `say`, `play`, `forward`, `pause`, `hangup`.
    #[serde(default)]
    #[schema(value_type = Option<Vec<Object>>)]
    instructions: Option<Vec<Instruction>>,
    /// Seconds to let it ring (5–120, default 30).
    #[serde(default)]
    ring_timeout_secs: Option<u32>,
    /// Provider id to use if eligible.
    #[serde(default)]
    provider: Option<String>,
    /// Routing strategy (default: the organisation's).
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    strategy: Option<switchyard_core::Strategy>,
    /// Highest acceptable price per minute.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    max_rate: Option<rust_decimal::Decimal>,
    /// Capabilities the provider must have besides voice (`stir_shaken`, …).
    #[serde(default)]
    #[schema(value_type = Vec<String>)]
    capabilities: Vec<switchyard_core::Capability>,
    /// Refuse the call inside this local-time window of the callee.
    #[serde(default)]
    quiet_hours: Option<QuietHoursSpec>,
    /// Your own data, returned with the call and its events.
    #[serde(default)]
    #[schema(value_type = Object)]
    metadata: Value,
}

fn http_url(field: &str, url: &str) -> ApiResult<()> {
    match url::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(()),
        _ => Err(ApiError::invalid(
            field,
            format!("{field} must be an http(s) URL"),
        )),
    }
}

/// Checks built-in instructions field by field.
fn check_instructions(steps: &[Instruction]) -> ApiResult<()> {
    if steps.is_empty() {
        return Err(ApiError::invalid(
            "instructions",
            "give at least one instruction",
        ));
    }
    for (i, step) in steps.iter().enumerate() {
        let field = |name: &str| format!("instructions[{i}].{name}");
        match step {
            Instruction::Say { text, .. } if text.trim().is_empty() => {
                return Err(ApiError::invalid(&field("text"), "say needs text"));
            }
            Instruction::Play { url } => http_url(&field("url"), url)?,
            Instruction::Forward { to } => {
                super::e164_field(&field("to"), to)?;
            }
            Instruction::Pause { seconds } if !(1..=60).contains(seconds) => {
                return Err(ApiError::invalid(
                    &field("seconds"),
                    "pause lasts 1 to 60 seconds",
                ));
            }
            _ => {}
        }
    }
    Ok(())
}

fn shown(c: &CallRecord) -> Value {
    outbound::shown(json!(c), &c.metadata)
}

async fn detailed(state: &Shared, c: &CallRecord) -> ApiResult<Value> {
    let mut v = shown(c);
    v["answer"] = serde_json::from_str(&c.answer).unwrap_or(Value::Null);
    let detail = outbound::Detail {
        outbox: Outbox::Calls,
        id: &c.id,
        taken: c.provider_id.as_ref().zip(c.provider_call_id.as_ref()),
        plan: &c.plan,
        decision: &c.decision,
    };
    outbound::add_detail(state, &mut v, detail).await?;
    Ok(v)
}

/// Places a call: checks consent and quiet hours, routes, stores the call and its plan, and
/// dials. Answers 202 once it is stored; the status then moves with the providers'
/// webhooks, and the cost is rated on the talk time when it ends.
#[utoipa::path(post, path = "/v1/calls", tag = "calls", request_body = PlaceCall,
    responses((status = 202, description = "Stored and being placed"), (status = 422, description = "Invalid field, blocked callee, quiet hours or no route")))]
pub async fn place(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
    claim: Option<Extension<IdempotencyClaim>>,
    Json(body): Json<PlaceCall>,
) -> ApiResult<Response> {
    auth.require(Role::Operator)?;
    let org = auth.org();
    let claim = claim.map(|Extension(c)| c.0);
    if let Some(id) = outbound::earlier(&state, Outbox::Calls, org, claim.as_ref()).await? {
        let c = owned(&state, &auth, &id).await?;
        return Ok(outbound::accepted(shown(&c), true));
    }
    let to = super::e164_field("to", &body.to)?;
    let answer = match (&body.answer_url, &body.instructions) {
        (Some(url), None) => {
            http_url("answer_url", url)?;
            AnswerSpec::Url(url.clone())
        }
        (None, Some(steps)) => {
            check_instructions(steps)?;
            AnswerSpec::Instructions(steps.clone())
        }
        _ => {
            return Err(ApiError::invalid(
                "answer_url",
                "give either answer_url or instructions",
            ));
        }
    };
    let ring_timeout_secs = body.ring_timeout_secs.unwrap_or(30);
    if !(5..=120).contains(&ring_timeout_secs) {
        return Err(ApiError::invalid(
            "ring_timeout_secs",
            "ring_timeout_secs must be 5 to 120",
        ));
    }
    let metadata = outbound::metadata_text(&body.metadata)?;
    let (from, pool) = outbound::sender_of(&body.from)?;
    outbound::check_recipient(&state, org, "voice", &to, body.quiet_hours.as_ref()).await?;
    let options = RouteOptions {
        provider: body.provider.clone(),
        strategy: body.strategy,
        max_rate: body.max_rate,
        capabilities: body.capabilities.clone(),
        from,
        pool,
        campaign: outbound::campaign_of(&body.metadata),
    };
    // Routed on the price of a typical one-minute call.
    let usage = Usage::Call {
        answered: true,
        duration_secs: 60,
    };
    let routed = outbound::plan(&state, org, &to, Channel::Voice, usage, &options, |n| {
        n.voice
    })
    .await?;
    let stored = state
        .store
        .insert_call(&NewCall {
            org_id: org.to_string(),
            to_e164: to.to_string(),
            answer: serde_json::to_string(&answer).map_err(ApiError::internal)?,
            ring_timeout_secs,
            metadata,
            plan: serde_json::to_string(&routed.plan).map_err(ApiError::internal)?,
            decision: routed.decision_json()?,
            lease_ms: dispatch::LEASE_MS,
            idempotency: claim.clone(),
        })
        .await?;
    let (stored, replayed) = outbound::launch(&state, stored, claim.as_ref())?;
    if replayed {
        // A concurrent request with the same key stored it first: what this one reserved
        // (budget admissions, a pool number's use) goes back.
        routed.give_back(&state).await;
    }
    Ok(outbound::accepted(routed.shown(shown(&stored)), replayed))
}

/// The organisation's calls, newest first.
#[utoipa::path(get, path = "/v1/calls", tag = "calls", params(OutboxQuery), responses((status = 200, description = "A page of calls"), (status = 422, description = "A malformed filter")))]
pub async fn list(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
    Query(q): Query<OutboxQuery>,
) -> ApiResult<axum::Json<Value>> {
    let page = state
        .store
        .calls_page(auth.org(), &q.filter()?, q.limit())
        .await?;
    Ok(outbound::page(page, shown))
}

async fn owned(state: &Shared, auth: &Auth, id: &str) -> ApiResult<CallRecord> {
    state
        .store
        .call(auth.org(), id)
        .await?
        .ok_or_else(|| ApiError::not_found("call"))
}

/// One call with its plan, every attempt, the provider's reports, the routing decision and
/// the cost.
#[utoipa::path(get, path = "/v1/calls/{id}", tag = "calls", responses((status = 200, description = "The call"), (status = 404, description = "No such call")))]
pub async fn get(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Value>> {
    let c = owned(&state, &auth, &id).await?;
    Ok(axum::Json(detailed(&state, &c).await?))
}

/// Ends a call, ringing or answered. A call no provider has taken yet is canceled at once;
/// otherwise its provider is told to hang up and the status follows its report.
#[utoipa::path(post, path = "/v1/calls/{id}/hangup", tag = "calls", responses((status = 202, description = "Hanging up"), (status = 404, description = "No such call"), (status = 409, description = "The call already ended"), (status = 502, description = "The provider refused")))]
pub async fn hangup(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    auth.require(Role::Operator)?;
    let c = owned(&state, &auth, &id).await?;
    match dispatch::calls::hang_up(&state, &c).await {
        Ok(()) => {}
        Err(HangupError::Ended(status)) => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "call_ended",
                format!("the call already ended ({status})"),
            ));
        }
        Err(HangupError::Provider(e)) => return Err(crate::adapters::provider_error(e)),
        Err(HangupError::Store(e)) => return Err(e.into()),
    }
    let now = CallRecord::load(&state, &c.id).await?.unwrap_or(c);
    Ok((StatusCode::ACCEPTED, axum::Json(shown(&now))))
}
