//! The engine: what happens between an API request and a provider — message templates now;
//! sending, failover, status tracking and durable jobs as they arrive.

pub mod templates;
