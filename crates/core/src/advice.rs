//! Recommendations computed from an organisation's own traffic: where moving traffic to a
//! cheaper carrier of equal quality saves money, which carrier's success to a destination
//! fell too low, and how many numbers a pool that caps out needs. Each carries the figures
//! that justify it, so a user can check it before applying it.

use crate::analytics::Counters;
use crate::budget::from_nanos;
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::BTreeMap;

/// One provider's traffic to one destination country on one channel, over the period read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lane {
    /// Provider.
    pub provider_id: String,
    /// Destination country.
    pub country: String,
    /// Channel.
    pub channel: String,
    /// Currency of the cost sums.
    pub currency: String,
    /// Summed counters.
    pub counters: Counters,
}

/// When advice is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholds {
    /// Attempts a lane needs before its rates are trusted.
    pub min_attempts: i64,
    /// A cheaper carrier counts as equally good if its success ratio is at most this much
    /// lower.
    pub tolerance: Decimal,
    /// Success ratio under which a carrier's weight should come down.
    pub low_success: Decimal,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            min_attempts: 30,
            tolerance: Decimal::new(2, 2),
            low_success: Decimal::new(15, 2),
        }
    }
}

/// A recommendation with its justification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Advice {
    /// Move a share of a lane's traffic to a cheaper carrier of equal quality.
    ShiftTraffic {
        /// Destination country.
        country: String,
        /// Channel.
        channel: String,
        /// Currency of the amounts.
        currency: String,
        /// The dearer carrier.
        from: String,
        /// The cheaper one.
        to: String,
        /// Share of `from`'s traffic to move (0–1): as much as `to` has already carried
        /// there, so the move stays within what its record shows it handles.
        #[serde(with = "rust_decimal::serde::str")]
        share: Decimal,
        /// Cost per billed unit (minute of talk, or send) on each.
        #[serde(with = "rust_decimal::serde::str")]
        from_unit_cost: Decimal,
        /// See `from_unit_cost`.
        #[serde(with = "rust_decimal::serde::str")]
        to_unit_cost: Decimal,
        /// `minute` or `send`.
        unit: &'static str,
        /// Success ratios (ASR or delivery ratio).
        #[serde(with = "rust_decimal::serde::str")]
        from_success: Decimal,
        /// See `from_success`.
        #[serde(with = "rust_decimal::serde::str")]
        to_success: Decimal,
        /// Units `from` carried a day.
        #[serde(with = "rust_decimal::serde::str")]
        units_per_day: Decimal,
        /// What moving the share saves a day.
        #[serde(with = "rust_decimal::serde::str")]
        saving_per_day: Decimal,
    },
    /// A carrier's success ratio to a destination is under the floor: lower its weight.
    LowSuccess {
        /// The carrier.
        provider: String,
        /// Destination country.
        country: String,
        /// Channel.
        channel: String,
        /// Its success ratio there.
        #[serde(with = "rust_decimal::serde::str")]
        success: Decimal,
        /// Attempts it is based on.
        attempts: i64,
        /// The floor.
        #[serde(with = "rust_decimal::serde::str")]
        floor: Decimal,
        /// The other carriers' ratio there, when they have enough attempts.
        #[serde(with = "rust_decimal::serde::str_option")]
        others_success: Option<Decimal>,
    },
}

impl Advice {
    /// What acting on it is worth a day (0 for quality advice), for ordering.
    pub fn saving_per_day(&self) -> Decimal {
        match self {
            Advice::ShiftTraffic { saving_per_day, .. } => *saving_per_day,
            Advice::LowSuccess { .. } => Decimal::ZERO,
        }
    }
}

fn success(c: &Counters) -> Decimal {
    if c.attempts == 0 {
        return Decimal::ZERO;
    }
    Decimal::from(c.succeeded) / Decimal::from(c.attempts)
}

/// Billed units of a lane: minutes of talk for calls, sends otherwise.
fn units(channel: &str, c: &Counters) -> Decimal {
    if channel == "voice" {
        Decimal::from(c.duration_secs) / Decimal::from(60)
    } else {
        Decimal::from(c.finals)
    }
}

fn unit_cost(channel: &str, c: &Counters) -> Option<Decimal> {
    let u = units(channel, c);
    (!u.is_zero()).then(|| from_nanos(c.cost_nanos) / u)
}

