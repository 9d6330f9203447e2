//! SignalWire: its Compatibility API (the Twilio REST 2010-04-01 resources under
//! `https://{space}.signalwire.com/api/laml`), authenticated with the project id and an API
//! token; webhooks signed like Twilio's, with the project's signing key, in
//! `X-SignalWire-Signature` (`X-Twilio-Signature` is accepted as SignalWire's legacy alias).
//! The client is the Twilio one in SignalWire's dialect: same forms, statuses and TwiML
//! (SignalWire's cXML).

#[cfg(test)]
mod tests;

use crate::adapter::{Adapter, ProviderContext};
use crate::catalog::{CredentialField, ProviderType};
use crate::error::ConfigError;
use crate::http::Auth;
use crate::twilio::{Account, Dialect, Twilio};
use std::sync::Arc;
use switchyard_core::Capability::*;

/// SignalWire's Compatibility API.
pub const SIGNALWIRE: Dialect = Dialect {
    name: "signalwire",
    api_path: "/api/laml/2010-04-01",
    signature_headers: &["X-SignalWire-Signature", "X-Twilio-Signature"],
};

const CREDENTIALS: &[CredentialField] = &[
    CredentialField::id("space_url", "Space URL (example.signalwire.com)"),
    CredentialField::id("project_id", "Project id"),
    CredentialField::secret("api_token", "API token"),
    CredentialField::secret(
        "signing_key",
        "Signing key (API credentials page; verifies webhooks)",
    ),
    CredentialField::optional("base_url", "API base URL (for the sandbox)"),
];

/// The SignalWire provider type.
pub fn descriptor() -> ProviderType {
    ProviderType::new(
        "signalwire",
        "SignalWire",
        &[Voice, Sms, Mms, StirShaken, LocalPresence],
        CREDENTIALS,
    )
}

/// Builds the adapter from stored credentials: the space's own host unless `base_url`
/// points elsewhere (the sandbox).
pub fn build(ctx: &ProviderContext) -> Result<Adapter, ConfigError> {
    let base = match ctx.optional("base_url") {
        Some(base) => base,
        None => format!("https://{}", space_host(&ctx.required("space_url")?)?),
    };
    Ok(Adapter::carrier(Arc::new(from_credentials(ctx, base)?)))
}

/// The client for these credentials against `base` (a space or a sandbox).
pub fn from_credentials(ctx: &ProviderContext, base: String) -> Result<Twilio, ConfigError> {
    let project_id = ctx.required("project_id")?;
    if uuid::Uuid::parse_str(&project_id).is_err() {
        return Err(ConfigError(
            "credentials.project_id must be the project's UUID (API credentials page)".into(),
        ));
    }
    let base = crate::adapter::checked_base(&base)?;
    let api_token = ctx.required("api_token")?;
    let signing_key = ctx.required("signing_key")?;
    Ok(client(ctx, &base, project_id, api_token, signing_key))
}

/// The client of one project at `base`, from credentials already read (the sandbox keeps
/// them under its own field names).
pub fn client(
    ctx: &ProviderContext,
    base: &str,
    project_id: String,
    api_token: String,
    signing_key: String,
) -> Twilio {
    let account = Account {
        base: base.trim_end_matches('/').to_string(),
        rest_auth: Auth::Basic {
            user: project_id.clone(),
            password: api_token,
        },
        account_sid: project_id,
        signing_key,
    };
    Twilio::new(
        SIGNALWIRE,
        account,
        ctx.webhook_url.clone(),
        ctx.http.clone(),
    )
}

/// The host of a space URL, given as `example.signalwire.com` or `https://example…/`.
fn space_host(space_url: &str) -> Result<String, ConfigError> {
    let host = space_url
        .trim()
        .trim_start_matches("https://")
        .trim_end_matches('/');
    let valid = !host.is_empty()
        && host.contains('.')
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
    if valid {
        Ok(host.to_ascii_lowercase())
    } else {
        Err(ConfigError(format!(
            "credentials.space_url must be the space's host name, like example.signalwire.com (got {space_url:?})"
        )))
    }
}
