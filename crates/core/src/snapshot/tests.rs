use super::*;
use crate::channel::Capability;
use crate::deck::RateRow;
use crate::quality::{CallOutcome, Observation};
use chrono::{TimeZone, Utc};
use rust_decimal_macros::dec;

const NOW: i64 = 1_800_000_000_000;

fn deck(provider: &str, rows: &[(&str, Decimal)]) -> Deck {
    Deck {
        provider: ProviderId::new(provider),
        channel: Channel::Voice,
        effective_from: Utc.timestamp_opt(0, 0).single().expect("epoch"),
        rows: rows
            .iter()
            .map(|(p, r)| {
                let mut row = RateRow::new(*p, *r);
                row.destination = format!("dest {p}");
                row
            })
            .collect(),
    }
}

struct World {
    snapshot: RoutingSnapshot,
}

fn world(providers: Vec<ProviderProfile>, decks: Vec<Deck>, policy: RoutingPolicy) -> World {
    let live = LiveRegistry::default();
    World {
        snapshot: RoutingSnapshot::build(1, providers, &decks, policy, &live).expect("builds"),
    }
}

fn three() -> World {
    world(
        vec![
            ProviderProfile::new("a"),
            ProviderProfile::new("b"),
            ProviderProfile::new("c"),
        ],
        vec![
            deck("a", &[("44", dec!(0.010)), ("447", dec!(0.030))]),
            deck("b", &[("44", dec!(0.020))]),
            deck("c", &[("4", dec!(0.015))]),
        ],
        RoutingPolicy::default(),
    )
}

fn req(digits: &str) -> RouteRequest<'_> {
    RouteRequest::new(digits, Channel::Voice, NOW)
}

fn order(d: &Decision) -> Vec<&str> {
    d.candidates().map(|c| c.provider.as_str()).collect()
}

#[test]
fn least_cost_uses_each_providers_longest_prefix() {
    let w = three();
    let d = w.snapshot.decide(&req("447700900123"));
    // a's 447 (0.030) is longer than its 44, so a is the most expensive here.
    assert_eq!(order(&d), vec!["c", "b", "a"]);
    let a = d.alternates.last().expect("a listed");
    assert_eq!(a.prefix.as_str(), "447");
    assert_eq!(&*a.destination, "dest 447");
    let d = w.snapshot.decide(&req("442079460958"));
    assert_eq!(order(&d), vec!["a", "c", "b"]);
    assert_eq!(
        d.primary.as_ref().map(|p| p.expected_cost().amount),
        Some(dec!(0.01))
    );
}

#[test]
fn no_rate_and_blocked_destinations() {
    let policy = RoutingPolicy {
        blocked_prefixes: vec!["+4490".into()],
        ..RoutingPolicy::default()
    };
    let w = world(
        vec![ProviderProfile::new("a"), ProviderProfile::new("b")],
        vec![
            deck("a", &[("44", dec!(0.01))]),
            deck("b", &[("33", dec!(0.01))]),
        ],
        policy,
    );
    let d = w.snapshot.decide(&req("4420"));
    assert_eq!(order(&d), vec!["a"]);
    assert_eq!(d.excluded[0].reason, ExclusionReason::NoRate);
    let d = w.snapshot.decide(&req("449012345"));
    assert!(d.primary.is_none());
    assert!(matches!(d.refusal, Some(Refusal::BlockedDestination(p)) if p.as_str() == "4490"));
    let d = w.snapshot.decide(&req("11234"));
    assert_eq!(d.refusal, Some(Refusal::NoEligibleProvider));
}

