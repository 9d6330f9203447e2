//! Store behaviour, run on SQLite and (when configured) PostgreSQL.

use chrono::TimeZone;
use rust_decimal_macros::dec;
use switchyard_core::Channel;
use switchyard_core::deck::RateRow;
use switchyard_store::testing;
use switchyard_store::{DecisionEntry, NewAuditEntry, NewDeck, NewProvider, Reservation, Role};

#[tokio::test]
async fn orgs_keys_and_tenancy() {
    for t in testing::all().await {
        let s = &t.store;
        let a = s.create_org("Acme").await.expect("org");
        let b = s.create_org("Beta").await.expect("org");
        let (key, secret) = s.create_key(&a.id, Role::Admin, "ci").await.expect("key");
        assert!(secret.starts_with("sy_") && secret.len() == 67);
        let found = s
            .key_by_secret(&secret)
            .await
            .expect("lookup")
            .expect("found");
        assert_eq!(
            (found.id.as_str(), found.role),
            (key.id.as_str(), Role::Admin)
        );
        assert!(s.key_by_secret("sy_wrong").await.expect("lookup").is_none());
        assert!(
            !s.revoke_key(&b.id, &key.id).await.expect("revoke"),
            "another org cannot revoke"
        );
        assert!(s.revoke_key(&a.id, &key.id).await.expect("revoke"));
        assert!(s.key_by_secret(&secret).await.expect("lookup").is_none());
    }
}

#[tokio::test]
async fn providers_decks_and_pages() {
    for t in testing::all().await {
        let s = &t.store;
        let org = s.create_org("Acme").await.expect("org");
        let other = s.create_org("Other").await.expect("org");
        let p = s
            .insert_provider(NewProvider {
                org_id: org.id.clone(),
                kind: "sandbox".into(),
                name: "Sandbox A".into(),
                credentials: vec![1, 2, 3, 0, 255],
                settings: "{}".into(),
            })
            .await
            .expect("provider");
        assert_eq!(
            s.provider(&org.id, &p.id)
                .await
                .expect("get")
                .map(|r| r.credentials),
            Some(vec![1, 2, 3, 0, 255])
        );
        assert!(s.provider(&other.id, &p.id).await.expect("get").is_none());
        let mut rows: Vec<RateRow> = (0..1234)
            .map(|i| RateRow::new(format!("44{i}"), dec!(0.0123)))
            .collect();
        rows[5].closed = true;
        rows[6].effective_to = chrono::Utc.timestamp_millis_opt(1_900_000_000_000).single();
        let deck = s
            .insert_deck(NewDeck {
                org_id: org.id.clone(),
                provider_id: p.id.clone(),
                channel: Channel::Voice,
                effective_from: chrono::Utc
                    .timestamp_millis_opt(1_700_000_000_000)
                    .single()
                    .expect("time"),
                source_name: "a.csv".into(),
                rows: rows.clone(),
            })
            .await
            .expect("deck");
        assert_eq!(deck.row_count, 1234);
        let back = s.deck_rows(&deck.id, 0, 2000).await.expect("rows");
        assert_eq!(back, rows);
        let decks = s.org_decks(&org.id).await.expect("decks");
        assert_eq!(decks.len(), 1);
        assert_eq!(decks[0].rows.len(), 1234);
        assert!(s.org_decks(&other.id).await.expect("decks").is_empty());
        assert!(!s.delete_deck(&other.id, &deck.id).await.expect("delete"));
        assert!(s.delete_deck(&org.id, &deck.id).await.expect("delete"));
        assert!(s.deck(&org.id, &deck.id).await.expect("get").is_none());

        for i in 0..5 {
            s.insert_provider(NewProvider {
                org_id: org.id.clone(),
                kind: "sandbox".into(),
                name: format!("P{i}"),
                credentials: vec![],
                settings: "{}".into(),
            })
            .await
            .expect("provider");
        }
        let first = s.providers_page(&org.id, None, 4).await.expect("page");
        assert_eq!(first.items.len(), 4);
        let next = s
            .providers_page(&org.id, first.next_cursor.as_deref(), 4)
            .await
            .expect("page");
        assert_eq!(next.items.len(), 2);
        assert!(next.next_cursor.is_none());
    }
}

#[tokio::test]
async fn audit_decisions_and_idempotency() {
    for t in testing::all().await {
        let s = &t.store;
        let org = s.create_org("Acme").await.expect("org");
        s.insert_audit(&[NewAuditEntry {
            org_id: org.id.clone(),
            actor: "key1".into(),
            action: "POST /v1/providers".into(),
            target: "p1".into(),
            outcome: 201,
            detail: "{}".into(),
        }])
        .await
        .expect("audit");
        let page = s.audit_page(&org.id, None, 10).await.expect("audit page");
        assert_eq!(page.items[0].outcome, 201);
        assert!(
            s.audit_page("nobody", None, 10)
                .await
                .expect("page")
                .items
                .is_empty()
        );

        let batch: Vec<DecisionEntry> = (0..1500)
            .map(|i| DecisionEntry {
                id: switchyard_store::new_id(),
                org_id: org.id.clone(),
                destination: format!("4420{i}"),
                channel: "voice".into(),
                strategy: "least_cost".into(),
                chosen_provider: (i % 2 == 0).then(|| "p1".to_string()),
                decision: "{}".into(),
                decision_ns: 1500,
                created_at: 1,
            })
            .collect();
        s.insert_decisions(&batch).await.expect("decisions");
        let page = s
            .decisions_page(&org.id, Some("p1"), None, 1000)
            .await
            .expect("page");
        assert_eq!(page.items.len(), 750);

        assert_eq!(
            s.reserve_idempotency(&org.id, "k1", "f1")
                .await
                .expect("reserve"),
            Reservation::New
        );
        assert_eq!(
            s.reserve_idempotency(&org.id, "k1", "f1")
                .await
                .expect("reserve"),
            Reservation::InProgress
        );
        s.complete_idempotency(&org.id, "k1", 201, "{\"id\":1}")
            .await
            .expect("complete");
        assert_eq!(
            s.reserve_idempotency(&org.id, "k1", "f1")
                .await
                .expect("reserve"),
            Reservation::Replay {
                status: 201,
                body: "{\"id\":1}".into()
            }
        );
        assert_eq!(
            s.reserve_idempotency(&org.id, "k1", "f2")
                .await
                .expect("reserve"),
            Reservation::Mismatch
        );
        assert_eq!(
            s.reserve_idempotency(&org.id, "k2", "f1")
                .await
                .expect("reserve"),
            Reservation::New
        );
        s.release_idempotency(&org.id, "k2").await.expect("release");
        assert_eq!(
            s.reserve_idempotency(&org.id, "k2", "f1")
                .await
                .expect("reserve"),
            Reservation::New
        );
    }
}

