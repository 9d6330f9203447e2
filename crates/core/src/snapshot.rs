//! An immutable routing snapshot (providers, compiled decks, policy) and the decision made
//! against it. A [`Router`] swaps snapshots atomically so readers never wait for a rebuild.

use crate::channel::{CapabilitySet, Channel};
use crate::decision::{
    Candidate, Decision, Exclusion, ExclusionReason, Prefix, Refusal, RouteRequest, Why,
};
use crate::deck::{Deck, Increment};
use crate::health::BreakerState;
use crate::index::{DeckInput, NameTable, PrefixIndex};
use crate::live::{LiveRegistry, ProviderLive};
use crate::money::Currency;
use crate::policy::{LeadPriority, RoutingPolicy, Strategy};
use crate::provider::{ProviderId, ProviderProfile};
use crate::rating::{Cost, CostKey, Terms, Usage, rate_usage};
use crate::scoring::{quality_score, weighted_pick};
use arc_swap::ArcSwap;
use rust_decimal::Decimal;
use serde::Serialize;
use smallvec::SmallVec;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

/// Why a snapshot could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    /// A deck names a provider that is not configured.
    #[error("the {channel} deck of provider {provider} has no matching configured provider")]
    UnknownProvider {
        /// The deck's provider.
        provider: ProviderId,
        /// The deck's channel.
        channel: Channel,
    },
    /// Two providers share an id.
    #[error("provider {0} is configured twice")]
    DuplicateProvider(ProviderId),
    /// More providers than the index addresses.
    #[error("{0} providers configured; at most 65535 are supported")]
    TooManyProviders(usize),
    /// A blocked prefix is not digits.
    #[error("blocked prefix {0:?} is not made of digits")]
    BadBlockedPrefix(String),
}

/// One provider's price for a destination, as rate look-ups report it.
#[derive(Debug, Clone, Serialize)]
pub struct RateMatch {
    /// The provider.
    pub provider: ProviderId,
    /// The longest prefix it prices.
    pub prefix: Prefix,
    /// The destination name.
    pub destination: Arc<str>,
    /// Rate per unit.
    #[serde(with = "rust_decimal::serde::str")]
    pub rate: Decimal,
    /// Connection fee.
    #[serde(with = "rust_decimal::serde::str")]
    pub connection_fee: Decimal,
    /// Billing increments.
    pub increment: Increment,
    /// Currency.
    pub currency: Currency,
    /// The deck closes this prefix.
    pub closed: bool,
}

/// Everything a routing decision reads, frozen.
#[derive(Debug)]
pub struct RoutingSnapshot {
    version: u64,
    providers: Vec<ProviderProfile>,
    live: Vec<Arc<ProviderLive>>,
    by_id: HashMap<ProviderId, u16>,
    indexes: Vec<Option<PrefixIndex>>,
    names: NameTable,
    policy: RoutingPolicy,
    blocked: Vec<Box<[u8]>>,
}

/// A provider that passed every filter, before ordering.
#[derive(Debug, Clone, Copy)]
struct Eligible {
    idx: u16,
    rate: u32,
    cost_key: CostKey,
    quality: f64,
    health: u8,
    probe: bool,
    score: f64,
    why: Why,
}

