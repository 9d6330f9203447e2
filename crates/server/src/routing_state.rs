//! Each organisation's routing snapshot, rebuilt from the store when its providers or decks
//! change. On PostgreSQL every change is announced with `NOTIFY`, and every instance
//! listening rebuilds the organisation's snapshot, so several instances stay in step.

use crate::provider_settings::ProviderSettings;
use std::collections::HashMap;
use std::sync::Arc;
use switchyard_core::{LiveRegistry, Router, RoutingPolicy, RoutingSnapshot};
use switchyard_store::{Backend, Store, StoreError};
use tokio::sync::{Mutex, RwLock};

/// The channel name of change notifications.
pub const NOTIFY_CHANNEL: &str = "switchyard_routing";

/// One organisation's router and live provider state.
pub struct OrgRouting {
    /// The router (snapshot swapped on rebuild).
    pub router: Router,
    /// Health, quality and load cells, kept across rebuilds.
    pub live: Arc<LiveRegistry>,
}

/// Routers of every organisation served by this instance.
pub struct RoutingRegistry {
    store: Store,
    orgs: RwLock<HashMap<String, Arc<OrgRouting>>>,
    rebuilding: Mutex<HashMap<String, Arc<Mutex<()>>>>,
    versions: std::sync::atomic::AtomicU64,
}

/// Why a snapshot could not be rebuilt.
#[derive(Debug, thiserror::Error)]
pub enum RebuildError {
    /// Reading providers or decks failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The decks do not compile (a deck of a deleted provider…).
    #[error("routing snapshot does not compile: {0}")]
    Build(#[from] switchyard_core::snapshot::BuildError),
    /// The compile task died.
    #[error("routing snapshot build task failed: {0}")]
    Task(String),
}

/// Builds an organisation's routing snapshot from its providers and decks in the store.
pub async fn load_snapshot(
    store: &Store,
    org_id: &str,
    version: u64,
    live: Arc<LiveRegistry>,
) -> Result<RoutingSnapshot, RebuildError> {
    let records = store.all_providers(org_id).await?;
    let decks = store.org_decks(org_id).await?;
    let policy = match store.routing_policy(org_id).await? {
        Some(text) => serde_json::from_str(&text).unwrap_or_else(|e| {
            tracing::warn!(error = %e, org = org_id, "stored routing policy unreadable; using defaults");
            RoutingPolicy::default()
        }),
        None => RoutingPolicy::default(),
    };
    let features = store
        .org_document(org_id, switchyard_store::OrgDocument::Features)
        .await?
        .filter(|doc| !doc.is_empty())
        .map(|doc| crate::features::parse_settings(&doc))
        .unwrap_or_default();
    let providers = records
        .iter()
        .map(|r| {
            let settings: ProviderSettings = serde_json::from_str(&r.settings).unwrap_or_default();
            let mut profile = settings.profile(
                &r.id,
                switchyard_providers::registry::find(&r.kind).as_ref(),
            );
            profile.switched_off = crate::features::switched_off(&features, &r.kind);
            profile
        })
        .collect();
    let snapshot = tokio::task::spawn_blocking(move || {
        RoutingSnapshot::build(version, providers, &decks, policy, &live)
    })
    .await
    .map_err(|e| RebuildError::Task(e.to_string()))??;
    Ok(snapshot)
}

impl RoutingRegistry {
    /// A registry reading from `store`.
    pub fn new(store: Store) -> Self {
        RoutingRegistry {
            store,
            orgs: RwLock::new(HashMap::new()),
            rebuilding: Mutex::new(HashMap::new()),
            versions: std::sync::atomic::AtomicU64::new(1),
        }
    }

    /// The organisation's routing, built on first use.
    pub async fn for_org(&self, org_id: &str) -> Result<Arc<OrgRouting>, RebuildError> {
        if let Some(r) = self.orgs.read().await.get(org_id) {
            return Ok(r.clone());
        }
        self.rebuild(org_id).await
    }

    /// Rebuilds the organisation's snapshot from the store. Rebuilds of one organisation
    /// run one at a time, so the last change always wins.
    pub async fn rebuild(&self, org_id: &str) -> Result<Arc<OrgRouting>, RebuildError> {
        let lock = self
            .rebuilding
            .lock()
            .await
            .entry(org_id.to_string())
            .or_default()
            .clone();
        let _guard = lock.lock().await;
        let existing = self.orgs.read().await.get(org_id).cloned();
        let live = existing
            .as_ref()
            .map(|e| e.live.clone())
            .unwrap_or_else(|| Arc::new(LiveRegistry::default()));
        let version = self
            .versions
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let snapshot = load_snapshot(&self.store, org_id, version, live.clone()).await?;
        let routing = match existing {
            Some(e) => {
                e.router.replace(snapshot);
                e
            }
            None => {
                let r = Arc::new(OrgRouting {
                    router: Router::new(snapshot),
                    live,
                });
                self.orgs
                    .write()
                    .await
                    .insert(org_id.to_string(), r.clone());
                r
            }
        };
        tracing::info!(org = org_id, version, "routing snapshot rebuilt");
        Ok(routing)
    }

    /// Rebuilds after a change and tells other instances (PostgreSQL `NOTIFY`).
    pub async fn changed(&self, org_id: &str) -> Result<(), RebuildError> {
        self.rebuild(org_id).await?;
        self.store.notify(NOTIFY_CHANNEL, org_id).await?;
        Ok(())
    }

    /// Listens for other instances' changes and rebuilds (PostgreSQL only; returns at once on
    /// SQLite). Reconnects after a lost connection.
    pub async fn listen(self: Arc<Self>) {
        if self.store.backend() != Backend::Postgres {
            return;
        }
        loop {
            match self.store.subscribe(NOTIFY_CHANNEL).await {
                Ok(mut subscription) => loop {
                    match subscription.next().await {
                        Ok(org) => {
                            if self.orgs.read().await.contains_key(&org)
                                && let Err(e) = self.rebuild(&org).await
                            {
                                tracing::warn!(error = %e, org, "rebuild after NOTIFY failed");
                            }
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "notification connection lost");
                            break;
                        }
                    }
                },
                Err(e) => tracing::warn!(error = %e, "cannot open the notification connection"),
            }
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        }
    }
}
