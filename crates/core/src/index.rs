//! The compiled prefix index of one channel. Every priced prefix is a key of one
//! open-addressing hash table. Its value lists, for every provider, the rates that apply to
//! numbers under that prefix: the provider's own rows for it and, behind them, those of its
//! nearest shorter prefixes ("leaf pushing"). A look-up therefore needs only the longest
//! key that matches the dialled digits: one pass computes the key of each prefix length
//! the decks use, the probes run longest first and stop at the first hit, and the probes do
//! not depend on each other, so the processor overlaps their memory accesses.

use crate::deck::{Deck, Increment};
use crate::money::Currency;
use crate::rating::{CostKey, Terms, Usage, to_nanos};
use rust_decimal::Decimal;
use std::collections::HashMap;
use std::sync::Arc;

/// Longest prefix the index holds: an E.164 number has at most 15 digits.
pub const MAX_PREFIX_DIGITS: usize = 15;

/// A table slot: the packed prefix (`digits << 4 | length`, never 0 for length ≥ 1) and the
/// range of its entries.
#[derive(Debug, Clone, Copy, Default)]
struct Slot {
    key: u64,
    entries_start: u32,
    entries_len: u32,
}

/// One rate version that applies under a prefix: a copy of the rate with its validity and
/// provider, one cache line, so a look-up reads everything routing needs from the lines it
/// already scans. A provider's entries are adjacent, longest prefix first.
#[derive(Debug, Clone, Copy)]
#[repr(C, align(64))]
struct Entry {
    rate: CompiledRate,
    from_ms: i64,
    to_ms: i64,
    provider: u16,
}

/// An entry while the index is built: the row it copies.
#[derive(Debug, Clone, Copy)]
struct Pending {
    from_ms: i64,
    to_ms: i64,
    row: u32,
    provider: u16,
}

/// A rate as stored in the index: 32 bytes. Prices are held as exact integers of 10⁻⁹
/// units (nano-units), which orders and rates without decimal arithmetic; a price needing
/// more precision, or an email attachment surcharge, sends the row's exact terms to a side
/// table.
#[derive(Debug, Clone, Copy)]
#[repr(C, align(32))]
pub struct CompiledRate {
    rate_nanos: u64,
    fee_nanos: u64,
    min_duration: u32,
    /// Index into the snapshot's destination names.
    pub destination: u32,
    initial: u16,
    subsequent: u16,
    /// Length of the matched prefix, in digits.
    pub prefix_len: u8,
    /// The provider no longer serves this prefix.
    pub closed: bool,
    currency: u8,
    exact: bool,
}

/// Destination names shared across decks and channels, so a million rows naming two
/// hundred countries keep two hundred strings.
#[derive(Debug, Default)]
pub struct NameTable {
    names: Vec<Arc<str>>,
    lookup: HashMap<Arc<str>, u32>,
}

impl NameTable {
    /// The id of `name`, adding it when new.
    pub fn intern(&mut self, name: &str) -> u32 {
        if let Some(id) = self.lookup.get(name) {
            return *id;
        }
        let id = self.names.len() as u32;
        let shared: Arc<str> = Arc::from(name);
        self.names.push(shared.clone());
        self.lookup.insert(shared, id);
        id
    }

    /// The name behind an id (shared, so candidates carry it without copying).
    pub fn get(&self, id: u32) -> Arc<str> {
        self.names
            .get(id as usize)
            .cloned()
            .unwrap_or_else(|| Arc::from(""))
    }

    /// Approximate heap bytes: each name once, plus the table's slots.
    pub fn heap_bytes(&self) -> usize {
        self.names.iter().map(|n| n.len() + 16).sum::<usize>()
            + self.names.capacity() * size_of::<Arc<str>>()
            + self.lookup.capacity() * (size_of::<Arc<str>>() + 8)
    }
}

/// The index of one channel.
#[derive(Debug, Clone)]
pub struct PrefixIndex {
    slots: Vec<Slot>,
    shift: u32,
    /// Bit `n` is set when some deck has a prefix of `n` digits (bit 0: a flat price).
    lengths: u16,
    root: (u32, u32),
    entries: Vec<Entry>,
    /// Rate rows compiled in.
    rows: usize,
    /// Currencies used by the rates (a rate holds a position in this list).
    currencies: Vec<Currency>,
    /// Exact terms of entries whose rate is flagged `exact`.
    exact_terms: HashMap<u32, ExactTerms>,
}

/// The decimal prices of a rate that nano-units cannot hold.
#[derive(Debug, Clone, Copy)]
struct ExactTerms {
    rate: Decimal,
    connection_fee: Decimal,
    attachment_fee: Decimal,
}

