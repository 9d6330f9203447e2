//! Email end to end, on SQLite and PostgreSQL: least-cost routing among sandbox email
//! providers (SendGrid's API and signed event webhook), failover, bounces and complaints
//! that suppress addresses, RFC 8058 one-click unsubscribe, open and click tracking, and
//! bad input refused with the field named and nothing stored.

mod common;

use base64::Engine;
use common::{Server, start_sandboxed, tenant};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;
use switchyard_store::{Role, testing};

const CHEAP: &str = "prefix,rate,attachment_fee\n*,0.10,0.01\n";
const DEAR: &str = "prefix,rate,attachment_fee\n*,0.90,0\n";

async fn mailer(server: &Server, key: &str, name: &str, deck: &str) -> String {
    let (status, p) = server
        .post(
            "/v1/providers",
            key,
            json!({"type": "sandbox", "name": name, "credentials": {"style": "sendgrid"}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{p}");
    let id = p["id"].as_str().expect("id").to_string();
    let (status, up) = server
        .csv(
            &format!("/v1/providers/{id}/rates?channel=email"),
            key,
            deck,
        )
        .await;
    assert!(status.is_success(), "{up}");
    id
}

/// Polls an email until `done` holds (the sandbox reports by webhook).
async fn wait_for(server: &Server, key: &str, id: &str, done: impl Fn(&Value) -> bool) -> Value {
    let mut last = Value::Null;
    for _ in 0..200 {
        let (status, e) = server.get(&format!("/v1/emails/{id}"), key).await;
        assert_eq!(status, StatusCode::OK, "{e}");
        if done(&e) {
            return e;
        }
        last = e;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("email never reached the expected state: {last}");
}

fn has_event(e: &Value, name: &str) -> bool {
    e["events"]
        .as_array()
        .is_some_and(|events| events.iter().any(|x| x["event"] == name))
}

fn marketing(to: &str) -> Value {
    json!({
        "from": "Shop <news@shop.example>", "to": to, "subject": "Spring sale ✿",
        "text": "Our sale starts today.",
        "html": "<p>Our <a href=\"https://shop.example/sale?a=1&amp;b=2\">sale</a> starts today.</p>",
        "tracking": {"opens": true, "clicks": true},
        "metadata": {"campaign": "spring"}
    })
}

#[tokio::test]
async fn email_is_routed_tracked_and_unsubscribes_in_one_click() {
    for t in testing::all().await {
        let server = start_sandboxed(t.store.clone(), 11, 50.0).await;
        let (_, key) = tenant(&t.store, Role::Admin).await;
        let cheap = mailer(&server, &key, "Budget Mail", CHEAP).await;
        let dear = mailer(&server, &key, "Premium Mail", DEAR).await;

        let (status, sent) = server
            .post("/v1/emails", &key, marketing("ada@example.com"))
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{sent}");
        let id = sent["id"].as_str().expect("id").to_string();
        let e = wait_for(&server, &key, &id, |e| e["status"] == "delivered").await;
        assert_eq!(e["provider_id"], cheap.as_str(), "the cheapest provider");
        assert_eq!(e["cost"], "0.0001", "0.10 per 1,000");
        assert_eq!(e["baseline_cost"], "0.0009");
        let line = &e["costs"][0];
        assert_eq!(
            (
                line["component"].as_str(),
                line["quantity"].as_str(),
                line["unit"].as_str(),
                line["amount"].as_str()
            ),
            (Some("email"), Some("1"), Some("recipient"), Some("0.0001")),
            "{e}"
        );
        assert_eq!(e["plan"].as_array().map(Vec::len), Some(2));
        assert_eq!(e["metadata"]["campaign"], "spring");

        // What the provider received carries the RFC 8058 headers and the tracked body.
        let headers = e["headers"].as_array().expect("headers");
        let unsubscribe = headers
            .iter()
            .find(|h| h[0] == "List-Unsubscribe")
            .and_then(|h| h[1].as_str())
            .expect("List-Unsubscribe");
        assert!(unsubscribe.starts_with("<mailto:unsubscribe@shop.example?subject="));
        assert!(
            headers
                .iter()
                .any(|h| h[0] == "List-Unsubscribe-Post" && h[1] == "List-Unsubscribe=One-Click")
        );
        let sandbox = server.running.sandbox.as_ref().expect("sandbox");
        let received = sandbox
            .emails()
            .into_iter()
            .find(|m| serde_json::to_string(m).unwrap_or_default().contains(&id))
            .expect("the sandbox received it");
        let received = serde_json::to_value(received).expect("json");
        let text = received.to_string();
        assert!(text.contains("List-Unsubscribe=One-Click"), "{text}");
        assert!(
            text.contains("/t/c/"),
            "click tracking in the sent HTML: {text}"
        );
        assert!(
            text.contains("/t/o/"),
            "open pixel in the sent HTML: {text}"
        );

        // Open pixel and click redirect, served by Switchyard.
        let html = text.clone();
        let find_url = |marker: &str| -> String {
            let start = html.find(marker).expect(marker);
            let from = html[..start].rfind("http").expect("url start");
            let end = html[start..]
                .find(['"', '\\'])
                .map(|n| start + n)
                .expect("url end");
            html[from..end].to_string()
        };
        let pixel = find_url("/t/o/");
        let open = server.http.get(&pixel).send().await.expect("pixel");
        assert_eq!(open.headers()["content-type"], "image/gif");
        let no_redirects = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        let click = no_redirects
            .get(find_url("/t/c/"))
            .send()
            .await
            .expect("click");
        assert_eq!(click.status(), StatusCode::FOUND);
        assert_eq!(
            click.headers()["location"],
            "https://shop.example/sale?a=1&b=2"
        );
        let tampered = format!("{}x", find_url("/t/c/"));
        let refused = no_redirects.get(tampered).send().await.expect("tampered");
        assert_eq!(refused.status(), StatusCode::NOT_FOUND, "no open redirect");
        let e = wait_for(&server, &key, &id, |e| {
            has_event(e, "opened") && has_event(e, "clicked")
        })
        .await;
        assert_eq!(
            e["status"], "delivered",
            "engagement does not change the status"
        );

        // One-click unsubscribe as a mail client does it (RFC 8058): POST, form body.
        let https = unsubscribe
            .split(", ")
            .nth(1)
            .map(|u| u.trim_matches(['<', '>']))
            .expect("https link");
        let page = server.http.get(https).send().await.expect("page");
        assert_eq!(page.status(), StatusCode::OK);
        let page = page.text().await.expect("html");
        assert!(page.contains("a••@example.com") && page.contains("<form method=\"post\""));
        let before: Value = server.get("/v1/suppressions", &key).await.1;
        assert_eq!(
            before["data"].as_array().map(Vec::len),
            Some(0),
            "GET changes nothing"
        );
        let done = server
            .http
            .post(https)
            .header("content-type", "application/x-www-form-urlencoded")
            .body("List-Unsubscribe=One-Click")
            .send()
            .await
            .expect("one click");
        assert_eq!(done.status(), StatusCode::OK);
        assert!(
            done.text()
                .await
                .expect("html")
                .contains("You are unsubscribed")
        );
        let (_, list) = server.get("/v1/suppressions", &key).await;
        assert_eq!(list["data"][0]["address"], "ada@example.com");
        assert_eq!(list["data"][0]["scope"], "marketing");

        let (status, refused) = server
            .post("/v1/emails", &key, marketing("Ada@Example.com"))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
        assert_eq!(refused["error"]["code"], "suppressed");
        assert_eq!(refused["error"]["details"]["field"], "to[0]");
        let receipt = json!({"from": "shop@shop.example", "to": "ada@example.com",
            "subject": "Your receipt", "text": "Thanks", "transactional": true});
        let (status, r) = server.post("/v1/emails", &key, receipt).await;
        assert_eq!(status, StatusCode::ACCEPTED, "receipts still go: {r}");
        let _ = dear;
    }
}

#[tokio::test]
async fn bounces_and_complaints_suppress_and_outages_fail_over() {
    for t in testing::all().await {
        let server = start_sandboxed(t.store.clone(), 12, 50.0).await;
        let (_, key) = tenant(&t.store, Role::Admin).await;
        let cheap = mailer(&server, &key, "Budget Mail", CHEAP).await;
        let dear = mailer(&server, &key, "Premium Mail", DEAR).await;

        for (address, reason) in [
            ("bounce-1@example.com", "hard_bounce"),
            ("complain-1@example.com", "complained"),
        ] {
            let (status, sent) = server.post("/v1/emails", &key, marketing(address)).await;
            assert_eq!(status, StatusCode::ACCEPTED, "{sent}");
            let id = sent["id"].as_str().expect("id").to_string();
            let e = wait_for(&server, &key, &id, |e| has_event(e, reason)).await;
            if reason == "hard_bounce" {
                assert_eq!(e["status"], "bounced");
            }
            let receipt = json!({"from": "shop@shop.example", "to": address,
                "subject": "Receipt", "text": "x", "transactional": true});
            let (status, refused) = server.post("/v1/emails", &key, receipt).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
            assert_eq!(refused["error"]["details"]["reason"], reason);
        }
        let (_, csv) = {
            let r = server
                .http
                .get(format!("{}/v1/suppressions?format=csv", server.base))
                .bearer_auth(&key)
                .send()
                .await
                .expect("export");
            (r.status(), r.text().await.expect("csv"))
        };
        assert!(
            csv.starts_with("address,reason,scope,email_id,created_at\n"),
            "{csv}"
        );
        assert!(csv.contains("bounce-1@example.com,hard_bounce,all,"));
        let removed = server
            .http
            .delete(format!(
                "{}/v1/suppressions/bounce-1@example.com",
                server.base
            ))
            .bearer_auth(&key)
            .send()
            .await
            .expect("delete");
        assert_eq!(removed.status(), StatusCode::NO_CONTENT);

        // The cheap provider is down: the email goes to the other one.
        let put = server
            .http
            .put(format!(
                "{}/v1/providers/{cheap}/sandbox/faults",
                server.base
            ))
            .bearer_auth(&key)
            .json(&json!({"outage_secs": 3600}))
            .send()
            .await
            .expect("faults");
        assert_eq!(put.status(), StatusCode::NO_CONTENT);
        let (_, sent) = server
            .post("/v1/emails", &key, marketing("bob@example.com"))
            .await;
        let id = sent["id"].as_str().expect("id").to_string();
        let e = wait_for(&server, &key, &id, |e| e["status"] == "delivered").await;
        assert_eq!(e["provider_id"], dear.as_str());
        let attempts = e["attempts"].as_array().expect("attempts");
        assert_eq!(attempts[0]["provider_id"], cheap.as_str());
        assert_eq!(attempts[0]["status"], "failed");
        assert_eq!(e["cost"], "0.0009");
    }
}

#[tokio::test]
async fn bad_input_names_the_field_and_stores_nothing() {
    for t in testing::all().await {
        let server = start_sandboxed(t.store.clone(), 13, 50.0).await;
        let (_, key) = tenant(&t.store, Role::Admin).await;
        mailer(&server, &key, "Budget Mail", CHEAP).await;
        let (status, _) = server
            .post(
                "/v1/templates",
                &key,
                json!({"name": "welcome", "channel": "email", "body": "<p>Hi {{ first_name }}, code {{ code }}</p>"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
        let big = base64::engine::general_purpose::STANDARD.encode(vec![0u8; 11 << 20]);
        let base = marketing("ada@example.com");
        let with = |key: &str, value: Value| {
            let mut b = base.clone();
            b[key] = value;
            b
        };
        let mut template = base.clone();
        template
            .as_object_mut()
            .map(|o| o.remove("html"))
            .expect("object");
        template["template"] = "welcome".into();
        template["variables"] = json!({"first_name": "Ada"});
        let cases = [
            (
                with("to", "ada@example.com\r\nBcc: victim@example.com".into()),
                "to[0]",
                "invalid_value",
            ),
            (
                with("subject", "Sale\r\nBcc: victim@example.com".into()),
                "subject",
                "invalid_value",
            ),
            (
                with("from", "not an address".into()),
                "from",
                "invalid_value",
            ),
            (
                with(
                    "attachments",
                    json!([{"filename": "big.bin", "content": big}]),
                ),
                "attachments[0].content",
                "attachment_too_large",
            ),
            (
                with(
                    "attachments",
                    json!([{"filename": "x.pdf", "content": "%%%"}]),
                ),
                "attachments[0].content",
                "invalid_value",
            ),
            (template, "variables.code", "missing_variable"),
        ];
        for (body, field, code) in cases {
            let (status, err) = server.post("/v1/emails", &key, body).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
            assert_eq!(err["error"]["code"], code, "{err}");
            assert_eq!(err["error"]["details"]["field"], field, "{err}");
        }
        let (_, list) = server.get("/v1/emails", &key).await;
        assert_eq!(
            list["data"].as_array().map(Vec::len),
            Some(0),
            "nothing half-sent"
        );
        let sandbox = server.running.sandbox.as_ref().expect("sandbox");
        assert!(sandbox.emails().is_empty(), "nothing reached a provider");

        // The same Idempotency-Key twice sends once.
        let send = || {
            server
                .http
                .post(format!("{}/v1/emails", server.base))
                .bearer_auth(&key)
                .header("idempotency-key", "welcome-ada")
                .json(&marketing("ada@example.com"))
                .send()
        };
        let first = send().await.expect("first");
        assert_eq!(first.status(), StatusCode::ACCEPTED);
        let first: Value = first.json().await.expect("json");
        let second = send().await.expect("second");
        assert_eq!(second.headers()["idempotent-replayed"], "true");
        let second: Value = second.json().await.expect("json");
        assert_eq!(first["id"], second["id"]);
    }
}

/// Serves `/terms.pdf` (2,000 bytes) and answers 404 to anything else, like a file host.
async fn file_host() -> String {
    let app = axum::Router::new().route(
        "/terms.pdf",
        axum::routing::get(|| async { vec![b'%'; 2000] }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

#[tokio::test]
async fn attachments_by_url_are_fetched_and_costed() {
    for t in testing::all().await {
        let server = start_sandboxed(t.store.clone(), 14, 50.0).await;
        let (_, key) = tenant(&t.store, Role::Admin).await;
        let cheap = mailer(&server, &key, "Budget Mail", CHEAP).await;
        let host = file_host().await;
        let mut body = marketing("ada@example.com");
        body["attachments"] = json!([
            {"filename": "terms.pdf", "content_type": "application/pdf", "url": format!("{host}/terms.pdf")},
            {"filename": "note.txt", "content_type": "text/plain", "content": "aGVsbG8="}
        ]);
        let (status, sent) = server.post("/v1/emails", &key, body.clone()).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{sent}");
        let id = sent["id"].as_str().expect("id").to_string();
        let e = wait_for(&server, &key, &id, |e| e["status"] == "delivered").await;
        assert_eq!(e["provider_id"], cheap.as_str());
        assert_eq!(e["attachments"], 2);
        // 0.10 per 1,000 plus 0.01 per attachment: 0.0001 + 0.02.
        assert_eq!(e["cost"], "0.0201");
        let sandbox = server.running.sandbox.as_ref().expect("sandbox");
        let received = sandbox
            .emails()
            .into_iter()
            .map(|m| m.to_string())
            .find(|m| m.contains(&id))
            .expect("received");
        assert!(received.contains(r#""filename":"terms.pdf""#), "{received}");
        assert!(received.contains(r#""size":2000"#), "{received}");
        assert!(received.contains(r#""size":5"#), "{received}");

        body["attachments"] = json!([{"filename": "gone.pdf", "url": format!("{host}/gone.pdf")}]);
        let (status, err) = server.post("/v1/emails", &key, body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
        assert_eq!(err["error"]["details"]["field"], "attachments[0].url");
        assert!(
            err["error"]["message"]
                .as_str()
                .unwrap_or_default()
                .contains("404"),
            "{err}"
        );
    }
}
