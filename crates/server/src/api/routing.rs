//! `/v1/routing`: decisions with explanations, the lowest-cost query and the routing audit log.

use crate::api::providers::ProviderPageQuery;
use crate::error::{ApiError, ApiResult};
use crate::json::Json;
use crate::middleware::{Auth, ReadOnly};
use crate::state::Shared;
use axum::Extension;
use axum::extract::{Query, State};
use axum::http::header;
use serde::Deserialize;
use serde_json::{Value, json};
use switchyard_core::rating::{Usage, count_segments};
use switchyard_core::{Capability, Channel, LeadPriority, RouteRequest, RoutingPolicy, Strategy};
use switchyard_store::{DecisionEntry, Role, new_id, now_ms};

/// Parses a channel parameter (default voice).
pub fn channel_param(text: Option<&str>) -> ApiResult<Channel> {
    text.unwrap_or("voice")
        .parse()
        .map_err(|e: switchyard_core::channel::UnknownChannel| {
            ApiError::invalid("channel", e.to_string())
        })
}

/// A routing question.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecideRequest {
    /// E.164 destination (voice, SMS, MMS, WhatsApp, RVM).
    number: Option<String>,
    /// Destination address (email).
    email: Option<String>,
    /// Channel (default voice).
    #[schema(value_type = Option<String>)]
    channel: Option<Channel>,
    /// Capabilities needed beyond the channel's.
    #[schema(value_type = Option<Vec<String>>)]
    #[serde(default)]
    capabilities: Vec<Capability>,
    /// Strategy (default: the organisation's).
    #[schema(value_type = Option<String>)]
    strategy: Option<Strategy>,
    /// hot, warm or cold.
    #[schema(value_type = Option<String>)]
    lead_priority: Option<LeadPriority>,
    /// Highest acceptable rate per unit (decimal string).
    #[schema(value_type = Option<String>)]
    max_rate: Option<rust_decimal::Decimal>,
    /// Provider id to use if eligible.
    provider: Option<String>,
    /// Expected call duration (seconds) for the expected cost.
    duration_secs: Option<u32>,
    /// Message text (segments are counted).
    text: Option<String>,
    /// Alternates wanted.
    alternates: Option<usize>,
}

/// Decides where a request would go and why.
#[utoipa::path(post, path = "/v1/routing/decide", tag = "routing", request_body = DecideRequest,
    responses((status = 200, description = "The decision with alternates and exclusions"), (status = 422, description = "Invalid number or field")))]
pub async fn decide(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
    Json(body): Json<DecideRequest>,
) -> ApiResult<(
    Extension<ReadOnly>,
    ([(header::HeaderName, &'static str); 1], String),
)> {
    auth.require(Role::Operator)?;
    let channel = body.channel.unwrap_or(Channel::Voice);
    let (digits, country, destination) = if channel == Channel::Email {
        let email = body
            .email
            .as_deref()
            .ok_or_else(|| ApiError::invalid("email", "email is required for the email channel"))?;
        if !email.contains('@') || email.contains(['\r', '\n']) {
            return Err(ApiError::invalid(
                "email",
                format!("{email:?} is not an email address"),
            ));
        }
        (String::new(), None, email.to_string())
    } else {
        let raw = body
            .number
            .as_deref()
            .ok_or_else(|| ApiError::invalid("number", "number is required"))?;
        let n = switchyard_core::number::parse_e164(raw)
            .map_err(|e| ApiError::invalid("number", e.to_string()))?;
        (
            n.digits().to_string(),
            Some(n.country_code()),
            n.to_string(),
        )
    };
    let routing = state
        .routing
        .for_org(auth.org())
        .await
        .map_err(ApiError::internal)?;
    let mut req = RouteRequest::new(&digits, channel, now_ms());
    req.country_code = country;
    req.required = body.capabilities.iter().copied().collect();
    req.strategy = body.strategy;
    req.lead = body.lead_priority;
    req.max_rate = body.max_rate;
    req.provider_override = body.provider.as_deref();
    req.max_alternates = body.alternates;
    req.seed = switchyard_core::scoring::mix64(now_ms() as u64 ^ digits.len() as u64);
    match (channel, &body.text, body.duration_secs) {
        (Channel::Voice, _, Some(secs)) => {
            req.usage = Usage::Call {
                answered: true,
                duration_secs: secs,
            }
        }
        (Channel::Sms | Channel::Mms, Some(text), _) => {
            req.usage = Usage::Message {
                segments: count_segments(text).count,
            }
        }
        _ => {}
    }
    let decision = routing.router.decide(&req);
    metrics::counter!(
        "switchyard_routing_decisions_total",
        "provider" => decision.primary.as_ref().map_or_else(|| "none".to_string(), |p| p.provider.to_string()),
        "outcome" => decision.refusal.as_ref().map_or("routed", |r| r.code()),
    )
    .increment(1);
    let id = new_id();
    let text = serde_json::to_string(&DecisionBody {
        id: &id,
        destination: &destination,
        channel,
        decision: &decision,
    })
    .map_err(ApiError::internal)?;
    if state.settings.log_decisions {
        // The log keeps the compact form: a fifth of the size, so logging keeps up at load.
        let compact = serde_json::to_string(&switchyard_core::decision::CompactDecision(&decision))
            .map_err(ApiError::internal)?;
        state
            .decisions
            .record(DecisionEntry {
                id,
                org_id: auth.org().to_string(),
                destination,
                channel: channel.to_string(),
                strategy: decision.strategy.to_string(),
                chosen_provider: decision.primary.as_ref().map(|p| p.provider.to_string()),
                decision: compact,
                decision_ns: i64::try_from(decision.decision_ns).unwrap_or(i64::MAX),
                created_at: now_ms(),
            })
            .await;
    }
    Ok((
        Extension(ReadOnly),
        ([(header::CONTENT_TYPE, "application/json")], text),
    ))
}

/// The decision as answered and logged: its id and destination, then the decision's fields.
#[derive(serde::Serialize)]
struct DecisionBody<'a> {
    id: &'a str,
    destination: &'a str,
    channel: Channel,
    #[serde(flatten)]
    decision: &'a switchyard_core::Decision,
}

/// A prefix to price.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct LowestCostQuery {
    /// Dial-code digits.
    prefix: String,
    /// Channel (default voice).
    channel: Option<String>,
}

/// Open rates covering a prefix, cheapest first.
#[utoipa::path(get, path = "/v1/routing/lowest-cost", tag = "routing", params(LowestCostQuery), responses((status = 200, description = "Rates, cheapest first")))]
pub async fn lowest_cost(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
    Query(q): Query<LowestCostQuery>,
) -> ApiResult<axum::Json<Value>> {
    let digits = q.prefix.strip_prefix('+').unwrap_or(&q.prefix);
    if digits.is_empty() || digits.len() > 15 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::invalid(
            "prefix",
            format!("prefix {:?} must be 1 to 15 digits", q.prefix),
        ));
    }
    let channel = channel_param(q.channel.as_deref())?;
    let routing = state
        .routing
        .for_org(auth.org())
        .await
        .map_err(ApiError::internal)?;
    let rates = routing
        .router
        .current()
        .lowest_cost(digits, channel, now_ms());
    Ok(axum::Json(
        json!({ "prefix": digits, "channel": channel, "data": rates }),
    ))
}

