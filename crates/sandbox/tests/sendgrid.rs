//! The real SendGrid adapter against a running sandbox over loopback: the request it
//! accepts and stores, the errors it answers as SendGrid does, the signed event webhooks it
//! sends (verified with the adapter's own `verify`), forced outcomes, events on demand, and
//! injected faults.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use switchyard_providers::adapter::{Adapter, ProviderContext};
use switchyard_providers::capability::{Attachment, EmailRequest, Mailbox, WebhookRequest};
use switchyard_providers::events::{EmailEvent, EmailEventType, EventKind};
use switchyard_providers::http::{HttpClient, RetryPolicy};
use switchyard_providers::{Delivery, ErrorClass, registry};
use switchyard_sandbox::{
    AccountCredentials, EmailEventSpec, EmailProfile, Faults, NewAccount, Profile, Sandbox,
    SandboxConfig, Style,
};

type Inbox = Arc<Mutex<Vec<(HeaderMap, Vec<u8>)>>>;

struct Rig {
    sandbox: Sandbox,
    base: String,
    hook_url: String,
    inbox: Inbox,
    http: reqwest::Client,
}

async fn rig() -> Rig {
    let sandbox = Sandbox::new(SandboxConfig {
        seed: 42,
        speed: 20.0,
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(switchyard_sandbox::serve(sandbox.clone(), listener));
    let inbox: Inbox = Arc::default();
    let hooks = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let hook_url = format!("http://{}/hook", hooks.local_addr().expect("addr"));
    let app = axum::Router::new()
        .route(
            "/hook",
            axum::routing::post(
                |State(inbox): State<Inbox>, headers: HeaderMap, body: Bytes| async move {
                    inbox.lock().expect("lock").push((headers, body.to_vec()));
                    "ok"
                },
            ),
        )
        .with_state(inbox.clone());
    tokio::spawn(async move { axum::serve(hooks, app).await });
    Rig {
        sandbox,
        base,
        hook_url,
        inbox,
        http: reqwest::Client::new(),
    }
}

/// Recipients fare as their address says: no drawn bounces, deferrals or complaints;
/// every delivered recipient opens and clicks.
fn certain() -> Profile {
    Profile {
        receipt_delay_ms: 20,
        email: EmailProfile {
            hard_bounce_rate: 0.0,
            blocked_rate: 0.0,
            deferred_rate: 0.0,
            spam_report_rate: 0.0,
            open_rate: 1.0,
            click_rate: 1.0,
        },
        ..Profile::default()
    }
}

fn one_attempt() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 1,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_secs(1),
        timeout: Duration::from_secs(5),
    }
}

impl Rig {
    fn account(&self, profile: Profile) -> (AccountCredentials, Adapter) {
        let creds = self.sandbox.create_account(NewAccount {
            style: Style::Sendgrid,
            profile,
            webhook_url: Some(self.hook_url.clone()),
        });
        let Ok(Value::Object(mut credentials)) = serde_json::to_value(&creds) else {
            panic!("credentials are an object");
        };
        credentials.remove("signing_key");
        let ctx = ProviderContext {
            provider_id: "prv_sandbox_sendgrid".into(),
            credentials,
            webhook_url: self.hook_url.clone(),
            sandbox_url: Some(self.base.clone()),
            http: HttpClient::new(one_attempt()),
        };
        let adapter = registry::build("sandbox", &ctx).expect("adapter");
        (creds, adapter)
    }

