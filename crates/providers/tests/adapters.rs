//! Each adapter method, failure mode and webhook round trip, against the sandbox over real
//! HTTP on loopback.

mod common;

use common::{fast_policy, now_secs, quick_profile, rig};
use std::time::{Duration, Instant};
use switchyard_providers::capability::*;
use switchyard_providers::events::{CallStatus, EventKind, MessageStatus};
use switchyard_providers::http::RetryPolicy;
use switchyard_providers::{Adapter, Delivery, ErrorClass};
use switchyard_sandbox::{Faults, Profile, Style};

fn call_to(from: &str, answer: Answer) -> CallRequest {
    CallRequest {
        to: "+442071234567".into(),
        from: from.into(),
        answer,
        ring_timeout_secs: 30,
        idempotency_key: uuid_like(),
        client_state: None,
    }
}

fn uuid_like() -> String {
    format!(
        "key-{}",
        Instant::now().elapsed().as_nanos() ^ now_secs() as u128
    )
}

fn sms(from: &str, to: &str) -> MessageRequest {
    MessageRequest {
        channel: MessageChannel::Sms,
        to: to.into(),
        from: from.into(),
        body: "Your code is 1234".into(),
        media_urls: Vec::new(),
        idempotency_key: uuid_like(),
    }
}

fn steps() -> Answer {
    Answer::Instructions(vec![Instruction::Say {
        text: "Hello from Switchyard".into(),
        language: None,
    }])
}

/// Verifies and parses every received webhook; returns the events.
fn events_of(adapter: &Adapter, received: &[common::Received]) -> Vec<EventKind> {
    received
        .iter()
        .flat_map(|r| {
            let req = WebhookRequest {
                url: &r.url,
                headers: &r.headers,
                body: &r.body,
                now_secs: now_secs(),
            };
            adapter.webhooks.verify(&req).expect("signature verifies");
            adapter.webhooks.parse(&req).expect("parses")
        })
        .map(|e| e.kind)
        .collect()
}

async fn numbers_round_trip(style: Style) {
    let rig = rig().await;
    let (_, adapter) = rig.account(style, quick_profile(), fast_policy());
    let info = adapter
        .connection
        .test_connection()
        .await
        .expect("connection");
    assert!(!info.detail.is_empty());
    let numbers = adapter.numbers.as_ref().expect("numbers");
    let owned = numbers.list_owned().await.expect("owned");
    assert_eq!(owned.len(), 5);
    let offer = numbers
        .search_available(&NumberQuery {
            country: "US".into(),
            area_code: Some("415".into()),
            sms: true,
            limit: Some(3),
            ..NumberQuery::default()
        })
        .await
        .expect("search");
    assert_eq!(offer.len(), 3);
    assert!(offer.iter().all(|n| n.e164.starts_with("+1415") && n.sms));
    let bought = numbers.buy(&offer[0].e164).await.expect("buy");
    assert_eq!(bought.e164, offer[0].e164);
    assert_eq!(numbers.list_owned().await.expect("owned").len(), 6);
    let imported = numbers.import(&owned[1].e164).await.expect("import");
    assert_eq!(imported.provider_number_id, owned[1].provider_number_id);
    let missing = numbers.import("+12125550999").await.expect_err("not owned");
    assert_eq!(missing.code.as_deref(), Some("not_owned"));
    numbers
        .release(&bought.provider_number_id)
        .await
        .expect("release");
    assert_eq!(numbers.list_owned().await.expect("owned").len(), 5);
    assert!(numbers.release(&bought.provider_number_id).await.is_err());
    assert!(numbers.release("../etc").await.is_err());
}

#[tokio::test]
async fn twilio_numbers() {
    numbers_round_trip(Style::Twilio).await;
}

#[tokio::test]
async fn signalwire_numbers() {
    numbers_round_trip(Style::Signalwire).await;
}

#[tokio::test]
async fn telnyx_numbers() {
    numbers_round_trip(Style::Telnyx).await;
}

