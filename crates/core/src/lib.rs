//! The pure core of Switchyard: channels, money, rate decks, the compiled prefix index,
//! routing strategies and filters, provider health and quality, and exact rating.
//!
//! Nothing here does I/O or async work: the server, the CLI and the engine call it with
//! data and get decisions back, so every rule can be unit- and property-tested in isolation.

pub mod advice;
pub mod analytics;
pub mod budget;
pub mod channel;
pub mod consent;
pub mod decision;
pub mod deck;
pub mod features;
pub mod health;
pub mod index;
pub mod live;
pub mod money;
pub mod naive;
pub mod number;
pub mod optimum;
pub mod policy;
pub mod pool;
pub mod provider;
pub mod quality;
pub mod rating;
pub mod scoring;
pub mod snapshot;
pub mod synth;
pub mod timezone;

pub use channel::{Capability, CapabilitySet, Channel};
pub use decision::{Candidate, Decision, ExclusionReason, RouteRequest};
pub use deck::{Deck, RateRow};
pub use live::LiveRegistry;
pub use money::{Currency, Money};
pub use policy::{LeadPriority, RoutingPolicy, Strategy};
pub use provider::{ProviderId, ProviderProfile};
pub use snapshot::{Router, RoutingSnapshot};
