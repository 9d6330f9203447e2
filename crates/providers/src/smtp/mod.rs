//! Any SMTP relay (STARTTLS, implicit TLS or, for local relays, plain), through `lettre`
//! with a connection pool. SMTP has no delivery webhooks: a relay's 250 after DATA is the
//! last word Switchyard hears (bounces come back later as mail to the sender).

mod client;
#[cfg(test)]
mod tests;

use crate::adapter::{Adapter, ProviderContext};
use crate::catalog::{CredentialField, ProviderType};
use crate::error::ConfigError;
pub use client::{Smtp, TlsMode};
use std::sync::Arc;
use switchyard_core::Capability::*;

const CREDENTIALS: &[CredentialField] = &[
    CredentialField::id("host", "Host"),
    CredentialField::optional(
        "port",
        "Port (default 587 for STARTTLS, 465 for implicit TLS, 25 without TLS)",
    ),
    CredentialField::optional("username", "Username (AUTH PLAIN or LOGIN)"),
    CredentialField {
        secret: true,
        ..CredentialField::optional("password", "Password")
    },
    CredentialField::optional("tls", "TLS mode: starttls (default), implicit or none"),
    CredentialField::optional(
        "ca_certificate",
        "PEM certificate to trust besides the public roots (a private relay)",
    ),
    CredentialField::optional("pool_size", "Connections kept open (default 8)"),
];

/// The SMTP provider type.
pub fn descriptor() -> ProviderType {
    ProviderType::new("smtp", "SMTP", &[Email, EmailAttachments], CREDENTIALS)
}

/// Builds the adapter from stored credentials.
pub fn build(ctx: &ProviderContext) -> Result<Adapter, ConfigError> {
    let tls = match ctx.optional("tls").as_deref() {
        None | Some("starttls") => TlsMode::StartTls,
        Some("implicit") => TlsMode::Implicit,
        Some("none") => TlsMode::None,
        Some(other) => {
            return Err(ConfigError(format!(
                "credentials.tls must be starttls, implicit or none, not {other:?}"
            )));
        }
    };
    let number = |name: &str| -> Result<Option<u32>, ConfigError> {
        ctx.optional(name)
            .map(|v| {
                v.parse()
                    .map_err(|_| ConfigError(format!("credentials.{name} must be a number")))
            })
            .transpose()
    };
    let port = number("port")?
        .map(|p| {
            u16::try_from(p).map_err(|_| ConfigError("credentials.port must be 1–65535".into()))
        })
        .transpose()?;
    let login = match (ctx.optional("username"), ctx.optional("password")) {
        (Some(user), Some(password)) => Some((user, password)),
        (None, None) => None,
        _ => {
            return Err(ConfigError(
                "credentials.username and credentials.password go together".into(),
            ));
        }
    };
    let settings = client::Settings {
        host: ctx.required("host")?,
        port,
        tls,
        login,
        ca_certificate: ctx.optional("ca_certificate"),
        pool_size: number("pool_size")?.unwrap_or(8).max(1),
    };
    Ok(Adapter::mailer(Arc::new(Smtp::new(settings)?)))
}
