//! Bandwidth: Voice API v2 (calls with answer and disconnect callbacks, BXML), Messaging API
//! v2, and the Dashboard API for numbers; OAuth 2.0 client credentials; callbacks
//! authenticated with Basic credentials.

mod auth;
mod bxml;
mod client;
mod events;
mod numbers;
#[cfg(test)]
mod tests;

use crate::adapter::{Adapter, ProviderContext};
use crate::catalog::{CredentialField, ProviderType};
use crate::error::ConfigError;
use auth::{ApiCredentials, Authenticator};
pub use client::Bandwidth;
use client::{CallbackCredentials, Hosts};
use std::sync::Arc;
use switchyard_core::Capability::*;

/// Bandwidth's OAuth token endpoint.
pub const TOKEN_URL: &str = "https://api.bandwidth.com/api/v1/oauth2/token";

const CREDENTIALS: &[CredentialField] = &[
    CredentialField::id("account_id", "Account id"),
    CredentialField::optional("client_id", "OAuth client id (API credentials)"),
    CredentialField::optional_secret("client_secret", "OAuth client secret"),
    CredentialField::optional("username", "Legacy API user name (instead of OAuth)"),
    CredentialField::optional_secret("password", "Legacy API user password"),
    CredentialField::optional("voice_application_id", "Voice application id (calls)"),
    CredentialField::optional(
        "messaging_application_id",
        "Messaging application id (messages)",
    ),
    CredentialField::optional("site_id", "Sub-account (site) id numbers are ordered for"),
    CredentialField::optional("peer_id", "Location (SIP peer) id within the site"),
    CredentialField::optional(
        "callback_username",
        "User name Bandwidth sends with callbacks",
    ),
    CredentialField::optional_secret(
        "callback_password",
        "Password Bandwidth sends with callbacks",
    ),
    CredentialField::optional("base_url", "API base URL (for the sandbox)"),
];

/// The Bandwidth provider type.
pub fn descriptor() -> ProviderType {
    ProviderType::new(
        "bandwidth",
        "Bandwidth",
        &[Voice, Sms, Mms, StirShaken, LocalPresence],
        CREDENTIALS,
    )
}

/// Builds the adapter from stored credentials.
pub fn build(ctx: &ProviderContext) -> Result<Adapter, ConfigError> {
    Ok(Adapter::carrier(Arc::new(from_credentials(
        ctx,
        ctx.optional("base_url"),
    )?)))
}

/// The client for these credentials against Bandwidth, or every API under `base` (a
/// sandbox).
pub fn from_credentials(
    ctx: &ProviderContext,
    base: Option<String>,
) -> Result<Bandwidth, ConfigError> {
    let (hosts, token_url) = match &base {
        Some(base) => {
            let base = crate::adapter::checked_base(base)?;
            (Hosts::under(&base), format!("{base}/api/v1/oauth2/token"))
        }
        None => (Hosts::bandwidth(), TOKEN_URL.to_string()),
    };
    let account_id = ctx.required("account_id")?;
    if !account_id.chars().all(|c| c.is_ascii_digit()) {
        return Err(ConfigError(
            "credentials.account_id must be Bandwidth's numeric account id".into(),
        ));
    }
    let api = match (
        ctx.optional("client_id"),
        ctx.optional("client_secret"),
        ctx.optional("username"),
        ctx.optional("password"),
    ) {
        (Some(client_id), Some(client_secret), _, _) => ApiCredentials::OAuth {
            client_id,
            client_secret,
            token_url,
        },
        (None, None, Some(username), Some(password)) => {
            ApiCredentials::Basic { username, password }
        }
        _ => {
            return Err(ConfigError(
                "credentials need client_id and client_secret (OAuth), or username and password (legacy API user)".into(),
            ));
        }
    };
    let callback = match (
        ctx.optional("callback_username"),
        ctx.optional("callback_password"),
    ) {
        (Some(username), Some(password)) => Some(CallbackCredentials { username, password }),
        (None, None) => None,
        _ => {
            return Err(ConfigError(
                "credentials.callback_username and callback_password go together".into(),
            ));
        }
    };
    Ok(Bandwidth::new(client::Settings {
        hosts,
        account_id,
        voice_application_id: ctx.optional("voice_application_id"),
        messaging_application_id: ctx.optional("messaging_application_id"),
        site_id: ctx.optional("site_id"),
        peer_id: ctx.optional("peer_id"),
        auth: Authenticator::new(api, ctx.http.clone()),
        callback,
        webhook_url: ctx.webhook_url.clone(),
        http: ctx.http.clone(),
    }))
}
