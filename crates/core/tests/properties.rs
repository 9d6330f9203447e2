//! Property tests of the routing core against brute-force oracles.

use chrono::{TimeZone, Utc};
use proptest::prelude::*;
use rust_decimal::Decimal;
use switchyard_core::channel::{Capability, CapabilitySet, Channel};
use switchyard_core::decision::ExclusionReason;
use switchyard_core::deck::{Deck, Increment, RateRow};
use switchyard_core::naive::NaiveRouter;
use switchyard_core::rating::{Terms, Usage, billed_seconds, rate_usage};
use switchyard_core::{
    Currency, LiveRegistry, ProviderId, ProviderProfile, RouteRequest, RoutingPolicy,
    RoutingSnapshot, Strategy as Routing,
};

const NOW: i64 = 1_800_000_000_000;

fn digits(max_len: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(0u8..4, 1..=max_len)
        .prop_map(|d| d.into_iter().map(|x| char::from(b'0' + x)).collect())
}

fn rate() -> impl Strategy<Value = Decimal> {
    (0u32..100_000).prop_map(|n| Decimal::new(i64::from(n), 5))
}

prop_compose! {
    fn deck_rows()(rows in proptest::collection::btree_map(digits(5), (rate(), any::<bool>()), 1..30)) -> Vec<RateRow> {
        rows.into_iter().map(|(prefix, (r, closed))| {
            let mut row = RateRow::new(prefix, r);
            row.closed = closed && r.is_zero();
            row
        }).collect()
    }
}

fn build(decks: Vec<Vec<RateRow>>) -> (RoutingSnapshot, Vec<Deck>) {
    let epoch = Utc.timestamp_opt(0, 0).single().expect("epoch");
    let decks: Vec<Deck> = decks
        .into_iter()
        .enumerate()
        .map(|(i, rows)| Deck {
            provider: ProviderId::new(format!("p{i}")),
            channel: Channel::Voice,
            effective_from: epoch,
            rows,
        })
        .collect();
    let providers = decks
        .iter()
        .map(|d| ProviderProfile::new(d.provider.clone()))
        .collect();
    let policy = RoutingPolicy {
        max_alternates: 64,
        ..RoutingPolicy::default()
    };
    let snapshot = RoutingSnapshot::build(1, providers, &decks, policy, &LiveRegistry::default())
        .expect("builds");
    (snapshot, decks)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The compiled index finds, for every provider, the same longest prefix as a scan of
    /// all its rows.
    #[test]
    fn longest_prefix_matches_brute_force(decks in proptest::collection::vec(deck_rows(), 1..6), number in digits(8)) {
        let (snapshot, decks) = build(decks);
        let found = snapshot.lookup(&number, Channel::Voice, NOW);
        for deck in &decks {
            let oracle = deck.rows.iter()
                .filter(|r| number.starts_with(r.prefix.as_str()))
                .max_by_key(|r| r.prefix.len());
            let got = found.iter().find(|m| m.provider == deck.provider);
            match (oracle, got) {
                (None, None) => {}
                (Some(o), Some(g)) => {
                    prop_assert_eq!(g.prefix.as_str(), o.prefix.as_str());
                    prop_assert_eq!(g.rate, o.rate);
                    prop_assert_eq!(g.closed, o.closed);
                }
                (o, g) => prop_assert!(false, "oracle {:?} vs index {:?}", o.map(|r| &r.prefix), g.map(|m| m.prefix)),
            }
        }
    }

    /// Least-cost decisions agree with the naive map-probing router.
    #[test]
    fn least_cost_agrees_with_naive_router(decks in proptest::collection::vec(deck_rows(), 1..6), number in digits(8), secs in 0u32..400) {
        let (snapshot, decks) = build(decks);
        let naive = NaiveRouter::new(&decks);
        let usage = Usage::Call { answered: true, duration_secs: secs };
        let mut req = RouteRequest::new(&number, Channel::Voice, NOW);
        req.usage = usage;
        let decision = snapshot.decide(&req);
        let got: Vec<Decimal> = decision.candidates().map(|c| c.expected_cost().amount).collect();
        let want: Vec<Decimal> = naive.decide_least_cost(&number, Channel::Voice, usage, NOW).iter().map(|c| c.cost).collect();
        prop_assert_eq!(got, want);
    }
}

#[derive(Debug, Clone)]
struct ProviderCase {
    caps: CapabilitySet,
    enabled: bool,
    max_concurrency: Option<u32>,
    max_cps: Option<u32>,
    active: u32,
    cps: u32,
    budget_spent: bool,
    rate: Option<Decimal>,
}

