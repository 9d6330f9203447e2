//! Postmark: the Email API and its webhooks, which Postmark does not sign (they are
//! checked against basic-auth credentials set in the webhook URL).

mod client;
mod events;
#[cfg(test)]
mod tests;

use crate::adapter::{Adapter, ProviderContext};
use crate::catalog::{CredentialField, ProviderType};
use crate::error::ConfigError;
pub use client::Postmark;
use std::sync::Arc;
use switchyard_core::Capability::*;

/// Postmark's API host.
pub const DEFAULT_BASE_URL: &str = "https://api.postmarkapp.com";

/// The message stream used when none is configured: the server's default transactional
/// stream. Broadcast (marketing) mail must go through a broadcast stream, usually
/// `broadcast`, set as `credentials.message_stream` on a provider of its own.
pub const DEFAULT_MESSAGE_STREAM: &str = "outbound";

/// The metadata key that carries Switchyard's email id; Postmark copies `Metadata` into
/// every webhook of the message.
pub const EMAIL_ID_KEY: &str = "switchyard_email_id";

/// The largest message Postmark accepts, attachments included and measured after base64
/// ("Total message size, including attachments, can be 10 MB",
/// https://postmarkapp.com/support/article/1056-what-are-the-attachment-and-email-size-limits).
const MAX_MESSAGE_BYTES: u64 = 10_000_000;

const CREDENTIALS: &[CredentialField] = &[
    CredentialField::secret("server_token", "Server API token"),
    CredentialField::optional(
        "message_stream",
        "Message stream (default outbound; broadcast mail uses a broadcast stream)",
    ),
    CredentialField::optional(
        "webhook_username",
        "Webhook basic-auth user, as set in the webhook URL (required to accept webhooks)",
    ),
    CredentialField {
        secret: true,
        ..CredentialField::optional("webhook_password", "Webhook basic-auth password")
    },
    CredentialField::optional("base_url", "API base URL (for the sandbox)"),
];

/// The Postmark provider type.
pub fn descriptor() -> ProviderType {
    ProviderType::new(
        "postmark",
        "Postmark",
        &[Email, EmailAttachments, EmailTracking],
        CREDENTIALS,
    )
    .with_max_email_bytes(MAX_MESSAGE_BYTES)
}

/// Builds the adapter from stored credentials.
pub fn build(ctx: &ProviderContext) -> Result<Adapter, ConfigError> {
    Ok(Adapter::mailer(Arc::new(from_credentials(ctx)?)))
}

/// The client for these credentials, against `base_url` when given (a sandbox).
pub fn from_credentials(ctx: &ProviderContext) -> Result<Postmark, ConfigError> {
    let base = ctx
        .optional("base_url")
        .unwrap_or_else(|| DEFAULT_BASE_URL.to_string());
    let base = crate::adapter::checked_base(&base)?;
    let webhook_login = match (
        ctx.optional("webhook_username"),
        ctx.optional("webhook_password"),
    ) {
        (Some(user), Some(password)) => Some((user, password)),
        (None, None) => None,
        _ => {
            return Err(ConfigError(
                "credentials.webhook_username and credentials.webhook_password go together".into(),
            ));
        }
    };
    Ok(Postmark::new(client::Settings {
        base,
        server_token: ctx.required("server_token")?,
        message_stream: ctx
            .optional("message_stream")
            .unwrap_or_else(|| DEFAULT_MESSAGE_STREAM.to_string()),
        webhook_login,
        http: ctx.http.clone(),
    }))
}
