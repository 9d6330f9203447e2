//! Phone numbers at the edge: parsed and validated with `phonenumber` (libphonenumber's
//! metadata), then handed to the core as a plain digit string plus the country calling code.

use serde::Serialize;
use std::fmt;

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
        /// What the parser objected to.
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

/// Parses a number in international form (`+14155550100`; the `+` may be left out, spaces,
/// dots, dashes and brackets are ignored) and checks it against the numbering plan.
pub fn parse_e164(input: &str) -> Result<E164, NumberError> {
    let trimmed = input.trim();
    let international = if trimmed.starts_with('+') {
        trimmed.to_string()
    } else {
        format!("+{trimmed}")
    };
    let parsed = phonenumber::parse(None, &international).map_err(|e| NumberError::Unparsable {
        input: input.to_string(),
        reason: e.to_string(),
    })?;
    let country_code = parsed.code().value();
    if !phonenumber::is_valid(&parsed) {
        return Err(NumberError::Invalid {
            input: input.to_string(),
            country_code,
        });
    }
    let formatted = parsed.format().mode(phonenumber::Mode::E164).to_string();
    let digits: String = formatted.chars().filter(char::is_ascii_digit).collect();
    let region = parsed.country().id().map(|id| format!("{id:?}"));
    Ok(E164 {
        digits,
        country_code,
        region,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_with_and_without_plus() {
        let a = parse_e164("+44 20 7946 0958").expect("uk number");
        assert_eq!(a.digits(), "442079460958");
        assert_eq!(a.country_code(), 44);
        assert_eq!(a.region(), Some("GB"));
        let b = parse_e164("14155552671").expect("us number");
        assert_eq!(b.to_string(), "+14155552671");
        assert_eq!(b.country_code(), 1);
    }

    #[test]
    fn rejects_garbage_and_invalid_numbers_with_a_reason() {
        let err = parse_e164("hello").expect_err("not a number");
        assert!(err.to_string().contains("not a phone number"), "{err}");
        let err = parse_e164("+1 000 000 0000").expect_err("invalid NANP number");
        assert!(err.to_string().contains("+1"), "{err}");
    }
}