/// Exact; not normalised here (that costs a division loop), only where it is displayed.
fn from_nanos(nanos: u64) -> Decimal {
    Decimal::from_parts(nanos as u32, (nanos >> 32) as u32, 0, false, 9)
}

/// One provider's deck rows waiting to be compiled, with the version window the deck gives.
pub struct DeckInput<'a> {
    /// Position of the provider in the snapshot.
    pub provider: u16,
    /// The deck version.
    pub deck: &'a Deck,
    /// End of this version: the start of the next version of the same provider and channel.
    pub superseded_at_ms: i64,
}

struct Staged {
    key: u64,
    provider: u16,
    rate: u32,
}

/// Packs a digit string into its table key, `None` when it is not 1–15 ASCII digits.
fn pack(prefix: &[u8]) -> Option<u64> {
    if prefix.is_empty() || prefix.len() > MAX_PREFIX_DIGITS {
        return None;
    }
    let mut value = 0u64;
    for b in prefix {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        value = value * 10 + u64::from(d);
    }
    Some(value << 4 | prefix.len() as u64)
}

fn bucket(key: u64, shift: u32) -> usize {
    (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> shift) as usize
}

/// Pushes `(rate, from, to)` entries of one provider, deepest first, skipping versions that
/// deeper ones hide completely (a version in force until further notice hides every later
/// entry starting at or after its own start).
fn push_unshadowed(out: &mut Vec<Pending>, chain: impl Iterator<Item = Pending>) {
    let mut resolved_from = i64::MAX;
    for e in chain {
        if e.from_ms >= resolved_from {
            continue;
        }
        out.push(e);
        if e.to_ms == i64::MAX {
            resolved_from = e.from_ms;
        }
    }
}

