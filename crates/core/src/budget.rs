//! Budgets: a spending limit per organisation, provider or campaign, daily or monthly in the
//! organisation's time zone, that warns at one share of its amount and stops new sends at
//! another. Spend is counted in whole nano-units of the currency so that a database can
//! add and compare it atomically in a 64-bit integer, exactly: costs are rounded up to the
//! nano-unit (never under-counted), limits down.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Nano-units per unit of currency.
const NANOS: i64 = 1_000_000_000;

/// What a budget limits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Scope {
    /// Everything the organisation sends.
    Organization,
    /// What goes through one provider.
    Provider(String),
    /// What one campaign sends.
    Campaign(String),
}

/// How long a budget's window is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    /// A local calendar day.
    Daily,
    /// A local calendar month.
    Monthly,
}

/// A budget's limit and thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// The amount per window.
    pub amount: Decimal,
    /// Warn at this percentage of the amount (default 80).
    pub alert_pct: u32,
    /// Refuse new sends that would pass this percentage (default 95).
    pub stop_pct: u32,
}

/// A window of a budget: its key and where it starts and ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    /// `2026-12-06` (daily) or `2026-12` (monthly).
    pub key: String,
    /// First instant.
    pub starts_at: DateTime<Utc>,
    /// First instant of the next window.
    pub ends_at: DateTime<Utc>,
}

/// Invalid limits; the field and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct LimitError {
    /// The field.
    pub field: &'static str,
    /// Why.
    pub message: String,
}

fn error(field: &'static str, message: impl Into<String>) -> LimitError {
    LimitError {
        field,
        message: message.into(),
    }
}

impl Limits {
    /// Checks the limits.
    pub fn validate(&self) -> Result<(), LimitError> {
        if self.amount <= Decimal::ZERO {
            return Err(error("amount", "amount must be more than 0"));
        }
        if to_nanos(self.amount).is_none() {
            return Err(error("amount", "amount is too large"));
        }
        if !(1..=100).contains(&self.alert_pct) {
            return Err(error("alert_pct", "alert_pct must be 1 to 100"));
        }
        if !(1..=100).contains(&self.stop_pct) {
            return Err(error("stop_pct", "stop_pct must be 1 to 100"));
        }
        if self.alert_pct > self.stop_pct {
            return Err(error(
                "alert_pct",
                "alert_pct must not be above stop_pct: the warning comes first",
            ));
        }
        Ok(())
    }

    /// The spend, in nano-units, past which new sends are refused (rounded down).
    pub fn stop_nanos(&self) -> i64 {
        share_nanos(self.amount, self.stop_pct)
    }

    /// The spend, in nano-units, at which the alert is given (rounded down).
    pub fn alert_nanos(&self) -> i64 {
        share_nanos(self.amount, self.alert_pct)
    }
}

fn share_nanos(amount: Decimal, pct: u32) -> i64 {
    let share = amount * Decimal::from(pct) / Decimal::from(100);
    (share * Decimal::from(NANOS))
        .floor()
        .try_into()
        .unwrap_or(i64::MAX)
}

/// An amount in nano-units, rounded up (a cost is never under-counted); `None` when it
/// does not fit or is negative.
pub fn to_nanos(amount: Decimal) -> Option<i64> {
    if amount.is_sign_negative() {
        return None;
    }
    amount
        .checked_mul(Decimal::from(NANOS))?
        .ceil()
        .try_into()
        .ok()
}

/// Nano-units back to an amount.
pub fn from_nanos(nanos: i64) -> Decimal {
    (Decimal::from(nanos) / Decimal::from(NANOS)).normalize()
}

/// The window of `period` that `at` falls in, in time zone `tz`.
pub fn window(period: Period, at: DateTime<Utc>, tz: Tz) -> Window {
    let local = at.with_timezone(&tz).date_naive();
    let (first, next, key) = match period {
        Period::Daily => (
            local,
            local.succ_opt().unwrap_or(local),
            local.format("%Y-%m-%d").to_string(),
        ),
        Period::Monthly => {
            let first = local.with_day(1).unwrap_or(local);
            let next = if local.month() == 12 {
                NaiveDate::from_ymd_opt(local.year() + 1, 1, 1)
            } else {
                NaiveDate::from_ymd_opt(local.year(), local.month() + 1, 1)
            }
            .unwrap_or(first);
            (first, next, local.format("%Y-%m").to_string())
        }
    };
    Window {
        key,
        starts_at: crate::timezone::day_start(first, tz),
        ends_at: crate::timezone::day_start(next, tz),
    }
}

/// Where a window's spend stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Standing {
    /// Below the alert threshold.
    Within,
    /// At or past the alert threshold, below the stop.
    Alert,
    /// At or past the stop threshold.
    Stopped,
}

/// Where `spent_nanos` stands against the limits.
pub fn standing(limits: &Limits, spent_nanos: i64) -> Standing {
    if spent_nanos >= limits.stop_nanos() {
        Standing::Stopped
    } else if spent_nanos >= limits.alert_nanos() {
        Standing::Alert
    } else {
        Standing::Within
    }
}

