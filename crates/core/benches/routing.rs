//! Criterion benchmarks of the routing core, each beside a straightforward baseline.
//! `cargo bench -p switchyard-core`; the full-size figures come from
//! `switchyard bench routing`.

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use switchyard_core::deck::{ImportOptions, import_csv};
use switchyard_core::naive::NaiveRouter;
use switchyard_core::rating::{Terms, Usage, count_segments, rate_usage};
use switchyard_core::synth::{Plan, Rng};
use switchyard_core::{
    Channel, Deck, LiveRegistry, ProviderProfile, RouteRequest, RoutingPolicy, RoutingSnapshot,
};

const PROVIDERS: usize = 10;
const ROWS: usize = 20_000;

fn decks(plan: &Plan) -> Vec<Deck> {
    (0..PROVIDERS)
        .map(|i| {
            let csv = plan.deck_csv(i as u64, ROWS, 7);
            let report = import_csv(csv.as_bytes(), &ImportOptions::default()).expect("valid");
            Deck {
                provider: format!("carrier{i}").into(),
                channel: Channel::Voice,
                effective_from: chrono::DateTime::UNIX_EPOCH,
                rows: report.rows,
            }
        })
        .collect()
}

fn routing(c: &mut Criterion) {
    let plan = Plan::new(ROWS * 3 / 2, 7);
    let decks = decks(&plan);
    let providers = decks
        .iter()
        .map(|d| ProviderProfile::new(d.provider.clone()))
        .collect();
    let snapshot = RoutingSnapshot::build(
        1,
        providers,
        &decks,
        RoutingPolicy::default(),
        &LiveRegistry::default(),
    )
    .expect("builds");
    let naive = NaiveRouter::new(&decks);
    let mut rng = Rng::new(1);
    let numbers: Vec<String> = (0..4096).map(|_| plan.number(&mut rng)).collect();
    let at = 1_800_000_000_000;
    let mut group = c.benchmark_group("decide_10_providers_20k_prefixes");
    let mut i = 0;
    group.bench_function("compiled_index", |b| {
        b.iter(|| {
            i = (i + 1) % numbers.len();
            black_box(snapshot.decide(&RouteRequest::new(&numbers[i], Channel::Voice, at)))
        })
    });
    let usage = RouteRequest::new("", Channel::Voice, 0).usage;
    group.bench_function("baseline_btreemap", |b| {
        b.iter(|| {
            i = (i + 1) % numbers.len();
            black_box(naive.decide_least_cost(&numbers[i], Channel::Voice, usage, at))
        })
    });
    group.finish();
}

fn import(c: &mut Criterion) {
    let plan = Plan::new(15_000, 3);
    let csv = plan.deck_csv(0, 10_000, 3);
    c.bench_function("import_csv_10k_rows", |b| {
        b.iter(|| black_box(import_csv(csv.as_bytes(), &ImportOptions::default()).expect("valid")))
    });
}

fn rating(c: &mut Criterion) {
    let terms = Terms {
        rate: rust_decimal::Decimal::new(123, 4),
        connection_fee: rust_decimal::Decimal::new(5, 3),
        attachment_fee: rust_decimal::Decimal::ZERO,
        increment: "6/6".parse().expect("increment"),
        min_duration: 0,
        currency: switchyard_core::Currency::USD,
    };
    c.bench_function("rate_voice_call", |b| {
        b.iter(|| {
            black_box(rate_usage(
                &terms,
                Usage::Call {
                    answered: true,
                    duration_secs: black_box(187),
                },
            ))
        })
    });
    let text = "Your appointment is confirmed for Tuesday at 10:30. Reply STOP to opt out, HELP for help. Prices in € apply to international calls from our office.";
    c.bench_function("count_segments_150_chars", |b| {
        b.iter(|| black_box(count_segments(black_box(text))))
    });
}

criterion_group!(benches, routing, import, rating);
criterion_main!(benches);
