//! Usage rollups and cost components on every backend: after random streams of calls and
//! messages (failovers, finals of every kind, entries still in flight), the rollups equal
//! the sums of the sends themselves, however many sweeps run at once.

use rand::{RngExt, SeedableRng, rngs::StdRng};
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use switchyard_core::analytics::{Counters, Finished, Outcome, RollupKey, aggregate};
use switchyard_store::{
    AttemptOutcome, CallTimes, CostComponent, CostText, Dimension, Dispatched, NewCall,
    NewCostComponent, NewMessage, Outbox, RollupQuery, StatusMove, Store, testing,
};

const DESTINATIONS: [(&str, &str); 3] = [
    ("+14155550100", "US"),
    ("+442071234567", "GB"),
    ("+919876543210", "IN"),
];
const PROVIDERS: [&str; 3] = ["p1", "p2", "p3"];

/// One generated send and what the model says analytics must count for it.
struct Planned {
    outbox: Outbox,
    id: String,
    finished: Option<Finished>,
}

fn part(org: &str, id: &str, provider: &str, amount: Decimal) -> NewCostComponent {
    NewCostComponent {
        org_id: org.into(),
        resource_kind: "call".into(),
        resource_id: id.into(),
        component: "telephony".into(),
        provider_id: provider.into(),
        period: String::new(),
        quantity: Decimal::from(60),
        unit: "second".into(),
        unit_price: amount / Decimal::from(60),
        fee: Decimal::ZERO,
        amount,
        currency: "USD".into(),
    }
}

/// Fails over through `attempts - 1` providers, then a provider takes it.
async fn attempt_through(s: &Store, outbox: Outbox, id: &str, providers: &[&str]) {
    for (seq, provider) in providers.iter().enumerate() {
        let attempt = s
            .begin_attempt(outbox, id, seq as i64, provider, "+14155550199", 60_000)
            .await
            .expect("attempt");
        let last = seq + 1 == providers.len();
        let outcome = AttemptOutcome {
            status: if last { "accepted" } else { "failed" },
            provider_ref: last.then(|| format!("ref-{id}")),
            ..AttemptOutcome::default()
        };
        let then = Dispatched {
            status: "sent",
            rank: 1,
            provider_id: Some(provider),
            from: Some("+14155550199"),
            provider_ref: Some(&format!("ref-{id}")),
            error: None,
            cost: None,
        };
        s.finish_attempt(outbox, &attempt, id, &outcome, last.then_some(&then))
            .await
            .expect("finish attempt");
    }
}

