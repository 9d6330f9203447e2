//! Live provider adapters from stored providers: credentials decrypted, webhook URL and
//! built-in sandbox wired in; and provider failures as API errors.

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::http::StatusCode;
use serde_json::{Map, Value, json};
use switchyard_providers::registry::{self, BuildError};
use switchyard_providers::{Adapter, ProviderContext, ProviderError};
use switchyard_sandbox::{AccountCredentials, NewAccount, Profile, Style};
use switchyard_store::ProviderRecord;

/// Where a provider's webhooks go.
pub fn webhook_url(state: &AppState, provider_id: &str) -> String {
    format!("{}/v1/webhooks/{provider_id}", state.public_url)
}

/// The built-in sandbox's base URL on this server.
fn sandbox_url(state: &AppState) -> Option<String> {
    state
        .sandbox
        .as_ref()
        .map(|_| format!("{}/sandbox", state.public_url))
}

/// Decrypted credentials.
pub fn credentials(state: &AppState, r: &ProviderRecord) -> ApiResult<Map<String, Value>> {
    let plain = state.master_key.decrypt(&r.credentials).map_err(|e| {
        ApiError::new(
            StatusCode::CONFLICT,
            "credentials_unreadable",
            e.to_string(),
        )
    })?;
    serde_json::from_slice(&plain).map_err(ApiError::internal)
}

/// A sandbox profile from the `profile` credential (JSON text), checked.
pub fn sandbox_profile(creds: &Map<String, Value>) -> ApiResult<Profile> {
    let profile: Profile = match creds.get("profile").and_then(Value::as_str) {
        Some(text) if !text.trim().is_empty() => serde_json::from_str(text).map_err(|e| {
            ApiError::invalid("credentials.profile", format!("credentials.profile: {e}"))
        })?,
        _ => Profile::default(),
    };
    profile
        .validate()
        .map_err(|e| ApiError::invalid("credentials.profile", format!("credentials.{e}")))?;
    Ok(profile)
}

/// Opens an account on the built-in sandbox for a new sandbox provider and adds its
/// generated credentials to `creds`.
pub fn open_sandbox_account(state: &AppState, creds: &mut Map<String, Value>) -> ApiResult<()> {
    if creds.get("base_url").is_some() {
        // An external `switchyard sandbox`: the caller brings that account's credentials.
        return Ok(());
    }
    let sandbox = state.sandbox.as_ref().ok_or_else(|| {
        ApiError::invalid(
            "type",
            "the built-in sandbox is turned off on this server (sandbox = false)",
        )
    })?;
    let style: Style = serde_json::from_value(creds.get("style").cloned().unwrap_or_default())
        .map_err(|_| {
            ApiError::invalid(
                "credentials.style",
                format!(
                    "credentials.style must be one of {}",
                    switchyard_providers::sandbox::STYLES.join(", ")
                ),
            )
        })?;
    let profile = sandbox_profile(creds)?;
    let generated = sandbox.create_account(NewAccount {
        style,
        profile,
        webhook_url: None,
    });
    if let Value::Object(fields) = serde_json::to_value(generated).map_err(ApiError::internal)? {
        creds.extend(fields);
    }
    Ok(())
}

/// The adapter of a stored provider.
pub fn adapter_for(state: &AppState, r: &ProviderRecord) -> ApiResult<Adapter> {
    let credentials = credentials(state, r)?;
    let webhook_url = webhook_url(state, &r.id);
    if r.kind == "sandbox"
        && credentials.get("base_url").is_none()
        && let Some(sandbox) = &state.sandbox
    {
        // The sandbox keeps accounts in memory: after a restart, or on another instance,
        // the account comes back from the stored credentials.
        let account: AccountCredentials =
            serde_json::from_value(Value::Object(credentials.clone())).map_err(|e| {
                ApiError::new(StatusCode::CONFLICT, "sandbox_account", e.to_string())
            })?;
        sandbox.ensure_account(
            &account,
            sandbox_profile(&credentials)?,
            Some(webhook_url.clone()),
        );
    }
    let ctx = ProviderContext {
        provider_id: r.id.clone(),
        credentials,
        webhook_url,
        sandbox_url: sandbox_url(state),
        http: state.http.clone(),
    };
    registry::build(&r.kind, &ctx).map_err(|e| match e {
        BuildError::NoAdapter(_) => ApiError::new(
            StatusCode::NOT_IMPLEMENTED,
            "adapter_unavailable",
            format!("{e}; the provider is stored and can be routed to, but not driven yet"),
        ),
        BuildError::UnknownType(_) => ApiError::internal(e),
        BuildError::Config(c) => ApiError::new(StatusCode::CONFLICT, "provider_misconfigured", c.0),
    })
}

/// A provider failure as a 502 that says what the provider said and what may be done.
pub fn provider_error(e: ProviderError) -> ApiError {
    let status = if e.code.as_deref() == Some("unsupported") {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::BAD_GATEWAY
    };
    ApiError::new(status, "provider_error", e.message.clone()).with_details(json!({
        "provider": e.provider,
        "class": e.class,
        "delivery": e.delivery,
        "http_status": e.status,
        "provider_code": e.code,
    }))
}
