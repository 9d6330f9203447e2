//! SignalWire: the Twilio-compatible REST API on a space URL.

use crate::catalog::{CredentialField, ProviderType};
use switchyard_core::Capability::*;

const CREDENTIALS: &[CredentialField] = &[
    CredentialField::id("space_url", "Space URL (example.signalwire.com)"),
    CredentialField::id("project_id", "Project id"),
    CredentialField::secret("api_token", "API token"),
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
