//! Caller-ID selection from a number pool: which of an organisation's numbers a call or
//! message goes out from.
//!
//! [`rank`] is pure: given the pool's numbers with today's usage, the callee and the pool's
//! rules, it returns the eligible numbers in the order they should be tried, and every other
//! number with the reason it was skipped. The caller then reserves one use of the first
//! number whose daily counter is still below its cap, atomically in the database, so that
//! several server instances never hand out more than a cap between them; a number lost to
//! that race is skipped as capped and the next one tried.
//!
//! Preference, in order: the contact's sticky number (messaging: a contact keeps receiving
//! from the same number while it is available); then locality — same area code (NANP NPA),
//! else same region (state or province), else same country, else any, each level on or off;
//! then rotation within a level — least recently used (round robin across instances) or least
//! used today.

use serde::{Deserialize, Serialize};

/// Where a number stands in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NumberStatus {
    /// In service.
    Active,
    /// New: in service with its warm-up caps.
    Warming,
    /// Flagged as spam: skipped until its rest ends.
    Resting,
    /// Given back to the provider.
    Released,
}

/// One number of a pool, as selection needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolNumber {
    /// Its id in Switchyard.
    pub id: String,
    /// ISO 3166 country (`US`, `GB`; NANP numbers are told apart: `CA`, `JM`).
    pub country: String,
    /// State or province (`NY`, `ON`), when known.
    pub region: Option<String>,
    /// NANP area code (`212`), for NANP numbers.
    pub area_code: Option<String>,
    /// Status.
    pub status: NumberStatus,
    /// While resting: when the rest ends (Unix ms).
    pub rest_until_ms: Option<i64>,
    /// While warming: which day of its warm-up today is (0 on the first), counted in the
    /// number's own local days so that the cap steps up at the same midnight the counters
    /// reset.
    pub warmup_day: Option<u32>,
    /// Uses today, in the number's own time zone.
    pub used_today: u32,
    /// Its last use (Unix ms).
    pub last_used_ms: Option<i64>,
}

/// How numbers of the same locality take turns.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rotation {
    /// The least recently used first: a round robin that holds across instances.
    #[default]
    RoundRobin,
    /// The one used least today first.
    LeastUsed,
}

/// Which locality levels a pool may use; the best enabled level the callee matches wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LocalPresence {
    /// Same area code.
    pub area_code: bool,
    /// Same state or province.
    pub region: bool,
    /// Same country.
    pub country: bool,
    /// Any number when none is local.
    pub any: bool,
}

impl Default for LocalPresence {
    fn default() -> Self {
        LocalPresence {
            area_code: true,
            region: true,
            country: true,
            any: true,
        }
    }
}

/// A pool's selection rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PoolRules {
    /// Uses per number and day (calls or messages, counted per channel).
    pub daily_cap: u32,
    /// Locality levels.
    pub local_presence: LocalPresence,
    /// Turn-taking.
    pub rotation: Rotation,
    /// Caps of a new number's first days (`[20, 40, 60, 80, 100]`); the daily cap after.
    pub warmup: Vec<u32>,
    /// Whether a contact keeps its number.
    pub sticky: bool,
    /// Automatic resting on low answer rates.
    pub spam: SpamRule,
}

impl Default for PoolRules {
    fn default() -> Self {
        PoolRules {
            daily_cap: 100,
            local_presence: LocalPresence::default(),
            rotation: Rotation::RoundRobin,
            warmup: Vec::new(),
            sticky: true,
            spam: SpamRule::default(),
        }
    }
}

impl PoolRules {
    /// Checks the rules; the error names the field.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        if self.daily_cap == 0 {
            return Err(("daily_cap", "daily_cap must be at least 1".into()));
        }
        if let Some(day) = self.warmup.iter().position(|&c| c == 0) {
            return Err((
                "warmup",
                format!("warmup[{day}] is 0: a warming number must be usable every day"),
            ));
        }
        let l = self.local_presence;
        if !(l.area_code || l.region || l.country || l.any) {
            return Err((
                "local_presence",
                "at least one local_presence level must be on".into(),
            ));
        }
        self.spam.validate()
    }

    /// A number's cap today: its warm-up day's cap while warming, else the daily cap.
    pub fn cap_for(&self, n: &PoolNumber) -> u32 {
        match (n.status, n.warmup_day) {
            (NumberStatus::Warming, Some(day)) => self
                .warmup
                .get(day as usize)
                .map_or(self.daily_cap, |&c| c.min(self.daily_cap)),
            _ => self.daily_cap,
        }
    }
}

