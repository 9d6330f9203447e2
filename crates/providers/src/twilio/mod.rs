//! Twilio: Programmable Voice, Messaging and phone numbers (REST 2010-04-01), and its
//! `X-Twilio-Signature` webhooks.

mod client;
mod errors;
mod events;
pub mod signature;
mod twiml;

use crate::adapter::{Adapter, ProviderContext};
use crate::catalog::{CredentialField, ProviderType};
use crate::error::ConfigError;
use crate::http::Auth;
pub use client::{Account, Dialect, TWILIO, Twilio};
use std::sync::Arc;
use switchyard_core::Capability::*;

/// Twilio's API host.
pub const DEFAULT_BASE_URL: &str = "https://api.twilio.com";

const CREDENTIALS: &[CredentialField] = &[
    CredentialField::id("account_sid", "Account SID"),
    CredentialField::secret("auth_token", "Auth token (also verifies webhooks)"),
    CredentialField::optional(
        "api_key_sid",
        "API key SID (used instead of the auth token)",
    ),
    CredentialField::optional("api_key_secret", "API key secret"),
    CredentialField::optional("base_url", "API base URL (for the sandbox)"),
];

/// The Twilio provider type.
pub fn descriptor() -> ProviderType {
    ProviderType::new(
        "twilio",
        "Twilio",
        &[Voice, Sms, Mms, Whatsapp, StirShaken, LocalPresence],
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

/// The client for these credentials against `base` (Twilio itself or a sandbox).
pub fn from_credentials(ctx: &ProviderContext, base: String) -> Result<Twilio, ConfigError> {
    let account_sid = ctx.required("account_sid")?;
    if !(account_sid.starts_with("AC")
        && account_sid.len() == 34
        && account_sid.chars().all(|c| c.is_ascii_alphanumeric()))
    {
        return Err(ConfigError(
            "credentials.account_sid must be AC followed by 32 letters or digits".into(),
        ));
    }
    let auth_token = ctx.required("auth_token")?;
    let rest_auth = match (ctx.optional("api_key_sid"), ctx.optional("api_key_secret")) {
        (Some(user), Some(password)) => Auth::Basic { user, password },
        (None, None) => Auth::Basic {
            user: account_sid.clone(),
            password: auth_token.clone(),
        },
        _ => {
            return Err(ConfigError(
                "credentials.api_key_sid and credentials.api_key_secret go together".into(),
            ));
        }
    };
    let base = crate::adapter::checked_base(&base)?;
    let account = Account {
        base,
        account_sid,
        signing_key: auth_token,
        rest_auth,
    };
    Ok(Twilio::new(
        TWILIO,
        account,
        ctx.webhook_url.clone(),
        ctx.http.clone(),
    ))
}
