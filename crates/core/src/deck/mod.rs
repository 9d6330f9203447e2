//! Rate decks: what each provider charges per destination prefix and channel, and how
//! deck files are read.

mod columns;
mod csv_import;
mod values;

pub use columns::{ColumnMapping, ColumnRef, Field};
pub use csv_import::{ImportError, ImportOptions, ImportReport, RowError, import_csv};
pub use values::{Increment, IncrementError};

use crate::channel::Channel;
use crate::money::Currency;
use crate::provider::ProviderId;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// One priced destination of a deck.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RateRow {
    /// Dial-code digits; empty for a flat price that covers every destination.
    pub prefix: String,
    /// Human name of the destination ("United Kingdom - Mobile").
    pub destination: String,
    /// Price of one unit: per minute (voice), per segment (SMS/MMS), per message
    /// (WhatsApp/RVM) or per 1,000 (email).
    #[serde(with = "rust_decimal::serde::str")]
    pub rate: Decimal,
    /// Charged once per answered call (or per message) on top of the rate.
    #[serde(with = "rust_decimal::serde::str")]
    pub connection_fee: Decimal,
    /// Billing increments for voice; ignored on other channels.
    pub increment: Increment,
    /// Shortest duration billed for an answered call, in seconds.
    pub min_duration: u32,
    /// Per-attachment surcharge for email; zero elsewhere.
    #[serde(with = "rust_decimal::serde::str")]
    pub attachment_fee: Decimal,
    /// Row-level start of validity; `None` means the deck version's start.
    pub effective_from: Option<DateTime<Utc>>,
    /// Row-level end of validity (exclusive); `None` means until superseded.
    pub effective_to: Option<DateTime<Utc>>,
    /// Currency of the rate and fees.
    pub currency: Currency,
    /// The provider stopped serving this prefix (a `closed`/`deleted` status row): numbers
    /// under it have no route on this provider even when a shorter prefix is priced.
    pub closed: bool,
    /// Line of the source file the row came from (0 when built in code), for error reports.
    pub line: u64,
}

impl RateRow {
    /// A row with the given prefix and rate, defaults elsewhere (60/60, no fees, USD).
    pub fn new(prefix: impl Into<String>, rate: Decimal) -> Self {
        RateRow {
            prefix: prefix.into(),
            destination: String::new(),
            rate,
            connection_fee: Decimal::ZERO,
            increment: Increment::PER_MINUTE,
            min_duration: 0,
            attachment_fee: Decimal::ZERO,
            effective_from: None,
            effective_to: None,
            currency: Currency::USD,
            closed: false,
            line: 0,
        }
    }
}

/// One version of one provider's prices for one channel. A later version supersedes an
/// earlier one entirely from its `effective_from`, so a new deck can be scheduled in advance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Deck {
    /// Whose prices these are.
    pub provider: ProviderId,
    /// For which channel.
    pub channel: Channel,
    /// When this version takes effect.
    pub effective_from: DateTime<Utc>,
    /// The rows.
    pub rows: Vec<RateRow>,
}

impl Deck {
    /// A flat price for providers without prefix decks (email, AI platforms): one row with an
    /// empty prefix, which matches every destination.
    pub fn flat(
        provider: ProviderId,
        channel: Channel,
        rate: Decimal,
        currency: Currency,
        effective_from: DateTime<Utc>,
    ) -> Self {
        let mut row = RateRow::new("", rate);
        row.currency = currency;
        row.destination = "any destination".to_string();
        row.increment = Increment::PER_SECOND;
        Deck {
            provider,
            channel,
            effective_from,
            rows: vec![row],
        }
    }
}
