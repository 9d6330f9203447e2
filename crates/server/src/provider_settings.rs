//! A provider's routing settings as stored (JSON beside the encrypted credentials) and as
//! the API accepts them.

use serde::{Deserialize, Serialize};
use switchyard_core::provider::Thresholds;
use switchyard_core::{Capability, ProviderProfile};
use switchyard_providers::ProviderType;

/// Settings of one provider.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProviderSettings {
    /// Rank for the `priority` strategy (lower first).
    #[serde(default)]
    pub priority: i32,
    /// Share for the `weighted` strategy.
    #[serde(default = "one")]
    pub weight: u32,
    /// Whether routing may use it.
    #[serde(default = "yes")]
    pub active: bool,
    /// Capabilities replacing the type's defaults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<String>>)]
    pub capabilities: Option<Vec<Capability>>,
    /// Most concurrent calls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_concurrency: Option<u32>,
    /// Most new calls per second.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_cps: Option<u32>,
    /// Quality thresholds overriding the organisation's.
    #[serde(default)]
    pub thresholds: ThresholdSettings,
    /// Spending cap in the organisation's currency (decimal string), enforced by budgets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub budget_cap: Option<rust_decimal::Decimal>,
    /// Largest email it takes, in bytes as sent; replaces the type's documented limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_email_bytes: Option<u64>,
}

/// Quality thresholds of one provider.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ThresholdSettings {
    /// Lowest health score (0–100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_floor: Option<u8>,
    /// Lowest ASR (0–1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_asr: Option<f64>,
    /// Lowest request success ratio (0–1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_uptime: Option<f64>,
}

fn one() -> u32 {
    1
}

fn yes() -> bool {
    true
}

impl Default for ProviderSettings {
    fn default() -> Self {
        ProviderSettings {
            priority: 0,
            weight: 1,
            active: true,
            capabilities: None,
            max_concurrency: None,
            max_cps: None,
            thresholds: ThresholdSettings::default(),
            budget_cap: None,
            max_email_bytes: None,
        }
    }
}

impl ProviderSettings {
    /// Checks ranges; the error names the field.
    pub fn validate(&self) -> Result<(), (String, String)> {
        let ratio = |name: &str, v: Option<f64>| match v {
            Some(x) if !(0.0..=1.0).contains(&x) => Err((
                format!("thresholds.{name}"),
                format!("thresholds.{name} must be between 0 and 1, got {x}"),
            )),
            _ => Ok(()),
        };
        ratio("min_asr", self.thresholds.min_asr)?;
        ratio("min_uptime", self.thresholds.min_uptime)?;
        if let Some(h) = self.thresholds.health_floor
            && h > 100
        {
            return Err((
                "thresholds.health_floor".into(),
                format!("thresholds.health_floor must be 0 to 100, got {h}"),
            ));
        }
        if let Some(cap) = self.budget_cap
            && cap.is_sign_negative()
        {
            return Err(("budget_cap".into(), "budget_cap cannot be negative".into()));
        }
        Ok(())
    }

    /// The routing profile of provider `id` of type `kind`.
    pub fn profile(&self, id: &str, kind: Option<&ProviderType>) -> ProviderProfile {
        let mut p = ProviderProfile::new(id);
        p.capabilities = match (&self.capabilities, kind) {
            (Some(caps), _) => caps.iter().copied().collect(),
            (None, Some(t)) => t.capabilities,
            (None, None) => switchyard_core::CapabilitySet::EMPTY,
        };
        p.enabled = self.active;
        p.priority = self.priority;
        p.weight = self.weight;
        p.max_concurrency = self.max_concurrency;
        p.max_cps = self.max_cps;
        p.max_email_bytes = self
            .max_email_bytes
            .or_else(|| kind.and_then(|t| t.max_email_bytes));
        p.thresholds = Thresholds {
            health_floor: self.thresholds.health_floor,
            min_asr: self.thresholds.min_asr,
            min_uptime: self.thresholds.min_uptime,
        };
        p
    }
}
