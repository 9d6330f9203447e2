//! Feature toggles: which parts of the product an organisation, and each of its users, has
//! switched on. Teams that only broadcast should not see (or be able to use) dialers, AI
//! agents or developer tools; the API and the dashboard both ask this module.
//!
//! A feature is a key: one of the [`AREAS`], or `carrier.<type>` / `ai.<type>` for each
//! provider type. A key nobody set is on, so an organisation that never opened the settings
//! keeps everything it had. The organisation's choice bounds its users': a user may switch
//! a feature off for themself, never on against the organisation.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A product area that can be switched off as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Area {
    /// Its key.
    pub key: &'static str,
    /// What it is called on screen.
    pub label: &'static str,
    /// What switching it off stops.
    pub description: &'static str,
}

/// Every area, in the order the settings page shows them.
pub const AREAS: [Area; 11] = [
    Area {
        key: "voice_broadcast",
        label: "Voice broadcast",
        description: "Outbound calls (POST /v1/calls)",
    },
    Area {
        key: "messaging",
        label: "Messaging",
        description: "SMS, MMS and WhatsApp sends (POST /v1/messages)",
    },
    Area {
        key: "email",
        label: "Email",
        description: "Email sends and suppression lists (/v1/emails, /v1/suppressions)",
    },
    Area {
        key: "predictive_dialing",
        label: "Predictive dialing",
        description: "Pacing several lines per agent",
    },
    Area {
        key: "number_rotation",
        label: "Number rotation",
        description: "Caller-ID pools, rotation and spam flags (/v1/pools)",
    },
    Area {
        key: "ai_agents",
        label: "AI agents",
        description: "AI voice agents and adding AI providers",
    },
    Area {
        key: "whisper_coach",
        label: "Whisper coach",
        description: "Live coaching whispered to agents",
    },
    Area {
        key: "follow_ups",
        label: "Follow-ups",
        description: "Follow-up sequences after calls and messages",
    },
    Area {
        key: "cost_analytics",
        label: "Cost analytics",
        description: "Spend, carrier and savings reports, recommendations, ROI",
    },
    Area {
        key: "developer_tools",
        label: "Developer tools",
        description: "Event webhooks to your endpoints, the provider webhook log, sandbox faults",
    },
    Area {
        key: "budgets",
        label: "Budgets",
        description: "Editing budgets (sends are held to existing budgets either way)",
    },
];

/// The key of a carrier type's toggle.
pub fn carrier_key(provider_type: &str) -> String {
    format!("carrier.{provider_type}")
}

/// The key of an AI provider type's toggle.
pub fn ai_key(provider_type: &str) -> String {
    format!("ai.{provider_type}")
}

/// On/off per key; a key that is absent is on.
pub type Toggles = BTreeMap<String, bool>;

/// What an organisation (or a user) chose.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeatureSettings {
    /// Features switched on or off; absent keys are on.
    #[serde(default)]
    pub toggles: Toggles,
    /// Hide advanced settings in the dashboard.
    #[serde(default)]
    pub simple_mode: bool,
    /// The preset last applied, if the toggles still are what it set.
    #[serde(default)]
    pub preset: Option<String>,
    /// The organisation's own presets by name (unused on a user).
    #[serde(default)]
    pub presets: BTreeMap<String, Toggles>,
}

impl FeatureSettings {
    /// Whether these settings leave `key` on.
    pub fn allows(&self, key: &str) -> bool {
        self.toggles.get(key).copied().unwrap_or(true)
    }
}

/// Whether `key` is on for a caller: on for the organisation, and not switched off by the
/// user (when the caller is a user).
pub fn enabled(org: &FeatureSettings, user: Option<&FeatureSettings>, key: &str) -> bool {
    org.allows(key) && user.is_none_or(|u| u.allows(key))
}

/// The built-in presets, by name.
pub const BUILT_IN_PRESETS: [&str; 3] = [
    "Simple broadcast only",
    "AI-powered pro",
    "Max scale multi-carrier",
];

/// The feature keys that exist, given the provider types (`carriers` for calls, messages and
/// email; `ai` for AI voice platforms).
pub fn catalog(carriers: &[&str], ai: &[&str]) -> Vec<String> {
    AREAS
        .iter()
        .map(|a| a.key.to_string())
        .chain(carriers.iter().map(|c| carrier_key(c)))
        .chain(ai.iter().map(|a| ai_key(a)))
        .collect()
}

/// The toggles a built-in preset sets over every key of the catalog, with whether it turns
/// on simple mode; `None` for a name that is not built in.
pub fn built_in_preset(name: &str, carriers: &[&str], ai: &[&str]) -> Option<(Toggles, bool)> {
    let (on_areas, carriers_on, ai_on, simple): (&[&str], bool, bool, bool) = match name {
        "Simple broadcast only" => (
            &["voice_broadcast", "messaging", "budgets"],
            true,
            false,
            true,
        ),
        "AI-powered pro" => (
            &[
                "voice_broadcast",
                "messaging",
                "email",
                "number_rotation",
                "ai_agents",
                "whisper_coach",
                "follow_ups",
                "cost_analytics",
                "budgets",
            ],
            true,
            true,
            false,
        ),
        "Max scale multi-carrier" => (
            &[
                "voice_broadcast",
                "messaging",
                "email",
                "predictive_dialing",
                "number_rotation",
                "cost_analytics",
                "developer_tools",
                "budgets",
            ],
            true,
            false,
            false,
        ),
        _ => return None,
    };
    let mut toggles: Toggles = AREAS
        .iter()
        .map(|a| (a.key.to_string(), on_areas.contains(&a.key)))
        .collect();
    toggles.extend(carriers.iter().map(|c| (carrier_key(c), carriers_on)));
    toggles.extend(ai.iter().map(|a| (ai_key(a), ai_on)));
    Some((toggles, simple))
}