#[tokio::test]
async fn plivo_numbers() {
    numbers_round_trip(Style::Plivo).await;
}

#[tokio::test]
async fn bandwidth_numbers() {
    numbers_round_trip(Style::Bandwidth).await;
}

#[tokio::test]
async fn vonage_numbers() {
    numbers_round_trip(Style::Vonage).await;
}

async fn call_and_message_round_trip(style: Style) {
    let rig = rig().await;
    let (_, adapter) = rig.account(style, quick_profile(), fast_policy());
    let from = common::first_number(&adapter).await;
    let voice = adapter.voice.as_ref().expect("voice");
    let placed = voice
        .create_call(&call_to(&from, steps()))
        .await
        .expect("call");
    let received = rig
        .webhooks(match style {
            Style::Twilio | Style::Signalwire | Style::Vonage => 4,
            Style::Bandwidth => 2,
            _ => 3,
        })
        .await;
    let statuses: Vec<CallStatus> = events_of(&adapter, &received)
        .into_iter()
        .filter_map(|k| match k {
            EventKind::Call(c) if c.call_id == placed.call_id => Some(c.status),
            _ => None,
        })
        .collect();
    let expected: &[CallStatus] = match style {
        Style::Twilio | Style::Signalwire | Style::Vonage => &[
            CallStatus::Initiated,
            CallStatus::Ringing,
            CallStatus::Answered,
            CallStatus::Completed,
        ],
        Style::Telnyx => &[
            CallStatus::Initiated,
            CallStatus::Answered,
            CallStatus::Completed,
        ],
        // Bandwidth reports the answer and the disconnect.
        Style::Bandwidth => &[CallStatus::Answered, CallStatus::Completed],
        // Plivo reports ringing (ring URL), the answer (answer URL) and the hangup.
        Style::Plivo => &[
            CallStatus::Ringing,
            CallStatus::Answered,
            CallStatus::Completed,
        ],
        Style::Sendgrid => unreachable!("an email account places no calls"),
    };
    assert_eq!(statuses, expected);
    let info = voice.call_status(&placed.call_id).await.expect("status");
    assert_eq!(info.status, CallStatus::Completed);
    assert_eq!(info.duration_secs, Some(1));
    voice
        .hangup(&placed.call_id)
        .await
        .expect("hangup of an ended call is a no-op");

    // A call hung up while ringing ends as canceled.
    rig.clear();
    let slow = Profile {
        ring_ms: 5_000,
        ..quick_profile()
    };
    let (_, slow_adapter) = rig.account(style, slow, fast_policy());
    let from2 = common::first_number(&slow_adapter).await;
    let v2 = slow_adapter.voice.as_ref().expect("voice");
    let ringing = v2
        .create_call(&call_to(&from2, steps()))
        .await
        .expect("call");
    v2.hangup(&ringing.call_id).await.expect("hangup");
    let received = rig.webhooks(2).await;
    let last = events_of(&slow_adapter, &received)
        .into_iter()
        .filter_map(|k| match k {
            EventKind::Call(c) => Some(c.status),
            _ => None,
        })
        .next_back();
    assert_eq!(last, Some(CallStatus::Canceled));

    // Messages: queued at once, then sent and delivered by webhook.
    rig.clear();
    let messaging = adapter.messaging.as_ref().expect("messaging");
    let sent = messaging
        .send_message(&sms(&from, "+447700900123"))
        .await
        .expect("send");
    assert_eq!(sent.status, MessageStatus::Queued);
    // Bandwidth reports `message-sending` for MMS only; Vonage's SMS API sends one receipt.
    let expected: &[MessageStatus] = match style {
        Style::Bandwidth | Style::Vonage => &[MessageStatus::Delivered],
        _ => &[MessageStatus::Sent, MessageStatus::Delivered],
    };
    let received = rig.webhooks(expected.len()).await;
    let statuses: Vec<MessageStatus> = events_of(&adapter, &received)
        .into_iter()
        .filter_map(|k| match k {
            EventKind::Message(m) if m.message_id == sent.message_id => Some(m.status),
            _ => None,
        })
        .collect();
    assert_eq!(statuses, expected);
    // Vonage keeps no message to read back: its status comes from receipts alone.
    if style != Style::Vonage {
        let now = messaging
            .message_status(&sent.message_id)
            .await
            .expect("status");
        assert_eq!(now.status, MessageStatus::Delivered);
        // Bandwidth reports no prices through its API.
        assert_eq!(now.price.is_some(), style != Style::Bandwidth);
    }

    // A sender the account does not own is this provider's refusal, not the request's fault.
    let err = messaging
        .send_message(&sms("+12125550000", "+447700900123"))
        .await
        .expect_err("not owned");
    assert_eq!(
        (err.class, err.delivery),
        (ErrorClass::ProviderRefused, Delivery::NotAccepted)
    );
    // An invalid destination is permanent.
    let mut bad = call_to(&from, steps());
    bad.to = "12".into();
    let err = voice.create_call(&bad).await.expect_err("invalid to");
    assert_ne!(err.class, ErrorClass::Retryable);
}

