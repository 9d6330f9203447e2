//! The organisation's routing policy: default strategy, thresholds and rules that apply to
//! every decision unless a request or a provider overrides them.

use crate::money::Currency;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// How eligible providers are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// Cheapest expected cost first.
    LeastCost,
    /// The user's priority order (lower number first).
    Priority,
    /// Best recent quality (ASR, ACD, PDD or delivery ratio) first.
    Quality,
    /// A weighted score of normalised quality and cost.
    Balanced,
    /// Traffic split by the providers' weights, drawn per request from its seed.
    Weighted,
    /// Least loaded relative to its concurrency limit first.
    LoadBalanced,
}

impl Strategy {
    /// Every strategy.
    pub const ALL: [Strategy; 6] = [
        Strategy::LeastCost,
        Strategy::Priority,
        Strategy::Quality,
        Strategy::Balanced,
        Strategy::Weighted,
        Strategy::LoadBalanced,
    ];

    /// The name used in APIs and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::LeastCost => "least_cost",
            Strategy::Priority => "priority",
            Strategy::Quality => "quality",
            Strategy::Balanced => "balanced",
            Strategy::Weighted => "weighted",
            Strategy::LoadBalanced => "load_balanced",
        }
    }
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A strategy name that does not exist.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown strategy {0:?}: expected least_cost, priority, quality, balanced, weighted or load_balanced"
)]
pub struct UnknownStrategy(pub String);

impl FromStr for Strategy {
    type Err = UnknownStrategy;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().replace('-', "_");
        Strategy::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(&wanted))
            .ok_or_else(|| UnknownStrategy(s.to_string()))
    }
}

/// How valuable the contact is; hot leads get the better carriers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeadPriority {
    /// Prefer providers whose quality score reaches the policy's hot-lead floor.
    Hot,
    /// No preference.
    Warm,
    /// No preference.
    Cold,
}

impl FromStr for LeadPriority {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "hot" => Ok(LeadPriority::Hot),
            "warm" => Ok(LeadPriority::Warm),
            "cold" => Ok(LeadPriority::Cold),
            _ => Err(format!(
                "unknown lead priority {s:?}: expected hot, warm or cold"
            )),
        }
    }
}

/// Organisation-wide routing settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RoutingPolicy {
    /// Strategy of requests that name none.
    pub default_strategy: Strategy,
    /// Weight of quality in `balanced` (cost gets the rest), 0–1.
    pub quality_weight: f64,
    /// Providers with a lower health score are excluded.
    pub health_floor: u8,
    /// Providers with a lower ASR are excluded once `min_samples` calls are known.
    pub min_asr: f64,
    /// Providers with a lower request success ratio are excluded once `min_samples`
    /// requests are known.
    pub min_uptime: f64,
    /// Samples needed before ASR and uptime thresholds apply; quality scores are shrunk
    /// towards neutral below it.
    pub min_samples: u32,
    /// Alternates listed after the primary.
    pub max_alternates: usize,
    /// Quality score (0–1) a provider needs to go first for a hot lead.
    pub hot_quality_floor: f64,
    /// Destinations never routed (premium-rate and fraud ranges), as dial-code prefixes.
    pub blocked_prefixes: Vec<String>,
    /// Currency costs are compared in; decks in other currencies are excluded.
    pub currency: Currency,
    /// Provider whose deck prices the baseline that savings are measured against; without
    /// one, the dearest provider that could have carried the event.
    pub baseline_provider: Option<String>,
}

impl RoutingPolicy {
    /// Checks ranges and prefixes; the error names the field.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        let ratio = |field: &'static str, v: f64| {
            if (0.0..=1.0).contains(&v) {
                Ok(())
            } else {
                Err((field, format!("{field} must be between 0 and 1, got {v}")))
            }
        };
        ratio("quality_weight", self.quality_weight)?;
        ratio("min_asr", self.min_asr)?;
        ratio("min_uptime", self.min_uptime)?;
        ratio("hot_quality_floor", self.hot_quality_floor)?;
        if self.health_floor > 100 {
            return Err((
                "health_floor",
                format!("health_floor must be 0 to 100, got {}", self.health_floor),
            ));
        }
        if self.max_alternates > 20 {
            return Err((
                "max_alternates",
                format!(
                    "max_alternates must be at most 20, got {}",
                    self.max_alternates
                ),
            ));
        }
        if let Some(bad) = self.blocked_prefixes.iter().find(|p| {
            let d = p.strip_prefix('+').unwrap_or(p);
            d.is_empty() || d.len() > 15 || !d.bytes().all(|b| b.is_ascii_digit())
        }) {
            return Err((
                "blocked_prefixes",
                format!("blocked prefix {bad:?} must be 1 to 15 digits"),
            ));
        }
        Ok(())
    }
}

impl Default for RoutingPolicy {
    fn default() -> Self {
        RoutingPolicy {
            default_strategy: Strategy::LeastCost,
            quality_weight: 0.6,
            health_floor: 30,
            min_asr: 0.15,
            min_uptime: 0.98,
            min_samples: 20,
            max_alternates: 4,
            hot_quality_floor: 0.5,
            blocked_prefixes: Vec::new(),
            currency: Currency::USD,
            baseline_provider: None,
        }
    }
}