#[tokio::test]
async fn numbers_sync_and_webhook_events_dedupe() {
    use switchyard_store::{NewWebhookEvent, NumberAtProvider};
    for t in testing::all().await {
        let s = &t.store;
        let org = s.create_org("Acme").await.expect("org");
        let other = s.create_org("Other").await.expect("org");
        let p = s
            .insert_provider(NewProvider {
                org_id: org.id.clone(),
                kind: "twilio".into(),
                name: "T".into(),
                credentials: vec![0],
                settings: "{}".into(),
            })
            .await
            .expect("provider");
        let n = |e164: &str| NumberAtProvider {
            e164: e164.into(),
            provider_number_id: format!("PN{e164}"),
            voice: true,
            sms: true,
            mms: false,
        };
        let (first, created) = s
            .upsert_number(&org.id, &p.id, &n("+12125550100"))
            .await
            .expect("upsert");
        assert!(created && first.voice && !first.mms && first.status == "active");
        let (again, created) = s
            .upsert_number(&org.id, &p.id, &n("+12125550100"))
            .await
            .expect("upsert");
        assert!(!created);
        assert_eq!(again.id, first.id);

        let outcome = s
            .sync_numbers(&org.id, &p.id, &[n("+12125550100"), n("+12125550101")])
            .await
            .expect("sync");
        assert_eq!(
            (outcome.added, outcome.updated, outcome.released),
            (1, 1, 0)
        );
        let outcome = s
            .sync_numbers(&org.id, &p.id, &[n("+12125550101")])
            .await
            .expect("sync");
        assert_eq!(
            (outcome.added, outcome.updated, outcome.released),
            (0, 1, 1)
        );
        let all = s.provider_numbers(&org.id, &p.id).await.expect("list");
        assert_eq!(
            all.iter()
                .map(|n| (n.e164.as_str(), n.status.as_str()))
                .collect::<Vec<_>>(),
            [("+12125550100", "released"), ("+12125550101", "active")]
        );
        // Back at the provider: active again, same id.
        s.sync_numbers(&org.id, &p.id, &[n("+12125550100"), n("+12125550101")])
            .await
            .expect("sync");
        let page = s.numbers_page(&org.id, None, 1).await.expect("page");
        assert_eq!(page.items.len(), 1);
        assert!(page.next_cursor.is_some());
        assert!(
            s.numbers_page(&other.id, None, 10)
                .await
                .expect("page")
                .items
                .is_empty()
        );

        let event = NewWebhookEvent {
            org_id: org.id.clone(),
            provider_id: p.id.clone(),
            dedupe_key: "twilio:call:CA1:completed".into(),
            event: "call.completed".into(),
            detail: "{}".into(),
            payload: "CallSid=CA1".into(),
            occurred_at: Some(5),
            resource_id: Some("CA1".into()),
        };
        assert!(s.insert_webhook_event(&event).await.expect("insert"));
        assert!(
            !s.insert_webhook_event(&event).await.expect("duplicate"),
            "stored once"
        );
        let events = s
            .webhook_events_page(&org.id, Some(&p.id), None, 10)
            .await
            .expect("page");
        assert_eq!(events.items.len(), 1);
        assert_eq!(events.items[0].occurred_at, Some(5));
        assert!(
            s.webhook_events_page(&other.id, None, None, 10)
                .await
                .expect("page")
                .items
                .is_empty()
        );
    }
}

