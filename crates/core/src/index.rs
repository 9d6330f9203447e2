//! The compiled prefix index of one channel: a decimal trie over dial codes in which every
//! node carries the rates of every provider pricing that exact prefix. One walk over the
//! dialled digits finds the longest matching prefix of every provider at once.

use crate::deck::{Deck, Increment};
use crate::money::Currency;
use rust_decimal::Decimal;
use std::collections::HashMap;
use std::sync::Arc;

/// Marks an absent child; the root (node 0) is never anyone's child.
const NO_CHILD: u32 = 0;

#[derive(Debug, Clone)]
struct Node {
    children: [u32; 10],
    entries_start: u32,
    entries_len: u16,
}

impl Node {
    fn empty() -> Self {
        Node {
            children: [NO_CHILD; 10],
            entries_start: 0,
            entries_len: 0,
        }
    }
}

/// The rate versions one provider has at one node, sorted by start of validity.
#[derive(Debug, Clone, Copy)]
struct Entry {
    provider: u16,
    versions: u16,
    rates_start: u32,
}

/// A rate as stored in the index; amounts keep the deck's exact decimals.
#[derive(Debug, Clone)]
pub struct CompiledRate {
    /// Price per unit.
    pub rate: Decimal,
    /// Per-call or per-message fee.
    pub connection_fee: Decimal,
    /// Email per-attachment surcharge.
    pub attachment_fee: Decimal,
    /// Start of validity, unix milliseconds.
    pub from_ms: i64,
    /// End of validity (exclusive), unix milliseconds.
    pub to_ms: i64,
    /// Billing increments.
    pub increment: Increment,
    /// Minimum billed seconds.
    pub min_duration: u32,
    /// Index into the snapshot's destination names.
    pub destination: u32,
    /// Length of the matched prefix, in digits.
    pub prefix_len: u8,
    /// The provider no longer serves this prefix.
    pub closed: bool,
    /// Currency of the amounts.
    pub currency: Currency,
}

impl CompiledRate {
    fn covers(&self, at_ms: i64) -> bool {
        self.from_ms <= at_ms && at_ms < self.to_ms
    }
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
    nodes: Vec<Node>,
    entries: Vec<Entry>,
    rates: Vec<CompiledRate>,
    prefixes: usize,
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
    node: u32,
    provider: u16,
    rate: CompiledRate,
}

