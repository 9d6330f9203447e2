//! A sandbox and a webhook receiver on loopback, and adapters pointed at them.

#![allow(dead_code)]

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use serde_json::{Map, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use switchyard_providers::adapter::{Adapter, ProviderContext};
use switchyard_providers::http::{HttpClient, RetryPolicy};
use switchyard_providers::registry;
use switchyard_sandbox::{
    AccountCredentials, DurationModel, NewAccount, Profile, Sandbox, SandboxConfig, Style,
};

/// A webhook as the receiver got it.
#[derive(Debug, Clone)]
pub struct Received {
    pub url: String,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

/// Sandbox + receiver.
pub struct Rig {
    pub sandbox: Sandbox,
    pub base: String,
    pub hook_url: String,
    pub received: Arc<Mutex<Vec<Received>>>,
}

/// A quick profile: short rings and calls, fast receipts.
pub fn quick_profile() -> Profile {
    Profile {
        ring_ms: 40,
        duration: DurationModel::Fixed { secs: 1 },
        receipt_delay_ms: 30,
        failure_rate: 0.0,
        answer_rate: 1.0,
        delivery_rate: 1.0,
        ..Profile::default()
    }
}

pub async fn rig() -> Rig {
    let sandbox = Sandbox::new(SandboxConfig {
        seed: 42,
        speed: 10.0,
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(switchyard_sandbox::serve(sandbox.clone(), listener));

    let received: Arc<Mutex<Vec<Received>>> = Arc::default();
    let hooks = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let hook_base = format!("http://{}", hooks.local_addr().expect("addr"));
    let app = axum::Router::new()
        .route(
            "/hook",
            axum::routing::post(
                |State((store, base)): State<(Arc<Mutex<Vec<Received>>>, String)>,
                 uri: axum::http::Uri,
                 headers: HeaderMap,
                 body: Bytes| async move {
                    store.lock().expect("lock").push(Received {
                        url: format!("{base}{uri}"),
                        headers,
                        body: body.to_vec(),
                    });
                    "ok"
                },
            ),
        )
        .with_state((received.clone(), hook_base.clone()));
    tokio::spawn(async move { axum::serve(hooks, app).await });
    Rig {
        sandbox,
        base,
        hook_url: format!("{hook_base}/hook"),
        received,
    }
}

impl Rig {
    /// A sandbox account and the adapter for it.
    pub fn account(
        &self,
        style: Style,
        profile: Profile,
        policy: RetryPolicy,
    ) -> (AccountCredentials, Adapter) {
        let creds = self.sandbox.create_account(NewAccount {
            style,
            profile,
            webhook_url: Some(self.hook_url.clone()),
        });
        let adapter = self.adapter(&creds, policy);
        (creds, adapter)
    }

    pub fn adapter(&self, creds: &AccountCredentials, policy: RetryPolicy) -> Adapter {
        let mut credentials: Map<String, Value> = match serde_json::to_value(creds).expect("json") {
            Value::Object(m) => m,
            _ => unreachable!(),
        };
        // The sandbox's private signing keys stay with it; SignalWire's signing key is a
        // shared secret the adapter verifies with.
        if creds.style != Style::Signalwire {
            credentials.remove("signing_key");
        }
        let ctx = ProviderContext {
            provider_id: "prv_test".into(),
            credentials,
            webhook_url: self.hook_url.clone(),
            sandbox_url: Some(self.base.clone()),
            http: HttpClient::new(policy),
        };
        registry::build("sandbox", &ctx).expect("adapter")
    }

    /// Waits until `n` webhooks have arrived (or a few seconds pass).
    pub async fn webhooks(&self, n: usize) -> Vec<Received> {
        for _ in 0..200 {
            if self.received.lock().expect("lock").len() >= n {
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        self.received.lock().expect("lock").clone()
    }

    pub fn clear(&self) {
        self.received.lock().expect("lock").clear();
    }
}

/// Fast retries for tests.
pub fn fast_policy() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(20),
        max_delay: Duration::from_secs(2),
        timeout: Duration::from_secs(5),
    }
}

pub fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

/// The first number the adapter's account owns.
pub async fn first_number(adapter: &Adapter) -> String {
    adapter
        .numbers
        .as_ref()
        .expect("numbers")
        .list_owned()
        .await
        .expect("owned")[0]
        .e164
        .clone()
}
