//! How a provider call failed, classified for the engine's retry and failover decisions.

use std::time::Duration;

/// What the engine may do after a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorClass {
    /// Transient (rate limit, outage, timeout): try again later or on another provider.
    Retryable,
    /// This provider will not carry it (credentials, permissions, geography, a number it
    /// does not own); another provider may.
    ProviderRefused,
    /// The request itself is wrong or forbidden (invalid or opted-out recipient): no
    /// provider will carry it.
    Permanent,
}

impl ErrorClass {
    /// The class an HTTP status alone implies, for errors the provider's own code does not
    /// classify: 429 and 5xx are transient, anything else is this provider's refusal.
    pub fn from_status(http_status: u16) -> Self {
        if http_status == 429 || http_status >= 500 {
            ErrorClass::Retryable
        } else {
            ErrorClass::ProviderRefused
        }
    }
}

/// Whether the provider may have acted on a request that failed. Failing over a request
/// that may have been accepted could send it twice, so the engine checks this first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    /// The provider certainly did not act on it (refused, or never reached).
    NotAccepted,
    /// The provider may have acted on it (a timeout or 5xx after the request was sent).
    MaybeAccepted,
}

/// A failed provider request.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{provider}: {message}")]
pub struct ProviderError {
    /// Provider type name (`twilio`).
    pub provider: &'static str,
    /// What the engine may do next.
    pub class: ErrorClass,
    /// Whether the provider may have acted on it.
    pub delivery: Delivery,
    /// HTTP status, when there was a response.
    pub status: Option<u16>,
    /// The provider's own error code (`21211`, `10015`).
    pub code: Option<String>,
    /// Human explanation, free of secrets.
    pub message: String,
    /// How long the provider asked us to wait.
    pub retry_after: Option<Duration>,
}

impl ProviderError {
    /// A failure before anything reached the provider (bad configuration, unsupported
    /// feature, unparseable input).
    pub fn refused(provider: &'static str, message: impl Into<String>) -> Self {
        ProviderError {
            provider,
            class: ErrorClass::ProviderRefused,
            delivery: Delivery::NotAccepted,
            status: None,
            code: None,
            message: message.into(),
            retry_after: None,
        }
    }

    /// The provider does not offer this operation.
    pub fn unsupported(provider: &'static str, what: &str) -> Self {
        Self::refused(provider, format!("{provider} does not support {what}"))
            .with_code("unsupported")
    }

    /// A response the adapter could not understand. The request may have been acted on.
    pub fn malformed(provider: &'static str, message: impl Into<String>) -> Self {
        ProviderError {
            class: ErrorClass::Retryable,
            delivery: Delivery::MaybeAccepted,
            ..Self::refused(provider, message)
        }
    }

    /// Sets the provider's error code.
    pub fn with_code(mut self, code: impl Into<String>) -> Self {
        self.code = Some(code.into());
        self
    }

    /// Whether the engine may safely try another provider with the same request.
    pub fn may_fail_over(&self) -> bool {
        self.class != ErrorClass::Permanent && self.delivery == Delivery::NotAccepted
    }
}

/// A provider's configuration cannot be turned into an adapter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);
