//! `/v1/event-endpoints` and `/v1/event-deliveries`: where the organisation's events go,
//! and the log of every delivery.

use super::providers::clamp_limit;
use crate::error::{ApiError, ApiResult};
use crate::events_out;
use crate::json::Json;
use crate::middleware::Auth;
use crate::state::Shared;
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use switchyard_store::{EventEndpoint, Role};

/// Event types an endpoint can ask for.
pub const EVENT_TYPES: &[&str] = &[
    "message.status",
    "message.inbound",
    "call.status",
    "call.inbound",
    "email.status",
    "email.sent",
    "email.delivered",
    "email.deferred",
    "email.hard_bounce",
    "email.soft_bounce",
    "email.dropped",
    "email.complained",
    "email.opened",
    "email.clicked",
    "email.unsubscribed",
    "number.provisioned",
    "number.needs_manual_assignment",
    "number.spam_rested",
    "usage.warning",
    "budget.alert",
    "budget.stopped",
    "ping",
];

/// A new endpoint.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEndpoint {
    /// `https://…` (or `http://` for local development).
    url: String,
    /// Types to receive (default all: `["*"]`).
    #[serde(default)]
    event_types: Option<Vec<String>>,
}

fn view(e: &EventEndpoint, secret: Option<&str>) -> Value {
    let types: Value = serde_json::from_str(&e.event_types).unwrap_or(Value::Null);
    json!({
        "id": e.id, "url": e.url, "event_types": types, "active": e.active, "created_at": e.created_at,
        "secret": secret.unwrap_or("whsec_****"),
    })
}

/// Adds an endpoint. The signing secret is in this response only.
#[utoipa::path(post, path = "/v1/event-endpoints", tag = "events", request_body = NewEndpoint,
    responses((status = 201, description = "Added; `secret` shown once"), (status = 422, description = "Invalid field")))]
pub async fn create(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
    Json(body): Json<NewEndpoint>,
) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    auth.require(Role::Admin)?;
    let url =
        url::Url::parse(&body.url).map_err(|e| ApiError::invalid("url", format!("url: {e}")))?;
    if !matches!(url.scheme(), "https" | "http") || url.host_str().is_none() {
        return Err(ApiError::invalid(
            "url",
            "url must be an http or https URL with a host",
        ));
    }
    let types = body.event_types.unwrap_or_else(|| vec!["*".into()]);
    if types.is_empty() {
        return Err(ApiError::invalid(
            "event_types",
            "event_types must not be empty",
        ));
    }
    if let Some(unknown) = types
        .iter()
        .find(|t| *t != "*" && !EVENT_TYPES.contains(&t.as_str()))
    {
        return Err(ApiError::invalid(
            "event_types",
            format!(
                "unknown event type {unknown:?} (known: {})",
                EVENT_TYPES.join(", ")
            ),
        ));
    }
    let secret = format!("whsec_{}", hex::encode(rand::random::<[u8; 24]>()));
    let sealed = state.master_key.encrypt(secret.as_bytes());
    let types_json = serde_json::to_string(&types).map_err(ApiError::internal)?;
    let saved = state
        .store
        .insert_event_endpoint(auth.org(), url.as_str(), &sealed, &types_json)
        .await?;
    state.forget_event_endpoints(auth.org());
    Ok((StatusCode::CREATED, axum::Json(view(&saved, Some(&secret)))))
}

/// The organisation's endpoints (secrets masked).
#[utoipa::path(get, path = "/v1/event-endpoints", tag = "events", responses((status = 200, description = "Endpoints")))]
pub async fn list(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
) -> ApiResult<axum::Json<Value>> {
    let list = state.store.event_endpoints(auth.org()).await?;
    let data: Vec<Value> = list.iter().map(|e| view(e, None)).collect();
    Ok(axum::Json(json!({ "data": data })))
}

/// Removes an endpoint and its delivery log.
#[utoipa::path(delete, path = "/v1/event-endpoints/{id}", tag = "events", responses((status = 204, description = "Removed")))]
pub async fn delete(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    auth.require(Role::Admin)?;
    if state.store.delete_event_endpoint(auth.org(), &id).await? {
        state.forget_event_endpoints(auth.org());
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("event endpoint"))
    }
}

/// Sends a `ping` event to every endpoint that takes it.
#[utoipa::path(post, path = "/v1/event-endpoints/ping", tag = "events", responses((status = 202, description = "Queued")))]
pub async fn ping(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
) -> ApiResult<StatusCode> {
    auth.require(Role::Operator)?;
    events_out::emit(
        &state,
        auth.org(),
        "ping",
        json!({ "message": "ping from Switchyard" }),
    )
    .await?;
    Ok(StatusCode::ACCEPTED)
}

/// Filters of the delivery log.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct DeliveryQuery {
    /// Only this endpoint's deliveries.
    endpoint: Option<String>,
    /// Items per page (1–500, default 50).
    limit: Option<usize>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// The delivery log, newest first: status, attempts, last HTTP status and error.
#[utoipa::path(get, path = "/v1/event-deliveries", tag = "events", params(DeliveryQuery), responses((status = 200, description = "Deliveries")))]
pub async fn deliveries(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
    Query(q): Query<DeliveryQuery>,
) -> ApiResult<axum::Json<Value>> {
    let page = state
        .store
        .deliveries_page(
            auth.org(),
            q.endpoint.as_deref(),
            q.cursor.as_deref(),
            clamp_limit(q.limit),
        )
        .await?;
    Ok(axum::Json(
        json!({ "data": page.items, "next_cursor": page.next_cursor }),
    ))
}
