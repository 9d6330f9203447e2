//! Every provider type, one line each: its descriptor and, once it has one, its adapter.

use crate::adapter::{Adapter, BuildFn, ProviderContext};
use crate::catalog::ProviderType;
use crate::error::ConfigError;

/// A provider type and how to build it.
struct Entry {
    descriptor: fn() -> ProviderType,
    build: Option<BuildFn>,
}

const ENTRIES: &[Entry] = &[
    Entry {
        descriptor: crate::twilio::descriptor,
        build: Some(crate::twilio::build),
    },
    Entry {
        descriptor: crate::telnyx::descriptor,
        build: Some(crate::telnyx::build),
    },
    Entry {
        descriptor: crate::bandwidth::descriptor,
        build: Some(crate::bandwidth::build),
    },
    Entry {
        descriptor: crate::signalwire::descriptor,
        build: Some(crate::signalwire::build),
    },
    Entry {
        descriptor: crate::vonage::descriptor,
        build: Some(crate::vonage::build),
    },
    Entry {
        descriptor: crate::plivo::descriptor,
        build: Some(crate::plivo::build),
    },
    Entry {
        descriptor: crate::sip::descriptor,
        build: None,
    },
    Entry {
        descriptor: crate::smtp::descriptor,
        build: Some(crate::smtp::build),
    },
    Entry {
        descriptor: crate::sendgrid::descriptor,
        build: Some(crate::sendgrid::build),
    },
    Entry {
        descriptor: crate::mailgun::descriptor,
        build: Some(crate::mailgun::build),
    },
    Entry {
        descriptor: crate::ses::descriptor,
        build: Some(crate::ses::build),
    },
    Entry {
        descriptor: crate::postmark::descriptor,
        build: Some(crate::postmark::build),
    },
    Entry {
        descriptor: crate::retell::descriptor,
        build: None,
    },
    Entry {
        descriptor: crate::bland::descriptor,
        build: None,
    },
    Entry {
        descriptor: crate::vapi::descriptor,
        build: None,
    },
    Entry {
        descriptor: crate::webhook::descriptor,
        build: None,
    },
    Entry {
        descriptor: crate::sandbox::descriptor,
        build: Some(crate::sandbox::build),
    },
];

/// All provider types, in display order.
pub fn all() -> Vec<ProviderType> {
    ENTRIES.iter().map(|e| (e.descriptor)()).collect()
}

/// The type called `name`.
pub fn find(name: &str) -> Option<ProviderType> {
    all().into_iter().find(|t| t.name == name)
}

/// Builds the adapter of a provider of type `kind`.
pub fn build(kind: &str, ctx: &ProviderContext) -> Result<Adapter, BuildError> {
    let entry = ENTRIES
        .iter()
        .find(|e| (e.descriptor)().name == kind)
        .ok_or_else(|| BuildError::UnknownType(kind.to_string()))?;
    let build = entry
        .build
        .ok_or_else(|| BuildError::NoAdapter(kind.to_string()))?;
    build(ctx).map_err(BuildError::Config)
}

/// Why no adapter could be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    /// No such provider type.
    #[error("unknown provider type {0}")]
    UnknownType(String),
    /// The type has no adapter in this version.
    #[error("{0} has no adapter in this version")]
    NoAdapter(String),
    /// The credentials do not make a working configuration.
    #[error(transparent)]
    Config(ConfigError),
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_findable() {
        let types = all();
        assert_eq!(types.len(), 17);
        for t in &types {
            assert_eq!(find(t.name).map(|f| f.name), Some(t.name));
            assert_eq!(types.iter().filter(|o| o.name == t.name).count(), 1);
        }
        assert!(find("fax").is_none());
    }

    #[test]
    fn credentials_are_checked_by_field() {
        let twilio = find("twilio").expect("twilio");
        let mut given = serde_json::Map::new();
        given.insert("account_sid".into(), "AC123".into());
        let err = twilio.check_credentials(&given).expect_err("token missing");
        assert!(err.contains("credentials.auth_token is required"), "{err}");
        given.insert("auth_token".into(), "secret".into());
        assert!(twilio.check_credentials(&given).is_ok());
        given.insert("colour".into(), "blue".into());
        let err = twilio.check_credentials(&given).expect_err("unknown field");
        assert!(
            err.contains("credentials.colour is not a credential"),
            "{err}"
        );
    }
}
