//! Exact rating of finished events: what a call, message or email cost under a rate, with
//! connection fees, minimum durations and billing increments applied as carriers bill them.

mod cost_key;
mod segments;

pub use cost_key::{CostKey, to_nanos};
pub use segments::{Encoding, Segments, count_segments};

use crate::deck::{Increment, RateRow};
use crate::money::{Currency, Money};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// What was (or is expected to be) used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Usage {
    /// A call; unanswered calls cost nothing.
    Call {
        /// Whether it was answered.
        answered: bool,
        /// Talk time in seconds.
        duration_secs: u32,
    },
    /// A message: SMS/MMS segments, or 1 for a WhatsApp message or voicemail drop.
    Message {
        /// Billable units.
        segments: u32,
    },
    /// One email sent to some recipients.
    Email {
        /// Recipients (each is a billed message).
        recipients: u32,
        /// Attachments carried by each message.
        attachments: u32,
    },
}

/// The price terms rating needs, whatever they were read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Terms {
    /// Price per unit.
    pub rate: Decimal,
    /// Per call or per message fee.
    pub connection_fee: Decimal,
    /// Per attachment, per email message.
    pub attachment_fee: Decimal,
    /// Billing increments.
    pub increment: Increment,
    /// Minimum billed duration.
    pub min_duration: u32,
    /// Currency of the amounts.
    pub currency: Currency,
}

impl From<&RateRow> for Terms {
    fn from(r: &RateRow) -> Self {
        Terms {
            rate: r.rate,
            connection_fee: r.connection_fee,
            attachment_fee: r.attachment_fee,
            increment: r.increment,
            min_duration: r.min_duration,
            currency: r.currency,
        }
    }
}

impl Terms {
    /// Free terms in a currency (a placeholder that rates everything at zero).
    pub fn zero(currency: Currency) -> Self {
        Terms {
            rate: Decimal::ZERO,
            connection_fee: Decimal::ZERO,
            attachment_fee: Decimal::ZERO,
            increment: Increment::PER_SECOND,
            min_duration: 0,
            currency,
        }
    }
}

/// The rated cost of one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Cost {
    /// The amount.
    pub total: Money,
    /// Seconds billed (calls) or units billed (messages, emails).
    pub billed_units: u64,
}

/// Seconds a carrier bills for a call of `duration` seconds: at least the minimum duration,
/// then the first block, then every started later block.
pub fn billed_seconds(duration: u32, increment: Increment, min_duration: u32) -> u64 {
    let d = u64::from(duration.max(min_duration));
    let initial = u64::from(increment.initial.max(1));
    let subsequent = u64::from(increment.subsequent.max(1));
    if d == 0 {
        0
    } else if d <= initial {
        initial
    } else {
        initial + (d - initial).div_ceil(subsequent) * subsequent
    }
}

/// Rates one event. Amounts are exact decimals; the per-second division of a per-minute rate
/// keeps 28 significant digits.
pub fn rate_usage(terms: &Terms, usage: Usage) -> Cost {
    let (amount, billed_units) = match usage {
        Usage::Call {
            answered: false, ..
        } => (Decimal::ZERO, 0),
        Usage::Call {
            answered: true,
            duration_secs,
        } => {
            let secs = billed_seconds(duration_secs, terms.increment, terms.min_duration);
            let per_time = terms.rate * Decimal::from(secs) / Decimal::from(60);
            (terms.connection_fee + per_time, secs)
        }
        Usage::Message { segments } => (
            terms.connection_fee + terms.rate * Decimal::from(segments),
            u64::from(segments),
        ),
        Usage::Email {
            recipients,
            attachments,
        } => {
            let n = Decimal::from(recipients);
            let per_message =
                terms.connection_fee + terms.attachment_fee * Decimal::from(attachments);
            (
                terms.rate * n / Decimal::from(1000) + per_message * n,
                u64::from(recipients),
            )
        }
    };
    Cost {
        total: Money::new(amount.normalize(), terms.currency),
        billed_units,
    }
}

/// A rated cost as an invoice line: quantity × unit price + fee. Kept beside the total so a
/// user can check every cent of a call or message against the carrier's rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Breakdown {
    /// Billed units.
    pub quantity: u64,
    /// `second`, `segment` or `recipient`.
    pub unit: &'static str,
    /// Price per unit.
    pub unit_price: Decimal,
    /// Fixed part (connection fee); zero for unanswered calls.
    pub fee: Decimal,
}