/// Why a set of toggles cannot be saved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ToggleError {
    /// A key the catalog does not have.
    #[error("unknown feature {0:?}")]
    Unknown(String),
}

/// Checks every key against the catalog.
pub fn check_toggles(toggles: &Toggles, catalog: &[String]) -> Result<(), ToggleError> {
    match toggles.keys().find(|k| !catalog.contains(k)) {
        Some(k) => Err(ToggleError::Unknown(k.clone())),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const CARRIERS: [&str; 2] = ["twilio", "telnyx"];
    const AI: [&str; 2] = ["retell", "vapi"];

    fn settings(pairs: &[(&str, bool)]) -> FeatureSettings {
        FeatureSettings {
            toggles: pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
            ..FeatureSettings::default()
        }
    }

    #[test]
    fn unset_features_are_on() {
        let org = FeatureSettings::default();
        assert!(enabled(&org, None, "messaging"));
        assert!(enabled(
            &org,
            Some(&FeatureSettings::default()),
            "ai.retell"
        ));
    }

    #[test]
    fn a_user_cannot_switch_on_what_the_org_switched_off() {
        let org = settings(&[("ai_agents", false)]);
        let user = settings(&[("ai_agents", true), ("messaging", false)]);
        assert!(!enabled(&org, Some(&user), "ai_agents"));
        assert!(!enabled(&org, Some(&user), "messaging"));
        assert!(enabled(&org, None, "messaging"));
        assert!(enabled(&org, Some(&user), "email"));
    }

    #[test]
    fn simple_broadcast_keeps_calls_and_sms_only() {
        let (t, simple) =
            built_in_preset("Simple broadcast only", &CARRIERS, &AI).expect("built in");
        assert!(simple);
        let on: Vec<&str> = t
            .iter()
            .filter(|(_, v)| **v)
            .map(|(k, _)| k.as_str())
            .collect();
        assert_eq!(
            on,
            vec![
                "budgets",
                "carrier.telnyx",
                "carrier.twilio",
                "messaging",
                "voice_broadcast"
            ]
        );
    }

    #[test]
    fn ai_pro_turns_ai_providers_on_and_max_scale_turns_them_off() {
        let (pro, _) = built_in_preset("AI-powered pro", &CARRIERS, &AI).expect("built in");
        let (scale, _) =
            built_in_preset("Max scale multi-carrier", &CARRIERS, &AI).expect("built in");
        assert_eq!(pro.get("ai.vapi"), Some(&true));
        assert_eq!(pro.get("predictive_dialing"), Some(&false));
        assert_eq!(scale.get("ai.vapi"), Some(&false));
        assert_eq!(scale.get("predictive_dialing"), Some(&true));
        assert!(built_in_preset("Custom", &CARRIERS, &AI).is_none());
    }

    #[test]
    fn unknown_keys_are_refused_by_name() {
        let cat = catalog(&CARRIERS, &AI);
        assert!(check_toggles(&settings(&[("carrier.twilio", false)]).toggles, &cat).is_ok());
        assert_eq!(
            check_toggles(&settings(&[("carrier.acme", false)]).toggles, &cat),
            Err(ToggleError::Unknown("carrier.acme".into()))
        );
    }

    #[test]
    fn settings_round_trip_and_refuse_stray_fields() {
        let s = FeatureSettings {
            simple_mode: true,
            preset: Some("AI-powered pro".into()),
            ..settings(&[("email", false)])
        };
        let text = serde_json::to_string(&s).expect("serialises");
        assert_eq!(
            serde_json::from_str::<FeatureSettings>(&text).expect("parses"),
            s
        );
        assert_eq!(
            serde_json::from_str::<FeatureSettings>("{}").expect("parses"),
            FeatureSettings::default()
        );
        assert!(serde_json::from_str::<FeatureSettings>(r#"{"toggle":{}}"#).is_err());
    }

    proptest! {
        /// Every built-in preset decides every key of the catalog, and nothing else.
        #[test]
        fn presets_cover_the_catalog(i in 0usize..3) {
            let cat = catalog(&CARRIERS, &AI);
            let (t, _) = built_in_preset(BUILT_IN_PRESETS[i], &CARRIERS, &AI).expect("built in");
            let mut keys: Vec<String> = t.keys().cloned().collect();
            let mut want = cat.clone();
            keys.sort();
            want.sort();
            prop_assert_eq!(keys, want);
        }

        /// The effective answer is the AND of the two levels, absent meaning on.
        #[test]
        fn effective_is_the_and_of_both_levels(o in proptest::option::of(any::<bool>()), u in proptest::option::of(any::<bool>())) {
            let mut org = FeatureSettings::default();
            let mut user = FeatureSettings::default();
            if let Some(v) = o { org.toggles.insert("email".into(), v); }
            if let Some(v) = u { user.toggles.insert("email".into(), v); }
            prop_assert_eq!(enabled(&org, Some(&user), "email"), o.unwrap_or(true) && u.unwrap_or(true));
        }
    }
}
