//! What a provider type is: its capabilities and the credentials it needs.

use serde::Serialize;
use switchyard_core::{Capability, CapabilitySet};

/// One credential a provider type needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CredentialField {
    /// Key in the credentials object.
    pub name: &'static str,
    /// Human label.
    pub label: &'static str,
    /// Whether it must be given.
    pub required: bool,
    /// Whether it is a secret (all credential values are masked in responses anyway; this
    /// tells a form to use a password input).
    pub secret: bool,
}

impl CredentialField {
    /// A required secret.
    pub const fn secret(name: &'static str, label: &'static str) -> Self {
        CredentialField {
            name,
            label,
            required: true,
            secret: true,
        }
    }

    /// A required identifier that is not secret.
    pub const fn id(name: &'static str, label: &'static str) -> Self {
        CredentialField {
            name,
            label,
            required: true,
            secret: false,
        }
    }

    /// An optional secret (one of two ways to authenticate, say).
    pub const fn optional_secret(name: &'static str, label: &'static str) -> Self {
        CredentialField {
            name,
            label,
            required: false,
            secret: true,
        }
    }

    /// An optional setting that is not secret.
    pub const fn optional(name: &'static str, label: &'static str) -> Self {
        CredentialField {
            name,
            label,
            required: false,
            secret: false,
        }
    }
}

/// A provider type.
#[derive(Debug, Clone, Serialize)]
pub struct ProviderType {
    /// Its name in the API (`twilio`).
    pub name: &'static str,
    /// Display name.
    pub display_name: &'static str,
    /// What providers of this type can do unless overridden.
    pub capabilities: CapabilitySet,
    /// Credentials it needs.
    pub credentials: &'static [CredentialField],
    /// The largest email the provider documents accepting, in bytes as sent.
    pub max_email_bytes: Option<u64>,
}

impl ProviderType {
    /// Builds a type from a capability list.
    pub fn new(
        name: &'static str,
        display_name: &'static str,
        capabilities: &[Capability],
        credentials: &'static [CredentialField],
    ) -> Self {
        ProviderType {
            name,
            display_name,
            capabilities: capabilities.iter().copied().collect(),
            credentials,
            max_email_bytes: None,
        }
    }

    /// Sets the documented email size limit.
    pub fn with_max_email_bytes(mut self, bytes: u64) -> Self {
        self.max_email_bytes = Some(bytes);
        self
    }

    /// Checks a credentials object: every required field present as a non-empty string, no
    /// unknown field. The error names the field.
    pub fn check_credentials(
        &self,
        given: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<(), String> {
        for field in self.credentials {
            match given.get(field.name) {
                Some(serde_json::Value::String(s)) if !s.trim().is_empty() => {}
                Some(serde_json::Value::String(_)) | None if !field.required => {}
                Some(serde_json::Value::String(_)) | None => {
                    return Err(format!(
                        "credentials.{} is required for {}",
                        field.name, self.name
                    ));
                }
                Some(_) => return Err(format!("credentials.{} must be a string", field.name)),
            }
        }
        if let Some(unknown) = given
            .keys()
            .find(|k| !self.credentials.iter().any(|f| f.name == k.as_str()))
        {
            let known: Vec<&str> = self.credentials.iter().map(|f| f.name).collect();
            return Err(format!(
                "credentials.{unknown} is not a credential of {} (expected {})",
                self.name,
                known.join(", ")
            ));
        }
        Ok(())
    }
}
