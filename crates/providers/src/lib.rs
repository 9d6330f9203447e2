//! Provider integrations. Each provider lives in its own folder (its descriptor now; its
//! client, webhook verification, status mapping and fixtures as adapters arrive) and is
//! listed once in [`registry`]. Adding a provider touches its folder and one registry line.

pub mod catalog;
pub mod registry;

mod bandwidth;
mod bland;
mod mailgun;
mod plivo;
mod postmark;
mod retell;
mod sandbox;
mod sendgrid;
mod ses;
mod signalwire;
mod sip;
mod smtp;
mod telnyx;
mod twilio;
mod vapi;
mod vonage;
mod webhook;

pub use catalog::{CredentialField, ProviderType};
