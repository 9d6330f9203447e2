//! Amazon SES: SES API v2 `SendEmail` with raw MIME, signed with AWS Signature Version 4,
//! and the email events SES publishes to an SNS topic, which POSTs them to Switchyard's
//! webhook (SNS message signatures checked against the certificate SNS names).
//!
//! Set-up on the AWS side: a configuration set whose event destination publishes to an
//! SNS topic, an HTTPS subscription of that topic to the provider's `webhook_url` (the
//! adapter confirms it when SNS sends the confirmation), and the set's name in
//! `configuration_set`.

mod client;
mod events;
pub mod sigv4;
mod sns;
#[cfg(test)]
mod tests;

use crate::adapter::{Adapter, ProviderContext};
use crate::catalog::{CredentialField, ProviderType};
use crate::error::ConfigError;
pub use client::{Ses, Settings};
use std::sync::Arc;
use switchyard_core::Capability::*;

/// The region used when none is given.
pub const DEFAULT_REGION: &str = "us-east-1";

/// The message tag that carries Switchyard's email id; SES echoes it in every event's
/// `mail.tags`.
const EMAIL_ID_TAG: &str = "switchyard_email_id";

/// SES API v2 takes messages up to 40 MB, attachments and encoding included
/// (https://docs.aws.amazon.com/ses/latest/dg/quotas.html).
const MAX_EMAIL_BYTES: u64 = 40_000_000;

const CREDENTIALS: &[CredentialField] = &[
    CredentialField::id("access_key_id", "Access key id"),
    CredentialField::secret("secret_access_key", "Secret access key"),
    CredentialField {
        secret: true,
        ..CredentialField::optional("session_token", "Session token (temporary credentials)")
    },
    CredentialField::optional("region", "Region (default us-east-1)"),
    CredentialField::optional(
        "configuration_set",
        "Configuration set whose event destination publishes to the SNS topic",
    ),
    CredentialField::optional(
        "tracking_configuration_set",
        "Configuration set that also publishes opens and clicks, for emails using SES tracking",
    ),
    CredentialField::optional(
        "sns_topic_arn",
        "SNS topic ARN to accept events from (others are refused)",
    ),
    CredentialField::optional("base_url", "API base URL (for tests)"),
];

/// The Amazon SES provider type.
pub fn descriptor() -> ProviderType {
    ProviderType::new(
        "ses",
        "Amazon SES",
        &[Email, EmailAttachments, EmailTracking],
        CREDENTIALS,
    )
    .with_max_email_bytes(MAX_EMAIL_BYTES)
}

/// Builds the adapter from stored credentials.
pub fn build(ctx: &ProviderContext) -> Result<Adapter, ConfigError> {
    Ok(Adapter::mailer(Arc::new(Ses::new(settings(
        ctx,
        sns::Verifier::new(ctx.optional("sns_topic_arn")),
    )?))))
}

/// The settings these credentials describe, verifying SNS messages with `sns`.
fn settings(ctx: &ProviderContext, sns: sns::Verifier) -> Result<Settings, ConfigError> {
    let region = ctx
        .optional("region")
        .unwrap_or_else(|| DEFAULT_REGION.to_string());
    if !region
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Err(ConfigError(format!(
            "credentials.region {region:?} is not an AWS region name"
        )));
    }
    let base = match ctx.optional("base_url") {
        Some(base) => crate::adapter::checked_base(&base)?,
        None => format!("https://email.{region}.amazonaws.com"),
    };
    Ok(Settings {
        base,
        region,
        credentials: sigv4::Credentials {
            access_key_id: ctx.required("access_key_id")?,
            secret_access_key: ctx.required("secret_access_key")?,
            session_token: ctx.optional("session_token"),
        },
        configuration_set: ctx.optional("configuration_set"),
        tracking_configuration_set: ctx.optional("tracking_configuration_set"),
        sns,
        http: ctx.http.clone(),
    })
}
