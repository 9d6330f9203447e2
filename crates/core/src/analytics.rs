//! Usage analytics as pure arithmetic: what one finished send adds to the hourly rollups, and
//! the rates read back from summed counters (ASR, ACD, PDD, delivery ratio, savings).
//!
//! Every counter is a plain sum, so rollups can be maintained one send at a time, merged in
//! any order, and checked against the raw records they summarise.

use crate::budget::{from_nanos, to_nanos};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::BTreeMap;

/// Width of one rollup bucket.
pub const HOUR_MS: i64 = 3_600_000;

/// The start of the UTC hour holding `at_ms`.
pub fn hour_of(at_ms: i64) -> i64 {
    at_ms.div_euclid(HOUR_MS) * HOUR_MS
}

/// The destination country analytics counts a number under: its ISO 3166 region, or empty
/// when the number does not parse or its plan names no region.
pub fn country_of(e164: &str) -> String {
    crate::number::parse_e164(e164)
        .ok()
        .and_then(|n| n.region().map(str::to_owned))
        .unwrap_or_default()
}

/// A span of time hourly rollups are summed into, read in the organisation's time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeBucket {
    /// The hour, as an RFC 3339 instant.
    Hour,
    /// The local date.
    Day,
    /// The local month (`YYYY-MM`).
    Month,
    /// The local hour of the day (`00`–`23`), across days.
    HourOfDay,
}

/// The label of the bucket holding the hour starting at `hour_ms`. Hours are UTC hours, so
/// zones offset by a fraction of an hour put an hour in the bucket where it starts.
pub fn bucket_of(hour_ms: i64, bucket: TimeBucket, tz: Tz) -> String {
    let Some(at) = DateTime::<Utc>::from_timestamp_millis(hour_ms) else {
        return String::new();
    };
    let local = at.with_timezone(&tz);
    match bucket {
        TimeBucket::Hour => at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        TimeBucket::Day => local.format("%Y-%m-%d").to_string(),
        TimeBucket::Month => local.format("%Y-%m").to_string(),
        TimeBucket::HourOfDay => local.format("%H").to_string(),
    }
}

/// The dimensions one rollup row is kept for.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RollupKey {
    /// Start of the UTC hour (unix ms) the sends were created in.
    pub hour_ms: i64,
    /// Provider; empty for sends no provider ever took.
    pub provider_id: String,
    /// ISO 3166 region of the destination; empty for emails and unknown regions.
    pub country: String,
    /// `voice`, `sms`, `mms`, `whatsapp`, `email` or `numbers` (rentals).
    pub channel: String,
    /// The send's campaign; empty for none.
    pub campaign: String,
    /// Currency of the cost sums; empty when nothing was rated.
    pub currency: String,
}

/// Sums kept per rollup row.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counters {
    /// Attempts made at the provider (every attempt, including those failed over).
    pub attempts: i64,
    /// Sends that ended with this provider.
    pub finals: i64,
    /// Of those, answered calls and delivered messages and emails.
    pub succeeded: i64,
    /// Of those, failed ones (busy, no answer, undelivered, bounced…).
    pub failed: i64,
    /// Attempts here that failed and sent the send on to the next provider.
    pub failovers: i64,
    /// Talk seconds of answered calls.
    pub duration_secs: i64,
    /// Sum of post-dial delays (ms) over the calls that rang.
    pub pdd_ms: i64,
    /// Calls whose post-dial delay is known.
    pub pdd_count: i64,
    /// Rated cost, in 10⁻⁹ units of the currency.
    pub cost_nanos: i64,
    /// What the same sends would have cost on the baseline, in 10⁻⁹ units.
    pub baseline_nanos: i64,
}

impl Counters {
    /// Adds another row's sums to these.
    pub fn add(&mut self, o: &Counters) {
        self.attempts += o.attempts;
        self.finals += o.finals;
        self.succeeded += o.succeeded;
        self.failed += o.failed;
        self.failovers += o.failovers;
        self.duration_secs += o.duration_secs;
        self.pdd_ms += o.pdd_ms;
        self.pdd_count += o.pdd_count;
        self.cost_nanos += o.cost_nanos;
        self.baseline_nanos += o.baseline_nanos;
    }
}

/// How a send ended, as analytics counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Answered, or delivered.
    Succeeded,
    /// Failed, busy, not answered, undelivered, bounced.
    Failed,
    /// Ended without a verdict (canceled, unconfirmed, sent without receipt).
    Neither,
}