/// The callee, as locality compares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Callee {
    /// ISO 3166 country.
    pub country: String,
    /// State or province, when known.
    pub region: Option<String>,
    /// NANP area code, for NANP numbers.
    pub area_code: Option<String>,
}

/// How local a number is to the callee.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Locality {
    /// The contact's sticky number.
    Sticky,
    /// Same area code.
    AreaCode,
    /// Same state or province.
    Region,
    /// Same country.
    Country,
    /// Anywhere.
    Any,
}

/// Why a number was not offered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum SkipReason {
    /// Given back.
    Released,
    /// Resting after spam flags.
    Resting {
        /// When the rest ends (Unix ms).
        until_ms: Option<i64>,
    },
    /// Today's cap is used up.
    Capped {
        /// Uses today.
        used: u32,
        /// Today's cap.
        cap: u32,
    },
    /// No enabled locality level matches the callee.
    NotLocal,
    /// Its carrier is not among those routing chose for this destination (set by the
    /// caller, which knows the routing decision).
    NotRouted,
}

/// A number offered, in preference order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Offered {
    /// Number id.
    pub id: String,
    /// Why it ranks where it does.
    pub locality: Locality,
    /// Uses today.
    pub used: u32,
    /// Today's cap.
    pub cap: u32,
}

/// A number skipped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// Number id.
    pub id: String,
    /// Why.
    #[serde(flatten)]
    pub reason: SkipReason,
}

/// The numbers to try, best first, and those left out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Ranking {
    /// Eligible numbers, best first.
    pub offered: Vec<Offered>,
    /// Numbers left out, with reasons.
    pub skipped: Vec<Skipped>,
}

fn locality(n: &PoolNumber, callee: &Callee, l: LocalPresence) -> Option<Locality> {
    let same =
        |a: &Option<String>, b: &Option<String>| matches!((a, b), (Some(x), Some(y)) if x == y);
    let same_country = n.country == callee.country;
    if l.area_code && same_country && same(&n.area_code, &callee.area_code) {
        Some(Locality::AreaCode)
    } else if l.region && same_country && same(&n.region, &callee.region) {
        Some(Locality::Region)
    } else if l.country && same_country {
        Some(Locality::Country)
    } else if l.any {
        Some(Locality::Any)
    } else {
        None
    }
}

/// Ranks a pool's numbers for one send. `sticky` is the number the contact last received
/// from, if the pool is sticky and it had one.
pub fn rank(
    numbers: &[PoolNumber],
    callee: &Callee,
    rules: &PoolRules,
    sticky: Option<&str>,
    now_ms: i64,
) -> Ranking {
    let mut out = Ranking::default();
    let mut offered: Vec<(Offered, Option<i64>)> = Vec::new();
    for n in numbers {
        let skip = |reason| Skipped {
            id: n.id.clone(),
            reason,
        };
        match n.status {
            NumberStatus::Released => {
                out.skipped.push(skip(SkipReason::Released));
                continue;
            }
            NumberStatus::Resting if n.rest_until_ms.is_none_or(|until| now_ms < until) => {
                out.skipped.push(skip(SkipReason::Resting {
                    until_ms: n.rest_until_ms,
                }));
                continue;
            }
            _ => {}
        }
        let cap = rules.cap_for(n);
        if n.used_today >= cap {
            out.skipped.push(skip(SkipReason::Capped {
                used: n.used_today,
                cap,
            }));
            continue;
        }
        let level = if rules.sticky && sticky == Some(n.id.as_str()) {
            Some(Locality::Sticky)
        } else {
            locality(n, callee, rules.local_presence)
        };
        match level {
            Some(locality) => offered.push((
                Offered {
                    id: n.id.clone(),
                    locality,
                    used: n.used_today,
                    cap,
                },
                n.last_used_ms,
            )),
            None => out.skipped.push(skip(SkipReason::NotLocal)),
        }
    }
    offered.sort_by(|(a, a_last), (b, b_last)| {
        a.locality
            .cmp(&b.locality)
            .then_with(|| match rules.rotation {
                Rotation::RoundRobin => a_last.cmp(b_last),
                Rotation::LeastUsed => a.used.cmp(&b.used).then_with(|| a_last.cmp(b_last)),
            })
            .then_with(|| a.id.cmp(&b.id))
    });
    out.offered = offered.into_iter().map(|(o, _)| o).collect();
    out
}

