use crate::error::ProviderError;
use crate::events::{CallStatus, ProviderPrice};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// One step of what to do when a call is answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum Instruction {
    /// Speak text.
    Say {
        /// The text.
        text: String,
        /// BCP 47 language, e.g. `en-US`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        language: Option<String>,
    },
    /// Play an audio file.
    Play {
        /// Its URL.
        url: String,
    },
    /// Connect the call to another number.
    Forward {
        /// E.164 number.
        to: String,
    },
    /// Wait.
    Pause {
        /// Seconds (1–60).
        seconds: u8,
    },
    /// End the call.
    Hangup,
}

/// What happens when the call is answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// The provider fetches call instructions from this URL (TwiML and the like).
    Url(String),
    /// Built-in actions, translated to the provider's own form.
    Instructions(Vec<Instruction>),
}

/// An outbound call to place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallRequest {
    /// E.164 destination.
    pub to: String,
    /// E.164 caller id.
    pub from: String,
    /// What to do on answer.
    pub answer: Answer,
    /// Seconds to let it ring.
    pub ring_timeout_secs: u32,
    /// Our unique id for this attempt; providers that support idempotency keys get it.
    pub idempotency_key: String,
    /// Opaque state returned in this call's events.
    pub client_state: Option<String>,
}

/// A call the provider accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlacedCall {
    /// The provider's id for it.
    pub call_id: String,
    /// Status at acceptance.
    pub status: CallStatus,
}

/// A call as the provider reports it now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CallInfo {
    /// The provider's id.
    pub call_id: String,
    /// Current status.
    pub status: CallStatus,
    /// Billable seconds so far or in all.
    pub duration_secs: Option<u32>,
    /// Price, once the provider has rated it.
    pub price: Option<ProviderPrice>,
}

/// Placing and controlling calls.
#[async_trait]
pub trait Voice: Send + Sync {
    /// Places a call; status updates arrive as webhooks.
    async fn create_call(&self, req: &CallRequest) -> Result<PlacedCall, ProviderError>;
    /// Ends a call, answered or not.
    async fn hangup(&self, call_id: &str) -> Result<(), ProviderError>;
    /// The call's current state.
    async fn call_status(&self, call_id: &str) -> Result<CallInfo, ProviderError>;
    /// Whether answered calls need [`perform`](Voice::perform) to run their instructions
    /// (Call Control), rather than taking them at dial time (TwiML).
    fn answers_by_command(&self) -> bool {
        false
    }
    /// Performs instructions on a live call (for providers whose calls take commands
    /// after answer rather than a document at dial time).
    async fn perform(&self, call_id: &str, steps: &[Instruction]) -> Result<(), ProviderError>;
}

/// One of each instruction, with text and a URL that need escaping: what every renderer's
/// test renders.
#[cfg(test)]
pub(crate) fn every_instruction() -> Vec<Instruction> {
    vec![
        Instruction::Say {
            text: "Tom & <Jerry>".into(),
            language: Some("en-GB".into()),
        },
        Instruction::Pause { seconds: 2 },
        Instruction::Play {
            url: "https://x.example/a.mp3?a=1&b=2".into(),
        },
        Instruction::Forward {
            to: "+442071234567".into(),
        },
        Instruction::Hangup,
    ]
}
