//! Vonage: the Voice API (application JWTs, NCCO), SMS through the SMS API and MMS and
//! WhatsApp through the Messages API, the Numbers and Account APIs; callbacks verified by
//! their `sig` (SMS) or their HS256 JWT (Voice, Messages).

mod client;
mod events;
mod ncco;
pub mod signature;
#[cfg(test)]
mod tests;

use crate::adapter::{Adapter, ProviderContext};
use crate::catalog::{CredentialField, ProviderType};
use crate::error::ConfigError;
pub use client::Vonage;
use client::{Hosts, Settings};
use signature::Method;
use std::sync::Arc;
use switchyard_core::Capability::*;

const CREDENTIALS: &[CredentialField] = &[
    CredentialField::id("api_key", "API key"),
    CredentialField::secret("api_secret", "API secret"),
    CredentialField::optional("application_id", "Application id (calls, MMS, WhatsApp)"),
    CredentialField::optional_secret("private_key", "Application private key (PEM)"),
    CredentialField::optional_secret(
        "signature_secret",
        "Signature secret (signs SMS, verifies every callback)",
    ),
    CredentialField::optional(
        "signature_method",
        "SMS signature method (md5hash, md5, sha1, sha256, sha512)",
    ),
    CredentialField::optional("base_url", "API base URL (for the sandbox)"),
];

/// The Vonage provider type.
pub fn descriptor() -> ProviderType {
    ProviderType::new(
        "vonage",
        "Vonage",
        &[Voice, Sms, Mms, Whatsapp],
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

/// The client for these credentials against Vonage, or both hosts under `base` (`{base}/api`,
/// `{base}/rest`: a sandbox).
pub fn from_credentials(
    ctx: &ProviderContext,
    base: Option<String>,
) -> Result<Vonage, ConfigError> {
    let hosts = match base {
        Some(base) => {
            let base = crate::adapter::checked_base(&base)?;
            Hosts {
                api: format!("{base}/api"),
                rest: format!("{base}/rest"),
            }
        }
        None => Hosts {
            api: "https://api.nexmo.com".into(),
            rest: "https://rest.nexmo.com".into(),
        },
    };
    let private_key = match ctx.optional("private_key") {
        Some(pem) => Some(
            crate::jwt::private_key(&pem)
                .map_err(|e| ConfigError(format!("credentials.private_key: {e}")))?,
        ),
        None => None,
    };
    let signature_method = match ctx.optional("signature_method") {
        Some(name) => Method::parse(&name).ok_or_else(|| {
            ConfigError(format!(
                "credentials.signature_method must be md5hash, md5, sha1, sha256 or sha512, not {name:?}"
            ))
        })?,
        None => Method::Md5Hash,
    };
    Ok(Vonage::new(Settings {
        hosts,
        api_key: ctx.required("api_key")?,
        api_secret: ctx.required("api_secret")?,
        application_id: ctx.optional("application_id"),
        private_key,
        signature_secret: ctx.optional("signature_secret"),
        signature_method,
        webhook_url: ctx.webhook_url.clone(),
        http: ctx.http.clone(),
    }))
}
