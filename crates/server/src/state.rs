//! What every handler shares.

use crate::decision_log::DecisionLog;
use crate::routing_state::RoutingRegistry;
use crate::secrets::MasterKey;
use metrics_exporter_prometheus::PrometheusHandle;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use switchyard_core::features::FeatureSettings;
use switchyard_providers::http::HttpClient;
use switchyard_sandbox::{Sandbox, SandboxConfig};
use switchyard_store::{ApiKey, BudgetRecord, EventEndpoint, Session, Store};

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

/// Values by key (an organisation, a secret's hash) kept for a while
/// ([`ENDPOINTS_CACHE_TTL`] unless said).
struct TtlCache<V> {
    entries: Mutex<HashMap<String, (V, Instant)>>,
    ttl: Duration,
}

impl<V> Default for TtlCache<V> {
    fn default() -> Self {
        TtlCache::with_ttl(ENDPOINTS_CACHE_TTL)
    }
}

impl<V> TtlCache<V> {
    fn with_ttl(ttl: Duration) -> Self {
        TtlCache {
            entries: Mutex::new(HashMap::new()),
            ttl,
        }
    }
}

impl<V: Clone> TtlCache<V> {
    fn get(&self, org: &str) -> Option<V> {
        let entries = self.entries.lock().ok()?;
        let (v, at) = entries.get(org)?;
        (at.elapsed() < self.ttl).then(|| v.clone())
    }

    fn put(&self, key: &str, v: V) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= 10_000 {
                let ttl = self.ttl;
                entries.retain(|_, (_, at)| at.elapsed() < ttl);
            }
            entries.insert(key.to_string(), (v, Instant::now()));
        }
    }

    fn clear(&self) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.clear();
        }
    }

    fn forget(&self, org: &str) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.remove(org);
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
    auth_cache: TtlCache<ApiKey>,
    session_cache: TtlCache<Session>,
    features_cache: TtlCache<FeatureSettings>,
    activity_cache: TtlCache<serde_json::Value>,
    /// The one-time token that opens the first-run set-up while no user exists.
    pub setup_token: Mutex<Option<String>>,
    /// Wrong passwords per address, to slow guessing.
    pub sign_in_throttle: crate::dashboard::throttle::SignInThrottle,
    /// Turns true when the server is asked to stop, so long-lived responses (event
    /// streams) end and graceful shutdown is not held open by a browser.
    pub stopping: tokio::sync::watch::Receiver<bool>,
    endpoints_cache: TtlCache<Vec<EventEndpoint>>,
    budgets_cache: TtlCache<(Vec<BudgetRecord>, String)>,
    warned: Mutex<std::collections::HashSet<(String, String, bool)>>,
}

/// How long an organisation's list of event endpoints is reused before it is read again.
pub const ENDPOINTS_CACHE_TTL: Duration = Duration::from_secs(2);

/// How long an organisation's live activity figures are shared by every open dashboard
/// before they are counted again.
const ACTIVITY_CACHE_TTL: Duration = Duration::from_millis(900);

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
        stopping: tokio::sync::watch::Receiver<bool>,
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
            auth_cache: TtlCache::with_ttl(AUTH_CACHE_TTL),
            session_cache: TtlCache::with_ttl(AUTH_CACHE_TTL),
            features_cache: TtlCache::default(),
            activity_cache: TtlCache::with_ttl(ACTIVITY_CACHE_TTL),
            setup_token: Mutex::new(None),
            sign_in_throttle: Default::default(),
            stopping,
            endpoints_cache: TtlCache::default(),
            budgets_cache: TtlCache::default(),
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
        if let Some(key) = self.auth_cache.get(&hash) {
            return Ok(Some(key));
        }
        let found = self.store.key_by_secret(secret).await?;
        match &found {
            Some(key) => self.auth_cache.put(&hash, key.clone()),
            None => self.auth_cache.forget(&hash),
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
        if let Some(list) = self.endpoints_cache.get(org) {
            return Ok(list);
        }
        let list = self.store.event_endpoints(org).await?;
        self.endpoints_cache.put(org, list.clone());
        Ok(list)
    }

    /// The organisation's budgets and time zone, from a short-lived cache or the store:
    /// every send asks. A change through this instance is seen at once; one made through
    /// another instance within [`ENDPOINTS_CACHE_TTL`].
    pub async fn budgets(
        &self,
        org: &str,
    ) -> Result<(Vec<BudgetRecord>, String), switchyard_store::StoreError> {
        if let Some(found) = self.budgets_cache.get(org) {
            return Ok(found);
        }
        let found = (
            self.store.budgets(org).await?,
            self.store.org_time_zone(org).await?,
        );
        self.budgets_cache.put(org, found.clone());
        Ok(found)
    }

    /// Forgets the cached budgets of an organisation (after a change on this instance).
    pub fn forget_budgets(&self, org: &str) {
        self.budgets_cache.forget(org);
    }

    /// Forgets the cached endpoints of an organisation (after a change on this instance).
    pub fn forget_event_endpoints(&self, org: &str) {
        self.endpoints_cache.forget(org);
    }

    /// Forgets cached keys and sessions (after a revocation, a sign-out or a change to a
    /// user on this instance).
    pub fn forget_keys(&self) {
        self.auth_cache.clear();
        self.session_cache.clear();
    }

    /// The live dashboard session with this token, from a short-lived cache or the store (a
    /// session ended on another instance stops within the same time as a revoked key).
    pub async fn resolve_session(
        &self,
        token: &str,
    ) -> Result<Option<Session>, switchyard_store::StoreError> {
        let hash = switchyard_store::hash_secret(token);
        if let Some(session) = self.session_cache.get(&hash)
            && session.expires_at > switchyard_store::now_ms()
        {
            return Ok(Some(session));
        }
        let found = self.store.session(token).await?;
        match &found {
            Some(s) => self.session_cache.put(&hash, s.clone()),
            None => self.session_cache.forget(&hash),
        }
        Ok(found)
    }

    /// The organisation's feature settings, from a short-lived cache or the store: every
    /// gated request asks. A change through this instance is seen at once; one made through
    /// another instance within [`ENDPOINTS_CACHE_TTL`].
    pub async fn features(
        &self,
        org: &str,
    ) -> Result<FeatureSettings, switchyard_store::StoreError> {
        if let Some(found) = self.features_cache.get(org) {
            return Ok(found);
        }
        let doc = self
            .store
            .org_document(org, switchyard_store::OrgDocument::Features)
            .await?
            .unwrap_or_default();
        let found = if doc.is_empty() {
            FeatureSettings::default()
        } else {
            crate::features::parse_settings(&doc)
        };
        self.features_cache.put(org, found.clone());
        Ok(found)
    }

    /// The organisation's activity figures if counted within the last second (every open
    /// dashboard of the organisation shares one count a second).
    pub fn recent_activity(&self, org: &str) -> Option<serde_json::Value> {
        self.activity_cache.get(org)
    }

    /// Keeps freshly counted activity figures for the other open dashboards.
    pub fn keep_activity(&self, org: &str, figures: serde_json::Value) {
        self.activity_cache.put(org, figures);
    }

    /// Forgets the cached feature settings of an organisation (after a change here).
    pub fn forget_features(&self, org: &str) {
        self.features_cache.forget(org);
    }
}

/// The state as handlers receive it.
pub type Shared = Arc<AppState>;
