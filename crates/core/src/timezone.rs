//! Where a number's owner is in time: libphonenumber's map from dialling prefixes to IANA
//! time zones (vendored in `data/timezones`, Apache-2.0), and quiet hours checked in every
//! zone a number may be in — a call at 10 pm local time breaks the law in many places, so
//! a number whose prefix spans several zones counts as quiet if any of them is.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::OnceLock;

const MAP_DATA: &str = include_str!("../data/timezones/map_data.txt");

struct ZoneMap {
    by_prefix: HashMap<&'static str, Vec<Tz>>,
    longest: usize,
}

fn map() -> &'static ZoneMap {
    static MAP: OnceLock<ZoneMap> = OnceLock::new();
    MAP.get_or_init(|| {
        let mut by_prefix = HashMap::new();
        let mut longest = 0;
        for line in MAP_DATA.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((prefix, zones)) = line.split_once('|') else {
                continue;
            };
            let zones: Vec<Tz> = zones.split('&').filter_map(|z| z.parse().ok()).collect();
            longest = longest.max(prefix.len());
            by_prefix.insert(prefix, zones);
        }
        ZoneMap { by_prefix, longest }
    })
}

/// The time zones a number (its E.164 digits, no `+`) may be in, from the longest matching
/// prefix; empty when the map has none.
pub fn zones(digits: &str) -> &'static [Tz] {
    let m = map();
    (1..=digits.len().min(m.longest))
        .rev()
        .find_map(|n| m.by_prefix.get(&digits[..n]))
        .map_or(&[], Vec::as_slice)
}

/// The first instant of a local date in a zone: midnight, or where a DST jump skips
/// midnight that day, the first instant that exists. Daily caps and budget windows start
/// here.
pub fn day_start(date: NaiveDate, tz: Tz) -> DateTime<Utc> {
    let midnight = date.and_time(NaiveTime::MIN);
    (0..4)
        .find_map(|h| {
            tz.from_local_datetime(&(midnight + Duration::hours(h)))
                .earliest()
        })
        .map_or_else(|| midnight.and_utc(), |t| t.with_timezone(&Utc))
}

/// A daily window in which nobody may be called or messaged, in the recipient's local
/// time; it may span midnight (21:00–08:00).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct QuietHours {
    /// Local time it starts.
    pub start: NaiveTime,
    /// Local time it ends.
    pub end: NaiveTime,
}

impl QuietHours {
    /// Whether a local time falls in the window (start inclusive, end exclusive).
    pub fn contains(&self, t: NaiveTime) -> bool {
        if self.start <= self.end {
            self.start <= t && t < self.end
        } else {
            t >= self.start || t < self.end
        }
    }
}

/// The verdict for one number at one instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Contact {
    /// Outside quiet hours in every zone the number may be in.
    Allowed,
    /// Inside quiet hours in `zone`, where it is `local_time`.
    Quiet {
        /// The zone.
        zone: String,
        /// Local time there, `HH:MM`.
        local_time: String,
    },
    /// The map knows no zone for the number; the caller decides.
    UnknownZone,
}

/// Whether `digits` may be contacted at `at` under `quiet`.
pub fn check(digits: &str, at: DateTime<Utc>, quiet: &QuietHours) -> Contact {
    let zones = zones(digits);
    if zones.is_empty() {
        return Contact::UnknownZone;
    }
    for tz in zones {
        let local = tz.from_utc_datetime(&at.naive_utc()).time();
        if quiet.contains(local) {
            return Contact::Quiet {
                zone: tz.name().to_string(),
                local_time: format!("{:02}:{:02}", local.hour(), local.minute()),
            };
        }
    }
    Contact::Allowed
}

/// The first minute at or after `from`, within two days, when `digits` may be contacted in
/// all its zones; `None` when no such minute exists (zones too far apart for the window) or
/// the zone is unknown.
pub fn next_allowed(
    digits: &str,
    from: DateTime<Utc>,
    quiet: &QuietHours,
) -> Option<DateTime<Utc>> {
    let start = from.with_second(0)?.with_nanosecond(0)?;
    let start = if start < from {
        start + Duration::minutes(1)
    } else {
        start
    };
    (0..2 * 24 * 60)
        .map(|m| start + Duration::minutes(m))
        .find(|t| check(digits, *t, quiet) == Contact::Allowed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("time")
            .with_timezone(&Utc)
    }

    fn night() -> QuietHours {
        QuietHours {
            start: NaiveTime::from_hms_opt(21, 0, 0).expect("time"),
            end: NaiveTime::from_hms_opt(8, 0, 0).expect("time"),
        }
    }

    #[test]
    fn every_zone_in_the_map_is_known_to_the_tz_database() {
        let names: usize = MAP_DATA
            .lines()
            .filter(|l| !l.starts_with('#') && l.contains('|'))
            .map(|l| l.split_once('|').map_or(0, |(_, z)| z.split('&').count()))
            .sum();
        let parsed: usize = map().by_prefix.values().map(Vec::len).sum();
        assert_eq!(parsed, names, "a zone name chrono-tz does not know");
        assert!(map().by_prefix.len() > 3_000);
    }

    #[test]
    fn longest_prefix_wins() {
        assert_eq!(zones("12125550100"), [chrono_tz::America::New_York]);
        assert_eq!(zones("14155550100"), [chrono_tz::America::Los_Angeles]);
        assert!(zones("442071234567").contains(&chrono_tz::Europe::London));
        assert!(
            zones("1").len() > 10,
            "the bare country code spans the continent"
        );
        assert!(zones("999").is_empty());
    }

    #[test]
    fn quiet_hours_follow_local_time_and_daylight_saving() {
        // 01:30 UTC on 15 July: 21:30 in New York (EDT), 18:30 in Los Angeles.
        let summer = at("2026-07-15T01:30:00Z");
        assert!(
            matches!(check("12125550100", summer, &night()), Contact::Quiet { ref local_time, .. } if local_time == "21:30")
        );
        assert_eq!(check("14155550100", summer, &night()), Contact::Allowed);
        // Same UTC time in January: 20:30 in New York (EST), allowed.
        assert_eq!(
            check("12125550100", at("2026-01-15T01:30:00Z"), &night()),
            Contact::Allowed
        );
        assert_eq!(check("999123", summer, &night()), Contact::UnknownZone);
        let next = next_allowed("12125550100", summer, &night()).expect("a morning comes");
        assert_eq!(next, at("2026-07-15T12:00:00Z"), "08:00 EDT");
        // Quiet somewhere in a multi-zone prefix is quiet.
        assert!(matches!(
            check("1", summer, &night()),
            Contact::Quiet { .. }
        ));
        let day = QuietHours {
            start: NaiveTime::from_hms_opt(9, 0, 0).expect("t"),
            end: NaiveTime::from_hms_opt(17, 0, 0).expect("t"),
        };
        assert!(day.contains(NaiveTime::from_hms_opt(9, 0, 0).expect("t")));
        assert!(!day.contains(NaiveTime::from_hms_opt(17, 0, 0).expect("t")));
    }
}
