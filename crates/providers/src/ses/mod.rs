//! Amazon SES v2 SendEmail with SigV4, SNS notifications.

use crate::catalog::{CredentialField, ProviderType};
use switchyard_core::Capability::*;

const CREDENTIALS: &[CredentialField] = &[
    CredentialField::id("access_key_id", "Access key id"),
    CredentialField::secret("secret_access_key", "Secret access key"),
    CredentialField::id("region", "Region (us-east-1)"),
    CredentialField::optional("configuration_set", "Configuration set"),
    CredentialField::optional("base_url", "API base URL (for the sandbox)"),
];

/// The Amazon SES provider type.
pub fn descriptor() -> ProviderType {
    ProviderType::new(
        "ses",
        "Amazon SES",
        &[Email, EmailAttachments, EmailTracking],
        CREDENTIALS,
    )
}