#[test]
fn every_filter_names_its_reason() {
    let mut providers: Vec<ProviderProfile> =
        ["cap", "off", "big", "cc", "cps", "budget", "max", "ok"]
            .iter()
            .map(|id| ProviderProfile::new(*id))
            .collect();
    providers[0].capabilities.remove(Capability::StirShaken);
    providers[1].enabled = false;
    providers[2].max_email_bytes = Some(1000);
    providers[7].max_email_bytes = Some(1001);
    providers[3].max_concurrency = Some(5);
    providers[4].max_cps = Some(2);
    let decks: Vec<Deck> = providers
        .iter()
        .map(|p| {
            let rate = if p.id.as_str() == "max" {
                dec!(0.5)
            } else {
                dec!(0.01)
            };
            deck(p.id.as_str(), &[("1", rate)])
        })
        .collect();
    let w = world(providers, decks, RoutingPolicy::default());
    let s = &w.snapshot;
    s.live(&"cc".into()).expect("cell").set_load(5, 0);
    s.live(&"cps".into()).expect("cell").set_load(0, 2);
    s.live(&"budget".into())
        .expect("cell")
        .set_budget_exhausted(true);
    let mut r = req("14155550100");
    r.required.insert(Capability::StirShaken);
    r.max_rate = Some(dec!(0.1));
    r.size_bytes = Some(1001);
    let d = s.decide(&r);
    assert_eq!(order(&d), vec!["ok"]);
    let codes: Vec<(&str, &str)> = d
        .excluded
        .iter()
        .map(|x| (x.provider.as_str(), x.reason.code()))
        .collect();
    assert_eq!(
        codes,
        vec![
            ("cap", "missing_capability"),
            ("off", "disabled"),
            ("big", "message_too_large"),
            ("cc", "concurrency_limit"),
            ("cps", "cps_limit"),
            ("budget", "budget_cap_reached"),
            ("max", "rate_above_max"),
        ]
    );
    assert_eq!(
        d.excluded[0].reason.to_string(),
        "lacks the stir_shaken capability"
    );
    assert_eq!(
        d.excluded[2].reason.to_string(),
        "the message is 1001 bytes, more than its limit of 1000"
    );
}

#[test]
fn health_breaker_asr_and_uptime_filters() {
    let w = three();
    let s = &w.snapshot;
    let a = s.live(&"a".into()).expect("a");
    for i in 0..10 {
        a.observe(Observation::Request { ok: false }, None, NOW + i);
    }
    let b = s.live(&"b".into()).expect("b");
    for _ in 0..30 {
        b.observe(
            Observation::Call {
                outcome: CallOutcome::NoAnswer,
                pdd_ms: None,
            },
            None,
            NOW,
        );
    }
    let c = s.live(&"c".into()).expect("c");
    for i in 0..25 {
        c.observe(Observation::Request { ok: i % 5 != 0 }, None, NOW);
        c.observe(Observation::Request { ok: true }, None, NOW);
    }
    let d = s.decide(&req("442079460958"));
    let codes: Vec<&str> = d.excluded.iter().map(|x| x.reason.code()).collect();
    assert_eq!(
        codes,
        vec!["auto_disabled", "asr_below_min", "uptime_below_min"]
    );
    assert!(d.primary.is_none());
    assert!(
        d.excluded[1]
            .reason
            .to_string()
            .contains("ASR 0.0% over 30 calls")
    );
}

#[test]
fn health_floor_excludes_before_the_breaker_opens() {
    let w = three();
    let s = &w.snapshot;
    let a = s.live(&"a".into()).expect("a");
    let cfg = *a.health_config();
    // 9 failures (score 55) then successes and failures until the score is under 30
    // without ever 10 in a row.
    for round in 0..4 {
        for i in 0..9 {
            a.health().record_failure(&cfg, NOW + round * 100 + i);
        }
        a.health().record_success(&cfg);
    }
    let d = s.decide(&req("442079460958"));
    assert_eq!(
        d.excluded[0].reason.code(),
        "health_below_floor",
        "{:?}",
        d.excluded
    );
}

#[test]
fn half_open_provider_takes_one_probe() {
    let w = three();
    let s = &w.snapshot;
    let a = s.live(&"a".into()).expect("a");
    for i in 0..10 {
        a.observe(Observation::Request { ok: false }, None, NOW + i);
    }
    let later = NOW + 60_000;
    let mut r = RouteRequest::new("442079460958", Channel::Voice, later);
    r.claim_probes = true;
    let first = s.decide(&r);
    let primary = first.primary.as_ref().expect("routes");
    assert_eq!((primary.provider.as_str(), primary.probe), ("a", true));
    let second = s.decide(&r);
    assert_eq!(second.excluded[0].reason, ExclusionReason::ProbeInFlight);
    a.observe(Observation::Request { ok: true }, None, later + 1);
    let third = s.decide(&r);
    assert_eq!(
        third
            .primary
            .map(|p| (p.provider.as_str().to_string(), p.probe)),
        Some(("a".into(), false))
    );
}

#[test]
fn country_breaker_only_affects_that_country() {
    let w = three();
    let s = &w.snapshot;
    let a = s.live(&"a".into()).expect("a");
    for i in 0..10 {
        a.observe(Observation::Request { ok: false }, Some(44), NOW + i);
    }
    // The overall breaker opened too (10 failures in a row overall); succeed elsewhere once.
    a.observe(Observation::Request { ok: true }, Some(33), NOW + 20);
    let mut r = req("442079460958");
    r.country_code = Some(44);
    let d = s.decide(&r);
    assert_eq!(
        d.excluded[0].reason,
        ExclusionReason::AutoDisabled {
            until_ms: NOW + 9 + 30_000,
            country: Some(44)
        }
    );
    r.country_code = Some(33);
    assert_eq!(
        s.decide(&r)
            .primary
            .map(|p| p.provider.as_str().to_string()),
        Some("a".into())
    );
}

