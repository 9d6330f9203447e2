//! How a sandbox carrier behaves: answer rates, ring and talk times, delivery, limits and
//! prices (its profile), and what is going wrong with it (its faults).

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How long answered calls last.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum DurationModel {
    /// Always this long.
    Fixed {
        /// Seconds.
        secs: u32,
    },
    /// Evenly between two lengths.
    Uniform {
        /// Shortest, seconds.
        min_secs: u32,
        /// Longest, seconds.
        max_secs: u32,
    },
    /// Exponential with this mean, capped (most calls short, a few long).
    Exponential {
        /// Mean seconds.
        mean_secs: u32,
        /// Cap, seconds.
        max_secs: u32,
    },
}

impl DurationModel {
    /// Seconds for a uniform draw `u` in [0, 1).
    pub fn draw(&self, u: f64) -> u32 {
        match *self {
            DurationModel::Fixed { secs } => secs,
            DurationModel::Uniform { min_secs, max_secs } => {
                let (lo, hi) = (min_secs.min(max_secs), min_secs.max(max_secs));
                lo + ((hi - lo + 1) as f64 * u) as u32
            }
            DurationModel::Exponential {
                mean_secs,
                max_secs,
            } => {
                let secs = -(1.0 - u).ln() * f64::from(mean_secs);
                (secs.round() as u32).clamp(1, max_secs.max(1))
            }
        }
    }
}

/// A carrier's behaviour.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Profile {
    /// Share of calls answered, unless a country prefix overrides it.
    pub answer_rate: f64,
    /// Answer rate by dialling-code prefix (`"44"`, `"1"`); the longest match wins.
    pub answer_rate_by_prefix: BTreeMap<String, f64>,
    /// Share of unanswered calls that are busy (the rest are no-answer).
    pub busy_share: f64,
    /// Share of calls that fail outright.
    pub failure_rate: f64,
    /// Ring time before answer or give-up, milliseconds.
    pub ring_ms: u64,
    /// Talk time of answered calls.
    pub duration: DurationModel,
    /// Share of messages delivered (the rest are undelivered with 30003 / 40002).
    pub delivery_rate: f64,
    /// Delay before each receipt, milliseconds.
    pub receipt_delay_ms: u64,
    /// Requests per second before answering 429; 0 means unlimited.
    pub requests_per_second: u32,
    /// Price per started minute of voice.
    pub voice_per_minute: Decimal,
    /// Price per SMS segment.
    pub sms_price: Decimal,
    /// Numbers the account owns from the start.
    pub owned_numbers: u32,
    /// How emails fare (SendGrid-style accounts).
    pub email: EmailProfile,
}

/// How a sandbox email provider's recipients fare. Each recipient is `processed`, maybe
/// `deferred` once, then hard-bounced, blocked or delivered (the rest: 97 % by default);
/// delivered ones may open, click and report spam. Opens and clicks are reported only when
/// the email asked for the provider's open and click tracking, as a real provider would.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EmailProfile {
    /// Share of recipients whose server refuses the email for good (`bounce`).
    pub hard_bounce_rate: f64,
    /// Share of recipients whose server refuses it for now (`bounce` of type `blocked`).
    pub blocked_rate: f64,
    /// Share of recipients deferred once before the outcome.
    pub deferred_rate: f64,
    /// Share of delivered recipients who report it as spam.
    pub spam_report_rate: f64,
    /// Share of delivered recipients who open it.
    pub open_rate: f64,
    /// Share of delivered recipients who click a link.
    pub click_rate: f64,
}

impl Default for EmailProfile {
    fn default() -> Self {
        EmailProfile {
            hard_bounce_rate: 0.02,
            blocked_rate: 0.01,
            deferred_rate: 0.01,
            spam_report_rate: 0.001,
            open_rate: 0.2,
            click_rate: 0.05,
        }
    }
}

