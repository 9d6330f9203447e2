//! `/v1/messages`: send SMS, MMS and WhatsApp messages through least-cost routing with
//! failover, and follow them to a final status.

use super::providers::clamp_limit;
use crate::dispatch::{self, PlanStep};
use crate::error::{ApiError, ApiResult};
use crate::json::Json;
use crate::middleware::Auth;
use crate::state::Shared;
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use switchyard_core::rating::{Usage, count_segments};
use switchyard_core::{Channel, RouteRequest, Strategy};
use switchyard_store::{MessageRecord, NewMessage, Role, now_ms};

/// A message to send.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendMessage {
    /// E.164 destination.
    to: String,
    /// `sms` (default), `mms` or `whatsapp`.
    #[serde(default)]
    channel: Option<String>,
    /// Text (or `template`).
    #[serde(default)]
    body: Option<String>,
    /// Template id or name (with `variables`).
    #[serde(default)]
    template: Option<String>,
    /// Template variables.
    #[serde(default)]
    #[schema(value_type = Object)]
    variables: Value,
    /// Media URLs (MMS, WhatsApp).
    #[serde(default)]
    media_urls: Vec<String>,
    /// Sender: one of the organisation's numbers (its provider is then the only one
    /// tried). Default: a number of whichever provider routing picks.
    #[serde(default)]
    from: Option<String>,
    /// Provider id to use if eligible.
    #[serde(default)]
    provider: Option<String>,
    /// Routing strategy (default: the organisation's).
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    strategy: Option<Strategy>,
    /// Highest acceptable price per segment.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    max_rate: Option<rust_decimal::Decimal>,
    /// Your own data, returned with the message.
    #[serde(default)]
    #[schema(value_type = Object)]
    metadata: Value,
}

async fn view(state: &Shared, m: &MessageRecord, detail: bool) -> ApiResult<Value> {
    let mut v = json!(m);
    v["media_urls"] = serde_json::from_str(&m.media).unwrap_or(Value::Null);
    v["metadata"] = serde_json::from_str(&m.metadata).unwrap_or(Value::Null);
    if detail {
        v["attempts"] = json!(state.store.message_attempts(&m.id).await?);
        v["plan"] = serde_json::from_str(&m.plan).unwrap_or(Value::Null);
        v["decision"] = serde_json::from_str(&m.decision).unwrap_or(Value::Null);
    }
    Ok(v)
}

/// Sends a message: checks consent, renders the template, routes, stores the message and
/// its plan, and dispatches it. Answers 202 once it is stored; the status then moves with
/// the providers' webhooks.
#[utoipa::path(post, path = "/v1/messages", tag = "messages", request_body = SendMessage,
    responses((status = 202, description = "Stored and being sent"), (status = 422, description = "Invalid field, blocked recipient, missing variable or no route")))]