/// The recommendations `lanes` (summed over `days` days) support, largest saving first.
pub fn recommend(lanes: &[Lane], days: u32, t: &Thresholds) -> Vec<Advice> {
    let days = Decimal::from(days.max(1));
    let mut by_route: BTreeMap<(&str, &str, &str), Vec<&Lane>> = BTreeMap::new();
    for lane in lanes.iter().filter(|l| !l.provider_id.is_empty()) {
        by_route
            .entry((&lane.country, &lane.channel, &lane.currency))
            .or_default()
            .push(lane);
    }
    let mut advice = Vec::new();
    for ((country, channel, currency), route) in by_route {
        let trusted: Vec<&Lane> = route
            .iter()
            .copied()
            .filter(|l| l.counters.attempts >= t.min_attempts)
            .collect();
        for a in &trusted {
            let Some(a_cost) = unit_cost(channel, &a.counters) else {
                continue;
            };
            let a_success = success(&a.counters);
            let best = trusted
                .iter()
                .filter(|b| b.provider_id != a.provider_id)
                .filter(|b| success(&b.counters) >= a_success - t.tolerance)
                .filter_map(|b| Some((*b, unit_cost(channel, &b.counters)?)))
                .filter(|(_, b_cost)| *b_cost < a_cost)
                .min_by(|x, y| x.1.cmp(&y.1));
            if let Some((b, b_cost)) = best {
                let share = (Decimal::from(b.counters.finals)
                    / Decimal::from(a.counters.finals.max(1)))
                .min(Decimal::ONE);
                // Whole tenths, at least one.
                let share = (share * Decimal::TEN).floor().max(Decimal::ONE) / Decimal::TEN;
                let per_day = units(channel, &a.counters) / days;
                advice.push(Advice::ShiftTraffic {
                    country: country.to_owned(),
                    channel: channel.to_owned(),
                    currency: currency.to_owned(),
                    from: a.provider_id.clone(),
                    to: b.provider_id.clone(),
                    share: share.normalize(),
                    from_unit_cost: a_cost.round_dp(6).normalize(),
                    to_unit_cost: b_cost.round_dp(6).normalize(),
                    unit: if channel == "voice" { "minute" } else { "send" },
                    from_success: a_success.round_dp(4).normalize(),
                    to_success: success(&b.counters).round_dp(4).normalize(),
                    units_per_day: per_day.round_dp(2).normalize(),
                    saving_per_day: (per_day * share * (a_cost - b_cost)).round_dp(2),
                });
            }
            if a_success < t.low_success {
                let others = trusted
                    .iter()
                    .filter(|o| o.provider_id != a.provider_id)
                    .fold(Counters::default(), |mut sum, o| {
                        sum.add(&o.counters);
                        sum
                    });
                advice.push(Advice::LowSuccess {
                    provider: a.provider_id.clone(),
                    country: country.to_owned(),
                    channel: channel.to_owned(),
                    success: a_success.round_dp(4).normalize(),
                    attempts: a.counters.attempts,
                    floor: t.low_success,
                    others_success: (others.attempts > 0)
                        .then(|| success(&others).round_dp(4).normalize()),
                });
            }
        }
    }
    advice.sort_by_key(|a| std::cmp::Reverse(a.saving_per_day()));
    advice
}

/// The usual (median) local hour a pool capped out at, if it did.
pub fn usual_hour(capped_hours: &[u32]) -> Option<u32> {
    let mut hours = capped_hours.to_vec();
    hours.sort_unstable();
    hours.get(hours.len() / 2).map(|h| (*h).min(23))
}

/// Numbers a pool that capped out at these local hours of the day should gain: its members
/// times the share of the day left after the usual (median) hour it caps out, assuming the
/// demand it turned away was spread like the demand it served.
pub fn numbers_to_add(members: usize, capped_hours: &[u32]) -> usize {
    let Some(median) = usual_hour(capped_hours) else {
        return 0;
    };
    let served = u64::from(median.max(1));
    let left = 24 - u64::from(median);
    // Demand per hour = members / served hours; the hours left need that many more.
    (members as u64 * left).div_ceil(served).max(1) as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn lane(provider: &str, attempts: i64, succeeded: i64, minutes: i64, per_minute: i64) -> Lane {
        Lane {
            provider_id: provider.into(),
            country: "US".into(),
            channel: "voice".into(),
            currency: "USD".into(),
            counters: Counters {
                attempts,
                finals: attempts,
                succeeded,
                duration_secs: minutes * 60,
                // per_minute in 10⁻⁴.
                cost_nanos: minutes * per_minute * 100_000,
                ..Counters::default()
            },
        }
    }

    #[test]
    fn a_cheaper_carrier_of_equal_quality_gets_a_share() {
        let lanes = [
            lane("dear", 1_000, 500, 2_000, 120),
            lane("cheap", 300, 150, 600, 70),
            lane("worse", 400, 100, 800, 50),
        ];
        let advice = recommend(&lanes, 10, &Thresholds::default());
        let Advice::ShiftTraffic {
            from,
            to,
            share,
            saving_per_day,
            ..
        } = &advice[0]
        else {
            panic!("{advice:?}");
        };
        // "worse" is cheaper still but its ASR is 25 %, not 50 %.
        assert_eq!((from.as_str(), to.as_str()), ("dear", "cheap"));
        assert_eq!(*share, dec!(0.3));
        // 200 minutes a day × 30 % × (0.012 − 0.007).
        assert_eq!(*saving_per_day, dec!(0.30));
    }

    #[test]
    fn a_carrier_under_the_floor_is_named() {
        let lanes = [lane("good", 100, 50, 100, 50), lane("bad", 100, 10, 20, 60)];
        let advice = recommend(&lanes, 7, &Thresholds::default());
        assert!(advice.iter().any(|a| matches!(a,
            Advice::LowSuccess { provider, success, others_success, .. }
                if provider == "bad" && *success == dec!(0.1) && *others_success == Some(dec!(0.5)))));
    }

    #[test]
    fn thin_evidence_gives_no_advice() {
        let lanes = [lane("dear", 20, 10, 40, 120), lane("cheap", 20, 10, 40, 70)];
        assert!(recommend(&lanes, 7, &Thresholds::default()).is_empty());
    }

    #[test]
    fn a_pool_capped_at_two_pm_needs_the_rest_of_the_day() {
        // Ten numbers used up in 14 hours: the other 10 hours need 10 × 10 / 14 → 8.
        assert_eq!(numbers_to_add(10, &[14, 13, 15]), 8);
        assert_eq!(numbers_to_add(10, &[]), 0);
        assert_eq!(numbers_to_add(1, &[23]), 1);
    }
}
