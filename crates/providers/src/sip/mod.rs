//! A SIP trunk reached directly.

use crate::catalog::{CredentialField, ProviderType};
use switchyard_core::Capability::*;

const CREDENTIALS: &[CredentialField] = &[
    CredentialField::id("host", "Host or proxy"),
    CredentialField::optional("username", "Username"),
    CredentialField::optional("password", "Password"),
    CredentialField::optional("transport", "Transport (udp, tcp, tls)"),
];

/// The SIP trunk provider type.
pub fn descriptor() -> ProviderType {
    ProviderType::new("sip", "SIP trunk", &[Voice, StirShaken], CREDENTIALS)
}