impl Default for Profile {
    fn default() -> Self {
        Profile {
            answer_rate: 0.8,
            answer_rate_by_prefix: BTreeMap::new(),
            busy_share: 0.5,
            failure_rate: 0.02,
            ring_ms: 4_000,
            duration: DurationModel::Exponential {
                mean_secs: 60,
                max_secs: 1_800,
            },
            delivery_rate: 0.97,
            receipt_delay_ms: 1_500,
            requests_per_second: 0,
            voice_per_minute: Decimal::new(130, 4),
            sms_price: Decimal::new(79, 4),
            owned_numbers: 5,
            email: EmailProfile::default(),
        }
    }
}

impl Profile {
    /// The answer rate for an E.164 number.
    pub fn answer_rate_for(&self, e164: &str) -> f64 {
        let digits = e164.trim_start_matches('+');
        self.answer_rate_by_prefix
            .iter()
            .filter(|(prefix, _)| digits.starts_with(prefix.as_str()))
            .max_by_key(|(prefix, _)| prefix.len())
            .map_or(self.answer_rate, |(_, rate)| *rate)
    }

    /// Checks ranges; the error names the field.
    pub fn validate(&self) -> Result<(), String> {
        let shares = [
            ("answer_rate", self.answer_rate),
            ("busy_share", self.busy_share),
            ("failure_rate", self.failure_rate),
            ("delivery_rate", self.delivery_rate),
            ("email.hard_bounce_rate", self.email.hard_bounce_rate),
            ("email.blocked_rate", self.email.blocked_rate),
            ("email.deferred_rate", self.email.deferred_rate),
            ("email.spam_report_rate", self.email.spam_report_rate),
            ("email.open_rate", self.email.open_rate),
            ("email.click_rate", self.email.click_rate),
        ];
        for (name, v) in shares.into_iter().chain(
            self.answer_rate_by_prefix
                .values()
                .map(|v| ("answer_rate_by_prefix", *v)),
        ) {
            if !(0.0..=1.0).contains(&v) {
                return Err(format!("profile.{name} must be between 0 and 1"));
            }
        }
        if self.email.hard_bounce_rate + self.email.blocked_rate > 1.0 {
            return Err(
                "profile.email.hard_bounce_rate and blocked_rate must add up to at most 1".into(),
            );
        }
        if self.owned_numbers > 1000 {
            return Err("profile.owned_numbers must be at most 1000".into());
        }
        Ok(())
    }
}

/// Faults to inject.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Share of requests answered 500 without acting on them.
    pub error_rate: f64,
    /// Share of requests that hang until the client gives up.
    pub timeout_rate: f64,
    /// Extra delay on every request, milliseconds (real time).
    pub slow_ms: u64,
    /// Answer every request 503 for this many simulated seconds from now.
    pub outage_secs: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_follow_their_model() {
        assert_eq!(DurationModel::Fixed { secs: 7 }.draw(0.9), 7);
        let u = DurationModel::Uniform {
            min_secs: 10,
            max_secs: 20,
        };
        assert_eq!(u.draw(0.0), 10);
        assert_eq!(u.draw(0.999), 20);
        let e = DurationModel::Exponential {
            mean_secs: 60,
            max_secs: 300,
        };
        assert_eq!(e.draw(0.0), 1);
        assert_eq!(e.draw(0.999_999), 300);
        let mean: f64 = (0..10_000)
            .map(|i| f64::from(e.draw(i as f64 / 10_000.0)))
            .sum::<f64>()
            / 10_000.0;
        assert!((50.0..65.0).contains(&mean), "{mean}");
    }

    #[test]
    fn longest_prefix_sets_the_answer_rate() {
        let mut p = Profile::default();
        p.answer_rate_by_prefix.insert("4".into(), 0.5);
        p.answer_rate_by_prefix.insert("44".into(), 0.1);
        assert_eq!(p.answer_rate_for("+442071234567"), 0.1);
        assert_eq!(p.answer_rate_for("+4930123"), 0.5);
        assert_eq!(p.answer_rate_for("+15550100"), 0.8);
        p.delivery_rate = 1.5;
        assert!(p.validate().is_err());
        p.delivery_rate = 0.9;
        assert!(p.validate().is_ok());
        p.email.hard_bounce_rate = 0.6;
        p.email.blocked_rate = 0.6;
        assert!(p.validate().is_err(), "more refused than sent");
    }
}
