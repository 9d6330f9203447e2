//! Every provider type, one line each.

use crate::catalog::ProviderType;

/// All provider types, in display order.
pub fn all() -> Vec<ProviderType> {
    vec![
        crate::twilio::descriptor(),
        crate::telnyx::descriptor(),
        crate::bandwidth::descriptor(),
        crate::signalwire::descriptor(),
        crate::vonage::descriptor(),
        crate::plivo::descriptor(),
        crate::sip::descriptor(),
        crate::smtp::descriptor(),
        crate::sendgrid::descriptor(),
        crate::mailgun::descriptor(),
        crate::ses::descriptor(),
        crate::postmark::descriptor(),
        crate::retell::descriptor(),
        crate::bland::descriptor(),
        crate::vapi::descriptor(),
        crate::webhook::descriptor(),
        crate::sandbox::descriptor(),
    ]
}

/// The type called `name`.
pub fn find(name: &str) -> Option<ProviderType> {
    all().into_iter().find(|t| t.name == name)
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