impl RoutingSnapshot {
    /// Compiles providers and decks into a snapshot. Several versions of a provider's deck for
    /// one channel are chained: each ends where the next begins.
    pub fn build(
        version: u64,
        providers: Vec<ProviderProfile>,
        decks: &[Deck],
        policy: RoutingPolicy,
        live: &LiveRegistry,
    ) -> Result<RoutingSnapshot, BuildError> {
        if providers.len() > usize::from(u16::MAX) {
            return Err(BuildError::TooManyProviders(providers.len()));
        }
        let mut by_id = HashMap::with_capacity(providers.len());
        for (i, p) in providers.iter().enumerate() {
            if by_id.insert(p.id.clone(), i as u16).is_some() {
                return Err(BuildError::DuplicateProvider(p.id.clone()));
            }
        }
        let blocked = policy
            .blocked_prefixes
            .iter()
            .map(|p| {
                let d = p.strip_prefix('+').unwrap_or(p);
                if d.is_empty() || !d.bytes().all(|b| b.is_ascii_digit()) {
                    Err(BuildError::BadBlockedPrefix(p.clone()))
                } else {
                    Ok(d.as_bytes().into())
                }
            })
            .collect::<Result<Vec<Box<[u8]>>, _>>()?;
        let mut names = NameTable::default();
        let mut indexes = Vec::with_capacity(Channel::ALL.len());
        for channel in Channel::ALL {
            let mut versions: Vec<(u16, &Deck)> = Vec::new();
            for deck in decks.iter().filter(|d| d.channel == channel) {
                let idx =
                    *by_id
                        .get(&deck.provider)
                        .ok_or_else(|| BuildError::UnknownProvider {
                            provider: deck.provider.clone(),
                            channel,
                        })?;
                versions.push((idx, deck));
            }
            if versions.is_empty() {
                indexes.push(None);
                continue;
            }
            versions.sort_by_key(|(idx, d)| (*idx, d.effective_from));
            let inputs: Vec<DeckInput<'_>> = versions
                .iter()
                .enumerate()
                .map(|(k, (idx, deck))| {
                    let next = versions
                        .get(k + 1)
                        .filter(|(next_idx, _)| next_idx == idx)
                        .map_or(i64::MAX, |(_, d)| d.effective_from.timestamp_millis());
                    DeckInput {
                        provider: *idx,
                        deck,
                        superseded_at_ms: next,
                    }
                })
                .collect();
            indexes.push(Some(PrefixIndex::build(&inputs, &mut names)));
        }
        let live = providers.iter().map(|p| live.cell(&p.id)).collect();
        Ok(RoutingSnapshot {
            version,
            providers,
            live,
            by_id,
            indexes,
            names,
            policy,
            blocked,
        })
    }

    /// The snapshot's version (increases with every rebuild).
    pub fn version(&self) -> u64 {
        self.version
    }

    /// The configured providers, in index order.
    pub fn providers(&self) -> &[ProviderProfile] {
        &self.providers
    }

    /// The live cell of a provider.
    pub fn live(&self, id: &ProviderId) -> Option<&Arc<ProviderLive>> {
        self.by_id.get(id).map(|i| &self.live[usize::from(*i)])
    }

    /// The policy.
    pub fn policy(&self) -> &RoutingPolicy {
        &self.policy
    }

    /// Rate rows compiled in, over all channels.
    pub fn prefix_count(&self) -> usize {
        self.indexes
            .iter()
            .flatten()
            .map(PrefixIndex::prefix_count)
            .sum()
    }

    /// Heap bytes held by the compiled indexes and names.
    pub fn heap_bytes(&self) -> usize {
        self.indexes
            .iter()
            .flatten()
            .map(PrefixIndex::heap_bytes)
            .sum::<usize>()
            + self.names.heap_bytes()
    }

    fn matches(&self, digits: &[u8], channel: Channel, at_ms: i64, slots: &mut [Option<u32>]) {
        if let Some(index) = &self.indexes[channel.index()] {
            index.longest_matches(digits, at_ms, slots);
        }
    }

