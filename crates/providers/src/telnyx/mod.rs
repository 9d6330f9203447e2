//! Telnyx: Call Control and Messaging (API v2).

use crate::catalog::{CredentialField, ProviderType};
use switchyard_core::Capability::*;

const CREDENTIALS: &[CredentialField] = &[
    CredentialField::secret("api_key", "API key"),
    CredentialField::id("connection_id", "Call Control connection id"),
    CredentialField::optional("messaging_profile_id", "Messaging profile id"),
    CredentialField::optional("public_key", "Webhook public key (Ed25519, base64)"),
    CredentialField::optional("base_url", "API base URL (for the sandbox)"),
];

/// The Telnyx provider type.
pub fn descriptor() -> ProviderType {
    ProviderType::new(
        "telnyx",
        "Telnyx",
        &[Voice, Sms, Mms, Whatsapp, StirShaken, LocalPresence],
        CREDENTIALS,
    )
}
