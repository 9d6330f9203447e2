//! Mailgun: the Messages API (multipart form) and its HMAC-SHA256-signed event webhooks.

mod client;
mod events;
pub mod signature;
#[cfg(test)]
mod tests;

use crate::adapter::{Adapter, ProviderContext};
use crate::catalog::{CredentialField, ProviderType};
use crate::error::ConfigError;
pub use client::Mailgun;
use std::sync::Arc;
use switchyard_core::Capability::*;

/// Mailgun's API host for domains in the US region.
pub const US_BASE_URL: &str = "https://api.mailgun.net";
/// Mailgun's API host for domains in the EU region.
pub const EU_BASE_URL: &str = "https://api.eu.mailgun.net";

/// The user variable (`v:`) that carries Switchyard's email id; Mailgun copies user
/// variables into every event of the message as `user-variables`.
pub const EMAIL_ID_VAR: &str = "switchyard_email_id";

/// The largest message Mailgun accepts ("Mailgun supports maximum messages size of 25MB",
/// https://documentation.mailgun.com/en/latest/api-sending.html).
const MAX_MESSAGE_BYTES: u64 = 25_000_000;

const CREDENTIALS: &[CredentialField] = &[
    CredentialField::secret("api_key", "API key"),
    CredentialField::id("domain", "Sending domain"),
    CredentialField {
        secret: true,
        ..CredentialField::optional(
            "webhook_signing_key",
            "HTTP webhook signing key (without it webhooks are refused)",
        )
    },
    CredentialField::optional("region", "Region: us (default) or eu"),
    CredentialField::optional("base_url", "API base URL (for the sandbox)"),
];

/// The Mailgun provider type.
pub fn descriptor() -> ProviderType {
    ProviderType::new(
        "mailgun",
        "Mailgun",
        &[Email, EmailAttachments, EmailTracking],
        CREDENTIALS,
    )
    .with_max_email_bytes(MAX_MESSAGE_BYTES)
}

/// Builds the adapter from stored credentials.
pub fn build(ctx: &ProviderContext) -> Result<Adapter, ConfigError> {
    Ok(Adapter::mailer(Arc::new(from_credentials(ctx)?)))
}

/// The API base: `base_url` when given (a sandbox), else the host of the domain's region
/// (a domain lives in one region and is unknown to the other's API).
fn base_url(ctx: &ProviderContext) -> Result<String, ConfigError> {
    let base = match (ctx.optional("base_url"), ctx.optional("region").as_deref()) {
        (Some(base), _) => base,
        (None, None | Some("us")) => US_BASE_URL.to_string(),
        (None, Some("eu")) => EU_BASE_URL.to_string(),
        (None, Some(other)) => {
            return Err(ConfigError(format!(
                "credentials.region must be us or eu, not {other:?}"
            )));
        }
    };
    crate::adapter::checked_base(&base)
}

/// The client for these credentials.
pub fn from_credentials(ctx: &ProviderContext) -> Result<Mailgun, ConfigError> {
    let base = base_url(ctx)?;
    let domain = ctx.required("domain")?;
    // The domain goes into URL paths: letters, digits, dots and hyphens only.
    if !domain
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-'))
    {
        return Err(ConfigError(format!(
            "credentials.domain {domain:?} is not a domain name"
        )));
    }
    Ok(Mailgun::new(client::Settings {
        base,
        domain,
        api_key: ctx.required("api_key")?,
        signing_key: ctx.optional("webhook_signing_key"),
        http: ctx.http.clone(),
    }))
}

/// A Mailgun message id without its angle brackets: the send response says
/// `<20111114174239.25659.5817@samples.mailgun.org>`, events say it bare, and both must
/// name the message the same way.
fn bare_message_id(id: &str) -> String {
    id.trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .to_string()
}
