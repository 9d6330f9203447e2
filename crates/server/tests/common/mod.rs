//! A server on a real listener and an HTTP client for it, shared by the API test files.

#![allow(dead_code)]

use reqwest::StatusCode;
use serde_json::{Value, json};
use switchyard_server::secrets::MasterKey;
use switchyard_server::{Running, ServerSettings};
use switchyard_store::{Role, Store};

pub struct Server {
    pub base: String,
    pub running: Running,
    pub http: reqwest::Client,
}

pub fn key() -> MasterKey {
    MasterKey::parse(&"42".repeat(32)).expect("key")
}

pub async fn start(store: Store, settings: ServerSettings) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let running = switchyard_server::start(store, key(), settings, listener)
        .await
        .expect("start");
    Server {
        base: format!("http://{}", running.addr),
        running,
        http: reqwest::Client::new(),
    }
}

/// A server whose embedded sandbox plays with `seed` at `speed` simulated seconds per second.
pub async fn start_sandboxed(store: Store, seed: u64, speed: f64) -> Server {
    let settings = ServerSettings {
        sandbox: Some(switchyard_sandbox::SandboxConfig { seed, speed }),
        ..ServerSettings::default()
    };
    start(store, settings).await
}

pub async fn tenant(store: &Store, role: Role) -> (String, String) {
    let org = store.create_org("Tenant").await.expect("org");
    let (_, secret) = store.create_key(&org.id, role, "test").await.expect("key");
    (org.id, secret)
}

impl Server {
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        key: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(key);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status();
        let text = resp.text().await.expect("body");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub async fn get(&self, path: &str, key: &str) -> (StatusCode, Value) {
        self.call(reqwest::Method::GET, path, key, None).await
    }

    pub async fn post(&self, path: &str, key: &str, body: Value) -> (StatusCode, Value) {
        self.call(reqwest::Method::POST, path, key, Some(body))
            .await
    }

    pub async fn csv(&self, path: &str, key: &str, csv: &str) -> (StatusCode, Value) {
        let resp = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(key)
            .header("content-type", "text/csv")
            .body(csv.to_string())
            .send()
            .await
            .expect("request");
        let status = resp.status();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// Adds a sandbox carrier speaking `style` with a behaviour `profile` (JSON text),
    /// uploads its decks (channel, CSV) and syncs its numbers; returns its id.
    pub async fn sandbox_carrier(
        &self,
        key: &str,
        name: &str,
        style: &str,
        profile: &str,
        decks: &[(&str, String)],
    ) -> String {
        let (status, p) = self
            .post("/v1/providers", key, json!({"type": "sandbox", "name": name, "credentials": {"style": style, "profile": profile}}))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{p}");
        let id = p["id"].as_str().expect("id").to_string();
        for (channel, csv) in decks {
            let (status, up) = self
                .csv(
                    &format!("/v1/providers/{id}/rates?channel={channel}"),
                    key,
                    csv,
                )
                .await;
            assert!(status.is_success(), "{up}");
        }
        let (status, _) = self
            .post(&format!("/v1/providers/{id}/numbers/sync"), key, json!({}))
            .await;
        assert_eq!(status, StatusCode::OK);
        id
    }

    pub async fn add_provider(&self, key: &str, name: &str, secret: &str) -> String {
        let (status, body) = self
            .post(
                "/v1/providers",
                key,
                json!({"type": "twilio", "name": name, "credentials": {"account_sid": "AC00000000000000000000000000000001", "auth_token": secret}}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["id"].as_str().expect("id").to_string()
    }
}
