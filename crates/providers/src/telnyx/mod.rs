//! Telnyx: Call Control, Messaging and number orders (API v2), and its Ed25519-signed
//! webhooks.

mod client;
mod events;
pub mod signature;

use crate::adapter::{Adapter, ProviderContext};
use crate::catalog::{CredentialField, ProviderType};
use crate::error::ConfigError;
pub use client::Telnyx;
use std::sync::Arc;
use switchyard_core::Capability::*;

/// Telnyx's API host.
pub const DEFAULT_BASE_URL: &str = "https://api.telnyx.com";

const CREDENTIALS: &[CredentialField] = &[
    CredentialField::secret("api_key", "API key"),
    CredentialField::id("connection_id", "Call Control connection id"),
    CredentialField::optional("messaging_profile_id", "Messaging profile id"),
    CredentialField::optional("public_key", "Webhook public key (Ed25519, base64)"),
    CredentialField::optional("base_url", "API base URL (for the sandbox)"),
];

/// The Telnyx provider type. WhatsApp goes through Telnyx's separate WhatsApp Business
/// API with its own templates, which this adapter does not speak, so it is not listed.
pub fn descriptor() -> ProviderType {
    ProviderType::new(
        "telnyx",
        "Telnyx",
        &[Voice, Sms, Mms, StirShaken, LocalPresence],
        CREDENTIALS,
    )
}

/// Builds the adapter from stored credentials.
pub fn build(ctx: &ProviderContext) -> Result<Adapter, ConfigError> {
    let base = ctx
        .optional("base_url")
        .unwrap_or_else(|| DEFAULT_BASE_URL.to_string());
    Ok(Adapter::carrier(Arc::new(from_credentials(ctx, base)?)))
}

/// The client for these credentials against `base` (Telnyx itself or a sandbox).
pub fn from_credentials(ctx: &ProviderContext, base: String) -> Result<Telnyx, ConfigError> {
    let base = crate::adapter::checked_base(&base)?;
    let public_key = match ctx.optional("public_key") {
        Some(text) => Some(
            signature::public_key(&text)
                .map_err(|e| ConfigError(format!("credentials.public_key: {e}")))?,
        ),
        None => None,
    };
    Ok(Telnyx::new(client::Settings {
        base,
        api_key: ctx.required("api_key")?,
        connection_id: ctx.required("connection_id")?,
        messaging_profile_id: ctx.optional("messaging_profile_id"),
        public_key,
        webhook_url: ctx.webhook_url.clone(),
        http: ctx.http.clone(),
    }))
}
