//! Exact keys for ordering providers by expected cost without paying for decimal arithmetic
//! on the routing path: the cost times a constant of the usage kind (60 for calls, 1,000 for
//! email, so no division is needed), held as a 64-bit integer of 10⁻⁹ units whenever that is
//! exact (prices with at most nine decimals and costs below ten billion), and as a decimal
//! otherwise.

use super::{Terms, Usage, billed_seconds};
use crate::deck::Increment;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use std::cmp::Ordering;

/// Decimal places of the integer form.
const SCALE: u32 = 9;
const POW10: [u64; SCALE as usize + 1] = {
    let mut t = [1u64; SCALE as usize + 1];
    let mut i = 1;
    while i < t.len() {
        t[i] = t[i - 1] * 10;
        i += 1;
    }
    t
};

/// The arithmetic the cost formula needs, so it is written once for both number forms.
trait Amount: Copy {
    fn from_decimal(d: Decimal) -> Option<Self>;
    fn plus(self, other: Self) -> Option<Self>;
    fn times(self, n: u64) -> Option<Self>;
}

impl Amount for Decimal {
    fn from_decimal(d: Decimal) -> Option<Self> {
        Some(d)
    }
    fn plus(self, other: Self) -> Option<Self> {
        self.checked_add(other)
    }
    fn times(self, n: u64) -> Option<Self> {
        self.checked_mul(Decimal::from(n))
    }
}

/// A non-negative amount in integer units of 10⁻⁹.
#[derive(Clone, Copy)]
struct Fixed(u64);

impl Amount for Fixed {
    fn from_decimal(d: Decimal) -> Option<Self> {
        let pow = POW10.get(SCALE.checked_sub(d.scale())? as usize)?;
        u64::try_from(d.mantissa())
            .ok()?
            .checked_mul(*pow)
            .map(Fixed)
    }
    fn plus(self, other: Self) -> Option<Self> {
        self.0.checked_add(other.0).map(Fixed)
    }
    fn times(self, n: u64) -> Option<Self> {
        self.0.checked_mul(n).map(Fixed)
    }
}

/// The prices of one rate in one number form.
struct Prices<A> {
    rate: A,
    fee: A,
    attachment: A,
}

fn scaled_cost<A: Amount>(
    p: Prices<A>,
    increment: Increment,
    min_duration: u32,
    usage: Usage,
) -> Option<A> {
    let Prices {
        rate,
        fee,
        attachment,
    } = p;
    match usage {
        Usage::Call {
            answered: false, ..
        } => A::from_decimal(Decimal::ZERO),
        Usage::Call {
            answered: true,
            duration_secs,
        } => {
            let secs = billed_seconds(duration_secs, increment, min_duration);
            fee.times(60)?.plus(rate.times(secs)?)
        }
        Usage::Message { segments } => fee.plus(rate.times(u64::from(segments))?),
        Usage::Email {
            recipients,
            attachments,
        } => {
            let n = u64::from(recipients);
            let per_message = fee.plus(attachment.times(u64::from(attachments))?)?;
            rate.times(n)?
                .plus(per_message.times(n.checked_mul(1000)?)?)
        }
    }
}

/// A price as a whole number of 10⁻⁹ units, when that is exact.
pub fn to_nanos(d: Decimal) -> Option<u64> {
    Fixed::from_decimal(d).map(|f| f.0)
}

/// The expected cost of a usage, scaled by the usage kind's constant, in a form that orders
/// exactly like the cost.
#[derive(Debug, Clone, Copy)]
pub enum CostKey {
    /// Integer of 10⁻⁹ units (the usual case).
    Fixed(u64),
    /// Decimal, when the integer form would overflow or lose digits.
    Exact(Decimal),
    /// Beyond even a decimal: compares above everything else.
    Overflow,
}

