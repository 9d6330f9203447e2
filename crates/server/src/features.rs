//! Feature toggles as the API enforces them: which requests each area gates, the catalog of
//! keys for this build's provider types, and the check made before a handler runs.

use crate::error::ApiError;
use crate::middleware::Auth;
use crate::state::Shared;
use axum::http::{Method, StatusCode};
use switchyard_core::Capability;
use switchyard_core::features::{self, FeatureSettings};

/// The area a request needs, if any. Reading budgets is never gated (a stopped send names
/// its budget); changing them is.
pub fn area_for(method: &Method, path: &str) -> Option<&'static str> {
    let rest = path.strip_prefix("/v1/")?;
    // The first three segments, without allocating: this runs on every request.
    let mut segments = rest.splitn(4, '/');
    let first = segments.next().unwrap_or_default();
    let (second, third) = (segments.next(), segments.next());
    let reads = matches!(*method, Method::GET | Method::HEAD);
    match (first, second, third) {
        ("calls", None, _) if *method == Method::POST => Some("voice_broadcast"),
        ("messages", None, _) if *method == Method::POST => Some("messaging"),
        ("emails" | "suppressions", ..) => Some("email"),
        ("pools", ..) | ("numbers", Some(_), Some("spam")) => Some("number_rotation"),
        ("analytics" | "recommendations", ..) => Some("cost_analytics"),
        ("event-endpoints" | "event-deliveries" | "webhook-events", ..)
        | ("providers", Some(_), Some("sandbox")) => Some("developer_tools"),
        ("budgets", ..) if !reads => Some("budgets"),
        _ => None,
    }
}

/// Provider type names split into carriers (calls, messages, email) and AI voice platforms
/// (types that host AI agents and carry no messages or email: their calls are the agent's;
/// the sandbox, which imitates every kind, is a carrier). Worked out once: routing asks for
/// every provider at each rebuild.
pub fn provider_kinds() -> (Vec<&'static str>, Vec<&'static str>) {
    KINDS.clone()
}

static KINDS: std::sync::LazyLock<(Vec<&'static str>, Vec<&'static str>)> =
    std::sync::LazyLock::new(|| {
        let mut carriers = Vec::new();
        let mut ai = Vec::new();
        for t in switchyard_providers::registry::all() {
            let carries = [Capability::Sms, Capability::Email]
                .into_iter()
                .any(|c| t.capabilities.contains(c));
            if t.capabilities.contains(Capability::AiVoice) && !carries {
                ai.push(t.name);
            } else {
                carriers.push(t.name);
            }
        }
        (carriers, ai)
    });

/// Every feature key of this build.
pub fn catalog() -> Vec<String> {
    let (carriers, ai) = provider_kinds();
    features::catalog(&carriers, &ai)
}

/// The key that gates a provider type, and whether it is an AI platform.
pub fn provider_feature(kind: &str) -> (String, bool) {
    if KINDS.1.contains(&kind) {
        (features::ai_key(kind), true)
    } else {
        (features::carrier_key(kind), false)
    }
}

/// The organisation's toggle that switches a provider type off, if one does: the type's own
/// key, or `ai_agents` for an AI platform.
pub fn switched_off(org: &FeatureSettings, kind: &str) -> Option<String> {
    let (key, ai) = provider_feature(kind);
    if !org.allows(&key) {
        Some(key)
    } else if ai && !org.allows("ai_agents") {
        Some("ai_agents".to_string())
    } else {
        None
    }
}

/// A 403 naming the switched-off feature.
pub fn disabled(key: &str) -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "feature_disabled",
        format!("the feature {key:?} is switched off for this organisation or user (Settings → Features)"),
    )
    .with_details(serde_json::json!({ "feature": key }))
}

/// Refuses the caller unless `key` is on for it.
pub async fn require(state: &Shared, auth: &Auth, key: &str) -> Result<(), ApiError> {
    let org = state.features(auth.org()).await?;
    if features::enabled(&org, auth.user_features.as_ref(), key) {
        Ok(())
    } else {
        Err(disabled(key))
    }
}

/// Refuses a request to an area that is switched off for the caller.
pub async fn gate(
    state: &Shared,
    auth: &Auth,
    method: &Method,
    path: &str,
) -> Result<(), ApiError> {
    match area_for(method, path) {
        Some(area) => require(state, auth, area).await,
        None => Ok(()),
    }
}

/// Reads a stored settings document; an unreadable one counts as the defaults, with a
/// warning, so a damaged document never locks an organisation out.
pub fn parse_settings(doc: &str) -> FeatureSettings {
    serde_json::from_str(doc).unwrap_or_else(|e| {
        tracing::warn!(error = %e, "unreadable feature settings; using the defaults");
        FeatureSettings::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn areas_gate_their_routes_only() {
        let cases = [
            (Method::POST, "/v1/calls", Some("voice_broadcast")),
            (Method::GET, "/v1/calls", None),
            (Method::POST, "/v1/calls/abc/hangup", None),
            (Method::POST, "/v1/messages", Some("messaging")),
            (Method::GET, "/v1/emails/x", Some("email")),
            (Method::GET, "/v1/emailsx", None),
            (Method::DELETE, "/v1/pools/p1", Some("number_rotation")),
            (Method::GET, "/v1/analytics/spend", Some("cost_analytics")),
            (
                Method::POST,
                "/v1/recommendations/apply",
                Some("cost_analytics"),
            ),
            (Method::POST, "/v1/event-endpoints", Some("developer_tools")),
            (Method::GET, "/v1/webhook-events", Some("developer_tools")),
            (
                Method::PUT,
                "/v1/providers/p1/sandbox/faults",
                Some("developer_tools"),
            ),
            (Method::GET, "/v1/suppressions", Some("email")),
            (Method::POST, "/v1/numbers/n1/spam", Some("number_rotation")),
            (Method::PUT, "/v1/budgets/time-zone", Some("budgets")),
            (Method::POST, "/v1/budgets", Some("budgets")),
            (Method::PATCH, "/v1/budgets/b1", Some("budgets")),
            (Method::GET, "/v1/budgets", None),
            (Method::GET, "/v1/features", None),
            (Method::POST, "/v1/providers", None),
        ];
        for (m, path, want) in cases {
            assert_eq!(area_for(&m, path), want, "{m} {path}");
        }
    }

    #[test]
    fn provider_types_are_switched_off_by_their_key_or_by_ai_agents() {
        let mut org = FeatureSettings::default();
        assert_eq!(switched_off(&org, "twilio"), None);
        org.toggles.insert("ai_agents".into(), false);
        org.toggles.insert("carrier.telnyx".into(), false);
        assert_eq!(switched_off(&org, "twilio"), None);
        assert_eq!(
            switched_off(&org, "telnyx").as_deref(),
            Some("carrier.telnyx")
        );
        assert_eq!(switched_off(&org, "vapi").as_deref(), Some("ai_agents"));
        org.toggles.insert("ai.vapi".into(), false);
        assert_eq!(switched_off(&org, "vapi").as_deref(), Some("ai.vapi"));
    }

    #[test]
    fn the_catalog_splits_carriers_from_ai_platforms() {
        let cat = catalog();
        assert!(cat.contains(&"carrier.twilio".to_string()));
        assert!(cat.contains(&"carrier.sandbox".to_string()));
        assert!(cat.contains(&"ai.retell".to_string()));
        assert!(!cat.contains(&"carrier.retell".to_string()));
        assert_eq!(provider_feature("vapi"), ("ai.vapi".to_string(), true));
        assert_eq!(
            provider_feature("telnyx"),
            ("carrier.telnyx".to_string(), false)
        );
    }
}
