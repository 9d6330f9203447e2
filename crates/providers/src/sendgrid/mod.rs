//! SendGrid: v3 Mail Send and the signed event webhook.

mod client;
mod events;
pub mod signature;
#[cfg(test)]
mod tests;

use crate::adapter::{Adapter, ProviderContext};
use crate::catalog::{CredentialField, ProviderType};
use crate::error::ConfigError;
pub use client::SendGrid;
use std::sync::Arc;
use switchyard_core::Capability::*;

/// SendGrid's API host (EU regional subusers use `https://api.eu.sendgrid.com` as
/// `base_url`).
pub const DEFAULT_BASE_URL: &str = "https://api.sendgrid.com";

/// The custom argument that carries Switchyard's email id; SendGrid copies custom
/// arguments into every event of the message.
pub const EMAIL_ID_ARG: &str = "switchyard_email_id";

const CREDENTIALS: &[CredentialField] = &[
    CredentialField::secret("api_key", "API key"),
    CredentialField::optional(
        "webhook_public_key",
        "Event webhook verification key (ECDSA, base64)",
    ),
    CredentialField::optional("base_url", "API base URL (for the sandbox)"),
];

/// Mail Send's limit on a whole message, attachments included ("less than 30MB").
const MAX_EMAIL_BYTES: u64 = 30_000_000;

/// The SendGrid provider type.
pub fn descriptor() -> ProviderType {
    ProviderType::new(
        "sendgrid",
        "SendGrid",
        &[Email, EmailAttachments, EmailTracking],
        CREDENTIALS,
    )
    .with_max_email_bytes(MAX_EMAIL_BYTES)
}

/// Builds the adapter from stored credentials.
pub fn build(ctx: &ProviderContext) -> Result<Adapter, ConfigError> {
    let base = ctx
        .optional("base_url")
        .unwrap_or_else(|| DEFAULT_BASE_URL.to_string());
    Ok(Adapter::mailer(Arc::new(from_credentials(ctx, base)?)))
}

/// The client for these credentials against `base` (SendGrid itself or a sandbox).
pub fn from_credentials(ctx: &ProviderContext, base: String) -> Result<SendGrid, ConfigError> {
    let base = crate::adapter::checked_base(&base)?;
    let public_key = ctx
        .optional("webhook_public_key")
        .map(|text| {
            signature::public_key(&text)
                .map_err(|e| ConfigError(format!("credentials.webhook_public_key: {e}")))
        })
        .transpose()?;
    Ok(SendGrid::new(client::Settings {
        base,
        api_key: ctx.required("api_key")?,
        public_key,
        http: ctx.http.clone(),
    }))
}
