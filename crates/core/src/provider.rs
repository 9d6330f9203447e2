//! What the router needs to know about a configured provider.

use crate::channel::{Capability, CapabilitySet, Channel};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

/// A configured provider's stable identifier (the registry's id, or a deck file's name).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ProviderId(Arc<str>);

impl ProviderId {
    /// Wraps an id.
    pub fn new(id: impl AsRef<str>) -> Self {
        ProviderId(Arc::from(id.as_ref()))
    }

    /// The id text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ProviderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for ProviderId {
    fn from(s: &str) -> Self {
        ProviderId::new(s)
    }
}

impl From<String> for ProviderId {
    fn from(s: String) -> Self {
        ProviderId::new(s)
    }
}

/// Per-provider overrides of the organisation's quality thresholds; `None` keeps the policy's.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Thresholds {
    /// Lowest health score (0–100) still routed to.
    pub health_floor: Option<u8>,
    /// Lowest answer-seizure ratio (0–1) once enough calls are sampled.
    pub min_asr: Option<f64>,
    /// Lowest request success ratio over the last 24 h (0–1).
    pub min_uptime: Option<f64>,
}

/// The routing-relevant configuration of one provider.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProviderProfile {
    /// Its id.
    pub id: ProviderId,
    /// What it can do.
    pub capabilities: CapabilitySet,
    /// Turned on by the user.
    pub enabled: bool,
    /// Rank for the `priority` strategy: lower goes first.
    pub priority: i32,
    /// Share for the `weighted` strategy (relative to the others' weights).
    pub weight: u32,
    /// Most calls or sessions at once; `None` is unlimited.
    pub max_concurrency: Option<u32>,
    /// Most new requests per second; `None` is unlimited.
    pub max_cps: Option<u32>,
    /// Quality thresholds for this provider.
    pub thresholds: Thresholds,
    /// Largest email it accepts, in bytes as sent (attachments included, after base64);
    /// `None` is no limit known.
    #[serde(default)]
    pub max_email_bytes: Option<u64>,
    /// The organisation's feature toggle that switches this provider's type off, when it
    /// is off: routed around like a disabled provider, with that reason.
    #[serde(default)]
    pub switched_off: Option<String>,
}

impl ProviderProfile {
    /// An enabled provider with every capability, priority 0, weight 1 and no limits.
    pub fn new(id: impl Into<ProviderId>) -> Self {
        ProviderProfile {
            id: id.into(),
            capabilities: CapabilitySet::all(),
            enabled: true,
            priority: 0,
            weight: 1,
            max_concurrency: None,
            max_cps: None,
            thresholds: Thresholds::default(),
            max_email_bytes: None,
            switched_off: None,
        }
    }

    /// A provider that can carry only the given channels (the capability each channel needs).
    pub fn for_channels(id: impl Into<ProviderId>, channels: &[Channel]) -> Self {
        let mut p = ProviderProfile::new(id);
        p.capabilities = channels.iter().map(|c| c.capability()).collect();
        p
    }

    /// Whether the provider has a capability.
    pub fn can(&self, cap: Capability) -> bool {
        self.capabilities.contains(cap)
    }
}