    /// Every provider's longest matching prefix and rate for a destination.
    pub fn lookup(&self, digits: &str, channel: Channel, at_ms: i64) -> Vec<RateMatch> {
        let mut slots = vec![None; self.providers.len()];
        self.matches(digits.as_bytes(), channel, at_ms, &mut slots);
        slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| {
                let index = self.indexes[channel.index()].as_ref()?;
                let r = index.rate((*s)?);
                let terms = index.terms((*s)?);
                Some(RateMatch {
                    provider: self.providers[i].id.clone(),
                    prefix: Prefix::new(digits.as_bytes(), usize::from(r.prefix_len)),
                    destination: self.names.get(r.destination),
                    rate: terms.rate.normalize(),
                    connection_fee: terms.connection_fee.normalize(),
                    increment: terms.increment,
                    currency: terms.currency,
                    closed: r.closed,
                })
            })
            .collect()
    }

    /// Open rates for a destination, cheapest first.
    pub fn lowest_cost(&self, digits: &str, channel: Channel, at_ms: i64) -> Vec<RateMatch> {
        let mut found: Vec<RateMatch> = self
            .lookup(digits, channel, at_ms)
            .into_iter()
            .filter(|m| !m.closed)
            .collect();
        found.sort_by(|a, b| {
            a.rate
                .cmp(&b.rate)
                .then_with(|| a.provider.cmp(&b.provider))
        });
        found
    }

    /// What `usage` towards `digits` costs on one provider's deck (for rating finished
    /// events and for the baseline comparison); `None` when the provider has no open rate.
    pub fn rate_event(
        &self,
        provider: &ProviderId,
        digits: &str,
        channel: Channel,
        usage: Usage,
        at_ms: i64,
    ) -> Option<Cost> {
        self.terms_for(provider, digits, channel, at_ms)
            .map(|terms| rate_usage(&terms, usage))
    }

    /// The price terms of one provider's open rate towards `digits`, if it has one.
    pub fn terms_for(
        &self,
        provider: &ProviderId,
        digits: &str,
        channel: Channel,
        at_ms: i64,
    ) -> Option<Terms> {
        let idx = usize::from(*self.by_id.get(provider)?);
        let mut slots = vec![None; self.providers.len()];
        self.matches(digits.as_bytes(), channel, at_ms, &mut slots);
        let index = self.indexes[channel.index()].as_ref()?;
        let rate = slots[idx]?;
        (!index.rate(rate).closed).then(|| index.terms(rate))
    }

    /// Decides where a request goes.
    pub fn decide(&self, req: &RouteRequest<'_>) -> Decision {
        let started = Instant::now();
        let strategy = req.strategy.unwrap_or(self.policy.default_strategy);
        let mut decision = Decision {
            primary: None,
            alternates: Vec::new(),
            excluded: Vec::new(),
            strategy,
            router_choice: None,
            refusal: None,
            snapshot_version: self.version,
            decision_ns: 0,
        };
        let digits = req.digits.as_bytes();
        if let Some(b) = self.blocked.iter().find(|b| digits.starts_with(b)) {
            decision.refusal = Some(Refusal::BlockedDestination(Prefix::new(b, b.len())));
            decision.decision_ns = elapsed_ns(started);
            return decision;
        }
        let n = self.providers.len();
        let mut on_stack = [None; 32];
        let mut on_heap = Vec::new();
        let slots: &mut [Option<u32>] = if n <= on_stack.len() {
            &mut on_stack[..n]
        } else {
            on_heap.resize(n, None);
            &mut on_heap
        };
        self.matches(digits, req.channel, req.at_ms, slots);
        let mut needed = req.required;
        needed.insert(req.channel.capability());
        let mut eligible: SmallVec<[Eligible; 16]> = SmallVec::new();
        for (i, slot) in slots.iter().enumerate() {
            match self.check(i, *slot, req, needed) {
                Ok(e) => eligible.push(e),
                Err(reason) => decision.excluded.push(Exclusion {
                    provider: self.providers[i].id.clone(),
                    reason,
                }),
            }
        }
        self.order(&mut eligible, strategy, req);
        if let Some(wanted) = req.provider_override {
            match eligible
                .iter()
                .position(|e| self.providers[usize::from(e.idx)].id.as_str() == wanted)
            {
                Some(pos) => {
                    decision.router_choice = eligible
                        .first()
                        .map(|e| self.providers[usize::from(e.idx)].id.clone());
                    let mut chosen = eligible.remove(pos);
                    chosen.why = Why::Override;
                    eligible.insert(0, chosen);
                }
                None => {
                    decision.router_choice = eligible
                        .first()
                        .map(|e| self.providers[usize::from(e.idx)].id.clone());
                    decision.refusal = Some(
                        match decision
                            .excluded
                            .iter()
                            .find(|x| x.provider.as_str() == wanted)
                        {
                            Some(x) => Refusal::OverrideExcluded(x.reason.clone()),
                            None => Refusal::UnknownOverride(wanted.to_string()),
                        },
                    );
                    decision.decision_ns = elapsed_ns(started);
                    return decision;
                }
            }
        }
        let keep = 1 + req.max_alternates.unwrap_or(self.policy.max_alternates);
        eligible.truncate(keep);
        let mut candidates = eligible
            .iter()
            .enumerate()
            .map(|(rank, e)| self.candidate(e, rank, req, digits));
        decision.primary = candidates.next();
        decision.alternates = candidates.collect();
        if decision.primary.is_none() {
            decision.refusal = Some(Refusal::NoEligibleProvider);
        }
        decision.decision_ns = elapsed_ns(started);
        decision
    }

    /// Applies every filter to provider `i`; the first one that fails is the reason.
    fn check(
        &self,
        i: usize,
        slot: Option<u32>,
        req: &RouteRequest<'_>,
        needed: CapabilitySet,
    ) -> Result<Eligible, ExclusionReason> {
        let p = &self.providers[i];
        let live = &self.live[i];
        let policy = &self.policy;
        if let Some(cap) = p.capabilities.first_missing(needed) {
            return Err(ExclusionReason::MissingCapability(cap));
        }
        if !p.enabled {
            return Err(ExclusionReason::Disabled);
        }
        if let Some(key) = &p.switched_off {
            return Err(ExclusionReason::FeatureOff(key.clone()));
        }
        if let (Some(size), Some(max)) = (req.size_bytes, p.max_email_bytes)
            && size > max
        {
            return Err(ExclusionReason::TooLarge { size, max });
        }
        let rate_idx = slot.ok_or(ExclusionReason::NoRate)?;
        let index = self.indexes[req.channel.index()]
            .as_ref()
            .ok_or(ExclusionReason::NoRate)?;
        let rate = index.rate(rate_idx);
        if rate.closed {
            return Err(ExclusionReason::PrefixClosed(Prefix::new(
                req.digits.as_bytes(),
                usize::from(rate.prefix_len),
            )));
        }
        let currency = index.currency(rate_idx);
        if currency != policy.currency {
            return Err(ExclusionReason::CurrencyMismatch(currency));
        }
        if let Some(max) = req.max_rate {
            let price = index.terms(rate_idx).rate;
            if price > max {
                return Err(ExclusionReason::RateAboveMax { rate: price, max });
            }
        }
        // Overall health, then health towards the destination country when known; each is
        // read once and the lower score counts.
        let country = req
            .country_code
            .and_then(|c| live.country_health(c).map(|h| (c, h)));
        let mut probe = false;
        let mut score = u8::MAX;
        for (health, country_code) in std::iter::once((live.health(), None))
            .chain(country.as_ref().map(|(c, h)| (h.as_ref(), Some(*c))))
        {
            let view = health.view(req.at_ms);
            score = score.min(view.score);
            match view.breaker {
                BreakerState::Closed => {}
                BreakerState::Open { until_ms } => {
                    return Err(ExclusionReason::AutoDisabled {
                        until_ms,
                        country: country_code,
                    });
                }
                BreakerState::HalfOpen => {
                    if req.claim_probes && !health.try_claim_probe(live.health_config(), req.at_ms)
                    {
                        return Err(ExclusionReason::ProbeInFlight);
                    }
                    probe = true;
                }
            }
        }
        let floor = p.thresholds.health_floor.unwrap_or(policy.health_floor);
        if score < floor && !probe {
            return Err(ExclusionReason::HealthBelowFloor { score, floor });
        }
        let (active, cps) = live.load();
        if let Some(limit) = p.max_concurrency
            && active >= limit
        {
            return Err(ExclusionReason::ConcurrencyLimit { active, limit });
        }
        if let Some(limit) = p.max_cps
            && cps >= limit
        {
            return Err(ExclusionReason::CpsLimit {
                current: cps,
                limit,
            });
        }
        let q = live.quality_view();
        let min_asr = p.thresholds.min_asr.unwrap_or(policy.min_asr);
        if req.channel == Channel::Voice && q.calls >= policy.min_samples && q.asr < min_asr {
            return Err(ExclusionReason::AsrBelowMin {
                asr: q.asr,
                min: min_asr,
                samples: q.calls,
            });
        }
        let min_uptime = p.thresholds.min_uptime.unwrap_or(policy.min_uptime);
        if q.requests >= policy.min_samples && q.uptime < min_uptime && !probe {
            return Err(ExclusionReason::UptimeBelowMin {
                uptime: q.uptime,
                min: min_uptime,
            });
        }
        if live.budget_exhausted() {
            return Err(ExclusionReason::BudgetCapReached);
        }
        let cost_key = index.cost_key(rate_idx, req.usage);
        let wants_quality = req.lead == Some(LeadPriority::Hot)
            || matches!(
                req.strategy.unwrap_or(policy.default_strategy),
                Strategy::Quality | Strategy::Balanced
            );
        Ok(Eligible {
            idx: i as u16,
            rate: rate_idx,
            cost_key,
            quality: if wants_quality {
                quality_score(&q, req.channel, policy.min_samples)
            } else {
                f64::NAN
            },
            health: score,
            probe,
            score: 0.0,
            why: Why::Cost,
        })
    }

    /// Orders eligible providers by the strategy, then applies the hot-lead preference.
    fn order(&self, eligible: &mut [Eligible], strategy: Strategy, req: &RouteRequest<'_>) {
        let by_cost = |a: &Eligible, b: &Eligible| {
            a.cost_key.cmp(&b.cost_key).then_with(|| a.idx.cmp(&b.idx))
        };
        match strategy {
            Strategy::LeastCost => {
                sort_by_cost(eligible);
                self.break_cost_ties_by_quality(eligible, req.channel);
                for (k, e) in eligible.iter_mut().enumerate() {
                    e.why = Why::Cost;
                    e.score = 0.0 - k as f64;
                }
            }
            Strategy::Priority => {
                for e in eligible.iter_mut() {
                    let prio = self.providers[usize::from(e.idx)].priority;
                    e.why = Why::Priority(prio);
                    e.score = -f64::from(prio);
                }
                eligible.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| by_cost(a, b)));
            }
            Strategy::Quality => {
                for e in eligible.iter_mut() {
                    e.why = Why::Quality;
                    e.score = e.quality;
                }
                eligible.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| by_cost(a, b)));
            }
            Strategy::Balanced => {
                let min = eligible
                    .iter()
                    .map(|e| e.cost_key.to_f64())
                    .fold(f64::MAX, f64::min);
                let max = eligible
                    .iter()
                    .map(|e| e.cost_key.to_f64())
                    .fold(f64::MIN, f64::max);
                let span = max - min;
                let qw = self.policy.quality_weight.clamp(0.0, 1.0);
                for e in eligible.iter_mut() {
                    let cost = if span > 0.0 {
                        (max - e.cost_key.to_f64()) / span
                    } else {
                        1.0
                    };
                    e.score = qw * e.quality + (1.0 - qw) * cost;
                    e.why = Why::Balanced {
                        quality: e.quality,
                        cost,
                        quality_weight: qw,
                    };
                }
                eligible.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| by_cost(a, b)));
            }
            Strategy::Weighted => {
                let weight = |e: &Eligible| self.providers[usize::from(e.idx)].weight;
                let total: u32 = eligible.iter().map(weight).fold(0u32, u32::saturating_add);
                for e in eligible.iter_mut() {
                    let w = weight(e);
                    e.score = f64::from(w);
                    e.why = Why::Weight {
                        weight: w,
                        total,
                        drawn: false,
                    };
                }
                eligible.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| by_cost(a, b)));
                let weights: Vec<u32> = eligible.iter().map(weight).collect();
                if let Some(pick) = weighted_pick(&weights, req.seed) {
                    eligible[..=pick].rotate_right(1);
                    if let Why::Weight { drawn, .. } = &mut eligible[0].why {
                        *drawn = true;
                    }
                }
            }
            Strategy::LoadBalanced => {
                for e in eligible.iter_mut() {
                    let p = &self.providers[usize::from(e.idx)];
                    let (active, _) = self.live[usize::from(e.idx)].load();
                    e.score = -p
                        .max_concurrency
                        .map_or(0.0, |l| f64::from(active) / f64::from(l.max(1)));
                    e.why = Why::Load {
                        active,
                        limit: p.max_concurrency,
                    };
                }
                eligible.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| by_cost(a, b)));
            }
        }
        if req.lead == Some(LeadPriority::Hot) {
            let floor = self.policy.hot_quality_floor;
            eligible.sort_by_key(|e| e.quality < floor);
        }
    }

    /// Within each run of equal expected cost, puts the better recent quality first. Quality
    /// is computed only for such runs: ties are rare, and the routing path stays short.
    fn break_cost_ties_by_quality(&self, eligible: &mut [Eligible], channel: Channel) {
        let mut start = 0;
        while start < eligible.len() {
            let mut end = start + 1;
            while end < eligible.len() && eligible[end].cost_key == eligible[start].cost_key {
                end += 1;
            }
            if end - start > 1 {
                for e in &mut eligible[start..end] {
                    if e.quality.is_nan() {
                        let q = self.live[usize::from(e.idx)].quality_view();
                        e.quality = quality_score(&q, channel, self.policy.min_samples);
                    }
                }
                eligible[start..end].sort_by(|a, b| {
                    b.quality
                        .total_cmp(&a.quality)
                        .then_with(|| a.idx.cmp(&b.idx))
                });
            }
            start = end;
        }
    }

    fn candidate(
        &self,
        e: &Eligible,
        rank: usize,
        req: &RouteRequest<'_>,
        digits: &[u8],
    ) -> Candidate {
        let p = &self.providers[usize::from(e.idx)];
        let (terms, prefix_len, destination) = match &self.indexes[req.channel.index()] {
            Some(index) => {
                let r = index.rate(e.rate);
                (
                    index.terms(e.rate),
                    r.prefix_len,
                    self.names.get(r.destination),
                )
            }
            None => (Terms::zero(self.policy.currency), 0, Arc::from("")),
        };
        Candidate {
            provider: p.id.clone(),
            prefix: Prefix::new(digits, usize::from(prefix_len)),
            destination,
            terms,
            usage: req.usage,
            channel: req.channel,
            score: e.score,
            quality: if e.quality.is_nan() {
                quality_score(
                    &self.live[usize::from(e.idx)].quality_view(),
                    req.channel,
                    self.policy.min_samples,
                )
            } else {
                e.quality
            },
            health: e.health,
            probe: e.probe,
            rank,
            why: e.why,
        }
    }
}

