//! A custom HTTP endpoint that receives sends as signed webhooks.

use crate::catalog::{CredentialField, ProviderType};
use switchyard_core::Capability::*;

const CREDENTIALS: &[CredentialField] = &[
    CredentialField::id("url", "Endpoint URL"),
    CredentialField::secret("signing_secret", "Signing secret"),
];

/// The Custom webhook provider type.
pub fn descriptor() -> ProviderType {
    ProviderType::new("webhook", "Custom webhook", &[Sms, Email], CREDENTIALS)
}