/// A send that reached its final status, as analytics sees it.
#[derive(Debug, Clone)]
pub struct Finished {
    /// When it was created (unix ms).
    pub created_at_ms: i64,
    /// Its channel.
    pub channel: String,
    /// The provider it ended with; empty when none took it.
    pub provider_id: String,
    /// ISO region of the destination, or empty.
    pub country: String,
    /// Campaign, or empty.
    pub campaign: String,
    /// How it ended.
    pub outcome: Outcome,
    /// Talk seconds (calls).
    pub duration_secs: i64,
    /// Post-dial delay, when the call rang.
    pub pdd_ms: Option<i64>,
    /// Rated cost and its currency, when rated.
    pub cost: Option<(Decimal, String)>,
    /// Cost on the baseline; a send without one counts as saving nothing.
    pub baseline: Option<Decimal>,
    /// Providers of the earlier attempts that failed over, in order.
    pub failed_over: Vec<String>,
}

/// What one finished send adds to the rollups: a row for the provider it ended with, and one
/// per provider it failed over from.
pub fn contributions(f: &Finished) -> Vec<(RollupKey, Counters)> {
    let currency = f.cost.as_ref().map(|c| c.1.clone()).unwrap_or_default();
    let key = |provider_id: &str| RollupKey {
        hour_ms: hour_of(f.created_at_ms),
        provider_id: provider_id.to_owned(),
        country: f.country.clone(),
        channel: f.channel.clone(),
        campaign: f.campaign.clone(),
        currency: currency.clone(),
    };
    let cost_nanos = f
        .cost
        .as_ref()
        .and_then(|c| to_nanos(c.0))
        .unwrap_or_default();
    let baseline_nanos = f.baseline.and_then(to_nanos).unwrap_or(cost_nanos);
    let mut out = vec![(
        key(&f.provider_id),
        Counters {
            attempts: i64::from(!f.provider_id.is_empty()),
            finals: 1,
            succeeded: i64::from(f.outcome == Outcome::Succeeded),
            failed: i64::from(f.outcome == Outcome::Failed),
            duration_secs: f.duration_secs.max(0),
            pdd_ms: f.pdd_ms.unwrap_or(0).max(0),
            pdd_count: i64::from(f.pdd_ms.is_some()),
            cost_nanos,
            baseline_nanos,
            ..Counters::default()
        },
    )];
    for provider in &f.failed_over {
        out.push((
            key(provider),
            Counters {
                attempts: 1,
                failovers: 1,
                ..Counters::default()
            },
        ));
    }
    out
}

/// Sums the contributions of many sends: what the rollups must hold after them.
pub fn aggregate<'a>(
    sends: impl IntoIterator<Item = &'a Finished>,
) -> BTreeMap<RollupKey, Counters> {
    let mut rows: BTreeMap<RollupKey, Counters> = BTreeMap::new();
    for f in sends {
        for (key, c) in contributions(f) {
            rows.entry(key).or_default().add(&c);
        }
    }
    rows
}

/// A ratio rounded to four places; `None` without a denominator.
fn ratio(num: i64, den: i64) -> Option<Decimal> {
    (den > 0).then(|| (Decimal::from(num) / Decimal::from(den)).round_dp(4))
}

/// Rates of a carrier read from summed counters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Performance {
    /// Attempts made.
    pub attempts: i64,
    /// Answered or delivered.
    pub succeeded: i64,
    /// Share of attempts that succeeded: the answer-seizure ratio for calls, the delivery
    /// ratio for messages and emails.
    pub success_ratio: Option<Decimal>,
    /// Average talk seconds per answered call.
    pub acd_secs: Option<Decimal>,
    /// Average post-dial delay in ms.
    pub pdd_ms: Option<Decimal>,
    /// Attempts that failed over to another provider.
    pub failovers: i64,
    /// Cost per send that ended here, in the currency of the sums.
    #[serde(with = "rust_decimal::serde::str_option")]
    pub cost_per_send: Option<Decimal>,
}

impl Performance {
    /// Reads the rates off summed counters.
    pub fn of(c: &Counters) -> Self {
        Performance {
            attempts: c.attempts,
            succeeded: c.succeeded,
            success_ratio: ratio(c.succeeded, c.attempts),
            acd_secs: ratio(c.duration_secs, c.succeeded).map(|d| d.round_dp(1)),
            pdd_ms: ratio(c.pdd_ms, c.pdd_count).map(|d| d.round_dp(0)),
            failovers: c.failovers,
            cost_per_send: (c.finals > 0)
                .then(|| (from_nanos(c.cost_nanos) / Decimal::from(c.finals)).round_dp(6)),
        }
    }
}