#[tokio::test]
async fn templates_and_contact_lists() {
    use switchyard_store::Block;
    for t in testing::all().await {
        let s = &t.store;
        let org = s.create_org("Acme").await.expect("org");
        let other = s.create_org("Other").await.expect("org");
        let tpl = s
            .insert_template(&org.id, "otp", "sms", "Your code is {{ code }}")
            .await
            .expect("insert")
            .expect("new name");
        assert!(
            s.insert_template(&org.id, "otp", "sms", "x")
                .await
                .expect("insert")
                .is_none(),
            "names are unique"
        );
        assert!(
            s.insert_template(&other.id, "otp", "sms", "x")
                .await
                .expect("insert")
                .is_some(),
            "per organisation"
        );
        assert_eq!(
            s.template(&org.id, "otp").await.expect("get").map(|t| t.id),
            Some(tpl.id.clone())
        );
        assert!(s.template(&other.id, &tpl.id).await.expect("get").is_none());
        assert!(
            s.update_template(&org.id, &tpl.id, "Code: {{ code }}")
                .await
                .expect("update")
        );
        assert_eq!(
            s.template(&org.id, &tpl.id)
                .await
                .expect("get")
                .map(|t| t.body),
            Some("Code: {{ code }}".into())
        );
        assert_eq!(
            s.templates_page(&org.id, None, 10)
                .await
                .expect("page")
                .items
                .len(),
            1
        );
        assert!(s.delete_template(&org.id, &tpl.id).await.expect("delete"));
        assert!(!s.delete_template(&org.id, &tpl.id).await.expect("delete"));

        let n = "+447700900123";
        assert_eq!(
            s.contact_block(&org.id, "sms", n).await.expect("check"),
            None
        );
        assert!(
            s.add_opt_out(&org.id, "sms", n, "keyword")
                .await
                .expect("add")
        );
        assert!(
            !s.add_opt_out(&org.id, "sms", n, "keyword")
                .await
                .expect("again")
        );
        assert!(matches!(
            s.contact_block(&org.id, "sms", n).await.expect("check"),
            Some(Block::OptOut { .. })
        ));
        assert_eq!(
            s.contact_block(&org.id, "voice", n).await.expect("check"),
            None,
            "per channel"
        );
        assert_eq!(
            s.contact_block(&other.id, "sms", n).await.expect("check"),
            None,
            "per organisation"
        );
        assert_eq!(
            s.opt_outs(&org.id, Some("sms")).await.expect("list").len(),
            1
        );
        assert!(s.remove_opt_out(&org.id, "sms", n).await.expect("remove"));
        assert_eq!(
            s.contact_block(&org.id, "sms", n).await.expect("check"),
            None
        );

        let entries = vec![
            (n.to_string(), "lawyer".to_string()),
            ("+12125550100".to_string(), String::new()),
        ];
        assert_eq!(
            s.add_do_not_contact(&org.id, &entries).await.expect("add"),
            2
        );
        assert_eq!(
            s.add_do_not_contact(&org.id, &entries)
                .await
                .expect("again"),
            0
        );
        assert!(matches!(
            s.contact_block(&org.id, "voice", n).await.expect("check"),
            Some(Block::DoNotContact { reason, .. }) if reason == "lawyer"
        ));
        assert_eq!(s.do_not_contact(&org.id).await.expect("list").len(), 2);
        assert!(s.remove_do_not_contact(&org.id, n).await.expect("remove"));
        assert_eq!(s.do_not_contact(&org.id).await.expect("list").len(), 1);
    }
}

#[tokio::test]
async fn event_deliveries_are_claimed_once_and_retried() {
    for t in testing::all().await {
        let s = &t.store;
        let org = s.create_org("Acme").await.expect("org");
        let other = s.create_org("Other").await.expect("org");
        let ep = s
            .insert_event_endpoint(&org.id, "https://hooks.example/sy", &[1, 2, 3], "[\"*\"]")
            .await
            .expect("endpoint");
        assert_eq!(s.event_endpoints(&org.id).await.expect("list").len(), 1);
        assert!(s.event_endpoints(&other.id).await.expect("list").is_empty());
        let ids = s
            .enqueue_event(
                &org.id,
                std::slice::from_ref(&ep.id),
                "evt_1",
                "message.inbound",
                "{}",
            )
            .await
            .expect("enqueue");
        let first = s.claim_due_deliveries(10, 30_000).await.expect("claim");
        assert_eq!(first.iter().map(|d| d.id.clone()).collect::<Vec<_>>(), ids);
        assert!(
            s.claim_due_deliveries(10, 30_000)
                .await
                .expect("claim")
                .is_empty(),
            "leased"
        );

        s.record_delivery_attempt(&ids[0], Some(503), Some("HTTP 503"), false, Some(0))
            .await
            .expect("retry");
        let again = s.claim_due_deliveries(10, 30_000).await.expect("claim");
        assert_eq!(
            (again.len(), again[0].attempts, again[0].last_status),
            (1, 1, Some(503))
        );
        s.record_delivery_attempt(&ids[0], Some(200), None, true, None)
            .await
            .expect("delivered");
        assert!(
            s.claim_due_deliveries(10, 30_000)
                .await
                .expect("claim")
                .is_empty()
        );
        let page = s
            .deliveries_page(&org.id, Some(&ep.id), None, 10)
            .await
            .expect("page");
        assert_eq!(
            (page.items[0].status.as_str(), page.items[0].attempts),
            ("delivered", 2)
        );
        assert!(page.items[0].delivered_at.is_some());
        assert!(
            s.deliveries_page(&other.id, None, None, 10)
                .await
                .expect("page")
                .items
                .is_empty()
        );

        let ids = s
            .enqueue_event(
                &org.id,
                std::slice::from_ref(&ep.id),
                "evt_2",
                "call.inbound",
                "{}",
            )
            .await
            .expect("enqueue");
        s.claim_due_deliveries(10, 30_000).await.expect("claim");
        s.record_delivery_attempt(&ids[0], None, Some("refused"), false, None)
            .await
            .expect("give up");
        let page = s
            .deliveries_page(&org.id, None, None, 10)
            .await
            .expect("page");
        assert_eq!(page.items[0].status, "failed");
        assert!(
            s.delete_event_endpoint(&org.id, &ep.id)
                .await
                .expect("delete")
        );
        assert!(
            s.deliveries_page(&org.id, None, None, 10)
                .await
                .expect("page")
                .items
                .is_empty(),
            "deliveries go with it"
        );
    }
}

/// Moves an entry the way the engine does when a provider reports: find it by the
/// provider's reference, then advance it.
async fn report(
    s: &switchyard_store::Store,
    outbox: switchyard_store::Outbox,
    provider: &str,
    reference: &str,
    status: &str,
    rank: i64,
    price: Option<&str>,
) -> bool {
    let Some(id) = s
        .find_by_reference(outbox, provider, reference)
        .await
        .expect("find")
    else {
        return false;
    };
    let to = switchyard_store::StatusMove {
        status,
        rank,
        price,
        ..Default::default()
    };
    s.advance_status(outbox, &id, &to).await.expect("advance")
}

