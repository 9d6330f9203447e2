//! Bandwidth: Voice API v2, Messaging API v2 and number ordering.

use crate::catalog::{CredentialField, ProviderType};
use switchyard_core::Capability::*;

const CREDENTIALS: &[CredentialField] = &[
    CredentialField::id("account_id", "Account id"),
    CredentialField::id("username", "API username"),
    CredentialField::secret("password", "API password"),
    CredentialField::id("application_id", "Application id"),
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