impl PrefixIndex {
    /// Compiles deck versions into an index. Rows outside their version's window are dropped;
    /// row windows are clipped to the version's window.
    pub fn build(inputs: &[DeckInput<'_>], names: &mut NameTable) -> PrefixIndex {
        let mut nodes = vec![Node::empty()];
        let mut staged: Vec<Staged> =
            Vec::with_capacity(inputs.iter().map(|i| i.deck.rows.len()).sum());
        for input in inputs {
            let version_from = input.deck.effective_from.timestamp_millis();
            for row in &input.deck.rows {
                let from_ms = row
                    .effective_from
                    .map_or(version_from, |t| t.timestamp_millis().max(version_from));
                let to_ms = row
                    .effective_to
                    .map_or(input.superseded_at_ms, |t| {
                        t.timestamp_millis().min(input.superseded_at_ms)
                    });
                if from_ms >= to_ms || !row.prefix.bytes().all(|b| b.is_ascii_digit()) {
                    continue;
                }
                let node = insert(&mut nodes, row.prefix.as_bytes());
                staged.push(Staged {
                    node,
                    provider: input.provider,
                    rate: CompiledRate {
                        rate: row.rate,
                        connection_fee: row.connection_fee,
                        attachment_fee: row.attachment_fee,
                        from_ms,
                        to_ms,
                        increment: row.increment,
                        min_duration: row.min_duration,
                        destination: names.intern(&row.destination),
                        prefix_len: row.prefix.len() as u8,
                        closed: row.closed,
                        currency: row.currency,
                    },
                });
            }
        }
        let prefixes = staged.len();
        staged.sort_by_key(|s| (s.node, s.provider, s.rate.from_ms));
        let mut entries: Vec<Entry> = Vec::new();
        let mut rates: Vec<CompiledRate> = Vec::with_capacity(staged.len());
        for s in staged {
            let node = &mut nodes[s.node as usize];
            let same_entry = node.entries_len > 0
                && entries
                    .last()
                    .is_some_and(|e| e.provider == s.provider)
                && node.entries_start as usize + node.entries_len as usize == entries.len();
            if same_entry {
                if let Some(e) = entries.last_mut() {
                    e.versions += 1;
                }
            } else {
                if node.entries_len == 0 {
                    node.entries_start = entries.len() as u32;
                }
                node.entries_len += 1;
                entries.push(Entry {
                    provider: s.provider,
                    versions: 1,
                    rates_start: rates.len() as u32,
                });
            }
            rates.push(s.rate);
        }
        nodes.shrink_to_fit();
        PrefixIndex {
            nodes,
            entries,
            rates,
            prefixes,
        }
    }

    /// Fills `out[provider]` with the index of the rate of each provider's longest prefix of
    /// `digits` that is in force at `at_ms`. Slots of providers without a match stay `None`.
    /// A closed row is a match too: it tells the caller the provider refuses the prefix.
    #[inline]
    pub fn longest_matches(&self, digits: &[u8], at_ms: i64, out: &mut [Option<u32>]) {
        let mut node = 0u32;
        let mut depth = 0usize;
        loop {
            let n = &self.nodes[node as usize];
            let start = n.entries_start as usize;
            for e in &self.entries[start..start + n.entries_len as usize] {
                let first = e.rates_start as usize;
                let versions = &self.rates[first..first + e.versions as usize];
                if let Some(v) = versions.iter().position(|r| r.covers(at_ms))
                    && let Some(slot) = out.get_mut(e.provider as usize)
                {
                    *slot = Some((first + v) as u32);
                }
            }
            let Some(&d) = digits.get(depth) else { break };
            let digit = d.wrapping_sub(b'0');
            if digit > 9 {
                break;
            }
            let child = n.children[digit as usize];
            if child == NO_CHILD {
                break;
            }
            node = child;
            depth += 1;
        }
    }

    /// The rate behind an index returned by [`PrefixIndex::longest_matches`].
    pub fn rate(&self, index: u32) -> &CompiledRate {
        &self.rates[index as usize]
    }

    /// How many rate rows were compiled in.
    pub fn prefix_count(&self) -> usize {
        self.prefixes
    }

    /// Bytes of heap the index holds (excluding shared names), for memory reporting.
    pub fn heap_bytes(&self) -> usize {
        self.nodes.capacity() * size_of::<Node>()
            + self.entries.capacity() * size_of::<Entry>()
            + self.rates.capacity() * size_of::<CompiledRate>()
    }
}

fn insert(nodes: &mut Vec<Node>, digits: &[u8]) -> u32 {
    let mut node = 0usize;
    for d in digits {
        let digit = (d - b'0') as usize;
        let child = nodes[node].children[digit];
        node = if child == NO_CHILD {
            let id = nodes.len();
            nodes.push(Node::empty());
            nodes[node].children[digit] = id as u32;
            id
        } else {
            child as usize
        };
    }
    node as u32
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
            DeckInput { provider: 0, deck: &a, superseded_at_ms: i64::MAX },
            DeckInput { provider: 1, deck: &b, superseded_at_ms: i64::MAX },
        ];
        let mut names = NameTable::default();
        let idx = PrefixIndex::build(&inputs, &mut names);
        let mut out = [None, None];
        idx.longest_matches(b"447700900123", 1, &mut out);
        let a_rate = idx.rate(out[0].expect("a matches"));
        assert_eq!((a_rate.rate, a_rate.prefix_len), (dec!(0.05), 3));
        assert_eq!(idx.rate(out[1].expect("b matches")).prefix_len, 1);
        let mut out = [None, None];
        idx.longest_matches(b"33123", 1, &mut out);
        assert_eq!(out, [None, None]);
    }

    #[test]
    fn a_version_ends_where_the_next_begins() {
        let old = deck(&[("44", dec!(0.01))]);
        let inputs = [DeckInput { provider: 0, deck: &old, superseded_at_ms: 1_000 }];
        let idx = PrefixIndex::build(&inputs, &mut NameTable::default());
        let mut out = [None];
        idx.longest_matches(b"4420", 999, &mut out);
        assert!(out[0].is_some());
        let mut out = [None];
        idx.longest_matches(b"4420", 1_000, &mut out);
        assert!(out[0].is_none());
    }
}