async fn random_call(s: &Store, org: &str, rng: &mut StdRng) -> Planned {
    let (to, country) = DESTINATIONS[rng.random_range(0..DESTINATIONS.len())];
    let campaign = ["", "spring"][rng.random_range(0..2)];
    let metadata = if campaign.is_empty() {
        "{}".to_string()
    } else {
        format!(r#"{{"campaign":"{campaign}"}}"#)
    };
    let call = s
        .insert_call(&NewCall {
            metadata,
            ..testing::plain_call(org, to)
        })
        .await
        .expect("insert")
        .record();
    let tries: Vec<&str> = (0..rng.random_range(1..4))
        .map(|_| PROVIDERS[rng.random_range(0..PROVIDERS.len())])
        .collect();
    attempt_through(s, Outbox::Calls, &call.id, &tries).await;
    let provider = *tries.last().expect("one try");
    if rng.random_bool(0.15) {
        // Still ringing: not counted yet.
        return Planned {
            outbox: Outbox::Calls,
            id: call.id,
            finished: None,
        };
    }
    let (status, outcome) = [
        ("completed", Outcome::Succeeded),
        ("busy", Outcome::Failed),
        ("no-answer", Outcome::Failed),
        ("canceled", Outcome::Neither),
    ][rng.random_range(0..4)];
    let answered = outcome == Outcome::Succeeded;
    let duration = if answered {
        rng.random_range(1..600)
    } else {
        0
    };
    let ring_delay = rng.random_range(500..5_000);
    let started = s.attempts(Outbox::Calls, &call.id).await.expect("attempts");
    let dialled = started.last().expect("attempt").started_at;
    s.record_call_times(
        &call.id,
        &CallTimes {
            ringing_at: Some(dialled + ring_delay),
            answered_at: answered.then_some(dialled + ring_delay + 1_000),
            ended_at: Some(dialled + 700_000),
            duration_secs: answered.then_some(duration),
        },
    )
    .await
    .expect("times");
    let cost = Decimal::new(rng.random_range(0..5_000), 4);
    let baseline = cost + Decimal::new(rng.random_range(0..2_000), 4);
    let (cost_text, baseline_text) = (cost.to_string(), baseline.to_string());
    let line = CostComponent {
        component: "telephony".into(),
        provider_id: provider.into(),
        period: String::new(),
        quantity: "60".into(),
        unit: "second".into(),
        unit_price: (cost / Decimal::from(60)).to_string(),
        fee: "0".into(),
        amount: cost.to_string(),
        currency: "USD".into(),
        created_at: call.created_at,
    };
    let moved = s
        .advance_status(
            Outbox::Calls,
            &call.id,
            &StatusMove {
                status,
                rank: 4,
                cost: Some(CostText {
                    cost: &cost_text,
                    baseline: Some(&baseline_text),
                    currency: "USD",
                    line: Some(&line),
                }),
                ..StatusMove::default()
            },
        )
        .await
        .expect("final");
    assert!(moved);
    Planned {
        outbox: Outbox::Calls,
        id: call.id,
        finished: Some(Finished {
            created_at_ms: call.created_at,
            channel: "voice".into(),
            provider_id: provider.into(),
            country: country.into(),
            campaign: campaign.into(),
            outcome,
            duration_secs: duration,
            pdd_ms: Some(ring_delay),
            cost: Some((cost, "USD".into())),
            baseline: Some(baseline),
            failed_over: tries[..tries.len() - 1]
                .iter()
                .map(|p| p.to_string())
                .collect(),
        }),
    }
}

async fn random_message(s: &Store, org: &str, rng: &mut StdRng) -> Planned {
    let (to, country) = DESTINATIONS[rng.random_range(0..DESTINATIONS.len())];
    let message = s
        .insert_message(&NewMessage {
            org_id: org.into(),
            channel: "sms".into(),
            to_e164: to.into(),
            body: "hello".into(),
            media: "[]".into(),
            metadata: "{}".into(),
            segments: 1,
            plan: "[]".into(),
            decision: "{}".into(),
            lease_ms: 0,
            idempotency: None,
        })
        .await
        .expect("insert")
        .record();
    let provider = PROVIDERS[rng.random_range(0..PROVIDERS.len())];
    attempt_through(s, Outbox::Messages, &message.id, &[provider]).await;
    let (status, outcome) = [
        ("delivered", Outcome::Succeeded),
        ("undelivered", Outcome::Failed),
    ][rng.random_range(0..2)];
    s.advance_status(
        Outbox::Messages,
        &message.id,
        &StatusMove {
            status,
            rank: 3,
            ..StatusMove::default()
        },
    )
    .await
    .expect("final");
    Planned {
        outbox: Outbox::Messages,
        id: message.id,
        finished: Some(Finished {
            created_at_ms: message.created_at,
            channel: "sms".into(),
            provider_id: provider.into(),
            country: country.into(),
            campaign: String::new(),
            outcome,
            duration_secs: 0,
            pdd_ms: None,
            cost: None,
            baseline: None,
            failed_over: Vec::new(),
        }),
    }
}

async fn sweep(s: &Store) -> usize {
    let mut counted = 0;
    for (outbox, rank) in [(Outbox::Calls, 4), (Outbox::Messages, 3)] {
        counted += s
            .tally_finished(outbox, rank, 24 * 3600 * 1000, 1_000)
            .await
            .expect("tally");
    }
    counted
}

async fn all_rollups(s: &Store, org: &str) -> BTreeMap<RollupKey, Counters> {
    let group = [
        Dimension::Hour,
        Dimension::Provider,
        Dimension::Country,
        Dimension::Channel,
        Dimension::Campaign,
    ];
    let rows = s
        .rollup_sums(&RollupQuery {
            org_id: org,
            from_ms: 0,
            to_ms: i64::MAX,
            group: &group,
            channel: None,
        })
        .await
        .expect("rollups");
    rows.into_iter().collect()
}

#[tokio::test]
async fn rollups_equal_the_sums_of_random_send_streams() {
    for t in testing::all().await {
        let s = &t.store;
        for seed in 0..3u64 {
            let org = s.create_org("Acme").await.expect("org").id;
            let mut rng = StdRng::seed_from_u64(seed);
            let mut planned = Vec::new();
            for _ in 0..40 {
                let p = if rng.random_bool(0.7) {
                    random_call(s, &org, &mut rng).await
                } else {
                    random_message(s, &org, &mut rng).await
                };
                planned.push(p);
            }
            // Two sweeps at once, as two instances would run them: each send counts once.
            let (a, b) = tokio::join!(sweep(s), sweep(s));
            let finished: Vec<&Finished> =
                planned.iter().filter_map(|p| p.finished.as_ref()).collect();
            assert_eq!(a + b, finished.len(), "seed {seed}");
            assert_eq!(sweep(s).await, 0, "nothing is counted twice");
            let expected = aggregate(finished.iter().copied());
            assert_eq!(all_rollups(s, &org).await, expected, "seed {seed}");

            // Sends still in flight are counted when they finish.
            for p in planned.iter().filter(|p| p.finished.is_none()) {
                assert_eq!(p.outbox, Outbox::Calls);
                s.advance_status(
                    Outbox::Calls,
                    &p.id,
                    &StatusMove {
                        status: "failed",
                        rank: 4,
                        ..StatusMove::default()
                    },
                )
                .await
                .expect("final");
            }
            let late = planned.iter().filter(|p| p.finished.is_none()).count();
            assert_eq!(sweep(s).await, late);
        }
    }
}

#[tokio::test]
async fn a_cost_component_is_recorded_once_with_its_cost() {
    for t in testing::all().await {
        let s = &t.store;
        let org = s.create_org("Acme").await.expect("org").id;
        let mut rng = StdRng::seed_from_u64(7);
        let mut planned = random_call(s, &org, &mut rng).await;
        while planned.finished.is_none() {
            planned = random_call(s, &org, &mut rng).await;
        }
        let parts = s
            .cost_components(Outbox::Calls, &planned.id)
            .await
            .expect("parts");
        assert_eq!(parts.len(), 1);
        let p = &parts[0];
        assert_eq!(
            (p.component.as_str(), p.unit.as_str()),
            ("telephony", "second")
        );
        let call = s
            .call_by_id(&planned.id)
            .await
            .expect("read")
            .expect("call");
        assert_eq!(Some(&p.amount), call.cost.as_ref());

        // An AI part, recorded twice: stored once.
        let again = part(&org, &planned.id, &p.provider_id, Decimal::ONE);
        let stt = NewCostComponent {
            component: "stt".into(),
            provider_id: "deepgram".into(),
            quantity: Decimal::from(95),
            unit: "second".into(),
            unit_price: Decimal::new(72, 6),
            amount: Decimal::new(6840, 6),
            ..again
        };
        assert!(s.add_cost_component(&stt).await.expect("stt"));
        assert!(!s.add_cost_component(&stt).await.expect("stt again"));
        let parts = s
            .cost_components(Outbox::Calls, &planned.id)
            .await
            .expect("parts");
        assert_eq!(
            parts
                .iter()
                .map(|p| p.component.as_str())
                .collect::<Vec<_>>(),
            ["telephony", "stt"]
        );
        assert_eq!(parts[1].amount, "0.00684");
    }
}
