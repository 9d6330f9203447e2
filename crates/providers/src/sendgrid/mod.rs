//! SendGrid: v3 Mail Send and the signed event webhook.

use crate::catalog::{CredentialField, ProviderType};
use switchyard_core::Capability::*;

const CREDENTIALS: &[CredentialField] = &[
    CredentialField::secret("api_key", "API key"),
    CredentialField::optional(
        "webhook_public_key",
        "Event webhook verification key (ECDSA, base64)",
    ),
    CredentialField::optional("base_url", "API base URL (for the sandbox)"),
];

/// The SendGrid provider type.
pub fn descriptor() -> ProviderType {
    ProviderType::new(
        "sendgrid",
        "SendGrid",
        &[Email, EmailAttachments, EmailTracking],
        CREDENTIALS,
    )
}
