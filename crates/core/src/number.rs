//! Phone numbers at the edge: validated against libphonenumber's numbering-plan metadata (as
//! shipped by the `phonenumber` crate), then handed to the core as a plain digit string plus
//! the country calling code.
//!
//! Input must be in international form. The plan patterns are compiled once into regular
//! expressions of our own, because the crate's parser and its shared 100-entry regex cache
//! cost tens to hundreds of microseconds per number under varied traffic — more than a
//! whole routing decision.

use phonenumber::Type;
use phonenumber::metadata::DATABASE;
use regex::{Regex, RegexBuilder};
use serde::Serialize;
use std::collections::HashMap;
use std::fmt;
use std::sync::OnceLock;

/// A validated E.164 number. Inside the routing core only the digits (no `+`) are used: the
/// prefix index walks them one at a time.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct E164 {
    digits: String,
    country_code: u16,
    region: Option<String>,
}

impl E164 {
    /// The digits without the leading `+`.
    pub fn digits(&self) -> &str {
        &self.digits
    }

    /// The country calling code (1 for NANP, 44 for the UK…), used to key per-country health.
    pub fn country_code(&self) -> u16 {
        self.country_code
    }

    /// The ISO 3166 region the number belongs to, when the numbering plan names one.
    pub fn region(&self) -> Option<&str> {
        self.region.as_deref()
    }
}

impl fmt::Display for E164 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "+{}", self.digits)
    }
}

/// Why a string is not a usable phone number; the message is meant for the end user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NumberError {
    /// Nothing that looks like a number.
    #[error("{input:?} is not a phone number: {reason}")]
    Unparsable {
        /// What was given.
        input: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Parsed, but no numbering plan of its country allows it.
    #[error(
        "{input:?} is not a valid number in country code +{country_code}: no numbering plan of that country matches it"
    )]
    Invalid {
        /// What was given.
        input: String,
        /// The country calling code it was read with.
        country_code: u16,
    },
}

/// One region's numbering plan, compiled.
struct RegionPlan {
    region: String,
    lengths: Vec<u16>,
    general: Regex,
    kinds: Vec<Regex>,
}

/// The number types libphonenumber counts as valid.
const VALID_TYPES: [Type; 10] = [
    Type::FixedLine,
    Type::Mobile,
    Type::TollFree,
    Type::PremiumRate,
    Type::SharedCost,
    Type::PersonalNumber,
    Type::Voip,
    Type::Pager,
    Type::Uan,
    Type::Voicemail,
];

/// The metadata's patterns are written with insignificant whitespace.
fn anchored(pattern: &str) -> Option<Regex> {
    RegexBuilder::new(&format!("^(?:{pattern})$"))
        .ignore_whitespace(true)
        .build()
        .ok()
}

fn plans() -> &'static HashMap<u16, Vec<RegionPlan>> {
    static PLANS: OnceLock<HashMap<u16, Vec<RegionPlan>>> = OnceLock::new();
    PLANS.get_or_init(|| {
        let mut map: HashMap<u16, Vec<RegionPlan>> = HashMap::new();
        for meta in DATABASE.iter() {
            let d = meta.descriptors();
            let Some(general) = anchored(d.general().national_number().as_str()) else {
                continue;
            };
            let kinds = VALID_TYPES
                .iter()
                .filter_map(|t| d.get(*t))
                .filter_map(|desc| anchored(desc.national_number().as_str()))
                .collect();
            let plan = RegionPlan {
                region: meta.id().to_string(),
                lengths: d.general().possible_length().to_vec(),
                general,
                kinds,
            };
            // The main country of a shared code (US for +1) is tried first.
            let entry = map.entry(meta.country_code()).or_default();
            if meta.is_main_country_for_code() {
                entry.insert(0, plan);
            } else {
                entry.push(plan);
            }
        }
        map
    })
}

/// NANP area codes and the state or province each serves (`npa,region`; other NANP
/// countries as `=XX`), from NANPA's NPA database (see `data/nanp/NOTICE`).
const NPA_REGIONS: &str = include_str!("../data/nanp/npa_regions.csv");

/// The US state or Canadian province (`NY`, `ON`) a NANP area code serves; `None` for
/// non-geographic codes and for the other NANP countries (their ISO country says it).
pub fn nanp_region(area_code: &str) -> Option<&'static str> {
    static MAP: OnceLock<HashMap<&'static str, &'static str>> = OnceLock::new();
    MAP.get_or_init(|| {
        NPA_REGIONS
            .lines()
            .skip(1)
            .filter_map(|line| line.split_once(','))
            .filter(|(_, region)| !region.starts_with('='))
            .collect()
    })
    .get(area_code)
    .copied()
}

/// The country calling code of an ISO 3166 region (`US` → 1, `GB` → 44), from
/// libphonenumber's metadata.
pub fn calling_code(region: &str) -> Option<u16> {
    DATABASE
        .by_id(&region.to_ascii_uppercase())
        .map(|m| m.country_code())
}

/// Compiles the numbering plans now rather than on the first number (a service calls this
/// at start-up so no request pays for it).
pub fn preload_numbering_plans() {
    plans();
}

