//! Streaming import of rate-deck CSV files as vendors send them: auto-detected delimiter and
//! headers, quoted fields, a BOM, extra and status columns, and an error for every bad cell
//! naming its line, column and reason.

use super::RateRow;
use super::columns::{ColumnMapping, Field, Layout};
use super::values::{Increment, parse_amount, parse_instant, parse_seconds};
use crate::money::Currency;
use serde::Serialize;
use std::fmt;
use std::io::{BufRead, BufReader, Read};

/// How to read a deck file.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// Fields mapped to columns by the caller; the rest are detected from the header.
    pub mapping: ColumnMapping,
    /// `None` detects `,`, `;` or tab from the first line.
    pub delimiter: Option<u8>,
    /// Whether the first line is a header row (needed for detection).
    pub has_header: bool,
    /// Currency of rows without a currency column.
    pub default_currency: Currency,
    /// Increment of rows without increment columns.
    pub default_increment: Increment,
    /// Import the valid rows and report every skipped line instead of refusing the file.
    pub skip_invalid: bool,
    /// How many row errors to keep in detail (all are counted).
    pub max_errors: usize,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            mapping: ColumnMapping::default(),
            delimiter: None,
            has_header: true,
            default_currency: Currency::USD,
            default_increment: Increment::PER_MINUTE,
            skip_invalid: false,
            max_errors: 1000,
        }
    }
}

/// A problem with one cell or row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    /// 1-based line of the file.
    pub line: u64,
    /// The column, as `position (header)`, when one cell is at fault.
    pub column: Option<String>,
    /// What is wrong, in words.
    pub reason: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.column {
            Some(c) => write!(f, "line {}, column {}: {}", self.line, c, self.reason),
            None => write!(f, "line {}: {}", self.line, self.reason),
        }
    }
}

/// Why a deck file was refused as a whole.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    /// The bytes could not be read (I/O error or invalid CSV framing).
    #[error("could not read the deck: {0}")]
    Read(String),
    /// The header row does not say where the required fields are.
    #[error("deck header: {0}")]
    Layout(String),
    /// The file holds no priced row.
    #[error("the deck holds no rows")]
    Empty,
    /// Some rows are invalid and skipping was not asked for: nothing is imported.
    #[error("{total} invalid row(s), nothing imported; first: {}", .errors.first().map(ToString::to_string).unwrap_or_default())]
    Invalid {
        /// The first `max_errors` problems, in file order.
        errors: Vec<RowError>,
        /// How many problems there were in all.
        total: usize,
    },
}

/// The outcome of a successful import.
#[derive(Debug, Clone, Serialize)]
pub struct ImportReport {
    /// The rows, in file order, exact duplicates removed.
    pub rows: Vec<RateRow>,
    /// Lines left out because they were invalid (only with `skip_invalid`).
    pub skipped: Vec<RowError>,
    /// How many lines were left out in all (may exceed `skipped.len()`).
    pub skipped_total: usize,
    /// Rows marked closed/deleted by a status column.
    pub closed_rows: usize,
    /// Rows that repeated an earlier row exactly and were dropped.
    pub duplicate_rows: usize,
    /// The delimiter that was used.
    pub delimiter: char,
}

/// Reads a deck from any byte stream, one record at a time.
pub fn import_csv<R: Read>(input: R, options: &ImportOptions) -> Result<ImportReport, ImportError> {
    let mut buffered = BufReader::with_capacity(1 << 16, input);
    let head = buffered
        .fill_buf()
        .map_err(|e| ImportError::Read(e.to_string()))?;
    let bom = head.starts_with(b"\xEF\xBB\xBF");
    let body = if bom { &head[3..] } else { head };
    let delimiter = options.delimiter.unwrap_or_else(|| sniff_delimiter(body));
    if bom {
        buffered.consume(3);
    }
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(buffered);

    let mut sink = ErrorSink::new(options.max_errors);
    let mut rows: Vec<RateRow> = Vec::new();
    let mut closed_rows = 0usize;
    let mut layout: Option<Layout> = None;
    let mut record = csv::StringRecord::new();
    let mut header_pending = options.has_header;
    loop {
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                match e.kind() {
                    csv::ErrorKind::Utf8 { .. } => {
                        sink.push(RowError {
                            line,
                            column: None,
                            reason: "the line is not valid UTF-8: save the deck as UTF-8".into(),
                        });
                        continue;
                    }
                    _ => return Err(ImportError::Read(format!("line {line}: {e}"))),
                }
            }
        }
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        if record.iter().all(str::is_empty) {
            continue;
        }
        if header_pending {
            header_pending = false;
            let names: Vec<String> = record.iter().map(str::to_string).collect();
            layout = Some(
                Layout::resolve(Some(&names), names.len(), &options.mapping)
                    .map_err(ImportError::Layout)?,
            );
            continue;
        }
        let layout = match &mut layout {
            Some(l) => l,
            None => layout.insert(
                Layout::resolve(None, record.len(), &options.mapping)
                    .map_err(ImportError::Layout)?,
            ),
        };
        let cells = Cells {
            record: &record,
            layout,
            line,
        };
        match parse_row(&cells, options, delimiter != b',') {
            Ok(Some(row)) => {
                closed_rows += usize::from(row.closed);
                rows.push(row);
            }
            Ok(None) => {}
            Err(e) => sink.push(e),
        }
    }
    let duplicate_rows = check_overlaps(&mut rows, &mut sink);
    if sink.total > 0 && !options.skip_invalid {
        return Err(ImportError::Invalid {
            errors: sink.kept,
            total: sink.total,
        });
    }
    if rows.is_empty() {
        return Err(ImportError::Empty);
    }
    Ok(ImportReport {
        rows,
        skipped: sink.kept,
        skipped_total: sink.total,
        closed_rows,
        duplicate_rows,
        delimiter: char::from(delimiter),
    })
}