impl CostKey {
    /// The key of `usage` under `terms`.
    pub fn of(terms: &Terms, usage: Usage) -> CostKey {
        let fixed = (|| {
            Some(Prices {
                rate: Fixed::from_decimal(terms.rate)?,
                fee: Fixed::from_decimal(terms.connection_fee)?,
                attachment: Fixed::from_decimal(terms.attachment_fee)?,
            })
        })();
        if let Some(Fixed(v)) =
            fixed.and_then(|p| scaled_cost(p, terms.increment, terms.min_duration, usage))
        {
            return CostKey::Fixed(v);
        }
        let exact = Prices {
            rate: terms.rate,
            fee: terms.connection_fee,
            attachment: terms.attachment_fee,
        };
        scaled_cost(exact, terms.increment, terms.min_duration, usage)
            .map_or(CostKey::Overflow, CostKey::Exact)
    }

    /// The key of `usage` for prices already held in nano-units (no attachment fee).
    pub fn of_nanos(
        rate: u64,
        fee: u64,
        increment: Increment,
        min_duration: u32,
        usage: Usage,
    ) -> CostKey {
        let prices = Prices {
            rate: Fixed(rate),
            fee: Fixed(fee),
            attachment: Fixed(0),
        };
        scaled_cost(prices, increment, min_duration, usage)
            .map_or(CostKey::Overflow, |Fixed(v)| CostKey::Fixed(v))
    }

    fn decimal(self) -> Option<Decimal> {
        match self {
            CostKey::Fixed(v) => Some(Decimal::from_i128_with_scale(i128::from(v), SCALE)),
            CostKey::Exact(d) => Some(d),
            CostKey::Overflow => None,
        }
    }

    /// An approximation for scores (never for ordering money).
    pub fn to_f64(self) -> f64 {
        match self {
            CostKey::Fixed(v) => v as f64 / 1e9,
            CostKey::Exact(d) => d.to_f64().unwrap_or(f64::MAX),
            CostKey::Overflow => f64::MAX,
        }
    }
}

impl PartialEq for CostKey {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (CostKey::Fixed(a), CostKey::Fixed(b)) => a == b,
            _ => self.cmp(other) == Ordering::Equal,
        }
    }
}

impl Eq for CostKey {}

impl PartialOrd for CostKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for CostKey {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (CostKey::Fixed(a), CostKey::Fixed(b)) => a.cmp(b),
            _ => match (self.decimal(), other.decimal()) {
                (Some(a), Some(b)) => a.cmp(&b),
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (None, None) => self.to_f64().total_cmp(&other.to_f64()),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;
    use rust_decimal_macros::dec;

    fn terms(rate: Decimal, fee: Decimal) -> Terms {
        Terms {
            rate,
            connection_fee: fee,
            attachment_fee: Decimal::ZERO,
            increment: Increment::PER_MINUTE,
            min_duration: 0,
            currency: Currency::USD,
        }
    }

    #[test]
    fn integer_and_decimal_forms_agree() {
        let call = Usage::Call {
            answered: true,
            duration_secs: 61,
        };
        let a = CostKey::of(&terms(dec!(0.012), dec!(0.001)), call);
        assert!(matches!(a, CostKey::Fixed(_)));
        // 28 decimal places cannot be held in the integer form.
        let tiny = Decimal::from_i128_with_scale(1, 28);
        let b = CostKey::of(&terms(tiny, Decimal::ZERO), call);
        assert!(matches!(b, CostKey::Exact(_)));
        assert!(b < a);
        assert_eq!(
            a.decimal(),
            Some(dec!(0.001) * dec!(60) + dec!(0.012) * dec!(120))
        );
    }

    #[test]
    fn orders_like_the_cost() {
        let sms = Usage::Message { segments: 3 };
        let cheap = CostKey::of(&terms(dec!(0.0040), dec!(0)), sms);
        let dear = CostKey::of(&terms(dec!(0.0041), dec!(0)), sms);
        assert!(cheap < dear);
        assert_eq!(cheap, CostKey::of(&terms(dec!(0.004), dec!(0)), sms));
    }
}
