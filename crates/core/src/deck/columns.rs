//! Which column of a deck file holds which field: detected from common header names, or
//! given explicitly by the caller.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// A field of a rate row that a deck column can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// Dial code.
    Prefix,
    /// Destination name.
    Destination,
    /// Price per unit.
    Rate,
    /// Per-call fee.
    ConnectionFee,
    /// Both increments in one cell (`60/60`).
    Increment,
    /// First increment alone.
    InitialIncrement,
    /// Later increments alone.
    SubsequentIncrement,
    /// Minimum billed duration.
    MinDuration,
    /// Start of validity.
    EffectiveFrom,
    /// End of validity.
    EffectiveTo,
    /// Currency code.
    Currency,
    /// Row status (active, new, increase, closed, deleted…).
    Status,
    /// Email attachment surcharge.
    AttachmentFee,
}

impl Field {
    const ALL: [Field; 13] = [
        Field::Prefix,
        Field::Destination,
        Field::Rate,
        Field::ConnectionFee,
        Field::Increment,
        Field::InitialIncrement,
        Field::SubsequentIncrement,
        Field::MinDuration,
        Field::EffectiveFrom,
        Field::EffectiveTo,
        Field::Currency,
        Field::Status,
        Field::AttachmentFee,
    ];

    /// Normalised header names (lowercase letters and digits only) that mean this field, most
    /// specific first.
    fn aliases(self) -> &'static [&'static str] {
        match self {
            Field::Prefix => &[
                "prefix",
                "dialcode",
                "dialingcode",
                "dialprefix",
                "code",
                "destinationcode",
                "areacode",
            ],
            Field::Destination => &[
                "destination",
                "description",
                "destinationname",
                "name",
                "dest",
                "zone",
                "country",
            ],
            Field::Rate => &[
                "rate",
                "price",
                "cost",
                "rateperminute",
                "ratepermin",
                "perminute",
                "ratepersegment",
                "pricepermessage",
                "ratepermessage",
            ],
            Field::ConnectionFee => &[
                "connectionfee",
                "setupfee",
                "connectfee",
                "connectioncharge",
                "connection",
                "setup",
            ],
            Field::Increment => &[
                "increment",
                "increments",
                "billingincrement",
                "billing",
                "interval",
                "billinginterval",
                "pulse",
            ],
            Field::InitialIncrement => &[
                "initialincrement",
                "firstincrement",
                "initial",
                "minincrement",
                "initialinterval",
                "firstinterval",
                "initialpulse",
            ],
            Field::SubsequentIncrement => &[
                "subsequentincrement",
                "nextincrement",
                "subsequent",
                "additionalincrement",
                "subsequentinterval",
                "nextinterval",
                "subsequentpulse",
            ],
            Field::MinDuration => &[
                "minduration",
                "minimumduration",
                "minimum",
                "mindur",
                "minimumseconds",
            ],
            Field::EffectiveFrom => &[
                "effectivefrom",
                "effectivedate",
                "effective",
                "validfrom",
                "startdate",
                "from",
            ],
            Field::EffectiveTo => &["effectiveto", "enddate", "validto", "expires", "expirydate"],
            Field::Currency => &["currency", "curr", "ccy"],
            Field::Status => &["status", "change", "changetype", "action", "state"],
            Field::AttachmentFee => &["attachmentfee", "perattachment", "attachmentsurcharge"],
        }
    }

    /// Header names that start with one of these also mean the field ("Rate (USD/min)",
    /// "Price per SMS").
    fn alias_stems(self) -> &'static [&'static str] {
        match self {
            Field::Rate => &["rate", "price"],
            Field::ConnectionFee => &["connectionfee", "setupfee"],
            Field::Destination => &["destination"],
            _ => &[],
        }
    }

    /// The name used in mappings and error messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Field::Prefix => "prefix",
            Field::Destination => "destination",
            Field::Rate => "rate",
            Field::ConnectionFee => "connection_fee",
            Field::Increment => "increment",
            Field::InitialIncrement => "initial_increment",
            Field::SubsequentIncrement => "subsequent_increment",
            Field::MinDuration => "min_duration",
            Field::EffectiveFrom => "effective_from",
            Field::EffectiveTo => "effective_to",
            Field::Currency => "currency",
            Field::Status => "status",
            Field::AttachmentFee => "attachment_fee",
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A column named by its header text or by its 1-based position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ColumnRef {
    /// 1-based column number.
    Position(usize),
    /// Header text, compared case-insensitively.
    Name(String),
}

/// An explicit mapping from fields to columns. Fields left out are still detected from the
/// header when the file has one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnMapping(pub BTreeMap<Field, ColumnRef>);

/// The resolved column index (0-based) of every field present in the file, plus the column
/// names for error messages.
#[derive(Debug, Clone)]
pub(super) struct Layout {
    index: [Option<usize>; Field::ALL.len()],
    names: Vec<String>,
}