/// Splits the rating of `usage` under `terms` into quantity, unit price and fee.
pub fn breakdown(terms: &Terms, usage: Usage) -> Breakdown {
    match usage {
        Usage::Call {
            answered,
            duration_secs,
        } => Breakdown {
            quantity: if answered {
                billed_seconds(duration_secs, terms.increment, terms.min_duration)
            } else {
                0
            },
            unit: "second",
            unit_price: terms.rate / Decimal::from(60),
            fee: if answered {
                terms.connection_fee
            } else {
                Decimal::ZERO
            },
        },
        Usage::Message { segments } => Breakdown {
            quantity: u64::from(segments),
            unit: "segment",
            unit_price: terms.rate,
            fee: terms.connection_fee,
        },
        Usage::Email {
            recipients,
            attachments,
        } => Breakdown {
            quantity: u64::from(recipients),
            unit: "recipient",
            unit_price: terms.rate / Decimal::from(1000)
                + terms.connection_fee
                + terms.attachment_fee * Decimal::from(attachments),
            fee: Decimal::ZERO,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn terms(rate: Decimal, fee: Decimal, inc: (u32, u32)) -> Terms {
        Terms {
            rate,
            connection_fee: fee,
            attachment_fee: Decimal::ZERO,
            increment: Increment {
                initial: inc.0,
                subsequent: inc.1,
            },
            min_duration: 0,
            currency: Currency::USD,
        }
    }

    #[test]
    fn billing_increments_from_practice() {
        assert_eq!(billed_seconds(61, Increment::PER_MINUTE, 0), 120);
        let six = Increment {
            initial: 6,
            subsequent: 6,
        };
        assert_eq!(billed_seconds(61, six, 0), 66);
        assert_eq!(billed_seconds(1, Increment::PER_SECOND, 0), 1);
        let thirty_six = Increment {
            initial: 30,
            subsequent: 6,
        };
        assert_eq!(billed_seconds(31, thirty_six, 0), 36);
        assert_eq!(billed_seconds(10, thirty_six, 0), 30);
        assert_eq!(billed_seconds(5, Increment::PER_SECOND, 20), 20);
    }

    #[test]
    fn call_costs() {
        let t = terms(dec!(0.012), dec!(0), (60, 60));
        let c = rate_usage(
            &t,
            Usage::Call {
                answered: true,
                duration_secs: 61,
            },
        );
        assert_eq!(c.total.amount, dec!(0.024));
        assert_eq!(c.billed_units, 120);
        let t = terms(dec!(0.012), dec!(0), (6, 6));
        let c = rate_usage(
            &t,
            Usage::Call {
                answered: true,
                duration_secs: 61,
            },
        );
        assert_eq!(c.total.amount, dec!(0.0132));
    }

    #[test]
    fn zero_second_answered_call_pays_the_connection_fee_only() {
        let t = terms(dec!(0.012), dec!(0.005), (60, 60));
        let c = rate_usage(
            &t,
            Usage::Call {
                answered: true,
                duration_secs: 0,
            },
        );
        assert_eq!(c.total.amount, dec!(0.005));
        assert_eq!(c.billed_units, 0);
        let unanswered = rate_usage(
            &t,
            Usage::Call {
                answered: false,
                duration_secs: 0,
            },
        );
        assert_eq!(unanswered.total.amount, dec!(0));
    }

    #[test]
    fn messages_and_emails() {
        let t = terms(dec!(0.0079), dec!(0), (1, 1));
        assert_eq!(
            rate_usage(&t, Usage::Message { segments: 3 }).total.amount,
            dec!(0.0237)
        );
        let mut e = terms(dec!(0.80), dec!(0), (1, 1));
        e.attachment_fee = dec!(0.0001);
        let c = rate_usage(
            &e,
            Usage::Email {
                recipients: 3,
                attachments: 2,
            },
        );
        assert_eq!(c.total.amount, dec!(0.003));
    }

    #[test]
    fn the_breakdown_adds_up_to_the_rated_total() {
        let t = terms(dec!(0.9), dec!(0.01), (6, 6));
        for usage in [
            Usage::Call {
                answered: true,
                duration_secs: 61,
            },
            Usage::Call {
                answered: false,
                duration_secs: 0,
            },
            Usage::Message { segments: 3 },
            Usage::Email {
                recipients: 7,
                attachments: 2,
            },
        ] {
            let b = breakdown(&t, usage);
            let line = b.fee + b.unit_price * Decimal::from(b.quantity);
            let total = rate_usage(&t, usage).total.amount;
            assert!(
                (line - total).abs() < dec!(0.000000000001),
                "{usage:?}: {line} vs {total}"
            );
        }
        assert_eq!(
            breakdown(
                &t,
                Usage::Call {
                    answered: true,
                    duration_secs: 61
                }
            )
            .quantity,
            66
        );
    }
}
