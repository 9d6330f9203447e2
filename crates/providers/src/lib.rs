//! Provider integrations. One trait per capability ([`capability`]); each provider lives in
//! its own folder (client, webhook verification, status mapping, tests) and is listed once
//! in [`registry`]. Adding a provider touches its folder and one registry line.

pub mod adapter;
pub mod capability;
pub mod catalog;
pub mod error;
pub mod events;
pub mod http;
pub mod json;
pub mod jwt;
pub mod mime;
mod pkcs1;
pub mod registry;

pub mod bandwidth;
mod bland;
mod mailgun;
pub mod plivo;
mod postmark;
mod retell;
pub mod sandbox;
pub mod sendgrid;
mod ses;
mod signalwire;
mod sip;
pub mod smtp;
pub mod telnyx;
pub mod twilio;
mod vapi;
pub mod vonage;
mod webhook;
pub mod xml;

pub use adapter::{Adapter, ProviderContext};
pub use catalog::{CredentialField, ProviderType};
pub use error::{ConfigError, Delivery, ErrorClass, ProviderError};
