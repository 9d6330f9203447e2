//! Live state of each provider that routing reads on every decision: health (overall and per
//! destination country), quality, current load and whether its budget is spent. Callers
//! (the sending engine) write it; the cells outlive routing snapshots so a deck reload keeps
//! the history.

use crate::health::{Health, HealthConfig, HealthView};
use crate::provider::ProviderId;
use crate::quality::{Observation, Quality, QualityConfig, QualityView};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, RwLock};

/// The live cell of one provider.
#[derive(Debug)]
pub struct ProviderLive {
    health: Health,
    countries: RwLock<HashMap<u16, Arc<Health>>>,
    quality: Quality,
    active: AtomicU32,
    cps: AtomicU32,
    budget_exhausted: AtomicBool,
    health_cfg: HealthConfig,
}

impl ProviderLive {
    /// A fresh cell: full health, no samples, no load.
    pub fn new(health_cfg: HealthConfig, quality_cfg: &QualityConfig) -> Self {
        ProviderLive {
            health: Health::default(),
            countries: RwLock::new(HashMap::new()),
            quality: Quality::new(quality_cfg),
            active: AtomicU32::new(0),
            cps: AtomicU32::new(0),
            budget_exhausted: AtomicBool::new(false),
            health_cfg,
        }
    }

    /// Records an observation. Request outcomes move health (overall and, when the country
    /// is known, towards that country); every observation feeds quality.
    pub fn observe(&self, obs: Observation, country: Option<u16>, now_ms: i64) {
        if let Observation::Request { ok } = obs {
            let cfg = &self.health_cfg;
            let country_cell = country.map(|c| self.country_health_or_insert(c));
            for h in std::iter::once(&self.health).chain(country_cell.as_deref()) {
                if ok {
                    h.record_success(cfg);
                } else {
                    h.record_failure(cfg, now_ms);
                }
            }
        }
        self.quality.record(obs, now_ms);
    }

    fn country_health_or_insert(&self, country: u16) -> Arc<Health> {
        if let Some(h) = self.country_health(country) {
            return h;
        }
        let mut map = match self.countries.write() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        };
        map.entry(country).or_default().clone()
    }

    /// Health towards one country, when anything was recorded for it.
    pub fn country_health(&self, country: u16) -> Option<Arc<Health>> {
        self.countries.read().ok()?.get(&country).cloned()
    }

    /// Overall health.
    pub fn health(&self) -> &Health {
        &self.health
    }

    /// Overall health reading.
    pub fn health_view(&self, now_ms: i64) -> HealthView {
        self.health.view(now_ms)
    }

    /// The breaker configuration this cell uses.
    pub fn health_config(&self) -> &HealthConfig {
        &self.health_cfg
    }

    /// Quality statistics.
    pub fn quality(&self) -> &Quality {
        &self.quality
    }

    /// Last-N quality reading.
    pub fn quality_view(&self) -> QualityView {
        self.quality.view()
    }

    /// Sets the current load: requests in progress and new requests in the current second.
    pub fn set_load(&self, active: u32, cps: u32) {
        self.active.store(active, Ordering::Release);
        self.cps.store(cps, Ordering::Release);
    }

    /// Current load as `(active, cps)`.
    pub fn load(&self) -> (u32, u32) {
        (
            self.active.load(Ordering::Acquire),
            self.cps.load(Ordering::Acquire),
        )
    }

    /// Marks the provider's budget as spent (or no longer spent).
    pub fn set_budget_exhausted(&self, exhausted: bool) {
        self.budget_exhausted.store(exhausted, Ordering::Release);
    }

    /// Whether the provider's budget is spent.
    pub fn budget_exhausted(&self) -> bool {
        self.budget_exhausted.load(Ordering::Acquire)
    }
}

/// Live cells by provider id, shared by every routing snapshot built from it.
#[derive(Debug, Default)]
pub struct LiveRegistry {
    cells: Mutex<HashMap<ProviderId, Arc<ProviderLive>>>,
    health_cfg: HealthConfig,
    quality_cfg: QualityConfig,
}

impl LiveRegistry {
    /// A registry whose new cells use the given configurations.
    pub fn new(health_cfg: HealthConfig, quality_cfg: QualityConfig) -> Self {
        LiveRegistry {
            cells: Mutex::new(HashMap::new()),
            health_cfg,
            quality_cfg,
        }
    }

    /// The cell of a provider, created on first use.
    pub fn cell(&self, id: &ProviderId) -> Arc<ProviderLive> {
        let mut cells = match self.cells.lock() {
            Ok(c) => c,
            Err(poisoned) => poisoned.into_inner(),
        };
        cells
            .entry(id.clone())
            .or_insert_with(|| Arc::new(ProviderLive::new(self.health_cfg, &self.quality_cfg)))
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health::BreakerState;

    #[test]
    fn failures_towards_one_country_open_only_that_country_and_overall_counts() {
        let live = ProviderLive::new(HealthConfig::default(), &QualityConfig::default());
        for i in 0..10 {
            live.observe(Observation::Request { ok: false }, Some(91), i);
        }
        let india = live.country_health(91).expect("recorded");
        assert!(matches!(india.view(11).breaker, BreakerState::Open { .. }));
        assert!(live.country_health(44).is_none());
        assert_eq!(live.health_view(11).score, 50);
    }

    #[test]
    fn registry_hands_out_the_same_cell() {
        let reg = LiveRegistry::default();
        let a = reg.cell(&ProviderId::new("a"));
        a.set_load(3, 1);
        assert_eq!(reg.cell(&ProviderId::new("a")).load(), (3, 1));
    }
}
