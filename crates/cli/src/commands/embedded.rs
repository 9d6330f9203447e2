//! A server with its sandbox carrier, started in this process on a loopback port for the
//! commands that drive the whole product end to end (`demo`, `bench send`), and the small
//! HTTP client they drive it with.

use super::bench_http::open_store;
use crate::config::GlobalArgs;
use anyhow::{Result, bail};
use reqwest::Method;
use serde_json::{Value, json};
use switchyard_sandbox::SandboxConfig;
use switchyard_server::secrets::MasterKey;
use switchyard_server::{Running, ServerSettings};
use switchyard_store::{Role, Store};

/// The running server, an organisation in it and an admin key of that organisation.
pub struct Embedded {
    /// The store behind it.
    pub store: Store,
    /// The organisation.
    pub org_id: String,
    /// Its admin key.
    pub key: String,
    /// The server.
    pub running: Running,
    /// `http://127.0.0.1:port`.
    pub base: String,
    /// Client for the API.
    pub client: reqwest::Client,
    /// Holds the SQLite file, when the store is embedded.
    _dir: tempfile::TempDir,
}

impl Embedded {
    /// Opens the store (a temporary SQLite file unless `--database-url` names one), creates
    /// an organisation and starts the server with the sandbox running at `speed`.
    pub async fn start(
        global: &GlobalArgs,
        org_name: &str,
        sandbox: SandboxConfig,
        log_decisions: bool,
    ) -> Result<Embedded> {
        let dir = tempfile::tempdir()?;
        let (store, _) = open_store(global, &dir).await?;
        let org = store.create_org(org_name).await?;
        let (_, key) = store.create_key(&org.id, Role::Admin, org_name).await?;
        let settings = ServerSettings {
            log_decisions,
            sandbox: Some(sandbox),
            ..ServerSettings::default()
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        // A key of this run only: nothing it encrypts outlives the run.
        let hex = format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        let master = MasterKey::parse(&hex)?;
        let running = switchyard_server::start(store.clone(), master, settings, listener).await?;
        Ok(Embedded {
            base: format!("http://{}", running.addr),
            store,
            org_id: org.id,
            key,
            running,
            client: reqwest::Client::builder()
                .pool_max_idle_per_host(64)
                .build()?,
            _dir: dir,
        })
    }

    /// Calls the API; an error status is an error naming the path and the answer.
    pub async fn api(&self, method: Method, path: &str, body: Option<Body>) -> Result<Value> {
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.key);
        req = match body {
            Some(Body::Json(v)) => req.json(&v),
            Some(Body::Csv(text)) => req.header("content-type", "text/csv").body(text),
            None => req,
        };
        let resp = req.send().await?;
        let status = resp.status();
        let v: Value = resp.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            bail!("{path} answered {status}: {v}");
        }
        Ok(v)
    }

    /// Adds a sandbox carrier speaking `style` (`twilio`, `telnyx`) with a behaviour
    /// `profile`, uploads its decks (channel, CSV) and syncs its numbers. Returns its id.
    pub async fn add_carrier(
        &self,
        name: &str,
        style: &str,
        profile: &Value,
        decks: &[(&str, String)],
    ) -> Result<String> {
        let body = json!({"type": "sandbox", "name": name, "credentials": {"style": style, "profile": profile.to_string()}});
        let p = self
            .api(Method::POST, "/v1/providers", Some(Body::Json(body)))
            .await?;
        let id = p["id"].as_str().unwrap_or_default().to_string();
        for (channel, csv) in decks {
            let path = format!("/v1/providers/{id}/rates?channel={channel}");
            self.api(Method::POST, &path, Some(Body::Csv(csv.clone())))
                .await?;
        }
        // Email providers have no numbers.
        if decks.iter().any(|(channel, _)| *channel != "email") {
            self.api(
                Method::POST,
                &format!("/v1/providers/{id}/numbers/sync"),
                Some(Body::Json(json!({}))),
            )
            .await?;
        }
        Ok(id)
    }

    /// Stops the server and waits for it to flush.
    pub async fn stop(self) {
        self.running.stop();
        let _ = self.running.done.await;
    }
}

/// A request body.
pub enum Body {
    /// JSON.
    Json(Value),
    /// `text/csv`.
    Csv(String),
}
