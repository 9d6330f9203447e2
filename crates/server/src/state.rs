//! What every handler shares.

use crate::decision_log::DecisionLog;
use crate::routing_state::RoutingRegistry;
use crate::secrets::MasterKey;
use metrics_exporter_prometheus::PrometheusHandle;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use switchyard_providers::http::HttpClient;
use switchyard_sandbox::{Sandbox, SandboxConfig};
use switchyard_store::{ApiKey, EventEndpoint, Store};

/// Server settings that handlers read.
#[derive(Debug, Clone)]
pub struct ServerSettings {
    /// Largest JSON body.
    pub max_json_bytes: usize,
    /// Largest rate-deck upload.
    pub max_upload_bytes: usize,
    /// Whether routing decisions are written to the routing audit log.
    pub log_decisions: bool,
    /// The URL providers reach this server at (webhooks are signed over it); default
    /// `http://` plus the listening address.
    pub public_url: Option<String>,
    /// The built-in sandbox carrier, mounted at `/sandbox`; `None` turns it off.
    pub sandbox: Option<SandboxConfig>,
    /// First retry delay of an undelivered organisation event (doubling, at most an
    /// hour, for 24 hours).
    pub event_retry_base: Duration,
    /// The organisation whose provider accounts are the platform's: the last buying step of
    /// number provisioning buys through them, within each organisation's free tier.
    pub platform_org: Option<String>,
}

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings {
            max_json_bytes: 1 << 20,
            max_upload_bytes: 256 << 20,
            log_decisions: true,
            public_url: None,
            sandbox: Some(SandboxConfig::default()),
            event_retry_base: Duration::from_secs(10),
            platform_org: None,
        }
    }
}

/// The shared state.
pub struct AppState {
    /// The database.
    pub store: Store,
    /// Encrypts provider credentials.
    pub master_key: MasterKey,
    /// Routing snapshots per organisation.
    pub routing: Arc<RoutingRegistry>,
    /// The routing audit log writer.
    pub decisions: DecisionLog,
    /// Prometheus rendering.
    pub metrics: PrometheusHandle,
    /// Settings.
    pub settings: ServerSettings,
    /// Where providers reach this server, without a trailing slash.
    pub public_url: String,
    /// The built-in sandbox, when enabled.
    pub sandbox: Option<Sandbox>,
    /// The client every provider adapter shares.
    pub http: HttpClient,
    /// Wakes the event delivery worker when an event is queued.
    pub deliveries_due: tokio::sync::Notify,
    /// Number pools as recently read, for choosing senders.
    pub pools: crate::sender::PoolCache,
    auth_cache: Mutex<HashMap<String, (ApiKey, Instant)>>,
    endpoints_cache: Mutex<HashMap<String, (Vec<EventEndpoint>, Instant)>>,
    warned: Mutex<std::collections::HashSet<(String, String, bool)>>,
}

/// How long an organisation's list of event endpoints is reused before it is read again.
pub const ENDPOINTS_CACHE_TTL: Duration = Duration::from_secs(2);

/// How long a resolved API key is trusted before it is looked up again (a revoked key
/// stops working within this time on every instance).
const AUTH_CACHE_TTL: Duration = Duration::from_secs(5);

impl AppState {
    /// Assembles the state.
    pub fn new(
        store: Store,
        master_key: MasterKey,
        decisions: DecisionLog,
        metrics: PrometheusHandle,
        settings: ServerSettings,
        public_url: String,
    ) -> Self {
        AppState {
            sandbox: settings.sandbox.map(Sandbox::new),
            public_url: public_url.trim_end_matches('/').to_string(),
            http: HttpClient::default(),
            deliveries_due: tokio::sync::Notify::new(),
            pools: crate::sender::PoolCache::default(),
            routing: Arc::new(RoutingRegistry::new(store.clone())),
            store,
            master_key,
            decisions,
            metrics,
            settings,
            auth_cache: Mutex::new(HashMap::new()),
            endpoints_cache: Mutex::new(HashMap::new()),
            warned: Mutex::new(std::collections::HashSet::new()),
        }
    }

    /// Whether this instance has not yet passed on a usage warning for this scope, window
    /// and level (`full`: the 100 % one, else 70 %): the store keeps warnings exactly once
    /// across instances, this only spares it a write per send once a pool is past 70 %.
    pub fn first_warning(&self, scope: &str, window: &str, full: bool) -> bool {
        let mut seen = self.warned.lock().unwrap_or_else(|e| e.into_inner());
        if seen.len() > 10_000 {
            seen.clear();
        }
        seen.insert((scope.to_string(), window.to_string(), full))
    }

    /// The live key with this secret, from a short-lived cache or the store.
    pub async fn resolve_key(
        &self,
        secret: &str,
    ) -> Result<Option<ApiKey>, switchyard_store::StoreError> {
        let hash = switchyard_store::hash_secret(secret);
        if let Ok(cache) = self.auth_cache.lock()
            && let Some((key, at)) = cache.get(&hash)
            && at.elapsed() < AUTH_CACHE_TTL
        {
            return Ok(Some(key.clone()));
        }
        let found = self.store.key_by_secret(secret).await?;
        if let Ok(mut cache) = self.auth_cache.lock() {
            match &found {
                Some(key) => {
                    cache.insert(hash, (key.clone(), Instant::now()));
                }
                None => {
                    cache.remove(&hash);
                }
            }
        }
        Ok(found)
    }

    /// The organisation's event endpoints, from a short-lived cache or the store: every
    /// status change asks, and the list rarely changes. A change on this instance is seen
    /// at once; one made on another instance within [`ENDPOINTS_CACHE_TTL`].
    pub async fn event_endpoints(
        &self,
        org: &str,
    ) -> Result<Vec<EventEndpoint>, switchyard_store::StoreError> {
        if let Ok(cache) = self.endpoints_cache.lock()
            && let Some((list, at)) = cache.get(org)
            && at.elapsed() < ENDPOINTS_CACHE_TTL
        {
            return Ok(list.clone());
        }
        let list = self.store.event_endpoints(org).await?;
        if let Ok(mut cache) = self.endpoints_cache.lock() {
            cache.insert(org.to_string(), (list.clone(), Instant::now()));
        }
        Ok(list)
    }

    /// Forgets the cached endpoints of an organisation (after a change on this instance).
    pub fn forget_event_endpoints(&self, org: &str) {
        if let Ok(mut cache) = self.endpoints_cache.lock() {
            cache.remove(org);
        }
    }

    /// Forgets cached keys (after a revocation on this instance).
    pub fn forget_keys(&self) {
        if let Ok(mut cache) = self.auth_cache.lock() {
            cache.clear();
        }
    }
}

/// The state as handlers receive it.
pub type Shared = Arc<AppState>;
