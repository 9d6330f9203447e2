//! The dashboard's server side through HTTP, on SQLite and (when configured) PostgreSQL:
//! the first-run set-up link, sessions signed in with a password or an API key, CSRF and
//! cookie attributes, users and roles, feature toggles and presets enforced by the API, the
//! live activity overview and its event stream, and the embedded pages.

mod common;

use common::{Server, start, start_sandboxed, tenant};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use switchyard_server::ServerSettings;
use switchyard_store::{NewUser, Role, Store, testing};

const PASSWORD: &str = "correct horse battery";

/// A browser's view of a session: its cookie and CSRF token.
struct Browser {
    cookie: String,
    csrf: String,
    body: Value,
}

async fn sign_in(s: &Server, body: Value) -> (StatusCode, Option<Browser>, Option<String>) {
    let resp = s
        .http
        .post(format!("{}/ui/login", s.base))
        .json(&body)
        .send()
        .await
        .expect("login");
    session_of(resp).await
}

async fn session_of(resp: reqwest::Response) -> (StatusCode, Option<Browser>, Option<String>) {
    let status = resp.status();
    let set_cookie = resp
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    let browser = set_cookie.as_ref().and_then(|c| {
        let pair = c.split(';').next()?.to_string();
        Some(Browser {
            cookie: pair,
            csrf: body["csrf_token"].as_str()?.to_string(),
            body: body.clone(),
        })
    });
    (status, browser, set_cookie)
}