/// The routing audit log, newest first.
#[utoipa::path(get, path = "/v1/routing/decisions", tag = "routing", params(ProviderPageQuery), responses((status = 200, description = "Decisions")))]
pub async fn decisions(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
    Query(q): Query<ProviderPageQuery>,
) -> ApiResult<axum::Json<Value>> {
    let limit = q.limit();
    let page = state
        .store
        .decisions_page(
            auth.org(),
            q.provider.as_deref(),
            q.cursor.as_deref(),
            limit,
        )
        .await?;
    let data: Vec<Value> = page
        .items
        .iter()
        .map(|d| {
            let mut v: Value = serde_json::from_str(&d.decision).unwrap_or(Value::Null);
            v["id"] = json!(d.id);
            v["destination"] = json!(d.destination);
            v["channel"] = json!(d.channel);
            v["created_at"] = json!(d.created_at);
            v
        })
        .collect();
    Ok(axum::Json(
        json!({ "data": data, "next_cursor": page.next_cursor }),
    ))
}

/// The organisation's routing policy.
#[utoipa::path(get, path = "/v1/routing/policy", tag = "routing", responses((status = 200, description = "The policy in force")))]
pub async fn policy(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
) -> ApiResult<axum::Json<Value>> {
    let routing = state
        .routing
        .for_org(auth.org())
        .await
        .map_err(ApiError::internal)?;
    let policy = routing.router.current().policy().clone();
    Ok(axum::Json(
        serde_json::to_value(policy).map_err(ApiError::internal)?,
    ))
}

/// Replaces the organisation's routing policy: default strategy, balanced weight, health,
/// ASR and uptime thresholds, alternates, hot-lead floor, blocked prefixes, currency.
/// Fields left out take their defaults.
#[utoipa::path(put, path = "/v1/routing/policy", tag = "routing", request_body(content = serde_json::Value, description = "RoutingPolicy fields"), responses((status = 200, description = "The new policy"), (status = 422, description = "Invalid field")))]
pub async fn set_policy(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
    Json(policy): Json<RoutingPolicy>,
) -> ApiResult<axum::Json<Value>> {
    auth.require(Role::Admin)?;
    policy
        .validate()
        .map_err(|(field, message)| ApiError::invalid(field, message))?;
    let text = serde_json::to_string(&policy).map_err(ApiError::internal)?;
    if !state.store.set_routing_policy(auth.org(), &text).await? {
        return Err(ApiError::not_found("organisation"));
    }
    state
        .routing
        .changed(auth.org())
        .await
        .map_err(ApiError::internal)?;
    Ok(axum::Json(
        serde_json::to_value(policy).map_err(ApiError::internal)?,
    ))
}