/// Parses a number in international form (`+14155550100`; the `+` may be left out; spaces,
/// dots, dashes and brackets are ignored) and checks it against its country's numbering plan.
pub fn parse_e164(input: &str) -> Result<E164, NumberError> {
    let unparsable = |reason: &str| NumberError::Unparsable {
        input: input.to_string(),
        reason: reason.to_string(),
    };
    let trimmed = input.trim();
    let body = trimmed.strip_prefix('+').unwrap_or(trimmed);
    let mut digits = String::with_capacity(body.len());
    for c in body.chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '-' | '.' | '(' | ')' => {}
            _ => {
                return Err(unparsable(
                    "only digits, spaces, dots, dashes and brackets may follow the +",
                ));
            }
        }
    }
    if digits.len() < 4 {
        return Err(unparsable("too short"));
    }
    if digits.len() > 15 {
        return Err(unparsable("longer than the 15 digits E.164 allows"));
    }
    if digits.starts_with('0') {
        return Err(unparsable(
            "write it in international form, starting with the country code",
        ));
    }
    let plans = plans();
    // Country calling codes are prefix-free: at most one of the 1–3 digit prefixes is one.
    let (country_code, national, regions) = (1..=3)
        .filter_map(|len| {
            let cc: u16 = digits.get(..len)?.parse().ok()?;
            plans.get(&cc).map(|r| (cc, &digits[len..], r))
        })
        .next()
        .ok_or_else(|| unparsable("it starts with no known country calling code"))?;
    let len = national.len() as u16;
    let region = regions.iter().find(|p| {
        (p.lengths.is_empty() || p.lengths.contains(&len))
            && p.general.is_match(national)
            && p.kinds.iter().any(|k| k.is_match(national))
    });
    match region {
        Some(plan) => Ok(E164 {
            country_code,
            region: (plan.region != "001").then(|| plan.region.clone()),
            digits,
        }),
        None => Err(NumberError::Invalid {
            input: input.to_string(),
            country_code,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nanp_area_codes_by_state() {
        assert_eq!(nanp_region("212"), Some("NY"));
        assert_eq!(nanp_region("332"), Some("NY"));
        assert_eq!(nanp_region("416"), Some("ON"));
        assert_eq!(nanp_region("787"), Some("PR"));
        assert_eq!(
            nanp_region("876"),
            None,
            "Jamaica is a country, not a state"
        );
        assert_eq!(nanp_region("800"), None, "toll free is not geographic");
    }

    #[test]
    fn calling_codes_by_region() {
        assert_eq!(calling_code("US"), Some(1));
        assert_eq!(calling_code("gb"), Some(44));
        assert_eq!(calling_code("DE"), Some(49));
        assert_eq!(calling_code("XX"), None);
    }

    #[test]
    fn parses_with_and_without_plus() {
        let a = parse_e164("+44 20 7946 0958").expect("uk number");
        assert_eq!(a.digits(), "442079460958");
        assert_eq!(a.country_code(), 44);
        assert_eq!(a.region(), Some("GB"));
        let b = parse_e164("14155552671").expect("us number");
        assert_eq!(b.to_string(), "+14155552671");
        assert_eq!(b.country_code(), 1);
        assert_eq!(b.region(), Some("US"));
        assert_eq!(
            parse_e164("+1 (416) 555-0123").expect("canada").region(),
            Some("CA")
        );
        // 07911 1xxxxx is a Guernsey mobile range in the numbering plan, though it is +44.
        assert_eq!(
            parse_e164("+447911123456").expect("+44 mobile").region(),
            Some("GG")
        );
        assert_eq!(
            parse_e164("+447400123456").expect("uk mobile").region(),
            Some("GB")
        );
        assert_eq!(
            parse_e164("+919812345678").expect("india").country_code(),
            91
        );
    }

    #[test]
    fn rejects_garbage_and_invalid_numbers_with_a_reason() {
        let err = parse_e164("hello").expect_err("not a number");
        assert!(err.to_string().contains("not a phone number"), "{err}");
        let err = parse_e164("+1 000 000 0000").expect_err("invalid NANP number");
        assert!(err.to_string().contains("+1"), "{err}");
        let err = parse_e164("+44791").expect_err("too short for the UK");
        assert!(
            matches!(
                err,
                NumberError::Invalid {
                    country_code: 44,
                    ..
                }
            ),
            "{err}"
        );
        assert!(parse_e164("+2999999999").is_err());
        assert!(
            parse_e164("0207 946 0958").is_err(),
            "national form is refused"
        );
        assert!(parse_e164("+1234567890123456").is_err());
    }

    #[test]
    fn agrees_with_the_phonenumber_crate_on_samples() {
        let samples = [
            "+447911123456",
            "+442079460958",
            "+14155552671",
            "+4915112345678",
            "+33612345678",
            "+919812345678",
            "+61412345678",
            "+5511987654321",
            "+8613812345678",
            "+27821234567",
            "+12015550123",
            "+18005550199",
            "+447700900123",
            "+23276123456",
            "+4930123456",
            "+39061234567",
            "+390612345678",
            "+3531234567",
            "+97150123456",
            "+6591234567",
        ];
        for s in samples {
            let ours = parse_e164(s).is_ok();
            let theirs = phonenumber::parse(None, s)
                .map(|n| phonenumber::is_valid(&n))
                .unwrap_or(false);
            assert_eq!(ours, theirs, "{s}");
        }
    }
}