/// Picks the candidate delimiter seen most often outside quotes on the first line.
fn sniff_delimiter(head: &[u8]) -> u8 {
    let first_line = head.split(|b| *b == b'\n').next().unwrap_or(head);
    let mut counts = [0usize; 3];
    let mut quoted = false;
    for b in first_line {
        match b {
            b'"' => quoted = !quoted,
            b',' if !quoted => counts[0] += 1,
            b';' if !quoted => counts[1] += 1,
            b'\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let candidates = [b',', b';', b'\t'];
    let best = (0..3).max_by_key(|i| (counts[*i], 3 - i)).unwrap_or(0);
    candidates[best]
}

struct ErrorSink {
    kept: Vec<RowError>,
    total: usize,
    max: usize,
}

impl ErrorSink {
    fn new(max: usize) -> Self {
        ErrorSink {
            kept: Vec::new(),
            total: 0,
            max,
        }
    }

    fn push(&mut self, e: RowError) {
        self.total += 1;
        if self.kept.len() < self.max {
            self.kept.push(e);
        }
    }
}

struct Cells<'a> {
    record: &'a csv::StringRecord,
    layout: &'a Layout,
    line: u64,
}

impl Cells<'_> {
    /// The trimmed cell of `field`, `None` when the file has no such column or the cell is
    /// empty.
    fn get(&self, field: Field) -> Option<(&str, usize)> {
        let col = self.layout.column(field)?;
        let v = self.record.get(col)?;
        (!v.is_empty()).then_some((v, col))
    }

    fn error(&self, col: usize, field: Field, reason: impl Into<String>) -> RowError {
        RowError {
            line: self.line,
            column: Some(format!("{} [{}]", self.layout.describe(col), field)),
            reason: reason.into(),
        }
    }

    fn missing(&self, field: Field) -> RowError {
        match self.layout.column(field) {
            Some(col) => self.error(col, field, format!("the {field} is empty")),
            None => RowError {
                line: self.line,
                column: None,
                reason: format!("the row has no {field}"),
            },
        }
    }

    fn parse<T>(
        &self,
        field: Field,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Result<Option<T>, RowError> {
        match self.get(field) {
            None => Ok(None),
            Some((v, col)) => parse(v).map(Some).map_err(|r| self.error(col, field, r)),
        }
    }
}

const OPEN_STATUS: &[&str] = &[
    "active",
    "new",
    "increase",
    "increased",
    "decrease",
    "decreased",
    "unchanged",
    "current",
    "change",
    "changed",
    "same",
    "ok",
];
const CLOSED_STATUS: &[&str] = &[
    "closed",
    "close",
    "deleted",
    "delete",
    "removed",
    "inactive",
    "blocked",
    "discontinued",
    "disabled",
    "expired",
];

fn parse_status(v: &str) -> Result<bool, String> {
    let s = v.trim().to_ascii_lowercase();
    if OPEN_STATUS.contains(&s.as_str()) {
        Ok(false)
    } else if CLOSED_STATUS.contains(&s.as_str()) {
        Ok(true)
    } else {
        Err(format!(
            "unknown status {v:?}: expected active, new, increase, decrease, unchanged, or closed, deleted, blocked"
        ))
    }
}

/// Dial-code digits, or `*` for a flat price that covers every destination (email and
/// other channels priced without prefixes; an empty cell stays an error).
fn parse_prefix(v: &str) -> Result<String, String> {
    if v == "*" {
        return Ok(String::new());
    }
    let digits = v.strip_prefix('+').unwrap_or(v);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("prefix {v:?} is not made of digits"));
    }
    if digits.len() > 15 {
        return Err(format!(
            "prefix {v:?} is longer than an E.164 number (15 digits)"
        ));
    }
    Ok(digits.to_string())
}

