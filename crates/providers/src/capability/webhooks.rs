use crate::events::ProviderEvent;
use http::HeaderMap;

/// A webhook as it arrived.
#[derive(Debug, Clone, Copy)]
pub struct WebhookRequest<'a> {
    /// The full public URL the provider called, query included (Twilio signs it).
    pub url: &'a str,
    /// Headers.
    pub headers: &'a HeaderMap,
    /// Raw body.
    pub body: &'a [u8],
    /// Unix seconds now (for replay windows).
    pub now_secs: i64,
}

impl WebhookRequest<'_> {
    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Why a webhook was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    /// No signature header: 403.
    #[error("the {0} header is missing")]
    Unsigned(&'static str),
    /// The signature does not match: 403.
    #[error("the signature does not match")]
    BadSignature,
    /// Signed too long ago (or in the future): 403.
    #[error("the timestamp is outside the {0}-second tolerance")]
    Stale(i64),
    /// The provider cannot verify without a credential we lack: 403.
    #[error("{0}")]
    NotConfigured(String),
    /// Verified but unreadable: 400.
    #[error("malformed body: {0}")]
    Malformed(String),
}

/// Verifying and reading a provider's webhooks. `verify` and `parse` are pure (no I/O, so
/// they can be fuzzed); the I/O some schemes need first goes in `prepare`.
#[async_trait::async_trait]
pub trait Webhooks: Send + Sync {
    /// Network work a scheme needs before `verify` can run: fetching (and caching) a
    /// signing certificate the payload names, or confirming a subscription once its
    /// signature checks out (Amazon SNS). Most providers need none.
    async fn prepare(&self, req: &WebhookRequest<'_>) -> Result<(), WebhookError> {
        let _ = req;
        Ok(())
    }
    /// Checks the signature exactly as the provider documents it.
    fn verify(&self, req: &WebhookRequest<'_>) -> Result<(), WebhookError>;
    /// Normalises a verified webhook; unknown event types come back as
    /// [`EventKind::Unknown`](crate::events::EventKind::Unknown), never as errors.
    fn parse(&self, req: &WebhookRequest<'_>) -> Result<Vec<ProviderEvent>, WebhookError>;
    /// The content type and body to answer an accepted webhook with. Most providers ignore
    /// it; those that fetch call instructions from a webhook (Plivo's answer URL, Bandwidth's
    /// BXML callbacks) read the document it returns.
    fn acknowledgement(&self, req: &WebhookRequest<'_>) -> (&'static str, String) {
        let _ = req;
        ("application/json", "{\"received\":true}".into())
    }
}
