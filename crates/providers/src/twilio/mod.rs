//! Twilio: Programmable Voice and Messaging (REST 2010-04-01).

use crate::catalog::{CredentialField, ProviderType};
use switchyard_core::Capability::*;

const CREDENTIALS: &[CredentialField] = &[
    CredentialField::id("account_sid", "Account SID"),
    CredentialField::secret("auth_token", "Auth token"),
    CredentialField::optional("api_key_sid", "API key SID (instead of the auth token)"),
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
