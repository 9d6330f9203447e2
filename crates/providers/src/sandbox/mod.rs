//! The built-in sandbox carrier. A sandbox provider is a Twilio-, SignalWire-, Telnyx-,
//! Plivo- or SendGrid-style account on the sandbox that runs inside `switchyard serve` (or
//! `switchyard sandbox`): the real adapter of that style talks to it over HTTP, so
//! everything the adapters do is exercised offline.

use crate::adapter::{Adapter, ProviderContext};
use crate::catalog::{CredentialField, ProviderType};
use crate::error::ConfigError;
use std::sync::Arc;
use switchyard_core::Capability;

/// The API dialects the sandbox speaks.
pub const STYLES: &[&str] = &[
    "twilio",
    "telnyx",
    "signalwire",
    "plivo",
    "bandwidth",
    "vonage",
    "sendgrid",
];

const CREDENTIALS: &[CredentialField] = &[
    CredentialField::id(
        "style",
        "API style: twilio, telnyx, signalwire, plivo, bandwidth, vonage or sendgrid",
    ),
    CredentialField::optional("profile", "Behaviour profile (JSON: answer rates, faults)"),
    CredentialField::optional(
        "account_sid",
        "Generated: Twilio-style account SID (SignalWire style: project id)",
    ),
    CredentialField::optional("auth_id", "Generated: Plivo-style auth id"),
    CredentialField::optional("api_secret", "Generated: Vonage-style API secret"),
    CredentialField::optional("application_id", "Generated: Vonage-style application id"),
    CredentialField::optional("private_key", "Generated: Vonage-style application key"),
    CredentialField::optional(
        "signature_secret",
        "Generated: Vonage-style signature secret",
    ),
    CredentialField::optional(
        "signature_method",
        "Generated: Vonage-style SMS signature method",
    ),
    CredentialField::optional("account_id", "Generated: Bandwidth-style account id"),
    CredentialField::optional("client_id", "Generated: Bandwidth-style OAuth client id"),
    CredentialField::optional(
        "client_secret",
        "Generated: Bandwidth-style OAuth client secret",
    ),
    CredentialField::optional(
        "voice_application_id",
        "Generated: Bandwidth-style voice application id",
    ),
    CredentialField::optional(
        "messaging_application_id",
        "Generated: Bandwidth-style messaging application id",
    ),
    CredentialField::optional("site_id", "Generated: Bandwidth-style site id"),
    CredentialField::optional(
        "callback_username",
        "Generated: Bandwidth-style callback user name",
    ),
    CredentialField::optional(
        "callback_password",
        "Generated: Bandwidth-style callback password",
    ),
    CredentialField::optional(
        "auth_token",
        "Generated: Twilio-style or Plivo-style auth token (SignalWire style: API token)",
    ),
    CredentialField::optional(
        "api_key",
        "Generated: Telnyx-style or SendGrid-style API key",
    ),
    CredentialField::optional("connection_id", "Generated: Telnyx-style connection id"),
    CredentialField::optional("public_key", "Generated: Telnyx-style webhook public key"),
    CredentialField::optional(
        "webhook_public_key",
        "Generated: SendGrid-style event webhook verification key",
    ),
    CredentialField::optional(
        "signing_key",
        "Generated: the sandbox's webhook signing key",
    ),
    CredentialField::optional(
        "base_url",
        "Sandbox URL (default: the one built into serve)",
    ),
];

/// The Sandbox provider type.
pub fn descriptor() -> ProviderType {
    ProviderType::new("sandbox", "Sandbox", &Capability::ALL, CREDENTIALS)
}

/// Builds the adapter of the account's style pointed at the sandbox.
pub fn build(ctx: &ProviderContext) -> Result<Adapter, ConfigError> {
    let base = ctx
        .optional("base_url")
        .or_else(|| ctx.sandbox_url.clone())
        .ok_or_else(|| ConfigError("the built-in sandbox is not running on this server".into()))?;
    let base = base.trim_end_matches('/');
    match ctx.required("style")?.as_str() {
        "twilio" => Ok(Adapter::carrier(Arc::new(crate::twilio::from_credentials(
            ctx,
            format!("{base}/twilio"),
        )?))),
        "telnyx" => Ok(Adapter::carrier(Arc::new(crate::telnyx::from_credentials(
            ctx,
            format!("{base}/telnyx"),
        )?))),
        // The sandbox's generic fields in SignalWire's roles: project id, API token.
        "signalwire" => Ok(Adapter::carrier(Arc::new(crate::signalwire::client(
            ctx,
            &format!("{base}/signalwire"),
            ctx.required("account_sid")?,
            ctx.required("auth_token")?,
            ctx.required("signing_key")?,
        )))),
        "plivo" => Ok(Adapter::carrier(Arc::new(crate::plivo::from_credentials(
            ctx,
            format!("{base}/plivo"),
        )?))),
        "bandwidth" => Ok(Adapter::carrier(Arc::new(
            crate::bandwidth::from_credentials(ctx, Some(format!("{base}/bandwidth")))?,
        ))),
        "vonage" => Ok(Adapter::carrier(Arc::new(crate::vonage::from_credentials(
            ctx,
            Some(format!("{base}/vonage")),
        )?))),
        "sendgrid" => Ok(Adapter::mailer(Arc::new(
            crate::sendgrid::from_credentials(ctx, format!("{base}/sendgrid"))?,
        ))),
        other => Err(ConfigError(format!(
            "credentials.style must be {}, not {other:?}",
            STYLES.join(", ")
        ))),
    }
}
