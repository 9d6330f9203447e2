//! Postmark: Email API and webhooks.

use crate::catalog::{CredentialField, ProviderType};
use switchyard_core::Capability::*;

const CREDENTIALS: &[CredentialField] = &[
    CredentialField::secret("server_token", "Server token"),
    CredentialField::optional("message_stream", "Message stream"),
    CredentialField::optional("webhook_username", "Webhook basic-auth user"),
    CredentialField::optional("webhook_password", "Webhook basic-auth password"),
    CredentialField::optional("base_url", "API base URL (for the sandbox)"),
];

/// The Postmark provider type.
pub fn descriptor() -> ProviderType {
    ProviderType::new(
        "postmark",
        "Postmark",
        &[Email, EmailAttachments, EmailTracking],
        CREDENTIALS,
    )
}
