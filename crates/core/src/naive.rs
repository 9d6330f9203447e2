//! A straightforward least-cost router: one ordered map per provider, probed once per prefix
//! length from the longest down, costs rated and sorted. It is the reference the compiled
//! index is benchmarked against, and a second opinion in tests.

use crate::channel::Channel;
use crate::deck::{Deck, RateRow};
use crate::provider::ProviderId;
use crate::rating::{Terms, Usage, rate_usage};
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// Per-provider maps from prefix to rows.
#[derive(Debug, Default)]
pub struct NaiveRouter {
    providers: Vec<(ProviderId, Channel, BTreeMap<String, Vec<RateRow>>)>,
}

/// One ranked provider of the naive decision.
#[derive(Debug, Clone, PartialEq)]
pub struct NaiveChoice {
    /// The provider.
    pub provider: ProviderId,
    /// Matched prefix.
    pub prefix: String,
    /// Expected cost.
    pub cost: Decimal,
}

impl NaiveRouter {
    /// Loads decks (rows of every version; validity is checked per row at look-up).
    pub fn new(decks: &[Deck]) -> Self {
        let mut providers: Vec<(ProviderId, Channel, BTreeMap<String, Vec<RateRow>>)> = Vec::new();
        for deck in decks {
            let pos = providers
                .iter()
                .position(|(p, c, _)| *p == deck.provider && *c == deck.channel);
            let map = match pos {
                Some(i) => &mut providers[i].2,
                None => {
                    providers.push((deck.provider.clone(), deck.channel, BTreeMap::new()));
                    let last = providers.len() - 1;
                    &mut providers[last].2
                }
            };
            for row in &deck.rows {
                let mut row = row.clone();
                row.effective_from = Some(row.effective_from.unwrap_or(deck.effective_from));
                map.entry(row.prefix.clone()).or_default().push(row);
            }
        }
        NaiveRouter { providers }
    }

    /// Each provider's longest open prefix in force at `at_ms`, ranked by expected cost.
    pub fn decide_least_cost(
        &self,
        digits: &str,
        channel: Channel,
        usage: Usage,
        at_ms: i64,
    ) -> Vec<NaiveChoice> {
        let mut choices = Vec::new();
        for (provider, c, map) in &self.providers {
            if *c != channel {
                continue;
            }
            let found = (0..=digits.len())
                .rev()
                .find_map(|len| map.get(&digits[..len])?.iter().find(|r| in_force(r, at_ms)));
            if let Some(row) = found.filter(|r| !r.closed) {
                choices.push(NaiveChoice {
                    provider: provider.clone(),
                    prefix: row.prefix.clone(),
                    cost: rate_usage(&Terms::from(row), usage).total.amount,
                });
            }
        }
        choices.sort_by(|a, b| {
            a.cost
                .cmp(&b.cost)
                .then_with(|| a.provider.cmp(&b.provider))
        });
        choices
    }
}

fn in_force(r: &RateRow, at_ms: i64) -> bool {
    r.effective_from
        .is_none_or(|t| t.timestamp_millis() <= at_ms)
        && r.effective_to.is_none_or(|t| at_ms < t.timestamp_millis())
}