/// Whether a send expected to cost `expected_nanos` may start with `committed_nanos`
/// already counted: it may if the total stays at or below the stop threshold. (The store
/// makes the same comparison atomically; this is its reference.)
pub fn admits(limits: &Limits, committed_nanos: i64, expected_nanos: i64) -> bool {
    committed_nanos.saturating_add(expected_nanos) <= limits.stop_nanos()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    fn limits(amount: Decimal) -> Limits {
        Limits {
            amount,
            alert_pct: 80,
            stop_pct: 95,
        }
    }

    #[test]
    fn thresholds_are_exact_shares_of_the_amount() {
        let l = limits(dec!(100));
        assert_eq!(l.alert_nanos(), 80 * NANOS);
        assert_eq!(l.stop_nanos(), 95 * NANOS);
        assert_eq!(standing(&l, 79_999_999_999), Standing::Within);
        assert_eq!(standing(&l, 80 * NANOS), Standing::Alert);
        assert_eq!(standing(&l, 95 * NANOS), Standing::Stopped);
        assert!(admits(&l, 94 * NANOS, NANOS));
        assert!(!admits(&l, 94 * NANOS, NANOS + 1));
    }

    #[test]
    fn costs_round_up_and_limits_down() {
        assert_eq!(to_nanos(dec!(0.0000000001)), Some(1), "never under-counted");
        assert_eq!(to_nanos(dec!(0.0075)), Some(7_500_000));
        assert_eq!(to_nanos(dec!(-1)), None);
        assert_eq!(from_nanos(7_500_000), dec!(0.0075));
        // A third of a cent: the stop share rounds down.
        let l = Limits {
            amount: dec!(0.01),
            alert_pct: 33,
            stop_pct: 33,
        };
        assert_eq!(l.stop_nanos(), 3_300_000);
    }

    #[test]
    fn limits_are_checked_by_field() {
        let field = |l: Limits| l.validate().map_err(|e| e.field);
        assert_eq!(field(limits(dec!(0))), Err("amount"));
        assert_eq!(
            field(Limits {
                alert_pct: 96,
                ..limits(dec!(10))
            }),
            Err("alert_pct")
        );
        assert_eq!(
            field(Limits {
                stop_pct: 101,
                ..limits(dec!(10))
            }),
            Err("stop_pct")
        );
        assert_eq!(field(limits(dec!(10))), Ok(()));
    }

    #[test]
    fn windows_follow_the_organisations_time_zone() {
        let tz: Tz = "America/New_York".parse().expect("zone");
        // 03:00 UTC on 1 March is still 28 February in New York.
        let at = Utc
            .with_ymd_and_hms(2027, 3, 1, 3, 0, 0)
            .single()
            .expect("instant");
        let day = window(Period::Daily, at, tz);
        assert_eq!(day.key, "2027-02-28");
        assert_eq!(
            day.starts_at,
            Utc.with_ymd_and_hms(2027, 2, 28, 5, 0, 0)
                .single()
                .expect("instant")
        );
        let month = window(Period::Monthly, at, tz);
        assert_eq!(month.key, "2027-02");
        assert_eq!(
            month.ends_at,
            Utc.with_ymd_and_hms(2027, 3, 1, 5, 0, 0)
                .single()
                .expect("instant")
        );
        // December rolls into January; a DST day is 23 hours long.
        let dec_end = window(
            Period::Monthly,
            Utc.with_ymd_and_hms(2026, 12, 20, 12, 0, 0)
                .single()
                .expect("instant"),
            tz,
        );
        assert_eq!(
            dec_end.ends_at.with_timezone(&tz).date_naive().to_string(),
            "2027-01-01"
        );
        let spring = window(
            Period::Daily,
            Utc.with_ymd_and_hms(2027, 3, 14, 12, 0, 0)
                .single()
                .expect("instant"),
            tz,
        );
        assert_eq!((spring.ends_at - spring.starts_at).num_hours(), 23);
    }

    proptest! {
        /// Admitting sends one by one never takes the committed spend past the stop
        /// threshold, and refuses only what would have passed it.
        #[test]
        fn admitted_spend_never_passes_the_stop(
            amount_cents in 1u32..1_000_000,
            stop_pct in 1u32..=100,
            sends in prop::collection::vec(0i64..50_000_000_000, 0..60),
        ) {
            let l = Limits { amount: Decimal::from(amount_cents) / Decimal::from(100), alert_pct: 1, stop_pct };
            let mut committed = 0i64;
            for expected in sends {
                if admits(&l, committed, expected) {
                    committed += expected;
                } else {
                    prop_assert!(committed + expected > l.stop_nanos());
                }
                prop_assert!(committed <= l.stop_nanos());
            }
        }

        /// Every instant lies inside its window, and windows are keyed by their start.
        #[test]
        fn instants_lie_in_their_windows(secs in 0i64..4_000_000_000, monthly: bool) {
            let tz: Tz = "Australia/Lord_Howe".parse().expect("zone");
            let at = DateTime::<Utc>::from_timestamp(secs, 0).expect("instant");
            let period = if monthly { Period::Monthly } else { Period::Daily };
            let w = window(period, at, tz);
            prop_assert!(w.starts_at <= at && at < w.ends_at, "{w:?} {at}");
            prop_assert_eq!(window(period, w.starts_at, tz).key, w.key);
        }
    }
}
