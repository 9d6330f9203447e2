//! Any SMTP relay (STARTTLS or implicit TLS).

use crate::catalog::{CredentialField, ProviderType};
use switchyard_core::Capability::*;

const CREDENTIALS: &[CredentialField] = &[
    CredentialField::id("host", "Host"),
    CredentialField::optional("port", "Port"),
    CredentialField::optional("username", "Username"),
    CredentialField::optional("password", "Password"),
    CredentialField::optional("tls", "TLS mode (starttls, implicit, none)"),
];

/// The SMTP provider type.
pub fn descriptor() -> ProviderType {
    ProviderType::new("smtp", "SMTP", &[Email, EmailAttachments], CREDENTIALS)
}
