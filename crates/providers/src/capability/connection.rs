use crate::error::ProviderError;
use async_trait::async_trait;
use serde::Serialize;

/// What a successful connection test learned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConnectionInfo {
    /// The account as the provider names it.
    pub account: String,
    /// Anything else worth showing (status, balance).
    pub detail: String,
}

/// Checks credentials with a harmless read.
#[async_trait]
pub trait Connection: Send + Sync {
    /// Calls the provider with the stored credentials.
    async fn test_connection(&self) -> Result<ConnectionInfo, ProviderError>;
}