/// Savings against the baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Savings {
    /// What was spent.
    #[serde(with = "rust_decimal::serde::str")]
    pub cost: Decimal,
    /// What the baseline would have charged.
    #[serde(with = "rust_decimal::serde::str")]
    pub baseline: Decimal,
    /// Baseline minus cost.
    #[serde(with = "rust_decimal::serde::str")]
    pub saved: Decimal,
    /// Saved as a percentage of the baseline, to two places.
    pub saved_pct: Option<Decimal>,
}

impl Savings {
    /// Reads savings off summed counters.
    pub fn of(c: &Counters) -> Self {
        let (cost, baseline) = (from_nanos(c.cost_nanos), from_nanos(c.baseline_nanos));
        let saved = baseline - cost;
        Savings {
            cost,
            baseline,
            saved,
            saved_pct: (!baseline.is_zero())
                .then(|| (saved * Decimal::ONE_HUNDRED / baseline).round_dp(2)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn call(provider: &str, outcome: Outcome, failed_over: &[&str]) -> Finished {
        Finished {
            created_at_ms: 7_200_000 + 59_999,
            channel: "voice".into(),
            provider_id: provider.into(),
            country: "US".into(),
            campaign: String::new(),
            outcome,
            duration_secs: if outcome == Outcome::Succeeded { 90 } else { 0 },
            pdd_ms: Some(2_000),
            cost: Some((dec!(0.015), "USD".into())),
            baseline: Some(dec!(0.02)),
            failed_over: failed_over.iter().map(|p| p.to_string()).collect(),
        }
    }

    #[test]
    fn a_failover_counts_against_the_provider_that_failed() {
        let rows = aggregate(&[call("b", Outcome::Succeeded, &["a"])]);
        let get = |p: &str| {
            rows.iter()
                .find(|(k, _)| k.provider_id == p)
                .expect("row")
                .1
        };
        assert_eq!(get("a").attempts, 1);
        assert_eq!(get("a").failovers, 1);
        assert_eq!(get("a").cost_nanos, 0);
        assert_eq!(get("b").finals, 1);
        assert_eq!(get("b").succeeded, 1);
        assert_eq!(get("b").cost_nanos, 15_000_000);
        assert!(rows.keys().all(|k| k.hour_ms == 7_200_000));
    }

    #[test]
    fn rates_and_savings_read_off_the_sums() {
        let sends = [
            call("a", Outcome::Succeeded, &[]),
            call("a", Outcome::Failed, &[]),
            call("a", Outcome::Succeeded, &[]),
            call("a", Outcome::Neither, &[]),
        ];
        let total = aggregate(&sends)
            .values()
            .fold(Counters::default(), |mut t, c| {
                t.add(c);
                t
            });
        let p = Performance::of(&total);
        assert_eq!(p.success_ratio, Some(dec!(0.5)));
        assert_eq!(p.acd_secs, Some(dec!(90)));
        assert_eq!(p.pdd_ms, Some(dec!(2000)));
        assert_eq!(p.cost_per_send, Some(dec!(0.015)));
        let s = Savings::of(&total);
        assert_eq!(s.cost, dec!(0.06));
        assert_eq!(s.saved, dec!(0.02));
        assert_eq!(s.saved_pct, Some(dec!(25)));
    }

    #[test]
    fn buckets_follow_the_time_zone() {
        let hour = 1_767_222_000_000; // 2025-12-31T23:00:00Z
        let berlin: Tz = "Europe/Berlin".parse().expect("zone");
        assert_eq!(
            bucket_of(hour, TimeBucket::Day, chrono_tz::UTC),
            "2025-12-31"
        );
        assert_eq!(bucket_of(hour, TimeBucket::Day, berlin), "2026-01-01");
        assert_eq!(bucket_of(hour, TimeBucket::Month, berlin), "2026-01");
        assert_eq!(bucket_of(hour, TimeBucket::HourOfDay, berlin), "00");
        assert_eq!(
            bucket_of(hour, TimeBucket::Hour, berlin),
            "2025-12-31T23:00:00Z"
        );
    }

    #[test]
    fn a_send_without_a_baseline_claims_no_saving() {
        let mut send = call("a", Outcome::Succeeded, &[]);
        send.baseline = None;
        let rows = aggregate(&[send]);
        let c = rows.values().next().expect("row");
        assert_eq!(c.baseline_nanos, c.cost_nanos);
        assert_eq!(Savings::of(c).saved, Decimal::ZERO);
    }
}
