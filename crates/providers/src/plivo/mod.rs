//! Plivo: Call, Message and Number APIs with V3 signatures.

use crate::catalog::{CredentialField, ProviderType};
use switchyard_core::Capability::*;

const CREDENTIALS: &[CredentialField] = &[
    CredentialField::id("auth_id", "Auth id"),
    CredentialField::secret("auth_token", "Auth token"),
    CredentialField::optional("base_url", "API base URL (for the sandbox)"),
];

/// The Plivo provider type.
pub fn descriptor() -> ProviderType {
    ProviderType::new("plivo", "Plivo", &[Voice, Sms, Mms, Whatsapp], CREDENTIALS)
}
