//! Turning a stored provider (type, credentials) into live capability objects.

use crate::capability::{Connection, Email, Messaging, Numbers, Voice, Webhooks};
use crate::error::ConfigError;
use crate::http::HttpClient;
use serde_json::{Map, Value};
use std::sync::Arc;

/// Everything an adapter needs to be built.
#[derive(Debug, Clone)]
pub struct ProviderContext {
    /// The provider's id in Switchyard.
    pub provider_id: String,
    /// Decrypted credentials, as the type's descriptor lists them.
    pub credentials: Map<String, Value>,
    /// Where this provider's webhooks must go (`…/v1/webhooks/{id}`); adapters pass it as
    /// the status callback.
    pub webhook_url: String,
    /// Base URL of the built-in sandbox, when it runs in this process.
    pub sandbox_url: Option<String>,
    /// The shared HTTP client.
    pub http: HttpClient,
}

impl ProviderContext {
    /// A credential, or an error naming it.
    pub fn required(&self, name: &str) -> Result<String, ConfigError> {
        self.optional(name)
            .ok_or_else(|| ConfigError(format!("credentials.{name} is required")))
    }

    /// A credential if given and not blank.
    pub fn optional(&self, name: &str) -> Option<String> {
        self.credentials
            .get(name)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    }
}

/// `credentials.base_url` (or the sandbox's URL) checked to be a URL, without a trailing `/`.
pub fn checked_base(base: &str) -> Result<String, ConfigError> {
    url::Url::parse(base)
        .map_err(|e| ConfigError(format!("credentials.base_url is not a URL ({e})")))?;
    Ok(base.trim_end_matches('/').to_string())
}

/// A built provider: the capabilities it offers.
#[derive(Clone)]
pub struct Adapter {
    /// Credential check.
    pub connection: Arc<dyn Connection>,
    /// Webhook verification and parsing.
    pub webhooks: Arc<dyn Webhooks>,
    /// Calls, if offered.
    pub voice: Option<Arc<dyn Voice>>,
    /// Messages, if offered.
    pub messaging: Option<Arc<dyn Messaging>>,
    /// Numbers, if offered.
    pub numbers: Option<Arc<dyn Numbers>>,
    /// Email, if offered.
    pub email: Option<Arc<dyn Email>>,
}

impl std::fmt::Debug for Adapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Adapter")
            .field("voice", &self.voice.is_some())
            .field("messaging", &self.messaging.is_some())
            .field("numbers", &self.numbers.is_some())
            .field("email", &self.email.is_some())
            .finish()
    }
}

impl Adapter {
    /// An adapter from one object offering every carrier capability.
    pub fn carrier<T>(client: Arc<T>) -> Self
    where
        T: Connection + Webhooks + Voice + Messaging + Numbers + 'static,
    {
        Adapter {
            connection: client.clone(),
            webhooks: client.clone(),
            voice: Some(client.clone()),
            messaging: Some(client.clone()),
            numbers: Some(client),
            email: None,
        }
    }

    /// An adapter from one object that sends email.
    pub fn mailer<T>(client: Arc<T>) -> Self
    where
        T: Connection + Webhooks + Email + 'static,
    {
        Adapter {
            connection: client.clone(),
            webhooks: client.clone(),
            voice: None,
            messaging: None,
            numbers: None,
            email: Some(client),
        }
    }
}

/// How a provider type builds its adapter.
pub type BuildFn = fn(&ProviderContext) -> Result<Adapter, ConfigError>;