#[test]
fn priority_quality_balanced_and_load_strategies() {
    let mut providers = vec![
        ProviderProfile::new("a"),
        ProviderProfile::new("b"),
        ProviderProfile::new("c"),
    ];
    providers[0].priority = 3;
    providers[1].priority = 1;
    providers[2].priority = 2;
    for p in &mut providers {
        p.max_concurrency = Some(10);
    }
    let w = world(
        providers,
        vec![
            deck("a", &[("1", dec!(0.010))]),
            deck("b", &[("1", dec!(0.020))]),
            deck("c", &[("1", dec!(0.030))]),
        ],
        RoutingPolicy::default(),
    );
    let s = &w.snapshot;
    let mut r = req("14155550100");
    r.strategy = Some(Strategy::Priority);
    assert_eq!(order(&s.decide(&r)), vec!["b", "c", "a"]);

    let answer = |p: &str, answered: u32, total: u32| {
        let cell = s.live(&p.into()).expect("cell");
        for i in 0..total {
            let outcome = if i < answered {
                CallOutcome::Answered { duration_secs: 120 }
            } else {
                CallOutcome::NoAnswer
            };
            cell.observe(
                Observation::Call {
                    outcome,
                    pdd_ms: Some(1500),
                },
                None,
                NOW,
            );
        }
    };
    answer("a", 20, 100);
    answer("b", 40, 100);
    answer("c", 70, 100);
    r.strategy = Some(Strategy::Quality);
    assert_eq!(order(&s.decide(&r)), vec!["c", "b", "a"]);
    r.strategy = Some(Strategy::Balanced);
    // a: quality 0.43, cheapest (1.0) -> 0.66; b: 0.53, 0.5 -> 0.52; c: 0.68, 0.0 -> 0.41.
    let d = s.decide(&r);
    assert_eq!(order(&d), vec!["a", "b", "c"]);
    let why = d
        .primary
        .as_ref()
        .map(Candidate::explain)
        .unwrap_or_default();
    assert!(why.contains("60% quality 0.43 + 40% cost 1.00"), "{why}");
    r.strategy = Some(Strategy::LeastCost);
    assert_eq!(order(&s.decide(&r)), vec!["a", "b", "c"]);

    s.live(&"a".into()).expect("a").set_load(9, 0);
    s.live(&"b".into()).expect("b").set_load(1, 0);
    s.live(&"c".into()).expect("c").set_load(5, 0);
    r.strategy = Some(Strategy::LoadBalanced);
    assert_eq!(order(&s.decide(&r)), vec!["b", "c", "a"]);

    r.strategy = Some(Strategy::LeastCost);
    r.lead = Some(LeadPriority::Hot);
    // a (quality 0.43) is under the hot-lead floor of 0.5: cheapest, but goes last.
    assert_eq!(order(&s.decide(&r)), vec!["b", "c", "a"]);
}

#[test]
fn override_reports_the_router_choice_and_refuses_excluded_providers() {
    let w = three();
    let mut r = req("442079460958");
    r.provider_override = Some("b");
    let d = w.snapshot.decide(&r);
    assert_eq!(order(&d), vec!["b", "a", "c"]);
    assert_eq!(d.router_choice.as_ref().map(ProviderId::as_str), Some("a"));
    r.provider_override = Some("zzz");
    let d = w.snapshot.decide(&r);
    assert_eq!(d.refusal, Some(Refusal::UnknownOverride("zzz".into())));
    r.provider_override = Some("b");
    r.max_rate = Some(dec!(0.015));
    let d = w.snapshot.decide(&r);
    assert!(matches!(
        d.refusal,
        Some(Refusal::OverrideExcluded(
            ExclusionReason::RateAboveMax { .. }
        ))
    ));
}

#[test]
fn closed_prefix_blocks_the_shorter_rate() {
    let mut closed = deck("a", &[("44", dec!(0.01)), ("4477", dec!(0))]);
    closed.rows[1].closed = true;
    let w = world(
        vec![ProviderProfile::new("a")],
        vec![closed],
        RoutingPolicy::default(),
    );
    let d = w.snapshot.decide(&req("447712345678"));
    assert_eq!(d.excluded[0].reason.code(), "prefix_closed");
    assert!(w.snapshot.decide(&req("447612345678")).primary.is_some());
}

