//! Parsing of the individual values found in deck cells.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Voice billing increments in seconds: the first `initial` seconds are billed as a block,
/// then every started block of `subsequent` seconds (`60/60`, `6/6`, `1/1`, `30/6`…).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Increment {
    /// Length of the first billed block.
    pub initial: u32,
    /// Length of every later block.
    pub subsequent: u32,
}

impl Increment {
    /// Per-minute billing, `60/60`.
    pub const PER_MINUTE: Increment = Increment {
        initial: 60,
        subsequent: 60,
    };
    /// Per-second billing, `1/1`.
    pub const PER_SECOND: Increment = Increment {
        initial: 1,
        subsequent: 1,
    };
    /// Longest block accepted: an hour. Anything longer is a typo in a deck.
    pub const MAX_BLOCK: u32 = 3600;
}

/// Why an increment cell could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "bad increment {0:?}: expected two whole numbers of seconds such as 60/60, 6/6 or 30/6 (each 1 to 3600)"
)]
pub struct IncrementError(pub String);

impl FromStr for Increment {
    type Err = IncrementError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || IncrementError(s.to_string());
        let t = s.trim();
        let (a, b) = match t.split_once(['/', '+', '-']) {
            Some((a, b)) => (a, b),
            None => (t, t),
        };
        let initial = parse_seconds(a).ok_or_else(bad)?;
        let subsequent = parse_seconds(b).ok_or_else(bad)?;
        Ok(Increment {
            initial,
            subsequent,
        })
    }
}

pub(super) fn parse_seconds(s: &str) -> Option<u32> {
    let v: u32 = s.trim().parse().ok()?;
    (1..=Increment::MAX_BLOCK).contains(&v).then_some(v)
}

impl fmt::Display for Increment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.initial, self.subsequent)
    }
}

impl Serialize for Increment {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Increment {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Reads a money amount: a plain decimal number. A decimal comma (`0,0125`) is accepted when
/// the file is not comma-separated, as European decks write it.
pub(super) fn parse_amount(cell: &str, comma_is_decimal: bool) -> Result<Decimal, String> {
    let t = cell.trim();
    let normalised;
    let text = if comma_is_decimal && t.contains(',') && !t.contains('.') {
        normalised = t.replacen(',', ".", 1);
        normalised.as_str()
    } else {
        t
    };
    let is_plain = !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-' || b == b'+');
    if !is_plain {
        return Err(format!(
            "{cell:?} is not a number: write a plain decimal such as 0.0125"
        ));
    }
    let value = Decimal::from_str(text)
        .map_err(|_| format!("{cell:?} is not a number: write a plain decimal such as 0.0125"))?;
    if value.is_sign_negative() && !value.is_zero() {
        return Err(format!("{cell:?} is negative: prices cannot be below zero"));
    }
    Ok(value)
}

/// Reads a date or date-time in UTC: `2026-01-31`, `2026-01-31 12:00[:00]`, RFC 3339,
/// `2026/01/31` or `31.01.2026`. Slash dates with the day first or the month first are
/// refused as ambiguous.
pub(super) fn parse_instant(cell: &str) -> Result<DateTime<Utc>, String> {
    let t = cell.trim();
    if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        return Ok(dt.with_timezone(&Utc));
    }
    for fmt in ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(t, fmt) {
            return Ok(dt.and_utc());
        }
    }
    for fmt in ["%Y-%m-%d", "%Y/%m/%d", "%d.%m.%Y"] {
        if let Ok(d) = NaiveDate::parse_from_str(t, fmt) {
            return Ok(d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc());
        }
    }
    Err(format!(
        "{cell:?} is not a date: write YYYY-MM-DD or YYYY-MM-DD HH:MM:SS (UTC)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn increments_parse_in_common_spellings() {
        assert_eq!("60/60".parse(), Ok(Increment::PER_MINUTE));
        assert_eq!(" 1/1 ".parse(), Ok(Increment::PER_SECOND));
        assert_eq!(
            "30-6".parse(),
            Ok(Increment {
                initial: 30,
                subsequent: 6
            })
        );
        assert_eq!("60".parse(), Ok(Increment::PER_MINUTE));
        assert!("0/60".parse::<Increment>().is_err());
        assert!("60/x".parse::<Increment>().is_err());
        assert!("7200/60".parse::<Increment>().is_err());
    }

    #[test]
    fn amounts_are_exact_and_never_negative() {
        assert_eq!(parse_amount("0.0125", false), Ok(dec!(0.0125)));
        assert_eq!(parse_amount("0,0125", true), Ok(dec!(0.0125)));
        assert!(parse_amount("0,0125", false).is_err());
        assert!(
            parse_amount("-0.01", false)
                .expect_err("negative")
                .contains("negative")
        );
        assert!(parse_amount("$0.01", false).is_err());
        assert!(parse_amount("", false).is_err());
    }

    #[test]
    fn dates_in_iso_and_european_forms() {
        let want = parse_instant("2026-03-01").expect("iso");
        assert_eq!(parse_instant("01.03.2026"), Ok(want));
        assert_eq!(parse_instant("2026-03-01T00:00:00Z"), Ok(want));
        assert!(parse_instant("03/01/2026").is_err());
    }
}
