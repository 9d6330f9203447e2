//! Controls of the built-in sandbox for a sandbox provider: simulated inbound traffic and
//! injected faults, so failover and inbound handling can be tried without a carrier.

use crate::adapters;
use crate::error::{ApiError, ApiResult};
use crate::json::Json;
use crate::middleware::Auth;
use crate::state::Shared;
use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use switchyard_sandbox::{AccountCredentials, Faults, Inbound, Sandbox};
use switchyard_store::Role;

/// Simulated inbound traffic.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InboundBody {
    /// `sms` or `call`.
    kind: String,
    /// Sender or caller (E.164).
    from: String,
    /// One of the provider's numbers.
    to: String,
    /// Text of an `sms`.
    #[serde(default)]
    body: String,
}

/// Faults to inject (all default to none).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FaultsBody {
    /// Share of requests answered 500 (0–1).
    #[serde(default)]
    error_rate: f64,
    /// Share of requests that hang until the client times out (0–1).
    #[serde(default)]
    timeout_rate: f64,
    /// Delay added to every request, ms.
    #[serde(default)]
    slow_ms: u64,
    /// Answer 503 to everything for this many (simulated) seconds.
    #[serde(default)]
    outage_secs: u64,
}

/// The sandbox and this provider's account key on it, the account restored if needed.
async fn account(state: &Shared, auth: &Auth, id: &str) -> ApiResult<(Sandbox, String)> {
    auth.require(Role::Operator)?;
    let r = state
        .store
        .provider(auth.org(), id)
        .await?
        .ok_or_else(|| ApiError::not_found("provider"))?;
    let creds = adapters::credentials(state, &r)?;
    let sandbox = state
        .sandbox
        .clone()
        .filter(|_| r.kind == "sandbox" && !creds.contains_key("base_url"))
        .ok_or_else(|| {
            ApiError::invalid(
                "id",
                "only providers on this server's built-in sandbox have sandbox controls",
            )
        })?;
    adapters::adapter_for(state, &r)?;
    let account: AccountCredentials =
        serde_json::from_value(Value::Object(creds)).map_err(ApiError::internal)?;
    Ok((sandbox, account.key()))
}

/// Makes the sandbox deliver an inbound message or call to one of the provider's numbers,
/// signed as the carrier would sign it.
#[utoipa::path(post, path = "/v1/providers/{id}/sandbox/inbound", tag = "sandbox", request_body = InboundBody,
    responses((status = 202, description = "Sent to the webhook"), (status = 422, description = "Not a sandbox provider or not its number")))]
pub async fn inbound(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
    Json(body): Json<InboundBody>,
) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    let (sandbox, key) = account(&state, &auth, &id).await?;
    let spec = Inbound {
        kind: body.kind,
        from: body.from,
        to: body.to,
        body: body.body,
    };
    let provider_id = sandbox
        .inbound(&key, &spec)
        .map_err(|e| ApiError::invalid("to", e))?;
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(json!({ "provider_id": provider_id })),
    ))
}

/// Replaces the faults the sandbox injects for this provider.
#[utoipa::path(put, path = "/v1/providers/{id}/sandbox/faults", tag = "sandbox", request_body = FaultsBody,
    responses((status = 204, description = "Faults in effect")))]
pub async fn faults(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
    Json(body): Json<FaultsBody>,
) -> ApiResult<StatusCode> {
    for (field, v) in [
        ("error_rate", body.error_rate),
        ("timeout_rate", body.timeout_rate),
    ] {
        if !(0.0..=1.0).contains(&v) {
            return Err(ApiError::invalid(
                field,
                format!("{field} must be between 0 and 1"),
            ));
        }
    }
    let (sandbox, key) = account(&state, &auth, &id).await?;
    sandbox.set_faults(
        &key,
        Faults {
            error_rate: body.error_rate,
            timeout_rate: body.timeout_rate,
            slow_ms: body.slow_ms,
            outage_secs: body.outage_secs,
        },
    );
    Ok(StatusCode::NO_CONTENT)
}
