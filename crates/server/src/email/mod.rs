//! Email as Switchyard composes it: requests checked and turned into messages
//! ([`compose`]), signed unsubscribe and tracking links ([`links`]) and the HTML rewriting
//! that tracking needs ([`tracking`]).

pub mod compose;
pub mod links;
pub mod tracking;