impl Browser {
    async fn call(
        &self,
        s: &Server,
        method: Method,
        path: &str,
        body: Option<Value>,
        csrf: bool,
    ) -> (StatusCode, Value) {
        let mut req = s
            .http
            .request(method, format!("{}{path}", s.base))
            .header("cookie", &self.cookie);
        if csrf {
            req = req.header("x-csrf-token", &self.csrf);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status();
        (status, resp.json().await.unwrap_or(Value::Null))
    }
}

async fn user(store: &Store, org: &str, email: &str, role: Role) {
    let hash = {
        let pw = PASSWORD.to_string();
        tokio::task::spawn_blocking(move || {
            use argon2::PasswordHasher;
            argon2::Argon2::default()
                .hash_password(pw.as_bytes())
                .expect("hash")
                .to_string()
        })
        .await
        .expect("hash task")
    };
    store
        .create_user(NewUser {
            org_id: org,
            email,
            name: "",
            role,
            password_hash: &hash,
        })
        .await
        .expect("insert")
        .expect("created");
}

#[tokio::test]
async fn the_set_up_link_creates_the_first_owner_once() {
    for t in testing::all().await {
        let s = start(t.store.clone(), ServerSettings::default()).await;
        let url = s
            .running
            .setup_url
            .clone()
            .expect("a set-up link while no user exists");
        let token = url.split("token=").nth(1).expect("token").to_string();
        let (_, open) = s.get("/ui/session", "").await;
        assert_eq!(open, json!({ "signed_in": false, "setup_open": true }));
        let setup = |token: String| {
            let body = json!({ "token": token, "organisation": "Acme", "email": "Owner@Acme.test", "password": PASSWORD });
            s.http
                .post(format!("{}/ui/setup", s.base))
                .json(&body)
                .send()
        };
        let wrong = setup("0".repeat(32)).await.expect("setup");
        assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
        let (status, browser, _) = session_of(setup(token.clone()).await.expect("setup")).await;
        assert_eq!(status, StatusCode::OK);
        let b = browser.expect("signed in");
        assert_eq!(b.body["role"], "owner");
        assert_eq!(b.body["label"], "owner@acme.test");
        assert_eq!(b.body["org"]["name"], "Acme");
        let again = setup(token).await.expect("setup");
        assert_eq!(again.status(), StatusCode::FORBIDDEN, "the link works once");
        let (_, closed) = s.get("/ui/session", "").await;
        assert_eq!(closed["setup_open"], false);

        // A server started once a user exists prints no link.
        s.running.stop();
        let s2 = start(t.store.clone(), ServerSettings::default()).await;
        assert!(s2.running.setup_url.is_none());
        s2.running.stop();
    }
}

#[tokio::test]
async fn sessions_need_csrf_for_changes_and_end_on_sign_out() {
    for t in testing::all().await {
        let (org, key) = tenant(&t.store, Role::Admin).await;
        user(&t.store, &org, "ada@acme.test", Role::Admin).await;
        let s = start(t.store.clone(), ServerSettings::default()).await;

        let (status, none, _) = sign_in(
            &s,
            json!({ "email": "ada@acme.test", "password": "wrong password" }),
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert!(none.is_none());
        let (status, _, _) = sign_in(
            &s,
            json!({ "email": "nobody@acme.test", "password": PASSWORD }),
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let (status, _, _) = sign_in(&s, json!({ "email": "ada@acme.test" })).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

        let (status, b, cookie) = sign_in(
            &s,
            json!({ "email": "ADA@acme.test", "password": PASSWORD }),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        let b = b.expect("session");
        let cookie = cookie.expect("cookie");
        assert!(
            cookie.contains("HttpOnly")
                && cookie.contains("SameSite=Strict")
                && cookie.contains("Path=/"),
            "{cookie}"
        );
        assert!(
            !cookie.contains("Secure"),
            "plain HTTP cannot keep a Secure cookie: {cookie}"
        );

        let (status, org_view) = b.call(&s, Method::GET, "/v1/org", None, false).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(org_view["role"], "admin");
        assert!(org_view["user_id"].is_string());
        let tpl = json!({ "name": "hi", "body": "Hello {{ name }}" });
        let (status, err) = b
            .call(&s, Method::POST, "/v1/templates", Some(tpl.clone()), false)
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{err}");
        assert!(
            err["error"]["message"]
                .as_str()
                .unwrap_or_default()
                .contains("X-CSRF-Token")
        );
        let (status, _) = b
            .call(&s, Method::POST, "/v1/templates", Some(tpl), true)
            .await;
        assert_eq!(status, StatusCode::CREATED);

        // The audit log names the user.
        let (_, audit) = s.get("/v1/audit", &key).await;
        assert!(
            audit["data"][0]["actor"]
                .as_str()
                .unwrap_or_default()
                .starts_with("user:"),
            "{audit}"
        );

        // Sign-out needs the token too, then the cookie no longer works.
        let out = s
            .http
            .post(format!("{}/ui/logout", s.base))
            .header("cookie", &b.cookie)
            .send()
            .await
            .expect("logout");
        assert_eq!(out.status(), StatusCode::FORBIDDEN);
        let out = s
            .http
            .post(format!("{}/ui/logout", s.base))
            .header("cookie", &b.cookie)
            .header("x-csrf-token", &b.csrf)
            .send()
            .await
            .expect("logout");
        assert_eq!(out.status(), StatusCode::NO_CONTENT);
        assert!(
            out.headers()["set-cookie"]
                .to_str()
                .unwrap_or_default()
                .contains("Max-Age=0")
        );
        let (status, _) = b.call(&s, Method::GET, "/v1/org", None, false).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);

        // Behind an HTTPS proxy the cookie is Secure; a sign-in posted from another site is refused.
        let resp = s
            .http
            .post(format!("{}/ui/login", s.base))
            .header("x-forwarded-proto", "https")
            .json(&json!({ "api_key": key }))
            .send()
            .await
            .expect("login");
        let (status, kb, cookie) = session_of(resp).await;
        assert_eq!(status, StatusCode::OK);
        assert!(cookie.expect("cookie").contains("; Secure"));
        assert_eq!(
            kb.expect("session").body["key_id"].as_str().map(str::len),
            Some(36)
        );
        let cross = s
            .http
            .post(format!("{}/ui/login", s.base))
            .header("origin", "https://evil.example")
            .json(&json!({ "api_key": key }))
            .send()
            .await
            .expect("login");
        assert_eq!(cross.status(), StatusCode::FORBIDDEN);

        // Five wrong passwords lock the address, even against the right one.
        user(&t.store, &org, "guessed@acme.test", Role::Viewer).await;
        for _ in 0..5 {
            let (status, _, _) = sign_in(
                &s,
                json!({ "email": "guessed@acme.test", "password": "not the password" }),
            )
            .await;
            assert_eq!(status, StatusCode::UNAUTHORIZED);
        }
        let (status, _, _) = sign_in(
            &s,
            json!({ "email": "Guessed@acme.test", "password": PASSWORD }),
        )
        .await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        let (status, _, _) = sign_in(
            &s,
            json!({ "email": "ada@acme.test", "password": PASSWORD }),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "other addresses are not locked");
        s.running.stop();
    }
}

#[tokio::test]
async fn users_are_managed_within_the_callers_role() {
    for t in testing::all().await {
        let (org, admin) = tenant(&t.store, Role::Admin).await;
        let (_, viewer_key) = t
            .store
            .create_key(&org, Role::Viewer, "v")
            .await
            .expect("key");
        let (_, other_key) = tenant(&t.store, Role::Owner).await;
        let s = start(t.store.clone(), ServerSettings::default()).await;
        let make = |role: &str, email: &str, pw: &str| json!({ "email": email, "role": role, "password": pw, "name": "N" });

        let (status, err) = s
            .post(
                "/v1/users",
                &admin,
                make("operator", "op@acme.test", "short"),
            )
            .await;
        assert_eq!(
            (status, err["error"]["details"]["field"].clone()),
            (StatusCode::UNPROCESSABLE_ENTITY, json!("password"))
        );
        let (status, err) = s
            .post(
                "/v1/users",
                &admin,
                make("operator", "not-an-address", PASSWORD),
            )
            .await;
        assert_eq!(
            (status, err["error"]["details"]["field"].clone()),
            (StatusCode::UNPROCESSABLE_ENTITY, json!("email"))
        );
        let (status, _) = s
            .post(
                "/v1/users",
                &admin,
                make("owner", "boss@acme.test", PASSWORD),
            )
            .await;
        assert_eq!(
            status,
            StatusCode::FORBIDDEN,
            "an admin cannot make an owner"
        );
        let (status, _) = s
            .post(
                "/v1/users",
                &viewer_key,
                make("viewer", "v@acme.test", PASSWORD),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, op) = s
            .post(
                "/v1/users",
                &admin,
                make("operator", "op@acme.test", PASSWORD),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{op}");
        assert!(op.get("password_hash").is_none() && op.get("features").is_none());
        let (status, err) = s
            .post(
                "/v1/users",
                &other_key,
                make("viewer", "OP@acme.test", PASSWORD),
            )
            .await;
        assert_eq!(
            (status, err["error"]["details"]["field"].clone()),
            (StatusCode::UNPROCESSABLE_ENTITY, json!("email"))
        );
        let (_, list) = s.get("/v1/users", &other_key).await;
        assert_eq!(
            list["data"],
            json!([]),
            "tenants never see each other's users"
        );

        let (status, b, _) =
            sign_in(&s, json!({ "email": "op@acme.test", "password": PASSWORD })).await;
        assert_eq!(status, StatusCode::OK);
        let b = b.expect("session");
        assert_eq!(b.body["role"], "operator");
        let id = op["id"].as_str().expect("id");
        // Their own password, yes; their own role, no.
        let (status, _) = b
            .call(
                &s,
                Method::PATCH,
                &format!("/v1/users/{id}"),
                Some(json!({ "role": "admin" })),
                true,
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        // An admin disables them: the session ends and they cannot sign in.
        let (status, _) = s
            .call(
                Method::PATCH,
                &format!("/v1/users/{id}"),
                &admin,
                Some(json!({ "disabled": true })),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        let (status, _) = b.call(&s, Method::GET, "/v1/org", None, false).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let (status, _, _) =
            sign_in(&s, json!({ "email": "op@acme.test", "password": PASSWORD })).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        s.running.stop();
    }
}

#[tokio::test]
async fn presets_and_toggles_are_enforced_by_the_api() {
    for t in testing::all().await {
        let (org, key) = tenant(&t.store, Role::Admin).await;
        user(&t.store, &org, "ops@acme.test", Role::Admin).await;
        let s = start(t.store.clone(), ServerSettings::default()).await;
        let (_, f) = s.get("/v1/features", &key).await;
        assert_eq!(f["effective"]["cost_analytics"], true);
        assert_eq!(f["effective"]["carrier.twilio"], true);
        assert_eq!(f["effective"]["ai.retell"], true);
        assert!(
            f["effective"].get("carrier.retell").is_none(),
            "retell is an AI platform"
        );
        let presets: Vec<&str> = f["presets"]
            .as_array()
            .expect("presets")
            .iter()
            .filter_map(|p| p["name"].as_str())
            .collect();
        assert_eq!(
            presets,
            [
                "Simple broadcast only",
                "AI-powered pro",
                "Max scale multi-carrier"
            ]
        );

        let (status, f) = s
            .post(
                "/v1/features/presets/Simple%20broadcast%20only/apply",
                &key,
                json!({}),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(f["organisation"]["preset"], "Simple broadcast only");
        assert_eq!(f["simple_mode"], true);
        let (status, err) = s.get("/v1/analytics/spend", &key).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(err["error"]["code"], "feature_disabled");
        assert_eq!(err["error"]["details"]["feature"], "cost_analytics");
        let (status, err) = s
            .post("/v1/emails", &key, json!({ "to": ["a@example.com"] }))
            .await;
        assert_eq!(
            (status, err["error"]["details"]["feature"].clone()),
            (StatusCode::FORBIDDEN, json!("email"))
        );
        let (status, err) = s
            .post(
                "/v1/event-endpoints",
                &key,
                json!({ "url": "https://example.com/h" }),
            )
            .await;
        assert_eq!(
            (status, err["error"]["details"]["feature"].clone()),
            (StatusCode::FORBIDDEN, json!("developer_tools"))
        );
        let (status, err) = s
            .post(
                "/v1/providers",
                &key,
                json!({ "type": "retell", "name": "AI", "credentials": { "api_key": "k" } }),
            )
            .await;
        assert_eq!(
            (status, err["error"]["details"]["feature"].clone()),
            (StatusCode::FORBIDDEN, json!("ai_agents"))
        );
        // Messaging stays on: a send gets past the gate (and is refused for want of a route).
        let (status, err) = s
            .post(
                "/v1/messages",
                &key,
                json!({ "to": "+14155550100", "body": "hi" }),
            )
            .await;
        assert_ne!(err["error"]["code"], "feature_disabled", "{status} {err}");
        // Reading budgets stays open; changing them follows the `budgets` toggle (on here).
        assert_eq!(s.get("/v1/budgets", &key).await.0, StatusCode::OK);

        // One carrier off by hand; unknown keys are refused by name.
        let (status, err) = s
            .call(
                Method::PUT,
                "/v1/features",
                &key,
                Some(json!({ "toggles": { "carrier.acme": false } })),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            err["error"]["message"]
                .as_str()
                .unwrap_or_default()
                .contains("carrier.acme")
        );
        let (status, f) = s
            .call(
                Method::PUT,
                "/v1/features",
                &key,
                Some(json!({ "toggles": { "carrier.twilio": false } })),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            (
                f["organisation"]["preset"].clone(),
                f["simple_mode"].clone()
            ),
            (Value::Null, json!(false))
        );
        let twilio = json!({ "type": "twilio", "name": "T", "credentials": { "account_sid": "AC1", "auth_token": "x" } });
        let (status, err) = s.post("/v1/providers", &key, twilio).await;
        assert_eq!(
            (status, err["error"]["details"]["feature"].clone()),
            (StatusCode::FORBIDDEN, json!("carrier.twilio"))
        );
        assert_eq!(s.get("/v1/analytics/spend", &key).await.0, StatusCode::OK);

        // Custom presets: saved, applied, deleted; built-in names are taken.
        let (status, _) = s
            .call(
                Method::PUT,
                "/v1/features/presets/Simple%20broadcast%20only",
                &key,
                Some(json!({ "toggles": {} })),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        let (status, _) = s
            .call(
                Method::PUT,
                "/v1/features/presets/No%20email",
                &key,
                Some(json!({ "toggles": { "email": false } })),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        let (status, f) = s
            .post("/v1/features/presets/No%20email/apply", &key, json!({}))
            .await;
        assert_eq!(
            (
                status,
                f["effective"]["email"].clone(),
                f["effective"]["carrier.twilio"].clone()
            ),
            (StatusCode::OK, json!(false), json!(true))
        );
        assert_eq!(
            s.call(
                Method::DELETE,
                "/v1/features/presets/No%20email",
                &key,
                None
            )
            .await
            .0,
            StatusCode::NO_CONTENT
        );
        assert_eq!(
            s.post("/v1/features/presets/No%20email/apply", &key, json!({}))
                .await
                .0,
            StatusCode::NOT_FOUND
        );

        // A user narrows their own features, and cannot widen the organisation's.
        let (_, b, _) = sign_in(
            &s,
            json!({ "email": "ops@acme.test", "password": PASSWORD }),
        )
        .await;
        let b = b.expect("session");
        let me = b.body["user_id"].as_str().expect("user").to_string();
        let (status, _) = b.call(&s, Method::PUT, &format!("/v1/users/{me}/features"), Some(json!({ "toggles": { "cost_analytics": false, "email": true }, "simple_mode": true })), true).await;
        assert_eq!(status, StatusCode::OK);
        let (status, err) = b
            .call(&s, Method::GET, "/v1/analytics/spend", None, false)
            .await;
        assert_eq!(
            (status, err["error"]["details"]["feature"].clone()),
            (StatusCode::FORBIDDEN, json!("cost_analytics"))
        );
        let (_, f) = b.call(&s, Method::GET, "/v1/features", None, false).await;
        assert_eq!(
            (f["effective"]["email"].clone(), f["simple_mode"].clone()),
            (json!(false), json!(true))
        );
        assert_eq!(
            s.get("/v1/analytics/spend", &key).await.0,
            StatusCode::OK,
            "the key is not the user"
        );
        s.running.stop();
    }
}

#[tokio::test]
async fn the_overview_counts_todays_sends_live() {
    for t in testing::all().await {
        let (_, key) = tenant(&t.store, Role::Admin).await;
        let s = start_sandboxed(t.store.clone(), 7, 50.0).await;
        let profile = r#"{"delivery_rate": 1.0, "failure_rate": 0.0}"#;
        s.sandbox_carrier(
            &key,
            "Cheap",
            "twilio",
            profile,
            &[("sms", "prefix,rate\n1,0.01\n".to_string())],
        )
        .await;
        let (_, before) = s.get("/v1/overview", &key).await;
        assert_eq!(before["messages"]["total"], 0);

        // The stream sends the current figures at once.
        let mut stream = s
            .http
            .get(format!("{}/v1/overview/stream", s.base))
            .bearer_auth(&key)
            .send()
            .await
            .expect("stream");
        assert!(
            stream.headers()["content-type"]
                .to_str()
                .unwrap_or_default()
                .starts_with("text/event-stream")
        );
        let first = String::from_utf8_lossy(&stream.chunk().await.expect("chunk").expect("data"))
            .to_string();
        assert!(first.starts_with("event: activity\ndata: {"), "{first}");
        assert!(first.contains(r#""messages":{"by_status":{},"failed":0,"succeeded":0,"success_rate":null,"total":0}"#), "{first}");

        for i in 0..3 {
            let (status, m) = s
                .post(
                    "/v1/messages",
                    &key,
                    json!({ "to": format!("+1415555010{i}"), "body": "hi" }),
                )
                .await;
            assert_eq!(status, StatusCode::ACCEPTED, "{m}");
        }
        // The next event counts them.
        let next = tokio::time::timeout(std::time::Duration::from_secs(20), async {
            loop {
                let chunk = stream.chunk().await.expect("chunk").expect("data");
                let text = String::from_utf8_lossy(&chunk).to_string();
                if text.contains(r#""total":3"#) {
                    return text;
                }
            }
        })
        .await
        .expect("an event within 20 s");
        assert!(next.contains("event: activity"));

        let done = tokio::time::timeout(std::time::Duration::from_secs(30), async {
            loop {
                let (_, o) = s.get("/v1/overview", &key).await;
                if o["messages"]["succeeded"] == 3 {
                    return o;
                }
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            }
        })
        .await
        .expect("delivered within 30 s");
        assert_eq!(done["messages"]["total"], 3);
        assert_eq!(done["messages"]["success_rate"], 1.0);
        assert_eq!(done["calls"]["total"], 0);
        assert_eq!(done["time_zone"], "UTC");
        s.running.stop();
    }
}

#[tokio::test]
async fn every_dashboard_url_serves_the_page_with_protective_headers() {
    let t = testing::sqlite().await;
    let s = start(t.store.clone(), ServerSettings::default()).await;
    for path in [
        "/",
        "/providers",
        "/rates",
        "/routing",
        "/numbers",
        "/messages",
        "/messages/abc",
        "/costs",
        "/settings/features",
        "/login",
    ] {
        let resp = s
            .http
            .get(format!("{}{path}", s.base))
            .send()
            .await
            .expect("page");
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
        let h = resp.headers().clone();
        assert_eq!(h["content-type"], "text/html; charset=utf-8");
        assert!(
            h["content-security-policy"]
                .to_str()
                .unwrap_or_default()
                .contains("script-src 'self'")
        );
        assert_eq!(h["x-frame-options"], "DENY");
        let html = resp.text().await.expect("html");
        assert!(html.contains(r#"<script type="module" src="/assets/js/app.js">"#));
    }
    let js = s
        .http
        .get(format!("{}/assets/js/app.js", s.base))
        .send()
        .await
        .expect("js");
    assert_eq!(
        js.headers()["content-type"],
        "text/javascript; charset=utf-8"
    );
    for missing in ["/assets/nope.js", "/assets/../Cargo.toml", "/nowhere"] {
        let resp = s
            .http
            .get(format!("{}{missing}", s.base))
            .send()
            .await
            .expect("get");
        assert_eq!(resp.status(), StatusCode::NOT_FOUND, "{missing}");
    }
    s.running.stop();
}

#[tokio::test]
async fn a_switched_off_carrier_type_is_routed_around_with_its_reason() {
    for t in testing::all().await {
        let (_, key) = tenant(&t.store, Role::Admin).await;
        let s = start_sandboxed(t.store.clone(), 3, 50.0).await;
        let deck = [("sms", "prefix,rate\n1,0.01\n".to_string())];
        let id = s.sandbox_carrier(&key, "Only", "twilio", "{}", &deck).await;
        let decide = json!({ "number": "+14155550100", "channel": "sms" });
        let (_, d) = s.post("/v1/routing/decide", &key, decide.clone()).await;
        assert_eq!(d["primary"]["provider"], id.as_str());

        let off = json!({ "toggles": { "carrier.sandbox": false } });
        assert_eq!(
            s.call(Method::PUT, "/v1/features", &key, Some(off)).await.0,
            StatusCode::OK
        );
        let (_, d) = s.post("/v1/routing/decide", &key, decide.clone()).await;
        assert!(d["primary"].is_null(), "{d}");
        assert_eq!(d["excluded"][0]["provider"], id.as_str());
        assert_eq!(d["excluded"][0]["code"], "feature_off");
        assert!(
            d["excluded"][0]["reason"]
                .as_str()
                .unwrap_or_default()
                .contains("carrier.sandbox")
        );

        assert_eq!(
            s.call(Method::PUT, "/v1/features", &key, Some(json!({})))
                .await
                .0,
            StatusCode::OK
        );
        let (_, d) = s.post("/v1/routing/decide", &key, decide).await;
        assert_eq!(
            d["primary"]["provider"],
            id.as_str(),
            "back on, back in routing"
        );
        s.running.stop();
    }
}