fn provider_case() -> impl Strategy<Value = ProviderCase> {
    (
        any::<u16>(),
        proptest::bool::weighted(0.85),
        proptest::option::of(1u32..5),
        proptest::option::of(1u32..5),
        0u32..6,
        0u32..6,
        proptest::bool::weighted(0.15),
        proptest::option::weighted(0.85, rate()),
    )
        .prop_map(
            |(bits, enabled, max_concurrency, max_cps, active, cps, budget_spent, rate)| {
                let mut caps: CapabilitySet = Capability::ALL
                    .into_iter()
                    .enumerate()
                    .filter(|(i, _)| bits & (1 << i) != 0 || *i == 0)
                    .map(|(_, c)| c)
                    .collect();
                if bits & 0x8000 == 0 {
                    caps.insert(Capability::StirShaken);
                }
                ProviderCase {
                    caps,
                    enabled,
                    max_concurrency,
                    max_cps,
                    active,
                    cps,
                    budget_spent,
                    rate,
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// No candidate violates a filter, every excluded provider really fails the filter it is
    /// excluded for, and every provider is accounted for exactly once.
    #[test]
    fn decisions_respect_every_filter(
        cases in proptest::collection::vec(provider_case(), 1..10),
        need_stir in any::<bool>(),
        max_rate in proptest::option::of(rate()),
        strategy in proptest::sample::select(Routing::ALL.to_vec()),
        seed in any::<u64>(),
    ) {
        let epoch = Utc.timestamp_opt(0, 0).single().expect("epoch");
        let mut providers = Vec::new();
        let mut decks = Vec::new();
        for (i, c) in cases.iter().enumerate() {
            let mut p = ProviderProfile::new(format!("p{i}"));
            p.capabilities = c.caps;
            p.enabled = c.enabled;
            p.max_concurrency = c.max_concurrency;
            p.max_cps = c.max_cps;
            p.weight = (i as u32 % 3) + 1;
            if let Some(r) = c.rate {
                decks.push(Deck { provider: p.id.clone(), channel: Channel::Voice, effective_from: epoch, rows: vec![RateRow::new("1", r)] });
            }
            providers.push(p);
        }
        let policy = RoutingPolicy { max_alternates: 64, ..RoutingPolicy::default() };
        let snapshot = RoutingSnapshot::build(1, providers, &decks, policy, &LiveRegistry::default()).expect("builds");
        for (i, c) in cases.iter().enumerate() {
            let live = snapshot.live(&ProviderId::new(format!("p{i}"))).expect("cell");
            live.set_load(c.active, c.cps);
            live.set_budget_exhausted(c.budget_spent);
        }
        let mut req = RouteRequest::new("14155550100", Channel::Voice, NOW);
        if need_stir { req.required.insert(Capability::StirShaken); }
        req.max_rate = max_rate;
        req.strategy = Some(strategy);
        req.seed = seed;
        let d = snapshot.decide(&req);
        let case_of = |id: &ProviderId| -> &ProviderCase {
            let i: usize = id.as_str()[1..].parse().expect("index");
            &cases[i]
        };
        let mut seen = std::collections::HashSet::new();
        for cand in d.candidates() {
            let c = case_of(&cand.provider);
            prop_assert!(seen.insert(cand.provider.clone()));
            prop_assert!(c.enabled && !c.budget_spent);
            prop_assert!(c.caps.contains(Capability::Voice));
            prop_assert!(!need_stir || c.caps.contains(Capability::StirShaken));
            prop_assert!(c.max_concurrency.is_none_or(|l| c.active < l));
            prop_assert!(c.max_cps.is_none_or(|l| c.cps < l));
            prop_assert_eq!(Some(cand.rate()), c.rate);
            prop_assert!(max_rate.is_none_or(|m| cand.rate() <= m));
        }
        for x in &d.excluded {
            let c = case_of(&x.provider);
            prop_assert!(seen.insert(x.provider.clone()));
            let holds = match &x.reason {
                ExclusionReason::MissingCapability(cap) => !c.caps.contains(*cap),
                ExclusionReason::Disabled => !c.enabled,
                ExclusionReason::NoRate => c.rate.is_none(),
                ExclusionReason::RateAboveMax { rate, max } => Some(*rate) == c.rate && rate > max,
                ExclusionReason::ConcurrencyLimit { active, limit } => *active == c.active && Some(*limit) == c.max_concurrency && active >= limit,
                ExclusionReason::CpsLimit { current, limit } => *current == c.cps && Some(*limit) == c.max_cps && current >= limit,
                ExclusionReason::BudgetCapReached => c.budget_spent,
                other => { prop_assert!(false, "unexpected reason {:?}", other); false }
            };
            prop_assert!(holds, "{} excluded for {:?} but {:?}", x.provider, x.reason, c);
        }
        prop_assert_eq!(seen.len(), cases.len());
    }

    /// Rating equals the exact rational cost: nothing is lost to rounding.
    #[test]
    fn rating_is_exact(
        rate_units in 0i64..10_000_000,
        fee_units in 0i64..100_000,
        initial in 1u32..=60,
        subsequent in 1u32..=60,
        min_duration in 0u32..120,
        secs in 0u32..20_000,
    ) {
        let terms = Terms {
            rate: Decimal::new(rate_units, 6),
            connection_fee: Decimal::new(fee_units, 6),
            attachment_fee: Decimal::ZERO,
            increment: Increment { initial, subsequent },
            min_duration,
            currency: Currency::USD,
        };
        let cost = rate_usage(&terms, Usage::Call { answered: true, duration_secs: secs }).total.amount;
        // Exact reference in integer millionths-of-a-unit over 60: cost = (fee*60 + rate*billed) / (60 * 10^6).
        let billed = i128::from(billed_seconds(secs, terms.increment, min_duration));
        let numerator = i128::from(fee_units) * 60 + i128::from(rate_units) * billed;
        let denominator: i128 = 60 * 1_000_000;
        // |cost - numerator/denominator| <= 1e-20, checked in integers at 20 decimal places.
        let rounded = cost.round_dp(20);
        let m20 = rounded.mantissa() * 10i128.pow(20 - rounded.scale());
        let error = (m20 * denominator - numerator * 10i128.pow(20)).abs();
        prop_assert!(error <= denominator, "cost {} vs exact {}/{}", cost, numerator, denominator);
    }
}

proptest! {
    /// Billed seconds are the smallest block boundary covering the (minimum-padded) duration.
    #[test]
    fn billed_seconds_match_block_walk(initial in 1u32..=120, subsequent in 1u32..=120, min in 0u32..200, secs in 0u32..5_000) {
        let d = u64::from(secs.max(min));
        let mut boundary = 0u64;
        if d > 0 {
            boundary = u64::from(initial);
            while boundary < d {
                boundary += u64::from(subsequent);
            }
        }
        prop_assert_eq!(billed_seconds(secs, Increment { initial, subsequent }, min), boundary);
        prop_assert!(boundary >= d && boundary < d + u64::from(initial.max(subsequent)) + 1);
    }
}

#[test]
fn weighted_split_is_within_one_percent_over_100k_decisions() {
    let epoch = Utc.timestamp_opt(0, 0).single().expect("epoch");
    let weights = [50u32, 30, 20];
    let mut providers = Vec::new();
    let mut decks = Vec::new();
    for (i, w) in weights.iter().enumerate() {
        let mut p = ProviderProfile::new(format!("p{i}"));
        p.weight = *w;
        decks.push(Deck {
            provider: p.id.clone(),
            channel: Channel::Sms,
            effective_from: epoch,
            rows: vec![RateRow::new("1", Decimal::new(5 + i as i64, 3))],
        });
        providers.push(p);
    }
    let snapshot = RoutingSnapshot::build(
        1,
        providers,
        &decks,
        RoutingPolicy::default(),
        &LiveRegistry::default(),
    )
    .expect("builds");
    let mut counts = [0u32; 3];
    let total = 100_000u64;
    for seed in 0..total {
        let mut req = RouteRequest::new("14155550100", Channel::Sms, NOW);
        req.strategy = Some(Routing::Weighted);
        req.seed = seed;
        let d = snapshot.decide(&req);
        let primary = d.primary.expect("routes");
        let i: usize = primary.provider.as_str()[1..].parse().expect("index");
        counts[i] += 1;
    }
    for (i, w) in weights.iter().enumerate() {
        let share = f64::from(counts[i]) / total as f64;
        let target = f64::from(*w) / 100.0;
        assert!(
            (share - target).abs() <= 0.01,
            "provider {i}: {share} vs {target}"
        );
    }
    // Deterministic: the same seed gives the same pick.
    let pick = |seed| {
        let mut req = RouteRequest::new("14155550100", Channel::Sms, NOW);
        req.strategy = Some(Routing::Weighted);
        req.seed = seed;
        snapshot.decide(&req).primary.map(|p| p.provider)
    };
    assert_eq!(pick(42), pick(42));
}