/// How many of a set of calls were answered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct AnswerTally {
    /// Calls that ended.
    pub calls: u32,
    /// Of those, answered.
    pub answered: u32,
}

/// When call outcomes rest a number automatically: its answer rate over its latest calls
/// has fallen well below its pool's, the mark of a number carriers label "Spam Likely".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SpamRule {
    /// Whether call outcomes may rest numbers at all.
    pub enabled: bool,
    /// How many of the number's latest ended calls are judged.
    pub last_calls: u32,
    /// Fewest ended calls before a number is judged.
    pub min_calls: u32,
    /// Rest when the number's answer rate is below this percentage of the pool's.
    pub below_pct_of_pool: u32,
    /// How long an automatically flagged number rests, in hours.
    pub rest_hours: u32,
}

impl Default for SpamRule {
    fn default() -> Self {
        SpamRule {
            enabled: true,
            last_calls: 50,
            min_calls: 20,
            below_pct_of_pool: 50,
            rest_hours: 72,
        }
    }
}

impl SpamRule {
    /// Whether a number's latest calls look like spam labelling against its pool's: enough
    /// calls, and an answer rate below the set share of the pool's (compared exactly, in
    /// integers).
    pub fn looks_spammy(&self, number: AnswerTally, pool: AnswerTally) -> bool {
        if !self.enabled || number.calls < self.min_calls.max(1) || pool.answered == 0 {
            return false;
        }
        // answered/calls < pct/100 × pool.answered/pool.calls
        u64::from(number.answered) * u64::from(pool.calls) * 100
            < u64::from(self.below_pct_of_pool) * u64::from(pool.answered) * u64::from(number.calls)
    }

    fn validate(&self) -> Result<(), (&'static str, String)> {
        let field = |name: &'static str, value: u32, low: u32, high: u32| {
            if (low..=high).contains(&value) {
                Ok(())
            } else {
                Err((name, format!("{name} must be {low} to {high}, not {value}")))
            }
        };
        field("spam.last_calls", self.last_calls, 1, 1000)?;
        field("spam.min_calls", self.min_calls, 1, self.last_calls)?;
        field("spam.below_pct_of_pool", self.below_pct_of_pool, 1, 100)?;
        field("spam.rest_hours", self.rest_hours, 1, 720)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn number(id: &str, area: &str, region: &str) -> PoolNumber {
        PoolNumber {
            id: id.into(),
            country: "US".into(),
            region: Some(region.into()),
            area_code: Some(area.into()),
            status: NumberStatus::Active,
            rest_until_ms: None,
            warmup_day: None,
            used_today: 0,
            last_used_ms: None,
        }
    }

    fn callee(area: &str, region: &str) -> Callee {
        Callee {
            country: "US".into(),
            region: Some(region.into()),
            area_code: Some(area.into()),
        }
    }

    fn ids(r: &Ranking) -> Vec<&str> {
        r.offered.iter().map(|o| o.id.as_str()).collect()
    }