#[test]
fn scheduled_deck_version_takes_over_at_its_start() {
    let old = deck("a", &[("44", dec!(0.01)), ("447", dec!(0.02))]);
    let mut new = deck("a", &[("44", dec!(0.05))]);
    new.effective_from = Utc
        .timestamp_millis_opt(NOW + 1_000)
        .single()
        .expect("time");
    let w = world(
        vec![ProviderProfile::new("a")],
        vec![new, old],
        RoutingPolicy::default(),
    );
    let before = w
        .snapshot
        .decide(&RouteRequest::new("447700900123", Channel::Voice, NOW));
    assert_eq!(before.primary.map(|p| p.rate()), Some(dec!(0.02)));
    let after = w.snapshot.decide(&RouteRequest::new(
        "447700900123",
        Channel::Voice,
        NOW + 1_000,
    ));
    let p = after.primary.expect("routes");
    assert_eq!(
        (p.rate(), p.prefix.as_str()),
        (dec!(0.05), "44"),
        "the new version drops 447"
    );
}

#[test]
fn currency_mismatch_is_excluded_and_build_errors_are_named() {
    let mut eur = deck("a", &[("44", dec!(0.01))]);
    eur.rows[0].currency = Currency::EUR;
    let w = world(
        vec![ProviderProfile::new("a")],
        vec![eur],
        RoutingPolicy::default(),
    );
    let d = w.snapshot.decide(&req("4420"));
    assert_eq!(
        d.excluded[0].reason,
        ExclusionReason::CurrencyMismatch(Currency::EUR)
    );

    let live = LiveRegistry::default();
    let err = RoutingSnapshot::build(
        1,
        vec![],
        &[deck("x", &[("1", dec!(1))])],
        RoutingPolicy::default(),
        &live,
    )
    .expect_err("unknown provider");
    assert!(err.to_string().contains("provider x"), "{err}");
    let err = RoutingSnapshot::build(
        1,
        vec![ProviderProfile::new("a"), ProviderProfile::new("a")],
        &[],
        RoutingPolicy::default(),
        &live,
    )
    .expect_err("duplicate");
    assert_eq!(err, BuildError::DuplicateProvider("a".into()));
}

#[test]
fn decision_json_has_the_documented_fields() {
    let w = three();
    let d = w.snapshot.decide(&req("442079460958"));
    let v = serde_json::to_value(&d).expect("json");
    assert_eq!(v["primary"]["provider"], "a");
    assert_eq!(v["primary"]["prefix"], "44");
    assert_eq!(v["primary"]["rate"], "0.01");
    assert_eq!(v["alternates"][0]["provider"], "c");
    assert_eq!(v["strategy"], "least_cost");
    assert!(
        v["primary"]["why"]
            .as_str()
            .is_some_and(|w| w.starts_with("1st cheapest"))
    );
    assert!(v["excluded"].as_array().is_some_and(Vec::is_empty));
}

#[test]
fn lookup_lowest_cost_and_rate_event() {
    let w = three();
    let s = &w.snapshot;
    let found = s.lookup("447700900123", Channel::Voice, NOW);
    assert_eq!(found.len(), 3);
    let cheapest = s.lowest_cost("447700900123", Channel::Voice, NOW);
    assert_eq!(cheapest[0].provider.as_str(), "c");
    let usage = Usage::Call {
        answered: true,
        duration_secs: 61,
    };
    let cost = s
        .rate_event(&"a".into(), "447700900123", Channel::Voice, usage, NOW)
        .expect("priced");
    assert_eq!(cost.total.amount, dec!(0.06));
    assert!(
        s.rate_event(&"a".into(), "33", Channel::Voice, usage, NOW)
            .is_none()
    );
}

#[test]
fn router_swaps_snapshots() {
    let live = LiveRegistry::default();
    let build = |rate, version| {
        RoutingSnapshot::build(
            version,
            vec![ProviderProfile::new("a")],
            &[deck("a", &[("1", rate)])],
            RoutingPolicy::default(),
            &live,
        )
        .expect("builds")
    };
    let router = Router::new(build(dec!(0.01), 1));
    let held = router.current();
    router.replace(build(dec!(0.02), 2));
    assert_eq!(held.version(), 1, "a running decision keeps its snapshot");
    let d = router.decide(&req("1415"));
    assert_eq!(
        (d.snapshot_version, d.primary.map(|p| p.rate())),
        (2, Some(dec!(0.02)))
    );
}