#[tokio::test]
async fn messages_are_leased_attempted_and_never_move_backwards() {
    use switchyard_store::{AttemptOutcome, Dispatched, NewMessage, Outbox, OutboxFilter};
    for t in testing::all().await {
        let s = &t.store;
        let org = s.create_org("Acme").await.expect("org");
        let new = |lease_ms, metadata: &str| NewMessage {
            org_id: org.id.clone(),
            channel: "sms".into(),
            to_e164: "+447911123456".into(),
            body: "hi".into(),
            media: "[]".into(),
            metadata: metadata.into(),
            segments: 1,
            plan: "[]".into(),
            decision: "{}".into(),
            lease_ms,
            idempotency: None,
        };
        let held = s
            .insert_message(&new(60_000, r#"{"campaign":"spring_50%"}"#))
            .await
            .expect("insert")
            .record();
        assert_eq!((held.status.as_str(), held.dispatched), ("accepted", false));
        let claim = || s.claim_stranded(Outbox::Messages, 10, 60_000);
        assert!(
            claim().await.expect("claim").is_empty(),
            "its creator holds it"
        );
        let stranded = s
            .insert_message(&new(0, "{}"))
            .await
            .expect("insert")
            .record();
        assert_eq!(claim().await.expect("claim"), vec![stranded.id.clone()]);
        assert!(claim().await.expect("claim").is_empty(), "claimed once");

        let a0 = s
            .begin_attempt(Outbox::Messages, &held.id, 0, "p1", "+12125550100", 60_000)
            .await
            .expect("attempt");
        s.finish_attempt(
            Outbox::Messages,
            &a0,
            &held.id,
            &AttemptOutcome {
                status: "failed",
                error_class: Some("retryable".into()),
                ..AttemptOutcome::default()
            },
            None,
        )
        .await
        .expect("finish");
        let a1 = s
            .begin_attempt(Outbox::Messages, &held.id, 1, "p2", "+12125550101", 60_000)
            .await
            .expect("attempt");
        s.finish_attempt(
            Outbox::Messages,
            &a1,
            &held.id,
            &AttemptOutcome {
                status: "accepted",
                provider_ref: Some("SM1".into()),
                ..AttemptOutcome::default()
            },
            None,
        )
        .await
        .expect("finish");
        s.finish_dispatch(
            Outbox::Messages,
            &held.id,
            &Dispatched {
                status: "queued",
                rank: 1,
                provider_id: Some("p2"),
                from: Some("+12125550101"),
                provider_ref: Some("SM1"),
                error: None,
                cost: Some(switchyard_store::CostText {
                    cost: "0.0079",
                    baseline: None,
                    currency: "USD",
                    line: None,
                }),
            },
        )
        .await
        .expect("dispatched");
        let attempts = s
            .attempts(Outbox::Messages, &held.id)
            .await
            .expect("attempts");
        assert_eq!(
            attempts
                .iter()
                .map(|a| (a.status.as_str(), a.provider_ref.as_deref()))
                .collect::<Vec<_>>(),
            [("failed", None), ("accepted", Some("SM1"))]
        );
        let m = s
            .message(&org.id, &held.id)
            .await
            .expect("get")
            .expect("found");
        assert_eq!(
            (m.status.as_str(), m.next_candidate, m.dispatched),
            ("queued", 2, true)
        );
        assert_eq!(
            (m.cost.as_deref(), m.currency.as_deref()),
            (Some("0.0079"), Some("USD")),
            "rated in the same write"
        );

        let msg = Outbox::Messages;
        assert!(report(s, msg, "p2", "SM1", "sent", 2, None).await);
        assert!(report(s, msg, "p2", "SM1", "delivered", 3, Some("0.0079")).await);
        let done = s.message(&org.id, &held.id).await.expect("get");
        assert_eq!(
            done.map(|m| (m.status, m.provider_price)),
            Some(("delivered".into(), Some("0.0079".into())))
        );
        assert!(
            !report(s, msg, "p2", "SM1", "sent", 2, None).await,
            "a late webhook changes nothing"
        );
        assert!(
            !report(s, msg, "p2", "SM1", "undelivered", 3, None).await,
            "the first final wins"
        );
        assert!(!report(s, msg, "p1", "SM1", "sent", 2, None).await);

        let page = |f: OutboxFilter<'static>| {
            let org = org.id.clone();
            async move {
                s.messages_page(&org, &f, 10)
                    .await
                    .expect("page")
                    .items
                    .into_iter()
                    .map(|m| m.id)
                    .collect::<Vec<_>>()
            }
        };
        let only_held = vec![held.id.clone()];
        assert_eq!(
            page(OutboxFilter {
                status: Some("delivered"),
                ..OutboxFilter::default()
            })
            .await,
            only_held
        );
        assert_eq!(
            page(OutboxFilter {
                provider_id: Some("p2"),
                ..OutboxFilter::default()
            })
            .await,
            only_held
        );
        assert_eq!(
            page(OutboxFilter {
                metadata: Some(("campaign", "spring_50%")),
                ..OutboxFilter::default()
            })
            .await,
            only_held
        );
        assert!(
            page(OutboxFilter {
                metadata: Some(("campaign", "spring_5")),
                ..OutboxFilter::default()
            })
            .await
            .is_empty(),
            "metadata matches whole values, wildcards are literal"
        );
        assert_eq!(
            page(OutboxFilter {
                since: Some(held.created_at),
                until: Some(held.created_at + 1),
                ..OutboxFilter::default()
            })
            .await
            .len(),
            if stranded.created_at == held.created_at {
                2
            } else {
                1
            }
        );
        let other = s.create_org("Other").await.expect("org");
        assert!(s.message(&other.id, &held.id).await.expect("get").is_none());
        assert!(
            s.messages_page(&other.id, &OutboxFilter::default(), 10)
                .await
                .expect("page")
                .items
                .is_empty()
        );
    }
}

#[tokio::test]
async fn calls_keep_their_first_times_and_statuses_only_move_forward() {
    use switchyard_store::{CallTimes, Dispatched, NewCall, Outbox};
    for t in testing::all().await {
        let s = &t.store;
        let org = s.create_org("Acme").await.expect("org");
        let call = s
            .insert_call(&testing::plain_call(&org.id, "+14155550100"))
            .await
            .expect("insert")
            .record();
        assert_eq!(call.status, "queued");
        assert_eq!(
            s.claim_stranded(Outbox::Calls, 10, 60_000)
                .await
                .expect("claim"),
            vec![call.id.clone()]
        );
        s.finish_dispatch(
            Outbox::Calls,
            &call.id,
            &Dispatched {
                status: "initiated",
                rank: 1,
                provider_id: Some("p1"),
                from: Some("+14155550199"),
                provider_ref: Some("CA1"),
                error: None,
                cost: None,
            },
        )
        .await
        .expect("dispatched");
        // No news for a while: the reconciler finds it once, then it counts as looked at.
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let quiet = s
            .quiet_in_flight(Outbox::Calls, 4, 200, 10)
            .await
            .expect("quiet");
        assert_eq!(
            quiet
                .iter()
                .map(|q| (q.0.as_str(), q.3.as_str()))
                .collect::<Vec<_>>(),
            [(call.id.as_str(), "CA1")]
        );
        assert!(
            s.quiet_in_flight(Outbox::Calls, 4, 200, 10)
                .await
                .expect("quiet")
                .is_empty()
        );
        let c = Outbox::Calls;
        assert!(report(s, c, "p1", "CA1", "in-progress", 3, None).await);
        assert!(!report(s, c, "p1", "CA1", "ringing", 2, None).await);
        s.record_call_times(
            &call.id,
            &CallTimes {
                answered_at: Some(1_000),
                ..CallTimes::default()
            },
        )
        .await
        .expect("times");
        s.record_call_times(
            &call.id,
            &CallTimes {
                answered_at: Some(2_000),
                ended_at: Some(61_000),
                duration_secs: Some(60),
                ..CallTimes::default()
            },
        )
        .await
        .expect("times");
        assert!(report(s, c, "p1", "CA1", "completed", 4, Some("0.0140 USD")).await);
        let got = s
            .call(&org.id, &call.id)
            .await
            .expect("get")
            .expect("found");
        assert_eq!(got.status, "completed");
        assert_eq!(
            got.times,
            CallTimes {
                ringing_at: None,
                answered_at: Some(1_000),
                ended_at: Some(61_000),
                duration_secs: Some(60),
            }
        );
        assert_eq!(
            s.status_counts(Outbox::Calls, &org.id)
                .await
                .expect("counts"),
            [("completed".to_string(), 1)]
        );
        let other = s.create_org("Other").await.expect("org");
        assert!(s.call(&other.id, &call.id).await.expect("get").is_none());

        // One Idempotency-Key, one call per organisation, whatever the retries.
        let keyed = |org_id: &str, hash: &str| NewCall {
            org_id: org_id.to_string(),
            to_e164: "+14155550100".into(),
            answer: "{}".into(),
            ring_timeout_secs: 30,
            metadata: "{}".into(),
            plan: "[]".into(),
            decision: "{}".into(),
            lease_ms: 0,
            idempotency: Some(switchyard_store::KeyClaim {
                key: "k1".into(),
                request_hash: hash.into(),
            }),
        };
        let first = s.insert_call(&keyed(&org.id, "h1")).await.expect("insert");
        let switchyard_store::Created::New(first) = first else {
            panic!("the first is new");
        };
        match s.insert_call(&keyed(&org.id, "h2")).await.expect("insert") {
            switchyard_store::Created::Existing {
                record,
                request_hash,
            } => assert_eq!((record.id, request_hash.as_deref()), (first.id, Some("h1"))),
            other => panic!("a retry finds the first: {other:?}"),
        }
        assert!(matches!(
            s.insert_call(&keyed(&other.id, "h1"))
                .await
                .expect("insert"),
            switchyard_store::Created::New(_)
        ));
    }
}

#[tokio::test]
async fn emails_go_through_the_outbox_and_suppressions_keep_their_scope() {
    use switchyard_store::{
        AttemptOutcome, Dispatched, KeyClaim, NewEmail, NewEmailEvent, Outbox, OutboxFilter,
        Suppression,
    };
    for t in testing::all().await {
        let s = &t.store;
        let org = s.create_org("Acme").await.expect("org");
        let other = s.create_org("Other").await.expect("org");
        let new = |key: &str| NewEmail {
            id: switchyard_store::new_id(),
            org_id: org.id.clone(),
            kind: "marketing".into(),
            to_address: "ada@example.com".into(),
            subject: "Hello".into(),
            content: "{}".into(),
            metadata: r#"{"campaign":"spring"}"#.into(),
            recipients: 2,
            attachments: 1,
            size_bytes: 2048,
            plan: "[]".into(),
            decision: "{}".into(),
            lease_ms: 60_000,
            idempotency: Some(KeyClaim {
                key: key.into(),
                request_hash: "h".into(),
            }),
        };
        let email = s.insert_email(&new("k1")).await.expect("insert").record();
        assert_eq!(
            (email.status.as_str(), email.size_bytes),
            ("accepted", 2048)
        );
        match s.insert_email(&new("k1")).await.expect("again") {
            switchyard_store::Created::Existing { record, .. } => assert_eq!(record.id, email.id),
            switchyard_store::Created::New(_) => panic!("the key was claimed already"),
        }
        let a = s
            .begin_attempt(
                Outbox::Emails,
                &email.id,
                0,
                "sg",
                "news@shop.example",
                60_000,
            )
            .await
            .expect("attempt");
        let accepted = Dispatched {
            status: "sent",
            rank: 1,
            provider_id: Some("sg"),
            from: Some("news@shop.example"),
            provider_ref: Some("msg-1"),
            error: None,
            cost: None,
        };
        s.finish_attempt(
            Outbox::Emails,
            &a,
            &email.id,
            &AttemptOutcome {
                status: "accepted",
                provider_ref: Some("msg-1".into()),
                ..AttemptOutcome::default()
            },
            Some(&accepted),
        )
        .await
        .expect("finish");
        assert_eq!(
            s.find_by_reference(Outbox::Emails, "sg", "msg-1")
                .await
                .expect("find"),
            Some(email.id.clone())
        );
        let attempts = s
            .attempts(Outbox::Emails, &email.id)
            .await
            .expect("attempts");
        assert_eq!(attempts[0].from, "news@shop.example");
        let got = s
            .email(&org.id, &email.id)
            .await
            .expect("get")
            .expect("found");
        assert_eq!(
            (got.status.as_str(), got.from.as_deref()),
            ("sent", Some("news@shop.example"))
        );
        assert!(s.email(&other.id, &email.id).await.expect("get").is_none());

        let event = |key: &'static str, event: &'static str| NewEmailEvent {
            email_id: &email.id,
            event,
            recipient: Some("ada@example.com"),
            detail: None,
            source: "sg",
            dedupe_key: key,
            occurred_at: 5,
        };
        assert!(
            s.add_email_event(&event("e1", "delivered"))
                .await
                .expect("event")
        );
        assert!(
            !s.add_email_event(&event("e1", "delivered"))
                .await
                .expect("twice")
        );
        assert!(
            s.add_email_event(&event("e2", "opened"))
                .await
                .expect("event")
        );
        let events = s.email_events(&email.id).await.expect("events");
        assert_eq!(
            events.iter().map(|e| e.event.as_str()).collect::<Vec<_>>(),
            ["delivered", "opened"]
        );

        let filter = OutboxFilter {
            metadata: Some(("campaign", "spring")),
            ..OutboxFilter::default()
        };
        let page = s.emails_page(&org.id, &filter, 10).await.expect("page");
        assert_eq!(page.items.len(), 1);

        let entry = |address: &str, reason: &str, scope: &str| Suppression {
            address: address.into(),
            reason: reason.into(),
            scope: scope.into(),
            email_id: None,
            detail: None,
            created_at: 1,
        };
        s.suppress(
            &org.id,
            &entry("Gone@Example.com", "unsubscribed", "marketing"),
        )
        .await
        .expect("suppress");
        let addresses = vec!["gone@example.com".to_string(), "ok@example.com".to_string()];
        let marketing = s
            .suppressed_among(&org.id, &addresses, true)
            .await
            .expect("check");
        assert_eq!(marketing.len(), 1, "case does not matter");
        assert!(
            s.suppressed_among(&org.id, &addresses, false)
                .await
                .expect("check")
                .is_empty(),
            "an unsubscribe still lets transactional email through"
        );
        s.suppress(&org.id, &entry("gone@example.com", "hard_bounce", "all"))
            .await
            .expect("widen");
        s.suppress(
            &org.id,
            &entry("gone@example.com", "unsubscribed", "marketing"),
        )
        .await
        .expect("no narrowing");
        let all = s
            .suppressed_among(&org.id, &addresses, false)
            .await
            .expect("check");
        assert_eq!(
            all.iter()
                .map(|x| (x.reason.as_str(), x.scope.as_str()))
                .collect::<Vec<_>>(),
            [("hard_bounce", "all")]
        );
        assert!(
            s.suppressed_among(&other.id, &addresses, true)
                .await
                .expect("check")
                .is_empty(),
            "each organisation has its own list"
        );
        let listed = s.suppressions_page(&org.id, None, 10).await.expect("list");
        assert_eq!(listed.items.len(), 1);
        assert!(
            s.unsuppress(&org.id, "GONE@example.com")
                .await
                .expect("remove")
        );
        assert!(
            !s.unsuppress(&org.id, "gone@example.com")
                .await
                .expect("again")
        );
    }
}

/// Pools: members of the organisation only, one name per organisation, and the cap
/// counters: 64 tasks over two store instances (two servers sharing the database) take
/// uses of a 10-number pool with caps of 100 — exactly 1,000 succeed and no number passes
/// its cap.
#[tokio::test]
async fn pools_and_caps_hold_under_concurrency() {
    for t in testing::all().await {
        let s = &t.store;
        let org = s.create_org("Acme").await.expect("org");
        let other = s.create_org("Other").await.expect("org");
        let provider = |org_id: &str| NewProvider {
            org_id: org_id.to_string(),
            kind: "sandbox".into(),
            name: "Sandbox".into(),
            credentials: vec![1],
            settings: "{}".into(),
        };
        let p = s
            .insert_provider(provider(&org.id))
            .await
            .expect("provider");
        let q = s
            .insert_provider(provider(&other.id))
            .await
            .expect("provider");
        let mut ids = Vec::new();
        for i in 0..10 {
            let (n, _) = s
                .upsert_number(
                    &org.id,
                    &p.id,
                    &switchyard_store::NumberAtProvider {
                        e164: format!("+1212555{:04}", 100 + i),
                        provider_number_id: format!("PN{i}"),
                        voice: true,
                        sms: true,
                        mms: false,
                    },
                )
                .await
                .expect("number");
            s.set_number_place(
                &n.id,
                &switchyard_store::NumberPlace {
                    country: "US".into(),
                    region: Some("NY".into()),
                    area_code: Some("212".into()),
                },
            )
            .await
            .expect("place");
            ids.push(n.id);
        }
        let (foreign, _) = s
            .upsert_number(
                &other.id,
                &q.id,
                &switchyard_store::NumberAtProvider {
                    e164: "+12125559999".into(),
                    provider_number_id: "PNX".into(),
                    voice: true,
                    sms: true,
                    mms: false,
                },
            )
            .await
            .expect("number");

        let pool = s
            .create_pool(&org.id, "sales-east", r#"{"daily_cap":100}"#)
            .await
            .expect("create")
            .expect("new");
        assert!(
            s.create_pool(&org.id, "sales-east", "{}")
                .await
                .expect("create")
                .is_none(),
            "one name per organisation"
        );
        assert!(
            s.create_pool(&other.id, "sales-east", "{}")
                .await
                .expect("create")
                .is_some()
        );
        let mut members = ids.clone();
        members.push(foreign.id.clone());
        assert_eq!(
            s.set_pool_numbers(&org.id, &pool.id, &members)
                .await
                .expect("members"),
            10,
            "another organisation's number is not added"
        );
        let listed = s.pool_members(&pool.id).await.expect("members");
        assert_eq!(listed.len(), 10);
        assert_eq!(
            (listed[0].region.as_deref(), listed[0].area_code.as_deref()),
            (Some("NY"), Some("212"))
        );
        assert_eq!(
            s.pool_by_name(&org.id, "sales-east")
                .await
                .expect("by name")
                .map(|p| p.id),
            Some(pool.id.clone())
        );

        // Two instances on one database, 64 tasks, 1,100 attempts at 1,000 uses.
        let second = switchyard_store::Store::connect(&t.url, 4)
            .await
            .expect("second instance");
        let stores = [s.clone(), second];
        let mut tasks = Vec::new();
        for task in 0..64usize {
            let store = stores[task % 2].clone();
            let ids = ids.clone();
            tasks.push(tokio::spawn(async move {
                let mut won = 0u32;
                for attempt in 0..18usize {
                    let id = &ids[(task + attempt) % ids.len()];
                    if store
                        .reserve_use(id, "2026-12-06", "voice", 100)
                        .await
                        .expect("reserve")
                        .is_some()
                    {
                        won += 1;
                    }
                }
                won
            }));
        }
        let mut total = 0;
        for task in tasks {
            total += task.await.expect("task");
        }
        let usage = s
            .pool_usage(&pool.id, "voice", "2026-12-06")
            .await
            .expect("usage");
        assert_eq!(usage.len(), 10);
        assert!(usage.iter().all(|u| u.count == 100), "{usage:?}");
        assert_eq!(total, 1000, "exactly the caps' worth of uses");
        assert_eq!(
            s.reserve_use(&ids[0], "2026-12-06", "voice", 100)
                .await
                .expect("reserve"),
            None
        );
        // Another day, another channel: fresh counters.
        assert_eq!(
            s.reserve_use(&ids[0], "2026-12-07", "voice", 100)
                .await
                .expect("reserve"),
            Some(1)
        );
        assert_eq!(
            s.reserve_use(&ids[0], "2026-12-06", "sms", 100)
                .await
                .expect("reserve"),
            Some(1)
        );

        // Stickiness, resting, and a sync that keeps a resting number resting.
        s.set_sticky_sender(&pool.id, "+14155550100", &ids[3])
            .await
            .expect("sticky");
        s.set_sticky_sender(&pool.id, "+14155550100", &ids[4])
            .await
            .expect("sticky again");
        assert_eq!(
            s.sticky_sender(&pool.id, "+14155550100")
                .await
                .expect("sticky"),
            Some(ids[4].clone())
        );
        assert!(s.rest_number(&org.id, &ids[5], 1_000).await.expect("rest"));
        assert!(
            !s.rest_number(&other.id, &ids[5], 1_000)
                .await
                .expect("rest"),
            "another organisation cannot rest it"
        );
        s.upsert_number(
            &org.id,
            &p.id,
            &switchyard_store::NumberAtProvider {
                e164: "+12125550105".into(),
                provider_number_id: "PN5".into(),
                voice: true,
                sms: true,
                mms: false,
            },
        )
        .await
        .expect("sync");
        let rested = s
            .pool_members(&pool.id)
            .await
            .expect("members")
            .into_iter()
            .find(|m| m.id == ids[5])
            .expect("member");
        assert_eq!(
            (rested.status.as_str(), rested.rest_until),
            ("resting", Some(1_000))
        );
        assert!(s.delete_pool(&org.id, &pool.id).await.expect("delete"));
        assert!(s.pool_records(&org.id).await.expect("pools").is_empty());
    }
}

#[tokio::test]
async fn provisioning_claims_numbers_once_and_warns_once() {
    use switchyard_store::{
        Assignment, NumberAtProvider, NumberFacts, ProvisioningStart, UsageWarning,
    };
    for t in testing::all().await {
        let s = &t.store;
        let org = s.create_org("Acme").await.expect("org");
        let p = s
            .insert_provider(NewProvider {
                org_id: org.id.clone(),
                kind: "sandbox".into(),
                name: "Sandbox".into(),
                credentials: vec![1],
                settings: "{}".into(),
            })
            .await
            .expect("provider");
        let mut ids = Vec::new();
        for i in 0..3 {
            let n = NumberAtProvider {
                e164: format!("+1415555{:04}", 100 + i),
                provider_number_id: format!("PN{i}"),
                voice: true,
                sms: true,
                mms: false,
            };
            ids.push(
                s.upsert_number(&org.id, &p.id, &n)
                    .await
                    .expect("number")
                    .0
                    .id,
            );
        }
        let pool = s
            .create_pool(&org.id, "free", "{}")
            .await
            .expect("create")
            .expect("new");
        s.set_pool_numbers(&org.id, &pool.id, &ids)
            .await
            .expect("members");

        // 16 claims over two instances for three free numbers: three win, all different.
        let second = switchyard_store::Store::connect(&t.url, 4)
            .await
            .expect("second instance");
        let stores = [s.clone(), second];
        let mut tasks = Vec::new();
        for i in 0..16usize {
            let (store, org, pool) = (stores[i % 2].clone(), org.id.clone(), pool.id.clone());
            tasks.push(tokio::spawn(async move {
                let subject = Assignment {
                    kind: "assistant".into(),
                    reference: format!("asst_{i}"),
                };
                let claimed = store
                    .claim_pool_number(&org, &pool, &subject)
                    .await
                    .expect("claim");
                let warned = store
                    .record_usage_warning(
                        &org,
                        &UsageWarning {
                            scope: format!("pool:{pool}:voice"),
                            window: "2026-12-06".into(),
                            threshold: 70,
                            used: 70,
                            capacity: 100,
                            created_at: 1,
                        },
                    )
                    .await
                    .expect("warning");
                (claimed.map(|n| n.id), warned)
            }));
        }
        let mut claimed = Vec::new();
        let mut warnings = 0;
        for task in tasks {
            let (number, warned) = task.await.expect("task");
            claimed.extend(number);
            warnings += usize::from(warned);
        }
        claimed.sort();
        let mut expected = ids.clone();
        expected.sort();
        assert_eq!(claimed, expected, "each free number claimed exactly once");
        assert_eq!(
            warnings, 1,
            "a warning is given once per scope, window and threshold"
        );
        assert_eq!(
            s.usage_warnings(&org.id, &format!("pool:{}", pool.id))
                .await
                .expect("warnings")
                .len(),
            1
        );

        // One provisioning per subject; one that needed a person is run again once.
        let subject = Assignment {
            kind: "tenant".into(),
            reference: "t1".into(),
        };
        let ProvisioningStart::Run(first) = s
            .begin_provisioning(&org.id, &subject, 0)
            .await
            .expect("begin")
        else {
            panic!("a new subject runs");
        };
        assert!(matches!(
            s.begin_provisioning(&org.id, &subject, 0).await.expect("begin"),
            ProvisioningStart::Exists(p) if p.status == "running"
        ));
        s.finish_provisioning(&first.id, "needs_manual_assignment", None, "[]")
            .await
            .expect("finish");
        assert!(matches!(
            s.begin_provisioning(&org.id, &subject, 0).await.expect("begin"),
            ProvisioningStart::Run(p) if p.id == first.id
        ));
        assert!(matches!(
            s.begin_provisioning(&org.id, &subject, 0)
                .await
                .expect("begin"),
            ProvisioningStart::Exists(_)
        ));
        // A run left behind by a stopped instance is taken over once it is stale.
        assert!(matches!(
            s.begin_provisioning(&org.id, &subject, i64::MAX)
                .await
                .expect("begin"),
            ProvisioningStart::Run(_)
        ));

        // Platform numbers held; release leaves every pool.
        s.set_number_facts(
            &ids[0],
            &NumberFacts {
                kind: "local".into(),
                from_platform: true,
                ..NumberFacts::default()
            },
        )
        .await
        .expect("facts");
        assert_eq!(s.platform_numbers_held(&org.id).await.expect("held"), 1);
        assert!(s.release_number(&org.id, &ids[0]).await.expect("release"));
        assert_eq!(s.platform_numbers_held(&org.id).await.expect("held"), 0);
        assert_eq!(s.pool_members(&pool.id).await.expect("members").len(), 2);
        let released = s
            .number(&org.id, &ids[0])
            .await
            .expect("number")
            .expect("kept");
        assert_eq!(
            (released.status.as_str(), released.assignment),
            ("released", None)
        );
    }
}

#[tokio::test]
async fn budgets_admit_spend_up_to_the_stop_across_instances() {
    use switchyard_store::NewBudget;
    for t in testing::all().await {
        let s = &t.store;
        let org = s.create_org("Acme").await.expect("org");
        let new = NewBudget {
            scope_kind: "organization".into(),
            scope_ref: String::new(),
            period: "daily".into(),
            amount: "100".into(),
            currency: "USD".into(),
            alert_pct: 80,
            stop_pct: 95,
        };
        let budget = s
            .create_budget(&org.id, &new)
            .await
            .expect("create")
            .expect("new");
        assert!(
            s.create_budget(&org.id, &new)
                .await
                .expect("create")
                .is_none(),
            "one budget per scope and period"
        );
        assert_eq!(s.org_time_zone(&org.id).await.expect("zone"), "UTC");

        // 64 tasks over two instances each try to admit sends of 0.40 against a stop of
        // 95.00: exactly 237 fit (94.80), and the window never passes the stop.
        const UNIT: i64 = 1_000_000_000;
        let (expected, stop) = (UNIT * 4 / 10, 95 * UNIT);
        let second = switchyard_store::Store::connect(&t.url, 4)
            .await
            .expect("second instance");
        let stores = [s.clone(), second];
        let mut tasks = Vec::new();
        for i in 0..64usize {
            let (store, id) = (stores[i % 2].clone(), budget.id.clone());
            tasks.push(tokio::spawn(async move {
                let mut admitted = 0;
                for _ in 0..5 {
                    if let Some(total) = store
                        .admit_spend(&id, "2026-12-06", expected, stop)
                        .await
                        .expect("admit")
                    {
                        assert!(total <= stop);
                        admitted += 1;
                    }
                }
                admitted
            }));
        }
        let mut admitted = 0;
        for task in tasks {
            admitted += task.await.expect("task");
        }
        assert_eq!(admitted, 237);
        assert_eq!(
            s.budget_spend(&budget.id, "2026-12-06")
                .await
                .expect("spend"),
            237 * expected
        );
        // Rated costs replace expected ones: spend can pass the stop only by what was in
        // flight beyond its expectation.
        let total = s
            .adjust_budget(&budget.id, "2026-12-06", UNIT / 10)
            .await
            .expect("adjust");
        assert_eq!(total, 237 * expected + UNIT / 10);
        assert_eq!(
            s.admit_spend(&budget.id, "2026-12-07", expected, stop)
                .await
                .expect("another day"),
            Some(expected)
        );
        assert!(
            s.update_budget(&org.id, &budget.id, "200", 50, 90)
                .await
                .expect("update")
        );
        assert_eq!(s.budgets(&org.id).await.expect("list")[0].amount, "200");
        assert!(s.delete_budget(&org.id, &budget.id).await.expect("delete"));
    }
}