    #[test]
    fn local_presence_falls_back_level_by_level() {
        let mut uk = number("uk", "", "");
        uk.country = "GB".into();
        uk.area_code = None;
        uk.region = None;
        let pool = vec![
            number("nyc", "212", "NY"),
            number("buffalo", "716", "NY"),
            number("la", "213", "CA"),
            uk,
        ];
        let rules = PoolRules::default();
        let r = rank(&pool, &callee("212", "NY"), &rules, None, 0);
        assert_eq!(ids(&r), ["nyc", "buffalo", "la", "uk"]);
        assert_eq!(
            r.offered.iter().map(|o| o.locality).collect::<Vec<_>>(),
            [
                Locality::AreaCode,
                Locality::Region,
                Locality::Country,
                Locality::Any
            ]
        );
        // Area codes off: the two New York numbers are equally local.
        let no_area = PoolRules {
            local_presence: LocalPresence {
                area_code: false,
                ..LocalPresence::default()
            },
            ..PoolRules::default()
        };
        let r = rank(&pool, &callee("212", "NY"), &no_area, None, 0);
        assert_eq!(r.offered[0].locality, Locality::Region);
        // Only same-country allowed: the UK number is skipped as not local.
        let country_only = PoolRules {
            local_presence: LocalPresence {
                area_code: false,
                region: false,
                country: true,
                any: false,
            },
            ..PoolRules::default()
        };
        let r = rank(&pool, &callee("212", "NY"), &country_only, None, 0);
        assert_eq!(r.offered.len(), 3);
        assert_eq!(
            r.skipped,
            [Skipped {
                id: "uk".into(),
                reason: SkipReason::NotLocal
            }]
        );
    }

    #[test]
    fn rotation_round_robin_and_least_used() {
        let mut a = number("a", "212", "NY");
        let mut b = number("b", "212", "NY");
        a.last_used_ms = Some(2_000);
        a.used_today = 1;
        b.last_used_ms = Some(1_000);
        b.used_today = 5;
        let pool = vec![a, b];
        let rr = rank(&pool, &callee("212", "NY"), &PoolRules::default(), None, 0);
        assert_eq!(ids(&rr), ["b", "a"], "least recently used first");
        let lu = PoolRules {
            rotation: Rotation::LeastUsed,
            ..PoolRules::default()
        };
        assert_eq!(
            ids(&rank(&pool, &callee("212", "NY"), &lu, None, 0)),
            ["a", "b"]
        );
    }

    #[test]
    fn caps_resting_release_and_stickiness() {
        let mut capped = number("capped", "212", "NY");
        capped.used_today = 100;
        let mut resting = number("resting", "212", "NY");
        resting.status = NumberStatus::Resting;
        resting.rest_until_ms = Some(10_000);
        let mut released = number("released", "212", "NY");
        released.status = NumberStatus::Released;
        let far = number("far", "415", "CA");
        let pool = vec![capped, resting, released, far];
        let r = rank(
            &pool,
            &callee("212", "NY"),
            &PoolRules::default(),
            Some("far"),
            5_000,
        );
        assert_eq!(ids(&r), ["far"]);
        assert_eq!(r.offered[0].locality, Locality::Sticky);
        assert_eq!(
            r.skipped
                .iter()
                .map(|s| s.reason.clone())
                .collect::<Vec<_>>(),
            [
                SkipReason::Capped {
                    used: 100,
                    cap: 100
                },
                SkipReason::Resting {
                    until_ms: Some(10_000)
                },
                SkipReason::Released
            ]
        );
        // The rest is over: back in rotation, local first again.
        let r = rank(
            &pool,
            &callee("212", "NY"),
            &PoolRules::default(),
            None,
            10_000,
        );
        assert_eq!(ids(&r), ["resting", "far"]);
        // Stickiness off: locality wins.
        let unsticky = PoolRules {
            sticky: false,
            ..PoolRules::default()
        };
        let r = rank(&pool, &callee("212", "NY"), &unsticky, Some("far"), 10_000);
        assert_eq!(r.offered[1].locality, Locality::Country);
    }

    #[test]
    fn warm_up_ramps_the_cap_day_by_day() {
        let rules = PoolRules {
            warmup: vec![20, 40, 60, 80],
            ..PoolRules::default()
        };
        let mut n = number("new", "212", "NY");
        n.status = NumberStatus::Warming;
        let caps: Vec<u32> = (0..6)
            .map(|d| {
                n.warmup_day = Some(d);
                rules.cap_for(&n)
            })
            .collect();
        assert_eq!(caps, [20, 40, 60, 80, 100, 100]);
        n.warmup_day = Some(0);
        n.used_today = 20;
        let r = rank(&[n.clone()], &callee("212", "NY"), &rules, None, 1);
        assert_eq!(
            r.skipped[0].reason,
            SkipReason::Capped { used: 20, cap: 20 }
        );
        n.warmup_day = Some(1);
        let r = rank(&[n], &callee("212", "NY"), &rules, None, 1);
        assert_eq!(r.offered[0].cap, 40);
    }

