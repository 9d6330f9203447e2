//! Plivo: Call, Message and Number APIs, with V3 (and, for messaging, V2) signed callbacks.

mod client;
mod events;
pub mod signature;
#[cfg(test)]
mod tests;
mod xml;

use crate::adapter::{Adapter, ProviderContext};
use crate::catalog::{CredentialField, ProviderType};
use crate::error::ConfigError;
pub use client::Plivo;
use std::sync::Arc;
use switchyard_core::Capability::*;

/// Plivo's API host.
pub const DEFAULT_BASE_URL: &str = "https://api.plivo.com";

const CREDENTIALS: &[CredentialField] = &[
    CredentialField::id("auth_id", "Auth id"),
    CredentialField::secret("auth_token", "Auth token"),
    CredentialField::optional(
        "app_id",
        "Application for bought and imported numbers (its URLs point at Switchyard)",
    ),
    CredentialField::optional("base_url", "API base URL (for the sandbox)"),
];

/// The Plivo provider type.
pub fn descriptor() -> ProviderType {
    ProviderType::new("plivo", "Plivo", &[Voice, Sms, Mms, Whatsapp], CREDENTIALS)
}

/// Builds the adapter from stored credentials.
pub fn build(ctx: &ProviderContext) -> Result<Adapter, ConfigError> {
    let base = ctx
        .optional("base_url")
        .unwrap_or_else(|| DEFAULT_BASE_URL.to_string());
    Ok(Adapter::carrier(Arc::new(from_credentials(ctx, base)?)))
}

/// The client for these credentials against `base` (Plivo itself or a sandbox).
pub fn from_credentials(ctx: &ProviderContext, base: String) -> Result<Plivo, ConfigError> {
    let base = crate::adapter::checked_base(&base)?;
    let auth_id = ctx.required("auth_id")?;
    if auth_id.len() != 20
        || !(auth_id.starts_with("MA") || auth_id.starts_with("SA"))
        || !auth_id.chars().all(|c| c.is_ascii_alphanumeric())
    {
        return Err(ConfigError(
            "credentials.auth_id must be Plivo's 20-character auth id (MA… or SA…)".into(),
        ));
    }
    Ok(Plivo::new(client::Settings {
        base,
        auth_id,
        auth_token: ctx.required("auth_token")?,
        app_id: ctx.optional("app_id"),
        webhook_url: ctx.webhook_url.clone(),
        http: ctx.http.clone(),
    }))
}
