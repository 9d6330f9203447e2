//! Vonage: Voice API (JWT application auth), SMS and Messages APIs.

use crate::catalog::{CredentialField, ProviderType};
use switchyard_core::Capability::*;

const CREDENTIALS: &[CredentialField] = &[
    CredentialField::id("api_key", "API key"),
    CredentialField::secret("api_secret", "API secret"),
    CredentialField::id("application_id", "Application id"),
    CredentialField::secret("private_key", "Application private key (PEM)"),
    CredentialField::optional("signature_secret", "SMS signature secret"),
    CredentialField::optional(
        "signature_method",
        "SMS signature method (md5hash, md5, sha1, sha256, sha512)",
    ),
    CredentialField::optional("base_url", "API base URL (for the sandbox)"),
];

/// The Vonage provider type.
pub fn descriptor() -> ProviderType {
    ProviderType::new(
        "vonage",
        "Vonage",
        &[Voice, Sms, Mms, Whatsapp],
        CREDENTIALS,
    )
}