fn elapsed_ns(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

/// Sorts by expected cost, then provider order. When every key is a small integer the sort
/// runs on packed `cost << 16 | position` words, far cheaper than comparing structures.
fn sort_by_cost(eligible: &mut [Eligible]) {
    let packed: Option<SmallVec<[u64; 16]>> = eligible
        .iter()
        .enumerate()
        .map(|(pos, e)| match e.cost_key {
            CostKey::Fixed(v) if v < 1 << 48 && pos < 1 << 16 => Some(v << 16 | pos as u64),
            _ => None,
        })
        .collect();
    match packed {
        Some(mut keys) => {
            keys.sort_unstable();
            let original: SmallVec<[Eligible; 16]> = SmallVec::from_slice(eligible);
            for (slot, key) in eligible.iter_mut().zip(&keys) {
                *slot = original[(key & 0xFFFF) as usize];
            }
        }
        None => eligible
            .sort_unstable_by(|a, b| a.cost_key.cmp(&b.cost_key).then_with(|| a.idx.cmp(&b.idx))),
    }
}

/// Holds the current snapshot; decisions load it without locking, rebuilds replace it whole.
#[derive(Debug)]
pub struct Router {
    current: ArcSwap<RoutingSnapshot>,
}

impl Router {
    /// A router serving `snapshot`.
    pub fn new(snapshot: RoutingSnapshot) -> Self {
        Router {
            current: ArcSwap::from_pointee(snapshot),
        }
    }

    /// The snapshot in force (cheap; hold it only for the duration of a decision).
    pub fn current(&self) -> arc_swap::Guard<Arc<RoutingSnapshot>> {
        self.current.load()
    }

    /// Replaces the snapshot; decisions already running finish on the old one.
    pub fn replace(&self, snapshot: RoutingSnapshot) {
        self.current.store(Arc::new(snapshot));
    }

    /// Decides on the snapshot in force.
    pub fn decide(&self, req: &RouteRequest<'_>) -> Decision {
        self.current.load().decide(req)
    }
}

#[cfg(test)]
mod tests;
