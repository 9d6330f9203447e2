//! Mailgun: Messages API and HMAC-SHA256 webhook signatures.

use crate::catalog::{CredentialField, ProviderType};
use switchyard_core::Capability::*;

const CREDENTIALS: &[CredentialField] = &[
    CredentialField::secret("api_key", "API key"),
    CredentialField::id("domain", "Sending domain"),
    CredentialField::optional("webhook_signing_key", "Webhook signing key"),
    CredentialField::optional("region", "Region (us or eu)"),
    CredentialField::optional("base_url", "API base URL (for the sandbox)"),
];

/// The Mailgun provider type.
pub fn descriptor() -> ProviderType {
    ProviderType::new(
        "mailgun",
        "Mailgun",
        &[Email, EmailAttachments, EmailTracking],
        CREDENTIALS,
    )
}