    #[test]
    fn rules_are_validated() {
        assert!(PoolRules::default().validate().is_ok());
        let zero = PoolRules {
            daily_cap: 0,
            ..PoolRules::default()
        };
        assert_eq!(zero.validate().map_err(|e| e.0), Err("daily_cap"));
        let bad_warmup = PoolRules {
            warmup: vec![10, 0],
            ..PoolRules::default()
        };
        assert_eq!(bad_warmup.validate().map_err(|e| e.0), Err("warmup"));
        let nothing = PoolRules {
            local_presence: LocalPresence {
                area_code: false,
                region: false,
                country: false,
                any: false,
            },
            ..PoolRules::default()
        };
        assert_eq!(nothing.validate().map_err(|e| e.0), Err("local_presence"));
    }

    #[test]
    fn spam_detection_needs_enough_calls_and_a_low_relative_rate() {
        let rule = SpamRule::default();
        let tally = |answered, calls| AnswerTally { calls, answered };
        // The pool answers 40 %; half of that is 20 %.
        let pool = tally(40, 100);
        assert!(rule.looks_spammy(tally(3, 20), pool), "15 % < 20 %");
        assert!(
            !rule.looks_spammy(tally(4, 20), pool),
            "exactly 20 % is not below"
        );
        assert!(
            !rule.looks_spammy(tally(0, 19), pool),
            "too few calls to judge"
        );
        assert!(
            !rule.looks_spammy(tally(0, 50), tally(0, 100)),
            "no pool rate to compare with"
        );
        let off = SpamRule {
            enabled: false,
            ..rule
        };
        assert!(!off.looks_spammy(tally(0, 50), pool));
        let bad = PoolRules {
            spam: SpamRule {
                min_calls: 60,
                ..rule
            },
            ..PoolRules::default()
        };
        assert_eq!(bad.validate().map_err(|e| e.0), Err("spam.min_calls"));
    }

    proptest! {
        /// Every number is either offered or skipped, once; nothing offered is over its cap,
        /// resting or released; and offers never go from a better locality to a worse one
        /// and back.
        #[test]
        fn ranking_is_a_partition_in_locality_order(
            spec in prop::collection::vec((0u8..4, 0u8..3, 0u32..120, prop::option::of(0i64..100), 0u8..4), 0..30),
            rotation in prop_oneof![Just(Rotation::RoundRobin), Just(Rotation::LeastUsed)],
            now in 0i64..200,
        ) {
            let areas = ["212", "716", "213", "415"];
            let regions = ["NY", "NY", "CA", "CA"];
            let pool: Vec<PoolNumber> = spec.iter().enumerate().map(|(i, (area, status, used, last, rest))| PoolNumber {
                id: format!("n{i}"),
                country: if *area == 3 { "GB".into() } else { "US".into() },
                region: Some(regions[*area as usize].into()),
                area_code: Some(areas[*area as usize].into()),
                status: [NumberStatus::Active, NumberStatus::Resting, NumberStatus::Released][*status as usize],
                rest_until_ms: Some(i64::from(*rest) * 50),
                warmup_day: None,
                used_today: *used,
                last_used_ms: *last,
            }).collect();
            let rules = PoolRules { rotation, ..PoolRules::default() };
            let r = rank(&pool, &callee("212", "NY"), &rules, None, now);
            prop_assert_eq!(r.offered.len() + r.skipped.len(), pool.len());
            let mut seen: Vec<&str> = r.offered.iter().map(|o| o.id.as_str()).chain(r.skipped.iter().map(|s| s.id.as_str())).collect();
            seen.sort();
            seen.dedup();
            prop_assert_eq!(seen.len(), pool.len());
            for o in &r.offered {
                let n = pool.iter().find(|n| n.id == o.id).expect("offered from the pool");
                prop_assert!(n.used_today < o.cap);
                prop_assert!(n.status != NumberStatus::Released);
                prop_assert!(n.status != NumberStatus::Resting || n.rest_until_ms.is_some_and(|u| now >= u));
            }
            prop_assert!(r.offered.windows(2).all(|w| w[0].locality <= w[1].locality));
        }
    }
}