impl PrefixIndex {
    /// Compiles deck versions into an index. Rows outside their version's window are dropped;
    /// row windows are clipped to the version's window.
    pub fn build(inputs: &[DeckInput<'_>], names: &mut NameTable) -> PrefixIndex {
        let total: usize = inputs.iter().map(|i| i.deck.rows.len()).sum();
        let mut staged: Vec<Staged> = Vec::with_capacity(total);
        let mut rates: Vec<CompiledRate> = Vec::with_capacity(total);
        let mut windows: Vec<(i64, i64)> = Vec::with_capacity(total);
        let mut currencies: Vec<Currency> = Vec::new();
        let mut exact_terms: HashMap<u32, ExactTerms> = HashMap::new();
        let mut lengths = 0u16;
        for input in inputs {
            let version_from = input.deck.effective_from.timestamp_millis();
            for row in &input.deck.rows {
                let from_ms = row
                    .effective_from
                    .map_or(version_from, |t| t.timestamp_millis().max(version_from));
                let to_ms = row.effective_to.map_or(input.superseded_at_ms, |t| {
                    t.timestamp_millis().min(input.superseded_at_ms)
                });
                let key = if row.prefix.is_empty() {
                    0
                } else {
                    match pack(row.prefix.as_bytes()) {
                        Some(k) => k,
                        None => continue,
                    }
                };
                if from_ms >= to_ms {
                    continue;
                }
                lengths |= 1 << row.prefix.len();
                staged.push(Staged {
                    key,
                    provider: input.provider,
                    rate: rates.len() as u32,
                });
                let nanos = (to_nanos(row.rate), to_nanos(row.connection_fee));
                let (rate_nanos, fee_nanos, exact) = match nanos {
                    (Some(r), Some(f)) if row.attachment_fee.is_zero() => (r, f, false),
                    _ => {
                        exact_terms.insert(
                            rates.len() as u32,
                            ExactTerms {
                                rate: row.rate,
                                connection_fee: row.connection_fee,
                                attachment_fee: row.attachment_fee,
                            },
                        );
                        (u64::MAX, u64::MAX, true)
                    }
                };
                let currency = match currencies.iter().position(|c| *c == row.currency) {
                    Some(pos) => pos,
                    None => {
                        currencies.push(row.currency);
                        currencies.len() - 1
                    }
                };
                windows.push((from_ms, to_ms));
                rates.push(CompiledRate {
                    rate_nanos,
                    fee_nanos,
                    min_duration: row.min_duration,
                    destination: names.intern(&row.destination),
                    initial: u16::try_from(row.increment.initial).unwrap_or(u16::MAX),
                    subsequent: u16::try_from(row.increment.subsequent).unwrap_or(u16::MAX),
                    prefix_len: row.prefix.len() as u8,
                    closed: row.closed,
                    currency: u8::try_from(currency).unwrap_or(u8::MAX),
                    exact,
                });
            }
        }
        // Newest version first within a provider: the first entry in force wins at look-up.
        staged.sort_unstable_by_key(|s| {
            (
                s.key,
                s.provider,
                std::cmp::Reverse(windows[s.rate as usize].0),
            )
        });
        let entry_of = |s: &Staged| {
            let (from_ms, to_ms) = windows[s.rate as usize];
            Pending {
                from_ms,
                to_ms,
                row: s.rate,
                provider: s.provider,
            }
        };
        // Each key's own rows, as a range of `staged`.
        let mut own: HashMap<u64, (usize, usize)> = HashMap::new();
        let mut start = 0;
        while start < staged.len() {
            let key = staged[start].key;
            let mut end = start;
            while end < staged.len() && staged[end].key == key {
                end += 1;
            }
            own.insert(key, (start, end));
            start = end;
        }
        let mut keys: Vec<u64> = own.keys().copied().filter(|k| *k != 0).collect();
        keys.sort_unstable();
        let capacity = (keys.len() * 2).next_power_of_two().max(16);
        let shift = 64 - capacity.trailing_zeros();
        let mut slots = vec![Slot::default(); capacity];
        let mut pending: Vec<Pending> = Vec::with_capacity(staged.len() + staged.len() / 2);
        let mut chain: Vec<(u16, u8, Pending)> = Vec::new();
        let mut resolve = |key: u64, entries: &mut Vec<Pending>| -> (u32, u32) {
            chain.clear();
            let len = (key & 0xF) as u32;
            let value = key >> 4;
            // The key itself, then every shorter priced prefix, then the flat price.
            for l in (0..=len).rev() {
                let ancestor = if l == 0 {
                    0
                } else {
                    (value / 10u64.pow(len - l)) << 4 | u64::from(l)
                };
                if let Some(&(a, b)) = own.get(&ancestor) {
                    let depth = (len - l) as u8;
                    chain.extend(
                        staged[a..b]
                            .iter()
                            .map(|s| (s.provider, depth, entry_of(s))),
                    );
                }
            }
            chain.sort_by_key(|(provider, depth, _)| (*provider, *depth));
            let first = entries.len();
            let mut i = 0;
            while i < chain.len() {
                let provider = chain[i].0;
                let mut j = i;
                while j < chain.len() && chain[j].0 == provider {
                    j += 1;
                }
                push_unshadowed(entries, chain[i..j].iter().map(|c| c.2));
                i = j;
            }
            (first as u32, (entries.len() - first) as u32)
        };
        let root = resolve(0, &mut pending);
        for key in keys {
            let (entries_start, entries_len) = resolve(key, &mut pending);
            let mut b = bucket(key, shift);
            while slots[b].key != 0 {
                b = (b + 1) & (capacity - 1);
            }
            slots[b] = Slot {
                key,
                entries_start,
                entries_len,
            };
        }
        let entries: Vec<Entry> = pending
            .iter()
            .map(|p| Entry {
                rate: rates[p.row as usize],
                from_ms: p.from_ms,
                to_ms: p.to_ms,
                provider: p.provider,
            })
            .collect();
        let exact_terms = pending
            .iter()
            .enumerate()
            .filter_map(|(i, p)| exact_terms.get(&p.row).map(|x| (i as u32, *x)))
            .collect();
        PrefixIndex {
            slots,
            shift,
            lengths,
            root,
            entries,
            rows: rates.len(),
            currencies,
            exact_terms,
        }
    }

    fn find(&self, key: u64) -> Option<&Slot> {
        let mask = self.slots.len() - 1;
        let mut b = bucket(key, self.shift);
        loop {
            let slot = &self.slots[b];
            if slot.key == key {
                return Some(slot);
            }
            if slot.key == 0 {
                return None;
            }
            b = (b + 1) & mask;
        }
    }

    /// Fills `out[provider]` with the index of the rate of each provider's longest prefix of
    /// `digits` that is in force at `at_ms`; slots of providers without one are left as they
    /// are. A closed row is a match too: it tells the caller the provider refuses the
    /// prefix. Digits after the first non-digit are ignored.
    #[inline]
    pub fn longest_matches(&self, digits: &[u8], at_ms: i64, out: &mut [Option<u32>]) {
        let mut keys = [0u64; MAX_PREFIX_DIGITS + 1];
        let mut value = 0u64;
        let mut n = 0;
        for b in digits.iter().take(MAX_PREFIX_DIGITS) {
            let d = b.wrapping_sub(b'0');
            if d > 9 {
                break;
            }
            value = value * 10 + u64::from(d);
            n += 1;
            keys[n] = value << 4 | n as u64;
        }
        let mut range = self.root;
        for len in (1..=n).rev() {
            if self.lengths & (1 << len) == 0 {
                continue;
            }
            if let Some(slot) = self.find(keys[len]) {
                range = (slot.entries_start, slot.entries_len);
                break;
            }
        }
        let start = range.0 as usize;
        let mut last_set = u32::MAX;
        for (i, e) in self.entries[start..start + range.1 as usize]
            .iter()
            .enumerate()
        {
            let provider = u32::from(e.provider);
            if provider != last_set
                && e.from_ms <= at_ms
                && at_ms < e.to_ms
                && let Some(slot) = out.get_mut(e.provider as usize)
            {
                *slot = Some((start + i) as u32);
                last_set = provider;
            }
        }
    }

    /// The rate behind an index returned by [`PrefixIndex::longest_matches`].
    pub fn rate(&self, index: u32) -> &CompiledRate {
        &self.entries[index as usize].rate
    }

    fn increment(r: &CompiledRate) -> Increment {
        Increment {
            initial: u32::from(r.initial),
            subsequent: u32::from(r.subsequent),
        }
    }

    /// The currency of a rate.
    pub fn currency(&self, index: u32) -> Currency {
        let r = self.rate(index);
        self.currencies
            .get(usize::from(r.currency))
            .copied()
            .unwrap_or(Currency::USD)
    }

    /// The exact price terms of a rate, for rating and display.
    pub fn terms(&self, index: u32) -> Terms {
        let r = self.rate(index);
        let (rate, connection_fee, attachment_fee) = match self.exact_terms.get(&index) {
            Some(x) if r.exact => (x.rate, x.connection_fee, x.attachment_fee),
            _ => (
                from_nanos(r.rate_nanos),
                from_nanos(r.fee_nanos),
                Decimal::ZERO,
            ),
        };
        Terms {
            rate,
            connection_fee,
            attachment_fee,
            increment: Self::increment(r),
            min_duration: r.min_duration,
            currency: self.currency(index),
        }
    }

    /// The key that orders this rate's expected cost of `usage` exactly; integer arithmetic
    /// unless the rate is held exactly.
    pub fn cost_key(&self, index: u32, usage: Usage) -> CostKey {
        let r = self.rate(index);
        if r.exact {
            CostKey::of(&self.terms(index), usage)
        } else {
            CostKey::of_nanos(
                r.rate_nanos,
                r.fee_nanos,
                Self::increment(r),
                r.min_duration,
                usage,
            )
        }
    }

    /// How many rate rows were compiled in.
    pub fn prefix_count(&self) -> usize {
        self.rows
    }

    /// Bytes of heap the index holds (excluding shared names), for memory reporting.
    pub fn heap_bytes(&self) -> usize {
        self.slots.capacity() * size_of::<Slot>()
            + self.entries.capacity() * size_of::<Entry>()
            + self.exact_terms.capacity() * (size_of::<ExactTerms>() + 8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channel::Channel;
    use crate::deck::RateRow;
    use crate::provider::ProviderId;
    use chrono::{TimeZone, Utc};
    use rust_decimal_macros::dec;

    fn deck(rows: &[(&str, Decimal)]) -> Deck {
        Deck {
            provider: ProviderId::new("p"),
            channel: Channel::Voice,
            effective_from: Utc.timestamp_opt(0, 0).single().expect("epoch"),
            rows: rows.iter().map(|(p, r)| RateRow::new(*p, *r)).collect(),
        }
    }

    #[test]
    fn finds_longest_prefix_per_provider() {
        let a = deck(&[("44", dec!(0.01)), ("447", dec!(0.05))]);
        let b = deck(&[("4", dec!(0.02))]);
        let inputs = [
            DeckInput {
                provider: 0,
                deck: &a,
                superseded_at_ms: i64::MAX,
            },
            DeckInput {
                provider: 1,
                deck: &b,
                superseded_at_ms: i64::MAX,
            },
        ];
        let mut names = NameTable::default();
        let idx = PrefixIndex::build(&inputs, &mut names);
        let mut out = [None, None];
        idx.longest_matches(b"447700900123", 1, &mut out);
        let a = out[0].expect("a matches");
        assert_eq!((idx.terms(a).rate, idx.rate(a).prefix_len), (dec!(0.05), 3));
        assert_eq!(idx.rate(out[1].expect("b matches")).prefix_len, 1);
        let mut out = [None, None];
        idx.longest_matches(b"33123", 1, &mut out);
        assert_eq!(out, [None, None]);
    }

    #[test]
    fn a_version_ends_where_the_next_begins() {
        let old = deck(&[("44", dec!(0.01))]);
        let inputs = [DeckInput {
            provider: 0,
            deck: &old,
            superseded_at_ms: 1_000,
        }];
        let idx = PrefixIndex::build(&inputs, &mut NameTable::default());
        let mut out = [None];
        idx.longest_matches(b"4420", 999, &mut out);
        assert!(out[0].is_some());
        let mut out = [None];
        idx.longest_matches(b"4420", 1_000, &mut out);
        assert!(out[0].is_none());
    }
}
