//! Provider health: a 0–100 score moved by every request outcome, and a circuit breaker
//! that takes a provider out of routing after repeated failures and lets one probe through
//! after a cool-down. All state is atomics so recording never blocks a routing decision.

use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicI64, AtomicU32, Ordering};

/// How health reacts to outcomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthConfig {
    /// Score gained on a success.
    pub success_step: u32,
    /// Score lost on a failure.
    pub failure_step: u32,
    /// Consecutive failures that open the breaker.
    pub disable_after: u32,
    /// How long an open breaker keeps the provider out before a probe, in milliseconds.
    pub cooldown_ms: i64,
    /// How long a claimed probe may stay unanswered before another is allowed.
    pub probe_timeout_ms: i64,
}

impl Default for HealthConfig {
    fn default() -> Self {
        HealthConfig {
            success_step: 2,
            failure_step: 5,
            disable_after: 10,
            cooldown_ms: 30_000,
            probe_timeout_ms: 10_000,
        }
    }
}

/// Where the circuit breaker stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum BreakerState {
    /// Routed to normally.
    Closed,
    /// Auto-disabled until the given unix millisecond.
    Open {
        /// When a probe becomes possible.
        until_ms: i64,
    },
    /// Cool-down over: the next request is a probe whose success closes the breaker.
    HalfOpen,
}

/// Health of one provider (or of one provider towards one country).
#[derive(Debug)]
pub struct Health {
    score: AtomicU32,
    consecutive_failures: AtomicU32,
    /// 0 when closed; otherwise the end of the cool-down.
    open_until_ms: AtomicI64,
    /// When the current probe was handed out (`i64::MIN` when none is out).
    probe_at_ms: AtomicI64,
}

impl Default for Health {
    fn default() -> Self {
        Health {
            score: AtomicU32::new(100),
            consecutive_failures: AtomicU32::new(0),
            open_until_ms: AtomicI64::new(0),
            probe_at_ms: AtomicI64::new(i64::MIN),
        }
    }
}

/// A point-in-time reading of [`Health`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct HealthView {
    /// 0–100.
    pub score: u8,
    /// Failures since the last success.
    pub consecutive_failures: u32,
    /// Breaker state.
    pub breaker: BreakerState,
}

impl Health {
    /// Records an accepted request: score up, failure run reset, breaker closed.
    pub fn record_success(&self, cfg: &HealthConfig) {
        let _ = self
            .score
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |s| {
                Some((s + cfg.success_step).min(100))
            });
        self.consecutive_failures.store(0, Ordering::Release);
        self.open_until_ms.store(0, Ordering::Release);
        self.probe_at_ms.store(i64::MIN, Ordering::Release);
    }

    /// Records a failed request; opens (or re-opens) the breaker once the failure run
    /// reaches the limit.
    pub fn record_failure(&self, cfg: &HealthConfig, now_ms: i64) {
        let _ = self
            .score
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |s| {
                Some(s.saturating_sub(cfg.failure_step))
            });
        let run = self.consecutive_failures.fetch_add(1, Ordering::AcqRel) + 1;
        if run >= cfg.disable_after {
            self.open_until_ms
                .store(now_ms.saturating_add(cfg.cooldown_ms), Ordering::Release);
            self.probe_at_ms.store(i64::MIN, Ordering::Release);
        }
    }

    /// Reads the health at `now_ms`.
    pub fn view(&self, now_ms: i64) -> HealthView {
        let until = self.open_until_ms.load(Ordering::Acquire);
        let breaker = if until == 0 {
            BreakerState::Closed
        } else if now_ms < until {
            BreakerState::Open { until_ms: until }
        } else {
            BreakerState::HalfOpen
        };
        HealthView {
            score: self.score.load(Ordering::Acquire).min(100) as u8,
            consecutive_failures: self.consecutive_failures.load(Ordering::Acquire),
            breaker,
        }
    }

    /// In the half-open state, hands out the single probe; `false` while another probe is
    /// still out (and not yet timed out).
    pub fn try_claim_probe(&self, cfg: &HealthConfig, now_ms: i64) -> bool {
        let current = self.probe_at_ms.load(Ordering::Acquire);
        if current != i64::MIN && now_ms.saturating_sub(current) < cfg.probe_timeout_ms {
            return false;
        }
        self.probe_at_ms
            .compare_exchange(current, now_ms, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn score_moves_and_clamps() {
        let cfg = HealthConfig::default();
        let h = Health::default();
        h.record_success(&cfg);
        assert_eq!(h.view(0).score, 100);
        for _ in 0..3 {
            h.record_failure(&cfg, 0);
        }
        assert_eq!(h.view(0).score, 85);
        h.record_success(&cfg);
        assert_eq!(h.view(0).score, 87);
        for _ in 0..40 {
            h.record_failure(&cfg, 0);
        }
        assert_eq!(h.view(0).score, 0);
    }

    #[test]
    fn breaker_opens_after_ten_failures_then_probes_and_recovers() {
        let cfg = HealthConfig::default();
        let h = Health::default();
        for i in 0..9 {
            h.record_failure(&cfg, i);
        }
        assert_eq!(h.view(9).breaker, BreakerState::Closed);
        h.record_failure(&cfg, 10);
        assert_eq!(h.view(11).breaker, BreakerState::Open { until_ms: 30_010 });
        assert_eq!(h.view(30_010).breaker, BreakerState::HalfOpen);
        assert!(h.try_claim_probe(&cfg, 30_010));
        assert!(!h.try_claim_probe(&cfg, 30_011), "only one probe at a time");
        assert!(h.try_claim_probe(&cfg, 40_011), "a lost probe times out");
        h.record_success(&cfg);
        assert_eq!(h.view(40_012).breaker, BreakerState::Closed);
        assert_eq!(h.view(40_012).consecutive_failures, 0);
    }

    #[test]
    fn a_failed_probe_reopens() {
        let cfg = HealthConfig::default();
        let h = Health::default();
        for i in 0..10 {
            h.record_failure(&cfg, i);
        }
        assert!(h.try_claim_probe(&cfg, 40_000));
        h.record_failure(&cfg, 40_001);
        assert_eq!(
            h.view(40_002).breaker,
            BreakerState::Open { until_ms: 70_001 }
        );
    }
}