/// Parses one data row; `Ok(None)` never happens for data rows but keeps room for rows that
/// are deliberately ignored.
fn parse_row(
    cells: &Cells<'_>,
    options: &ImportOptions,
    comma_is_decimal: bool,
) -> Result<Option<RateRow>, RowError> {
    let prefix = cells
        .parse(Field::Prefix, parse_prefix)?
        .ok_or_else(|| cells.missing(Field::Prefix))?;
    let closed = cells.parse(Field::Status, parse_status)?.unwrap_or(false);
    let amount = |v: &str| parse_amount(v, comma_is_decimal);
    let rate = match cells.parse(Field::Rate, amount)? {
        Some(r) => r,
        None if closed => rust_decimal::Decimal::ZERO,
        None => return Err(cells.missing(Field::Rate)),
    };
    let increment = match cells.parse(Field::Increment, |v| {
        v.parse::<Increment>().map_err(|e| e.to_string())
    })? {
        Some(i) => i,
        None => {
            let secs = |v: &str| {
                parse_seconds(v).ok_or_else(|| {
                    format!("bad increment {v:?}: expected whole seconds from 1 to 3600")
                })
            };
            let initial = cells.parse(Field::InitialIncrement, secs)?;
            let subsequent = cells.parse(Field::SubsequentIncrement, secs)?;
            Increment {
                initial: initial.unwrap_or(options.default_increment.initial),
                subsequent: subsequent.unwrap_or(options.default_increment.subsequent),
            }
        }
    };
    let min_duration = cells
        .parse(Field::MinDuration, |v| {
            v.trim()
                .parse::<u32>()
                .ok()
                .filter(|s| *s <= 86_400)
                .ok_or_else(|| format!("bad minimum duration {v:?}: expected whole seconds"))
        })?
        .unwrap_or(0);
    let effective_from = cells.parse(Field::EffectiveFrom, parse_instant)?;
    let effective_to = cells.parse(Field::EffectiveTo, parse_instant)?;
    if let (Some(from), Some(to)) = (effective_from, effective_to)
        && to <= from
    {
        let col = cells.layout.column(Field::EffectiveTo).unwrap_or(0);
        return Err(cells.error(
            col,
            Field::EffectiveTo,
            format!("effective-to {to} is not after effective-from {from}"),
        ));
    }
    let currency = cells
        .parse(Field::Currency, |v| {
            v.parse::<Currency>().map_err(|e| e.to_string())
        })?
        .unwrap_or(options.default_currency);
    Ok(Some(RateRow {
        prefix,
        destination: cells
            .get(Field::Destination)
            .map(|(v, _)| v.to_string())
            .unwrap_or_default(),
        rate,
        connection_fee: cells
            .parse(Field::ConnectionFee, amount)?
            .unwrap_or_default(),
        increment,
        min_duration,
        attachment_fee: cells
            .parse(Field::AttachmentFee, amount)?
            .unwrap_or_default(),
        effective_from,
        effective_to,
        currency,
        closed,
        line: cells.line,
    }))
}

/// Finds rows repeating a prefix in an overlapping effective window. Exact repeats are
/// dropped (and counted); differing ones are errors on the later line and are removed.
fn check_overlaps(rows: &mut Vec<RateRow>, sink: &mut ErrorSink) -> usize {
    let mut order: Vec<u32> = (0..rows.len() as u32).collect();
    order.sort_unstable_by(|a, b| {
        rows[*a as usize]
            .prefix
            .cmp(&rows[*b as usize].prefix)
            .then(a.cmp(b))
    });
    let mut drop = vec![false; rows.len()];
    let mut conflicts: Vec<RowError> = Vec::new();
    let mut duplicates = 0;
    let mut start = 0;
    while start < order.len() {
        let prefix = &rows[order[start] as usize].prefix;
        let mut end = start + 1;
        while end < order.len() && rows[order[end] as usize].prefix == *prefix {
            end += 1;
        }
        for j in start + 1..end {
            let later = &rows[order[j] as usize];
            for &i in &order[start..j] {
                let earlier = &rows[i as usize];
                if drop[i as usize] || !windows_overlap(earlier, later) {
                    continue;
                }
                if same_price(earlier, later) {
                    duplicates += 1;
                } else {
                    conflicts.push(RowError {
                        line: later.line,
                        column: None,
                        reason: format!(
                            "prefix {} is already priced on line {} ({} {}) for an overlapping effective period; this line says {} {}",
                            later.prefix, earlier.line, earlier.rate, earlier.currency, later.rate, later.currency
                        ),
                    });
                }
                drop[order[j] as usize] = true;
                break;
            }
        }
        start = end;
    }
    conflicts.sort_by_key(|e| e.line);
    for c in conflicts {
        sink.push(c);
    }
    let mut idx = 0;
    rows.retain(|_| {
        let keep = !drop[idx];
        idx += 1;
        keep
    });
    duplicates
}

fn windows_overlap(a: &RateRow, b: &RateRow) -> bool {
    let start = |r: &RateRow| r.effective_from.map_or(i64::MIN, |t| t.timestamp());
    let end = |r: &RateRow| r.effective_to.map_or(i64::MAX, |t| t.timestamp());
    start(a) < end(b) && start(b) < end(a)
}

fn same_price(a: &RateRow, b: &RateRow) -> bool {
    a.rate == b.rate
        && a.connection_fee == b.connection_fee
        && a.increment == b.increment
        && a.min_duration == b.min_duration
        && a.currency == b.currency
        && a.attachment_fee == b.attachment_fee
        && a.closed == b.closed
}

#[cfg(test)]
mod tests;