#[tokio::test]
async fn twilio_calls_and_messages() {
    call_and_message_round_trip(Style::Twilio).await;
}

#[tokio::test]
async fn signalwire_calls_and_messages() {
    call_and_message_round_trip(Style::Signalwire).await;
}

#[tokio::test]
async fn telnyx_calls_and_messages() {
    call_and_message_round_trip(Style::Telnyx).await;
}

#[tokio::test]
async fn plivo_calls_and_messages() {
    call_and_message_round_trip(Style::Plivo).await;
}

#[tokio::test]
async fn bandwidth_calls_and_messages() {
    call_and_message_round_trip(Style::Bandwidth).await;
}

#[tokio::test]
async fn vonage_calls_and_messages() {
    call_and_message_round_trip(Style::Vonage).await;
}

/// Plivo and Bandwidth fetch instructions from the answer URL: Switchyard's webhook answers
/// the authenticated callback with the document the adapter put in that URL, and a
/// transfer (Plivo) or redirect (Bandwidth) of the live call does the same with new
/// instructions; other callbacks get an empty document.
async fn answer_urls_serve_the_instructions(style: Style, say: &str, play: &str, empty: &str) {
    let rig = &rig().await;
    let long = Profile {
        duration: switchyard_sandbox::DurationModel::Fixed { secs: 30 },
        ..quick_profile()
    };
    let (_, adapter) = rig.account(style, long, fast_policy());
    let from = common::first_number(&adapter).await;
    let voice = adapter.voice.as_ref().expect("voice");
    let placed = voice
        .create_call(&call_to(&from, steps()))
        .await
        .expect("call");
    let acknowledged = |hook: &common::Received| {
        let req = WebhookRequest {
            url: &hook.url,
            headers: &hook.headers,
            body: &hook.body,
            now_secs: now_secs(),
        };
        adapter.webhooks.verify(&req).expect("authenticated");
        adapter.webhooks.acknowledgement(&req)
    };
    let documents = |n: usize| async move {
        for _ in 0..200 {
            let docs: Vec<common::Received> = rig
                .webhooks(0)
                .await
                .into_iter()
                .filter(|r| r.url.contains("sy_answer="))
                .collect();
            if docs.len() >= n {
                return docs;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("{n} answer callbacks did not arrive");
    };
    let (content_type, doc) = acknowledged(&documents(1).await[0]);
    assert_eq!(content_type, "application/xml");
    assert!(doc.contains(say), "{doc}");
    voice
        .perform(
            &placed.call_id,
            &[Instruction::Play {
                url: "https://x.example/hold.mp3".into(),
            }],
        )
        .await
        .expect("transfer");
    let (_, doc) = acknowledged(&documents(2).await[1]);
    assert!(doc.contains(play), "{doc}");
    voice.hangup(&placed.call_id).await.expect("hangup");
    for _ in 0..200 {
        if let Some(plain) = rig
            .webhooks(0)
            .await
            .into_iter()
            .find(|r| !r.url.contains("sy_answer="))
        {
            let (_, ack) = acknowledged(&plain);
            assert!(ack.ends_with(empty), "{ack}");
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("no callback without a document arrived");
}

#[tokio::test]
async fn plivo_answer_and_transfer_urls_serve_the_instructions() {
    answer_urls_serve_the_instructions(
        Style::Plivo,
        "<Speak voice=\"WOMAN\" language=\"en-US\">Hello from Switchyard</Speak>",
        "<Play>https://x.example/hold.mp3</Play>",
        "<Response></Response>",
    )
    .await;
}

#[tokio::test]
async fn bandwidth_answer_and_redirect_urls_serve_the_instructions() {
    answer_urls_serve_the_instructions(
        Style::Bandwidth,
        "<SpeakSentence locale=\"en_US\" gender=\"female\">Hello from Switchyard</SpeakSentence>",
        "<PlayAudio>https://x.example/hold.mp3</PlayAudio>",
        "<Bxml></Bxml>",
    )
    .await;
}

#[tokio::test]
async fn inbound_traffic_arrives_signed_and_parsed() {
    let rig = rig().await;
    for style in [
        Style::Twilio,
        Style::Signalwire,
        Style::Telnyx,
        Style::Plivo,
        Style::Bandwidth,
        Style::Vonage,
    ] {
        rig.clear();
        let (creds, adapter) = rig.account(style, quick_profile(), fast_policy());
        let ours = common::first_number(&adapter).await;
        let sms = switchyard_sandbox::Inbound {
            kind: "sms".into(),
            from: "+447700900555".into(),
            to: ours.clone(),
            body: "STOP".into(),
        };
        rig.sandbox
            .inbound(&creds.key(), &sms)
            .expect("inbound sms");
        let call = switchyard_sandbox::Inbound {
            kind: "call".into(),
            from: "+447700900555".into(),
            to: ours.clone(),
            body: String::new(),
        };
        rig.sandbox
            .inbound(&creds.key(), &call)
            .expect("inbound call");
        let kinds = events_of(&adapter, &rig.webhooks(2).await);
        assert!(
            kinds.iter().any(
                |k| matches!(k, EventKind::InboundMessage(m) if m.body == "STOP" && m.to == ours)
            ),
            "{style:?}: {kinds:?}"
        );
        assert!(
            kinds
                .iter()
                .any(|k| matches!(k, EventKind::InboundCall(c) if c.to == ours)),
            "{style:?}: {kinds:?}"
        );
    }
}

#[tokio::test]
async fn tampered_and_replayed_webhooks_are_refused() {
    let rig = rig().await;
    for style in [
        Style::Twilio,
        Style::Signalwire,
        Style::Telnyx,
        Style::Plivo,
        Style::Bandwidth,
        Style::Vonage,
    ] {
        rig.clear();
        let (_, adapter) = rig.account(style, quick_profile(), fast_policy());
        let from = common::first_number(&adapter).await;
        adapter
            .messaging
            .as_ref()
            .expect("messaging")
            .send_message(&sms(&from, "+447700900123"))
            .await
            .expect("send");
        let hook = rig.webhooks(1).await.remove(0);
        let req = |body: &[u8], url: &str, now: i64| -> Result<(), WebhookError> {
            adapter.webhooks.verify(&WebhookRequest {
                url,
                headers: &hook.headers,
                body,
                now_secs: now,
            })
        };
        assert_eq!(req(&hook.body, &hook.url, now_secs()), Ok(()));
        let mut tampered = hook.body.clone();
        let last = tampered.len() - 2;
        tampered[last] ^= 1;
        // Bandwidth authenticates the sender (Basic credentials), not the body.
        if style != Style::Bandwidth {
            assert_eq!(
                req(&tampered, &hook.url, now_secs()),
                Err(WebhookError::BadSignature)
            );
        }
        match style {
            Style::Bandwidth => {
                let mut forged = hook.headers.clone();
                forged.insert(
                    "authorization",
                    http::HeaderValue::from_static("Basic c3k6Z3Vlc3M="),
                );
                let guessed = adapter.webhooks.verify(&WebhookRequest {
                    url: &hook.url,
                    headers: &forged,
                    body: &hook.body,
                    now_secs: now_secs(),
                });
                assert_eq!(guessed, Err(WebhookError::BadSignature));
            }
            // Twilio, SignalWire and Plivo sign the URL: another URL is another signature.
            Style::Twilio | Style::Signalwire | Style::Plivo => assert_eq!(
                req(&hook.body, &format!("{}?x=1", hook.url), now_secs()),
                Err(WebhookError::BadSignature)
            ),
            // Telnyx signs a timestamp: six minutes later it is a replay.
            // Telnyx and Vonage's SMS receipts sign a timestamp: six minutes later it is a
            // replay.
            Style::Telnyx | Style::Vonage => assert_eq!(
                req(&hook.body, &hook.url, now_secs() + 360),
                Err(WebhookError::Stale(300))
            ),
            Style::Sendgrid => unreachable!("an email account places no calls"),
        }
        // Without its signature: no header, and for Vonage's SMS receipts no `sig`.
        let unsigned = http::HeaderMap::new();
        let bare: Vec<u8> = match style {
            Style::Vonage => {
                let params: Vec<(String, String)> =
                    serde_urlencoded::from_bytes(&hook.body).expect("a form");
                let kept: Vec<(String, String)> =
                    params.into_iter().filter(|(k, _)| k != "sig").collect();
                serde_urlencoded::to_string(kept)
                    .expect("form")
                    .into_bytes()
            }
            _ => hook.body.clone(),
        };
        let missing = adapter.webhooks.verify(&WebhookRequest {
            url: &hook.url,
            headers: &unsigned,
            body: &bare,
            now_secs: now_secs(),
        });
        assert!(matches!(missing, Err(WebhookError::Unsigned(_))));
        // Another account's adapter does not accept this account's webhooks.
        let (_, other) = rig.account(style, quick_profile(), fast_policy());
        let foreign = other.webhooks.verify(&WebhookRequest {
            url: &hook.url,
            headers: &hook.headers,
            body: &hook.body,
            now_secs: now_secs(),
        });
        assert_eq!(foreign, Err(WebhookError::BadSignature));
    }
}

#[tokio::test]
async fn rate_limits_are_retried_after_the_delay_asked() {
    let rig = rig().await;
    for style in [Style::Twilio, Style::Telnyx, Style::Bandwidth] {
        let profile = Profile {
            requests_per_second: 1,
            ..quick_profile()
        };
        let (_, adapter) = rig.account(style, profile, fast_policy());
        let started = Instant::now();
        // Three reads in a row: the limiter allows one per second, so at least one
        // waits for the `Retry-After: 1` the sandbox sends, and all succeed.
        for _ in 0..3 {
            adapter
                .connection
                .test_connection()
                .await
                .expect("retried after 429");
        }
        assert!(
            started.elapsed() >= Duration::from_millis(900),
            "{:?}",
            started.elapsed()
        );
        let limited = rig.sandbox.journal().len();
        assert!(limited >= 4, "{limited} requests");
    }
}

#[tokio::test]
async fn server_errors_retry_reads_but_not_unkeyed_sends() {
    let rig = rig().await;
    let (creds, adapter) = rig.account(Style::Twilio, quick_profile(), fast_policy());
    let from = common::first_number(&adapter).await;
    rig.sandbox.set_faults(
        &creds.key(),
        Faults {
            error_rate: 1.0,
            ..Faults::default()
        },
    );
    let before = rig.sandbox.journal().len();
    let err = adapter
        .connection
        .test_connection()
        .await
        .expect_err("500s");
    assert_eq!((err.status, err.class), (Some(500), ErrorClass::Retryable));
    assert_eq!(
        rig.sandbox.journal().len() - before,
        3,
        "a read is tried three times"
    );
    let before = rig.sandbox.journal().len();
    let err = adapter
        .messaging
        .as_ref()
        .expect("messaging")
        .send_message(&sms(&from, "+447700900123"))
        .await
        .expect_err("500");
    assert_eq!(err.delivery, Delivery::MaybeAccepted);
    assert!(!err.may_fail_over());
    assert_eq!(
        rig.sandbox.journal().len() - before,
        1,
        "a send without idempotency key is not repeated"
    );

    // Telnyx dials carry `command_id`, so they are retried.
    let (tcreds, tadapter) = rig.account(Style::Telnyx, quick_profile(), fast_policy());
    let tfrom = common::first_number(&tadapter).await;
    rig.sandbox.set_faults(
        &tcreds.key(),
        Faults {
            error_rate: 1.0,
            ..Faults::default()
        },
    );
    let before = rig.sandbox.journal().len();
    tadapter
        .voice
        .as_ref()
        .expect("voice")
        .create_call(&call_to(&tfrom, steps()))
        .await
        .expect_err("500");
    assert_eq!(rig.sandbox.journal().len() - before, 3);
}

/// Vonage's MMS and WhatsApp go through the Messages API, whose status callbacks carry a
/// JWT; its SMS API answers throttling with SMS status 1 in a 200, which is transient.
#[tokio::test]
async fn vonage_messages_api_and_sms_throttling() {
    let rig = rig().await;
    let (_, adapter) = rig.account(Style::Vonage, quick_profile(), fast_policy());
    let from = common::first_number(&adapter).await;
    let messaging = adapter.messaging.as_ref().expect("messaging");
    let mut mms = sms(&from, "+447700900123");
    mms.channel = MessageChannel::Mms;
    mms.media_urls = vec!["https://x.example/cat.jpg".into()];
    let sent = messaging.send_message(&mms).await.expect("mms");
    let statuses: Vec<MessageStatus> = events_of(&adapter, &rig.webhooks(2).await)
        .into_iter()
        .filter_map(|k| match k {
            EventKind::Message(m) if m.message_id == sent.message_id => Some(m.status),
            _ => None,
        })
        .collect();
    assert_eq!(statuses, [MessageStatus::Sent, MessageStatus::Delivered]);
    let mut whatsapp = sms(&from, "+447700900123");
    whatsapp.channel = MessageChannel::Whatsapp;
    messaging.send_message(&whatsapp).await.expect("whatsapp");

    let once = RetryPolicy {
        max_attempts: 1,
        ..fast_policy()
    };
    let limited = Profile {
        requests_per_second: 1,
        ..quick_profile()
    };
    let (_, throttled) = rig.account(Style::Vonage, limited, once);
    let from = common::first_number(&throttled).await;
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let messaging = throttled.messaging.as_ref().expect("messaging");
    messaging
        .send_message(&sms(&from, "+447700900123"))
        .await
        .expect("first in the second");
    let err = messaging
        .send_message(&sms(&from, "+447700900123"))
        .await
        .expect_err("throttled");
    assert_eq!(
        (err.class, err.delivery, err.code.as_deref()),
        (ErrorClass::Retryable, Delivery::NotAccepted, Some("1"))
    );
    assert!(err.may_fail_over());
}

/// Plivo's 429 carries no `Retry-After`; its faults classify like everyone's.
#[tokio::test]
async fn plivo_faults_are_classified() {
    let rig = rig().await;
    let once = RetryPolicy {
        max_attempts: 1,
        ..fast_policy()
    };
    let limited = Profile {
        requests_per_second: 1,
        ..quick_profile()
    };
    let (creds, adapter) = rig.account(Style::Plivo, limited, once);
    let from = common::first_number(&adapter).await;
    let err = adapter
        .connection
        .test_connection()
        .await
        .expect_err("over the limit");
    assert_eq!((err.status, err.class), (Some(429), ErrorClass::Retryable));
    assert_eq!(err.delivery, Delivery::NotAccepted);
    rig.sandbox.set_faults(
        &creds.key(),
        Faults {
            outage_secs: 3_600,
            ..Faults::default()
        },
    );
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let err = adapter
        .connection
        .test_connection()
        .await
        .expect_err("outage");
    assert_eq!((err.status, err.class), (Some(503), ErrorClass::Retryable));
    assert!(err.may_fail_over());
    rig.sandbox.set_faults(
        &creds.key(),
        Faults {
            error_rate: 1.0,
            ..Faults::default()
        },
    );
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let before = rig.sandbox.journal().len();
    let err = adapter
        .messaging
        .as_ref()
        .expect("messaging")
        .send_message(&sms(&from, "+447700900123"))
        .await
        .expect_err("500");
    assert_eq!(err.delivery, Delivery::MaybeAccepted);
    assert!(!err.may_fail_over(), "Plivo may have sent it");
    assert_eq!(rig.sandbox.journal().len() - before, 1);
}

#[tokio::test]
async fn outages_and_timeouts_are_classified() {
    let rig = rig().await;
    let policy = RetryPolicy {
        timeout: Duration::from_millis(400),
        ..fast_policy()
    };
    let (creds, adapter) = rig.account(Style::Telnyx, quick_profile(), policy);
    let from = common::first_number(&adapter).await;
    rig.sandbox.set_faults(
        &creds.key(),
        Faults {
            outage_secs: 3_600,
            ..Faults::default()
        },
    );
    let err = adapter
        .messaging
        .as_ref()
        .expect("messaging")
        .send_message(&sms(&from, "+447700900123"))
        .await
        .expect_err("outage");
    assert_eq!((err.status, err.class), (Some(503), ErrorClass::Retryable));
    assert!(
        err.may_fail_over(),
        "a 503 was not handled: another provider may take it"
    );
    rig.sandbox.set_faults(
        &creds.key(),
        Faults {
            timeout_rate: 1.0,
            ..Faults::default()
        },
    );
    let started = Instant::now();
    let err = adapter
        .messaging
        .as_ref()
        .expect("messaging")
        .send_message(&sms(&from, "+447700900123"))
        .await
        .expect_err("timeout");
    assert_eq!(err.code.as_deref(), Some("timeout"));
    assert_eq!(err.delivery, Delivery::MaybeAccepted);
    assert!(started.elapsed() < Duration::from_secs(3), "not retried");
    rig.sandbox.set_faults(
        &creds.key(),
        Faults {
            slow_ms: 50,
            ..Faults::default()
        },
    );
    adapter
        .connection
        .test_connection()
        .await
        .expect("slow but fine");
}

#[tokio::test]
async fn telnyx_refuses_answer_urls_and_whatsapp() {
    let rig = rig().await;
    let (_, adapter) = rig.account(Style::Telnyx, quick_profile(), fast_policy());
    let err = adapter
        .voice
        .as_ref()
        .expect("voice")
        .create_call(&call_to(
            "+12125550100",
            Answer::Url("https://x.example/twiml".into()),
        ))
        .await
        .expect_err("unsupported");
    assert_eq!(err.code.as_deref(), Some("unsupported"));
    let mut wa = sms("+12125550100", "+447700900123");
    wa.channel = MessageChannel::Whatsapp;
    assert!(
        adapter
            .messaging
            .as_ref()
            .expect("messaging")
            .send_message(&wa)
            .await
            .is_err()
    );
    assert!(adapter.voice.as_ref().expect("voice").answers_by_command());
}
