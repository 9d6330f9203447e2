//! The Switchyard HTTP service: tenants and API keys, the provider registry with encrypted
//! credentials, rate decks, routing decisions with an audit log, OpenAPI, health and
//! metrics. The binary's `serve` command wires it to a store and a listener.

mod adapters;
pub mod api;
pub mod dashboard;
mod decision_log;
pub mod dispatch;
pub mod email;
pub mod error;
pub mod events_out;
pub mod features;
mod json;
mod middleware;
mod passwords;
mod provider_settings;
pub mod provisioner;
pub mod routing_state;
pub mod secrets;
pub mod sender;
mod spam_watch;
pub mod spend;
mod state;

pub use decision_log::DecisionLog;
pub use state::{AppState, ServerSettings, Shared};

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use secrets::MasterKey;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use switchyard_store::Store;

/// The process-wide Prometheus recorder (installed once; later servers in the same process,
/// as in tests, share it).
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("a metrics recorder was already installed");
            }
            handle
        })
        .clone()
}

/// A running server.
pub struct Running {
    /// The address it listens on.
    pub addr: SocketAddr,
    /// Resolves when the server has stopped and flushed its logs.
    pub done: tokio::task::JoinHandle<()>,
    /// The built-in sandbox carrier, when enabled: what it was asked and what it sent.
    pub sandbox: Option<switchyard_sandbox::Sandbox>,
    /// The dashboard's one-time set-up link, while no user exists.
    pub setup_url: Option<String>,
    shutdown: tokio::sync::watch::Sender<bool>,
}

impl Running {
    /// Asks the server to stop gracefully.
    pub fn stop(&self) {
        let _ = self.shutdown.send(true);
    }
}

/// Starts the service on `listener` over a migrated `store`.
pub async fn start(
    store: Store,
    master_key: MasterKey,
    settings: ServerSettings,
    listener: tokio::net::TcpListener,
) -> std::io::Result<Running> {
    let addr = listener.local_addr()?;
    tokio::task::spawn_blocking(switchyard_core::number::preload_numbering_plans)
        .await
        .map_err(std::io::Error::other)?;
    let (decisions, writer) = DecisionLog::start(store.clone());
    let public_url = settings
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{addr}"));
    let (shutdown, mut rx) = tokio::sync::watch::channel(false);
    let state: Shared = Arc::new(AppState::new(
        store,
        master_key,
        decisions,
        metrics_handle(),
        settings,
        public_url,
        rx.clone(),
    ));
    let listen_task = tokio::spawn(state.routing.clone().listen());
    let delivery_task = tokio::spawn(events_out::run(state.clone()));
    let recovery_task = tokio::spawn(dispatch::recover(state.clone()));
    // Build every organisation's snapshot up front so the first request is fast.
    match state.store.org_ids().await {
        Ok(orgs) => {
            for org in orgs {
                if let Err(e) = state.routing.rebuild(&org).await {
                    tracing::warn!(error = %e, org, "initial routing snapshot failed");
                }
            }
        }
        Err(e) => tracing::warn!(error = %e, "cannot list organisations"),
    }
    let state_url = state.public_url.clone();
    let sandbox = state.sandbox.clone();
    let setup_url = open_first_run_setup(&state).await;
    let app = api::app(state.clone());
    let done = tokio::spawn(async move {
        let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
            if let Err(e) = tcp.set_nodelay(true) {
                tracing::debug!(error = %e, "TCP_NODELAY not set");
            }
        });
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = rx.wait_for(|stop| *stop).await;
            })
            .await;
        if let Err(e) = served {
            tracing::error!(error = %e, "server stopped with an error");
        }
        listen_task.abort();
        delivery_task.abort();
        recovery_task.abort();
        let _ = delivery_task.await;
        let _ = recovery_task.await;
        drop(state);
        let _ = writer.await;
    });
    tracing::info!(%addr, public_url = state_url, sandbox = sandbox.is_some(), "switchyard listening");
    Ok(Running {
        addr,
        done,
        sandbox,
        setup_url,
        shutdown,
    })
}

/// While no user exists, makes a one-time token for the dashboard's set-up page and returns
/// its link, for `serve` to print (only whoever can read the server's output can use it).
async fn open_first_run_setup(state: &Shared) -> Option<String> {
    match state.store.user_count().await {
        Ok(0) => {
            let token = hex::encode(rand::random::<[u8; 16]>());
            let url = format!("{}/setup?token={token}", state.public_url);
            if let Ok(mut t) = state.setup_token.lock() {
                *t = Some(token);
            }
            Some(url)
        }
        Ok(_) => None,
        Err(e) => {
            tracing::warn!(error = %e, "cannot count users; first-run set-up stays closed");
            None
        }
    }
}