pub async fn send(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
    Json(body): Json<SendMessage>,
) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    auth.require(Role::Operator)?;
    let org = auth.org();
    let (channel_name, channel) = match body.channel.as_deref().unwrap_or("sms") {
        "sms" => ("sms", Channel::Sms),
        "mms" => ("mms", Channel::Mms),
        "whatsapp" => ("whatsapp", Channel::Whatsapp),
        other => {
            return Err(ApiError::invalid(
                "channel",
                format!("channel must be sms, mms or whatsapp, not {other:?}"),
            ));
        }
    };
    let to = super::e164_field("to", &body.to)?;
    let to_text = to.to_string();
    if channel == Channel::Sms && !body.media_urls.is_empty() {
        return Err(ApiError::invalid(
            "media_urls",
            "media_urls need the mms or whatsapp channel",
        ));
    }
    for (i, url) in body.media_urls.iter().enumerate() {
        if !url.starts_with("https://") && !url.starts_with("http://") {
            return Err(ApiError::invalid(
                &format!("media_urls[{i}]"),
                "media URLs must be http(s) URLs",
            ));
        }
    }
    if let Some(block) = state
        .store
        .contact_block(org, channel_name, &to_text)
        .await?
    {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "recipient_blocked",
            format!("{to_text} may not be messaged on {channel_name}"),
        )
        .with_details(json!({ "field": "to", "block": block })));
    }
    let text = match (&body.body, &body.template) {
        (Some(text), None) => text.clone(),
        (None, Some(name)) => {
            let t = state
                .store
                .template(org, name)
                .await?
                .ok_or_else(|| ApiError::invalid("template", format!("no template {name}")))?;
            let vars = if body.variables.is_null() {
                json!({})
            } else {
                body.variables.clone()
            };
            switchyard_engine::templates::render(&t.body, &vars).map_err(|e| {
                ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "missing_variable",
                    e.to_string(),
                )
                .with_details(json!({ "field": "variables" }))
            })?
        }
        _ => return Err(ApiError::invalid("body", "give either body or template")),
    };
    if text.is_empty() && body.media_urls.is_empty() {
        return Err(ApiError::invalid("body", "a message needs text or media"));
    }
    let segments = count_segments(&text).count;
    let from = match &body.from {
        Some(raw) => Some(super::e164_field("from", raw)?.to_string()),
        None => None,
    };

    let routing = state
        .routing
        .for_org(org)
        .await
        .map_err(ApiError::internal)?;
    let mut req = RouteRequest::new(to.digits(), channel, now_ms());
    req.country_code = Some(to.country_code());
    req.strategy = body.strategy;
    req.max_rate = body.max_rate;
    req.provider_override = body.provider.as_deref();
    req.usage = Usage::Message { segments };
    req.seed = switchyard_core::scoring::mix64(now_ms() as u64 ^ to.digits().len() as u64);
    let decision = routing.router.decide(&req);

    // One step per routed provider that has a sender number for this channel.
    let mut plan = Vec::new();
    for candidate in decision.primary.iter().chain(decision.alternates.iter()) {
        let numbers = state
            .store
            .provider_numbers(org, candidate.provider.as_str())
            .await?;
        let usable = numbers.iter().filter(|n| {
            n.status == "active"
                && if channel == Channel::Mms {
                    n.mms
                } else {
                    n.sms
                }
        });
        let sender = match &from {
            Some(f) => usable.clone().find(|n| &n.e164 == f),
            None => usable.clone().next(),
        };
        if let Some(n) = sender {
            plan.push(PlanStep {
                provider_id: candidate.provider.to_string(),
                from: n.e164.clone(),
            });
        }
    }
    if plan.is_empty() {
        let why = match (&decision.refusal, &from) {
            (Some(r), _) => r.to_string(),
            (None, Some(f)) => format!("no routed provider owns the sender {f}"),
            (None, None) => "no routed provider has a number that can send this channel (sync or import numbers)".into(),
        };
        return Err(
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "no_route", why)
                .with_details(json!({ "field": "to", "decision": decision })),
        );
    }
    let stored = state
        .store
        .insert_message(&NewMessage {
            org_id: org.to_string(),
            channel: channel_name.into(),
            to_e164: to_text,
            body: text,
            media: serde_json::to_string(&body.media_urls).map_err(ApiError::internal)?,
            metadata: serde_json::to_string(&if body.metadata.is_null() {
                json!({})
            } else {
                body.metadata.clone()
            })
            .map_err(ApiError::internal)?,
            segments,
            plan: serde_json::to_string(&plan).map_err(ApiError::internal)?,
            decision: serde_json::to_string(&decision).map_err(ApiError::internal)?,
            lease_ms: dispatch::LEASE_MS,
        })
        .await?;
    tokio::spawn(dispatch::dispatch(state.clone(), stored.clone()));
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(view(&state, &stored, false).await?),
    ))
}

/// Filters of the message list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct MessageQuery {
    /// Only messages in this status.
    status: Option<String>,
    /// Items per page (1–500, default 50).
    limit: Option<usize>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// The organisation's messages, newest first.
#[utoipa::path(get, path = "/v1/messages", tag = "messages", params(MessageQuery), responses((status = 200, description = "A page of messages")))]
pub async fn list(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
    Query(q): Query<MessageQuery>,
) -> ApiResult<axum::Json<Value>> {
    let page = state
        .store
        .messages_page(
            auth.org(),
            q.status.as_deref(),
            q.cursor.as_deref(),
            clamp_limit(q.limit),
        )
        .await?;
    let mut data = Vec::with_capacity(page.items.len());
    for m in &page.items {
        data.push(view(&state, m, false).await?);
    }
    Ok(axum::Json(
        json!({ "data": data, "next_cursor": page.next_cursor }),
    ))
}

/// One message with its plan, every attempt and the routing decision.
#[utoipa::path(get, path = "/v1/messages/{id}", tag = "messages", responses((status = 200, description = "The message"), (status = 404, description = "No such message")))]
pub async fn get(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Value>> {
    let m = state
        .store
        .message(auth.org(), &id)
        .await?
        .ok_or_else(|| ApiError::not_found("message"))?;
    Ok(axum::Json(view(&state, &m, true).await?))
}
