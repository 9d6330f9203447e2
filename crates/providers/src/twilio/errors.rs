//! Twilio error responses (`{"code": 21211, "message": …}`) classified for failover.
//! Codes from Twilio's error dictionary (https://www.twilio.com/docs/api/errors).

use crate::error::{Delivery, ErrorClass, ProviderError};
use crate::http::Response;

/// The class of a Twilio REST error code.
pub fn class_of(code: u32, http_status: u16) -> ErrorClass {
    match code {
        // Too many requests, queue overflow, internal errors: try again.
        20429 | 30001 | 20500 | 20503 => ErrorClass::Retryable,
        // Invalid or unreachable 'To', not a mobile number, opted out (STOP), blocked.
        21211 | 21214 | 21217 | 21401 | 21407 | 21421 | 21610 | 21612 | 21614 | 21635 => {
            ErrorClass::Permanent
        }
        // Authentication, suspended account, geographic permissions, 'From' not owned or
        // not capable: this account cannot, another provider may.
        20003 | 20005 | 20008 | 21210 | 21212 | 21215 | 21216 | 21408 | 21606 | 21659 => {
            ErrorClass::ProviderRefused
        }
        _ => ErrorClass::from_status(http_status),
    }
}

/// A non-2xx response of `provider` (Twilio or an API compatible with it) as an error.
pub fn from_response(provider: &'static str, resp: &Response) -> ProviderError {
    let status = resp.status.as_u16();
    let body: serde_json::Value = serde_json::from_slice(&resp.body).unwrap_or_default();
    let code = body
        .get("code")
        .and_then(serde_json::Value::as_u64)
        .unwrap_or(0) as u32;
    let message = body
        .get("message")
        .and_then(serde_json::Value::as_str)
        .unwrap_or("the provider refused the request")
        .to_string();
    ProviderError {
        provider,
        class: class_of(code, status),
        delivery: Delivery::NotAccepted,
        status: Some(status),
        code: (code != 0).then(|| code.to_string()),
        message: format!("{message} (HTTP {status}, code {code})"),
        retry_after: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes() {
        assert_eq!(class_of(21211, 400), ErrorClass::Permanent);
        assert_eq!(class_of(21610, 400), ErrorClass::Permanent);
        assert_eq!(class_of(21408, 400), ErrorClass::ProviderRefused);
        assert_eq!(class_of(20003, 401), ErrorClass::ProviderRefused);
        assert_eq!(class_of(20429, 429), ErrorClass::Retryable);
        assert_eq!(class_of(0, 503), ErrorClass::Retryable);
        assert_eq!(class_of(99999, 400), ErrorClass::ProviderRefused);
    }
}
