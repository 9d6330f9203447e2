//! The built-in sandbox carrier: speaks the providers APIs locally, for offline use and tests.

use crate::catalog::{CredentialField, ProviderType};
use switchyard_core::Capability;

const CREDENTIALS: &[CredentialField] = &[CredentialField::optional(
    "profile",
    "Behaviour profile (prices, quality, faults)",
)];

/// The Sandbox provider type.
pub fn descriptor() -> ProviderType {
    ProviderType::new("sandbox", "Sandbox", &Capability::ALL, CREDENTIALS)
}