impl Layout {
    pub(super) fn column(&self, field: Field) -> Option<usize> {
        self.index[field as usize]
    }

    /// How a column is called in an error: its header text and position.
    pub(super) fn describe(&self, column: usize) -> String {
        match self.names.get(column).filter(|n| !n.trim().is_empty()) {
            Some(name) => format!("{} ({})", column + 1, name.trim()),
            None => format!("{}", column + 1),
        }
    }

    /// Resolves the mapping against the header row (if any). Explicit entries win; the rest
    /// are detected by alias. Fails when a required field has no column or an explicit
    /// reference points nowhere.
    pub(super) fn resolve(
        header: Option<&[String]>,
        width: usize,
        mapping: &ColumnMapping,
    ) -> Result<Layout, String> {
        let names: Vec<String> = header.map(<[String]>::to_vec).unwrap_or_default();
        let mut index = [None; Field::ALL.len()];
        let mut taken = vec![false; width.max(names.len())];
        for (field, col) in &mapping.0 {
            let pos = match col {
                ColumnRef::Position(p) if *p >= 1 && *p <= taken.len() => p - 1,
                ColumnRef::Position(p) => {
                    return Err(format!(
                        "mapping for {field}: column {p} does not exist (the file has {} columns)",
                        taken.len()
                    ));
                }
                ColumnRef::Name(n) => names
                    .iter()
                    .position(|h| h.trim().eq_ignore_ascii_case(n.trim()))
                    .ok_or_else(|| format!("mapping for {field}: no column is headed {n:?}"))?,
            };
            index[*field as usize] = Some(pos);
            taken[pos] = true;
        }
        if header.is_some() {
            let normalised: Vec<String> = names.iter().map(|h| normalise(h)).collect();
            for field in Field::ALL {
                if index[field as usize].is_some() {
                    continue;
                }
                let found = field
                    .aliases()
                    .iter()
                    .find_map(|alias| free_column(&normalised, &taken, |h| h == *alias))
                    .or_else(|| {
                        field.alias_stems().iter().find_map(|stem| {
                            free_column(&normalised, &taken, |h| h.starts_with(stem))
                        })
                    });
                if let Some(pos) = found {
                    index[field as usize] = Some(pos);
                    taken[pos] = true;
                }
            }
        }
        for required in [Field::Prefix, Field::Rate] {
            if index[required as usize].is_none() {
                let looked: Vec<&str> = required.aliases().iter().take(4).copied().collect();
                return Err(format!(
                    "no column for {required}: looked for a header such as {}; pass an explicit column mapping",
                    looked.join(", ")
                ));
            }
        }
        Ok(Layout { index, names })
    }
}

fn free_column(headers: &[String], taken: &[bool], want: impl Fn(&str) -> bool) -> Option<usize> {
    headers
        .iter()
        .enumerate()
        .find(|(i, h)| !taken.get(*i).copied().unwrap_or(true) && want(h))
        .map(|(i, _)| i)
}

fn normalise(header: &str) -> String {
    header
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(cols: &[&str]) -> Vec<String> {
        cols.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn detects_common_vendor_headers() {
        let h = header(&[
            "Dial Code",
            "Description",
            "Rate (USD/min)",
            "Billing Increment",
            "Effective Date",
            "Notes",
        ]);
        let l = Layout::resolve(Some(&h), h.len(), &ColumnMapping::default()).expect("layout");
        assert_eq!(l.column(Field::Prefix), Some(0));
        assert_eq!(l.column(Field::Destination), Some(1));
        assert_eq!(l.column(Field::Rate), Some(2));
        assert_eq!(l.column(Field::Increment), Some(3));
        assert_eq!(l.column(Field::EffectiveFrom), Some(4));
        assert_eq!(l.column(Field::Status), None);
    }

    #[test]
    fn explicit_mapping_wins_and_is_checked() {
        let h = header(&["a", "b", "c"]);
        let mut m = ColumnMapping::default();
        m.0.insert(Field::Prefix, ColumnRef::Name("B".into()));
        m.0.insert(Field::Rate, ColumnRef::Position(3));
        let l = Layout::resolve(Some(&h), 3, &m).expect("layout");
        assert_eq!(l.column(Field::Prefix), Some(1));
        assert_eq!(l.column(Field::Rate), Some(2));
        m.0.insert(Field::Rate, ColumnRef::Position(9));
        let err = Layout::resolve(Some(&h), 3, &m).expect_err("column 9");
        assert!(err.contains("column 9 does not exist"), "{err}");
    }

    #[test]
    fn missing_rate_column_is_named() {
        let h = header(&["prefix", "destination"]);
        let err = Layout::resolve(Some(&h), 2, &ColumnMapping::default()).expect_err("no rate");
        assert!(err.contains("no column for rate"), "{err}");
    }
}
