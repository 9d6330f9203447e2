//! Bland AI voice agents.

use crate::catalog::{CredentialField, ProviderType};
use switchyard_core::Capability::*;

const CREDENTIALS: &[CredentialField] = &[
    CredentialField::secret("api_key", "API key"),
    CredentialField::optional("base_url", "API base URL (for the sandbox)"),
];

/// The Bland AI provider type.
pub fn descriptor() -> ProviderType {
    ProviderType::new("bland", "Bland AI", &[Voice, AiVoice], CREDENTIALS)
}
