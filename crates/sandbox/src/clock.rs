//! Simulated time: starts at the real time and runs `speed` times faster.

use std::time::{Duration, Instant};

/// The sandbox's clock.
#[derive(Debug, Clone)]
pub struct SimClock {
    origin: Instant,
    origin_ms: i64,
    speed: f64,
}

impl SimClock {
    /// A clock starting now; `speed` simulated seconds pass per real second.
    pub fn new(speed: f64) -> Self {
        SimClock {
            origin: Instant::now(),
            origin_ms: chrono::Utc::now().timestamp_millis(),
            speed: if speed.is_finite() && speed > 0.0 {
                speed
            } else {
                1.0
            },
        }
    }

    /// Simulated Unix milliseconds.
    pub fn now_ms(&self) -> i64 {
        self.origin_ms + (self.origin.elapsed().as_secs_f64() * 1000.0 * self.speed) as i64
    }

    /// Waits `sim_ms` simulated milliseconds.
    pub async fn sleep(&self, sim_ms: u64) {
        let real = Duration::from_secs_f64(sim_ms as f64 / 1000.0 / self.speed);
        tokio::time::sleep(real).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn runs_faster_than_real_time() {
        let clock = SimClock::new(1000.0);
        let start = clock.now_ms();
        let real = Instant::now();
        clock.sleep(60_000).await;
        assert!(clock.now_ms() - start >= 60_000);
        assert!(real.elapsed() < Duration::from_secs(5));
        assert_eq!(SimClock::new(-3.0).speed, 1.0);
    }
}
