//! `/v1/messages`: send SMS, MMS and WhatsApp messages through least-cost routing with
//! failover, and follow them to a final status.

use super::listing::OutboxQuery;
use super::outbound::{self, QuietHoursSpec, RouteOptions};
use crate::dispatch;
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
use switchyard_core::rating::{Usage, count_segments};
use switchyard_core::{Channel, Strategy};
use switchyard_store::{MessageRecord, NewMessage, Outbox, Role};

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
    #[schema(value_type = Option<Object>)]
    from: Option<outbound::FromSpec>,
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
    /// Capabilities the provider must have besides the channel's.
    #[serde(default)]
    #[schema(value_type = Vec<String>)]
    capabilities: Vec<switchyard_core::Capability>,
    /// Refuse the send inside this local-time window of the recipient.
    #[serde(default)]
    quiet_hours: Option<QuietHoursSpec>,
    /// Your own data, returned with the message.
    #[serde(default)]
    #[schema(value_type = Object)]
    metadata: Value,
}

fn shown(m: &MessageRecord) -> Value {
    let mut v = outbound::shown(json!(m), &m.metadata);
    v["media_urls"] = serde_json::from_str(&m.media).unwrap_or(Value::Null);
    v
}

async fn detailed(state: &Shared, m: &MessageRecord) -> ApiResult<Value> {
    let mut v = shown(m);
    let detail = outbound::Detail {
        outbox: Outbox::Messages,
        id: &m.id,
        taken: m.provider_id.as_ref().zip(m.provider_message_id.as_ref()),
        plan: &m.plan,
        decision: &m.decision,
    };
    outbound::add_detail(state, &mut v, detail).await?;
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
    claim: Option<Extension<IdempotencyClaim>>,
    Json(body): Json<SendMessage>,
) -> ApiResult<Response> {
    auth.require(Role::Operator)?;
    let org = auth.org();
    let claim = claim.map(|Extension(c)| c.0);
    if let Some(id) = outbound::earlier(&state, Outbox::Messages, org, claim.as_ref()).await? {
        let m = state
            .store
            .message(org, &id)
            .await?
            .ok_or_else(|| ApiError::not_found("message"))?;
        return Ok(outbound::accepted(shown(&m), true));
    }
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
    outbound::check_recipient(&state, org, channel_name, &to, body.quiet_hours.as_ref()).await?;
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
    let (from, pool) = outbound::sender_of(&body.from)?;

    let options = RouteOptions {
        provider: body.provider.clone(),
        strategy: body.strategy,
        max_rate: body.max_rate,
        capabilities: body.capabilities.clone(),
        from,
        pool,
        campaign: outbound::campaign_of(&body.metadata),
    };
    let usage = Usage::Message { segments };
    let routed = outbound::plan(&state, org, &to, channel, usage, &options, |n| {
        if channel == Channel::Mms {
            n.mms
        } else {
            n.sms
        }
    })
    .await?;
    let stored = state
        .store
        .insert_message(&NewMessage {
            org_id: org.to_string(),
            channel: channel_name.into(),
            to_e164: to_text,
            body: text,
            media: serde_json::to_string(&body.media_urls).map_err(ApiError::internal)?,
            metadata: outbound::metadata_text(&body.metadata)?,
            segments,
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

/// The organisation's messages, newest first.
#[utoipa::path(get, path = "/v1/messages", tag = "messages", params(OutboxQuery), responses((status = 200, description = "A page of messages"), (status = 422, description = "A malformed filter")))]
pub async fn list(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
    Query(q): Query<OutboxQuery>,
) -> ApiResult<axum::Json<Value>> {
    let page = state
        .store
        .messages_page(auth.org(), &q.filter()?, q.limit())
        .await?;
    Ok(outbound::page(page, shown))
}

/// One message with its plan, every attempt, the provider's reports and the routing
/// decision.
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
    Ok(axum::Json(detailed(&state, &m).await?))
}
