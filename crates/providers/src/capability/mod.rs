//! One trait per capability. Campaigns, number pools and AI agents use these; a provider
//! implements the ones it offers and its folder's `build` hands them out in an
//! [`Adapter`](crate::Adapter).

mod connection;
mod email;
mod messaging;
mod numbers;
mod voice;
mod webhooks;

pub use connection::{Connection, ConnectionInfo};
pub use email::{Attachment, Email, EmailRequest, Mailbox, SentEmail};
pub use messaging::{MessageChannel, MessageRequest, Messaging, SentMessage};
pub use numbers::{AvailableNumber, NumberKind, NumberQuery, Numbers, OwnedNumber};
#[cfg(test)]
pub(crate) use voice::every_instruction;
pub use voice::{Answer, CallInfo, CallRequest, Instruction, PlacedCall, Voice};
pub use webhooks::{WebhookError, WebhookRequest, Webhooks};
