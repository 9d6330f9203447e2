//! Slows password guessing: after [`MAX_FAILURES`] wrong passwords for one address within
//! [`WINDOW`], that address cannot sign in until the window has passed. Counted per
//! instance, in memory (a restart forgets); Argon2id makes each guess slow besides.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Wrong passwords allowed per address and window.
pub const MAX_FAILURES: u32 = 5;

/// How long failures are remembered, and how long a locked address waits.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);

/// Failed sign-ins per address: how many, since when.
#[derive(Debug, Default)]
pub struct SignInThrottle {
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

impl SignInThrottle {
    /// `Err(wait)` while the address is locked.
    pub fn check(&self, address: &str) -> Result<(), Duration> {
        self.check_at(address, Instant::now())
    }

    fn check_at(&self, address: &str, now: Instant) -> Result<(), Duration> {
        let Ok(map) = self.failures.lock() else {
            return Ok(());
        };
        match map.get(address) {
            Some((n, since)) if *n >= MAX_FAILURES && now.duration_since(*since) < WINDOW => {
                Err(WINDOW - now.duration_since(*since))
            }
            _ => Ok(()),
        }
    }

    /// Counts a wrong password for the address.
    pub fn failed(&self, address: &str) {
        self.failed_at(address, Instant::now());
    }

    fn failed_at(&self, address: &str, now: Instant) {
        if let Ok(mut map) = self.failures.lock() {
            if map.len() > 100_000 {
                map.retain(|_, (_, since)| now.duration_since(*since) < WINDOW);
            }
            let entry = map.entry(address.to_string()).or_insert((0, now));
            if now.duration_since(entry.1) >= WINDOW {
                *entry = (0, now);
            }
            entry.0 += 1;
        }
    }

    /// Forgets the address's failures (a right password).
    pub fn succeeded(&self, address: &str) {
        if let Ok(mut map) = self.failures.lock() {
            map.remove(address);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_failures_lock_the_address_for_the_window() {
        let t = SignInThrottle::default();
        let start = Instant::now();
        for i in 0..MAX_FAILURES {
            assert!(t.check_at("a@x.test", start).is_ok(), "failure {i}");
            t.failed_at("a@x.test", start);
        }
        let wait = t.check_at("a@x.test", start + Duration::from_secs(60));
        assert_eq!(wait, Err(WINDOW - Duration::from_secs(60)));
        assert!(
            t.check_at("b@x.test", start).is_ok(),
            "other addresses are not locked"
        );
        assert!(
            t.check_at("a@x.test", start + WINDOW).is_ok(),
            "the lock ends"
        );
    }

    #[test]
    fn a_right_password_or_a_quiet_window_clears_the_count() {
        let t = SignInThrottle::default();
        let start = Instant::now();
        for _ in 0..MAX_FAILURES - 1 {
            t.failed_at("a@x.test", start);
        }
        t.succeeded("a@x.test");
        t.failed_at("a@x.test", start);
        assert!(t.check_at("a@x.test", start).is_ok());
        for _ in 0..MAX_FAILURES - 1 {
            t.failed_at("a@x.test", start + WINDOW);
        }
        assert!(
            t.check_at("a@x.test", start + WINDOW).is_ok(),
            "old failures expired"
        );
    }
}