    /// Waits until the webhooks hold `n` events in all, verifies each webhook with the
    /// adapter and returns the email events in arrival order.
    async fn events(&self, adapter: &Adapter, n: usize) -> Vec<EmailEvent> {
        let mut out = Vec::new();
        for _ in 0..400 {
            out.clear();
            let received = self.inbox.lock().expect("lock").clone();
            for (headers, body) in &received {
                let req = WebhookRequest {
                    url: &self.hook_url,
                    headers,
                    body,
                    now_secs: chrono::Utc::now().timestamp(),
                };
                adapter
                    .webhooks
                    .verify(&req)
                    .expect("signed as SendGrid signs");
                for e in adapter.webhooks.parse(&req).expect("parses") {
                    match e.kind {
                        EventKind::Email(m) => out.push(m),
                        other => panic!("not an email event: {other:?}"),
                    }
                }
            }
            if out.len() >= n {
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        out
    }

    async fn post(&self, path: &str, auth: Option<&str>, body: &Value) -> reqwest::Response {
        let mut req = self.http.post(format!("{}{path}", self.base)).json(body);
        if let Some(key) = auth {
            req = req.bearer_auth(key);
        }
        req.send().await.expect("sent")
    }
}

fn request(id: &str) -> EmailRequest {
    EmailRequest {
        email_id: id.into(),
        from: Mailbox {
            name: Some("Zoë's Shop".into()),
            address: "news@shop.example".into(),
        },
        to: vec![Mailbox {
            name: Some("Ada".into()),
            address: "ada@example.com".into(),
        }],
        cc: vec![Mailbox::new("bounce.me@example.com")],
        bcc: vec![Mailbox::new("complainer@example.com")],
        reply_to: Some(Mailbox::new("help@shop.example")),
        subject: "Grüße — 10 % off ✓".into(),
        text: Some("Hello Ada".into()),
        html: Some("<p>Hello <a href=\"https://shop.example/sale\">Ada</a></p>".into()),
        attachments: vec![Attachment {
            filename: "terms.pdf".into(),
            content_type: "application/pdf".into(),
            content: vec![0x25; 1234],
        }],
        headers: vec![(
            "List-Unsubscribe".into(),
            "<https://sy.example/u/tok>".into(),
        )],
        tags: vec!["sale".into()],
        provider_tracking: true,
        idempotency_key: format!("{id}:0"),
    }
}

fn of(events: &[EmailEvent], recipient: &str) -> Vec<EmailEventType> {
    events
        .iter()
        .filter(|e| e.recipient.as_deref() == Some(recipient))
        .map(|e| e.event)
        .collect()
}

#[tokio::test]
async fn sends_stores_and_reports_signed_events() {
    let rig = rig().await;
    let (_, adapter) = rig.account(certain());
    let info = adapter
        .connection
        .test_connection()
        .await
        .expect("connection");
    assert!(info.account.starts_with("API key "), "{info:?}");
    let mailer = adapter.email.as_ref().expect("email");
    let sent = mailer.send_email(&request("em_1")).await.expect("accepted");

    let stored = rig.sandbox.email(&sent.message_id).expect("stored");
    let e = &stored["email"];
    assert_eq!(e["from"], "news@shop.example");
    assert_eq!(e["to"], json!(["ada@example.com"]));
    assert_eq!(e["cc"], json!(["bounce.me@example.com"]));
    assert_eq!(e["bcc"], json!(["complainer@example.com"]));
    assert_eq!(e["reply_to"], "help@shop.example");
    assert_eq!(e["subject"], "Grüße — 10 % off ✓");
    assert_eq!(e["text"], "Hello Ada");
    assert_eq!(
        e["attachments"],
        json!([{ "filename": "terms.pdf", "content_type": "application/pdf", "size": 1234 }])
    );
    assert_eq!(
        e["headers"]["List-Unsubscribe"],
        "<https://sy.example/u/tok>"
    );
    assert_eq!(e["custom_args"]["switchyard_email_id"], "em_1");
    assert_eq!(e["categories"], json!(["sale"]));

    // processed ×3, delivered ×2, bounce, open ×2, click ×2, spamreport.
    let events = rig.events(&adapter, 11).await;
    assert_eq!(events.len(), 11, "{events:?}");
    assert!(
        events
            .iter()
            .all(|e| e.message_id == sent.message_id && e.email_id.as_deref() == Some("em_1")),
        "{events:?}"
    );
    use EmailEventType::*;
    assert_eq!(
        of(&events, "ada@example.com"),
        vec![Sent, Delivered, Opened, Clicked]
    );
    assert_eq!(of(&events, "bounce.me@example.com"), vec![Sent, HardBounce]);
    assert_eq!(
        of(&events, "complainer@example.com"),
        vec![Sent, Delivered, Opened, Clicked, Complained]
    );
    let click = events.iter().find(|e| e.event == Clicked).expect("click");
    assert_eq!(click.url.as_deref(), Some("https://shop.example/sale"));
    let bounce = events
        .iter()
        .find(|e| e.event == HardBounce)
        .expect("bounce");
    assert!(
        bounce
            .reason
            .as_deref()
            .is_some_and(|r| r.starts_with("550")),
        "{bounce:?}"
    );

    // Events on demand, through the API and the admin route.
    rig.sandbox
        .email_event(
            &sent.message_id,
            &EmailEventSpec {
                event: "unsubscribe".into(),
                email: Some("ada@example.com".into()),
                url: None,
            },
        )
        .expect("emitted");
    let resp = rig
        .post(
            &format!("/admin/emails/{}/events", sent.message_id),
            None,
            &json!({ "event": "blocked", "email": "complainer@example.com" }),
        )
        .await;
    assert_eq!(resp.status(), 202);
    let events = rig.events(&adapter, 13).await;
    assert_eq!(events[11].event, Unsubscribed);
    assert_eq!(events[12].event, SoftBounce);
    assert!(
        rig.sandbox
            .email_event(
                &sent.message_id,
                &EmailEventSpec {
                    event: "open".into(),
                    email: Some("stranger@example.com".into()),
                    url: None,
                },
            )
            .is_err()
    );
    let resp = rig
        .post(
            "/admin/emails/nope/events",
            None,
            &json!({ "event": "open" }),
        )
        .await;
    assert_eq!(resp.status(), 404);

    // The admin listing: newest first, with the events sent.
    let second = mailer.send_email(&request("em_2")).await.expect("accepted");
    let list: Value = rig
        .http
        .get(format!("{}/admin/emails", rig.base))
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    assert_eq!(list["data"][0]["email"]["id"], json!(second.message_id));
    assert_eq!(list["data"][1]["email"]["id"], json!(sent.message_id));
    assert!(
        list["data"][1]["email"]["events"]
            .as_array()
            .is_some_and(|e| e.len() == 13)
    );
    let one = rig
        .http
        .get(format!("{}/admin/emails/{}", rig.base, sent.message_id))
        .send()
        .await
        .expect("one");
    assert_eq!(one.status(), 200);
    let missing = rig
        .http
        .get(format!("{}/admin/emails/nope", rig.base))
        .send()
        .await
        .expect("missing");
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn without_tracking_there_are_no_opens_or_clicks() {
    let rig = rig().await;
    let (_, adapter) = rig.account(certain());
    let mut req = request("em_quiet");
    req.provider_tracking = false;
    req.cc.clear();
    req.bcc.clear();
    adapter
        .email
        .as_ref()
        .expect("email")
        .send_email(&req)
        .await
        .expect("accepted");
    let events = rig.events(&adapter, 2).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let events_later = rig.events(&adapter, 2).await;
    assert_eq!(events.len(), 2);
    assert_eq!(events_later.len(), 2, "{events_later:?}");
}

#[tokio::test]
async fn answers_like_sendgrid() {
    let rig = rig().await;
    let (creds, _) = rig.account(certain());
    let key = creds.api_key.clone().expect("key");
    let body = json!({
        "personalizations": [{ "to": [{ "email": "a@example.com" }] }],
        "from": { "email": "me@shop.example" },
        "subject": "Hi",
        "content": [{ "type": "text/plain", "value": "x" }],
    });
    let resp = rig.post("/sendgrid/v3/mail/send", Some(&key), &body).await;
    assert_eq!(resp.status(), 202);
    let id = resp
        .headers()
        .get("x-message-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .expect("X-Message-Id");
    assert_eq!(id.len(), 22);
    assert!(!id.contains('.'));
    assert!(resp.bytes().await.expect("body").is_empty());

    let resp = rig
        .post(
            "/sendgrid/v3/mail/send",
            Some(&key),
            &json!({ "subject": "Hi" }),
        )
        .await;
    assert_eq!(resp.status(), 400);
    let errors: Value = resp.json().await.expect("json");
    let fields: Vec<&str> = errors["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert_eq!(fields, vec!["personalizations", "from.email", "content"]);
    assert!(errors["errors"][0]["message"].is_string());

    let resp = rig
        .post("/sendgrid/v3/mail/send", Some("SG.wrong"), &body)
        .await;
    assert_eq!(resp.status(), 401);
    let resp = rig.post("/sendgrid/v3/mail/send", None, &body).await;
    assert_eq!(resp.status(), 401);
}

#[tokio::test]
async fn invalid_recipients_are_permanent() {
    let rig = rig().await;
    let (_, adapter) = rig.account(certain());
    let mut req = request("em_bad");
    req.to = vec![Mailbox::new("not an address")];
    let err = adapter
        .email
        .as_ref()
        .expect("email")
        .send_email(&req)
        .await
        .expect_err("refused");
    assert_eq!(err.class, ErrorClass::Permanent, "{err}");
    assert_eq!(err.status, Some(400));
}

#[tokio::test]
async fn faults_are_injected() {
    let rig = rig().await;
    let (creds, adapter) = rig.account(Profile {
        requests_per_second: 1,
        ..certain()
    });
    let mailer = adapter.email.as_ref().expect("email");
    // Within one second the second request is over the limit.
    let mut limited = None;
    for i in 0..3 {
        if let Err(e) = mailer.send_email(&request(&format!("em_rl{i}"))).await {
            limited = Some(e);
            break;
        }
    }
    let e = limited.expect("rate limited");
    assert_eq!(
        (e.status, e.class, e.delivery),
        (Some(429), ErrorClass::Retryable, Delivery::NotAccepted)
    );
    assert_eq!(e.retry_after, Some(Duration::from_secs(1)));

    // The limit lifted, faults take over.
    rig.sandbox.ensure_account(&creds, certain(), None);
    let key = creds.api_key.clone().expect("key");
    assert!(rig.sandbox.set_faults(
        &key,
        Faults {
            outage_secs: 600,
            ..Faults::default()
        }
    ));
    let e = mailer
        .send_email(&request("em_down"))
        .await
        .expect_err("outage");
    assert_eq!(
        (e.status, e.class, e.delivery),
        (Some(503), ErrorClass::Retryable, Delivery::NotAccepted)
    );
    assert!(e.may_fail_over());

    rig.sandbox.set_faults(
        &key,
        Faults {
            error_rate: 1.0,
            ..Faults::default()
        },
    );
    let e = mailer
        .send_email(&request("em_500"))
        .await
        .expect_err("error");
    assert_eq!((e.status, e.delivery), (Some(500), Delivery::MaybeAccepted));
    let count = |sb: &Sandbox| {
        sb.emails()
            .iter()
            .filter(|e| e["account"] == json!(key))
            .count()
    };
    assert!(count(&rig.sandbox) <= 2, "refused requests store nothing");
}
