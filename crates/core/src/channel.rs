//! Channels a request travels over and the capabilities a provider offers.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The medium of one request. Rate decks, routing indexes and quality statistics are kept
/// per channel because prices and carriers differ between them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// A phone call, rated per minute.
    Voice,
    /// A text message, rated per segment.
    Sms,
    /// A multimedia message, rated per message part.
    Mms,
    /// A WhatsApp message, rated per message.
    Whatsapp,
    /// An email, rated per 1,000 messages.
    Email,
    /// A ringless voicemail drop, rated per message.
    Rvm,
}

impl Channel {
    /// Every channel, in a stable order (used to size per-channel tables).
    pub const ALL: [Channel; 6] = [
        Channel::Voice,
        Channel::Sms,
        Channel::Mms,
        Channel::Whatsapp,
        Channel::Email,
        Channel::Rvm,
    ];

    /// Stable position of the channel in [`Channel::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// The lowercase name used in APIs, file names and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Voice => "voice",
            Channel::Sms => "sms",
            Channel::Mms => "mms",
            Channel::Whatsapp => "whatsapp",
            Channel::Email => "email",
            Channel::Rvm => "rvm",
        }
    }

    /// The capability a provider needs to carry this channel at all.
    pub fn capability(self) -> Capability {
        match self {
            Channel::Voice => Capability::Voice,
            Channel::Sms => Capability::Sms,
            Channel::Mms => Capability::Mms,
            Channel::Whatsapp => Capability::Whatsapp,
            Channel::Email => Capability::Email,
            Channel::Rvm => Capability::Rvm,
        }
    }

    /// What one unit of the deck's rate buys on this channel.
    pub fn rate_unit(self) -> &'static str {
        match self {
            Channel::Voice => "minute",
            Channel::Sms | Channel::Mms => "segment",
            Channel::Whatsapp | Channel::Rvm => "message",
            Channel::Email => "1,000 emails",
        }
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A channel name that is not one of [`Channel::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown channel {0:?}: expected one of voice, sms, mms, whatsapp, email, rvm")]
pub struct UnknownChannel(pub String);

impl FromStr for Channel {
    type Err = UnknownChannel;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Channel::ALL
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownChannel(s.to_string()))
    }
}

/// One thing a provider can do. A request names the capabilities it needs and providers
/// lacking any of them are excluded with that reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Capability {
    /// Place and receive phone calls.
    Voice,
    /// Send and receive SMS.
    Sms,
    /// Send MMS with media.
    Mms,
    /// Send WhatsApp messages.
    Whatsapp,
    /// Send email at all.
    Email,
    /// Email with attachments.
    EmailAttachments,
    /// Email open and click tracking done by the provider.
    EmailTracking,
    /// Ringless voicemail drops.
    Rvm,
    /// Signs calls with STIR/SHAKEN attestation.
    StirShaken,
    /// Can present a local caller ID.
    LocalPresence,
    /// Hosts AI voice agents.
    AiVoice,
}

impl Capability {
    /// Every capability, in bit order.
    pub const ALL: [Capability; 11] = [
        Capability::Voice,
        Capability::Sms,
        Capability::Mms,
        Capability::Whatsapp,
        Capability::Email,
        Capability::EmailAttachments,
        Capability::EmailTracking,
        Capability::Rvm,
        Capability::StirShaken,
        Capability::LocalPresence,
        Capability::AiVoice,
    ];

    fn bit(self) -> u16 {
        1 << (self as u16)
    }

    /// The lowercase name used in APIs and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Capability::Voice => "voice",
            Capability::Sms => "sms",
            Capability::Mms => "mms",
            Capability::Whatsapp => "whatsapp",
            Capability::Email => "email",
            Capability::EmailAttachments => "email_attachments",
            Capability::EmailTracking => "email_tracking",
            Capability::Rvm => "rvm",
            Capability::StirShaken => "stir_shaken",
            Capability::LocalPresence => "local_presence",
            Capability::AiVoice => "ai_voice",
        }
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A capability name that is not one of [`Capability::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown capability {0:?}")]
pub struct UnknownCapability(pub String);

impl FromStr for Capability {
    type Err = UnknownCapability;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Capability::ALL
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownCapability(s.to_string()))
    }
}

/// A set of capabilities as a bit set, so that "does this provider have everything the
/// request needs" is one AND on the routing hot path.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct CapabilitySet(u16);

impl CapabilitySet {
    /// No capability.
    pub const EMPTY: CapabilitySet = CapabilitySet(0);

    /// Every capability.
    pub fn all() -> Self {
        Capability::ALL.into_iter().collect()
    }

    /// Whether `cap` is in the set.
    pub fn contains(self, cap: Capability) -> bool {
        self.0 & cap.bit() != 0
    }

    /// Adds `cap` to the set.
    pub fn insert(&mut self, cap: Capability) {
        self.0 |= cap.bit();
    }

    /// Removes `cap` from the set.
    pub fn remove(&mut self, cap: Capability) {
        self.0 &= !cap.bit();
    }

    /// The first capability of `needed` missing from `self`, if any.
    pub fn first_missing(self, needed: CapabilitySet) -> Option<Capability> {
        let missing = needed.0 & !self.0;
        Capability::ALL.into_iter().find(|c| missing & c.bit() != 0)
    }

    /// The capabilities in the set, in bit order.
    pub fn iter(self) -> impl Iterator<Item = Capability> {
        Capability::ALL
            .into_iter()
            .filter(move |c| self.contains(*c))
    }
}

impl FromIterator<Capability> for CapabilitySet {
    fn from_iter<I: IntoIterator<Item = Capability>>(iter: I) -> Self {
        let mut set = CapabilitySet::EMPTY;
        for cap in iter {
            set.insert(cap);
        }
        set
    }
}

impl fmt::Debug for CapabilitySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl Serialize for CapabilitySet {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for CapabilitySet {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let caps = Vec::<Capability>::deserialize(d)?;
        Ok(caps.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_names_round_trip() {
        for c in Channel::ALL {
            assert_eq!(c.as_str().parse::<Channel>(), Ok(c));
        }
        assert!("fax".parse::<Channel>().is_err());
    }

    #[test]
    fn first_missing_names_the_gap() {
        let have: CapabilitySet = [Capability::Voice, Capability::Sms].into_iter().collect();
        let need: CapabilitySet = [Capability::Sms, Capability::StirShaken]
            .into_iter()
            .collect();
        assert_eq!(have.first_missing(need), Some(Capability::StirShaken));
        assert_eq!(CapabilitySet::all().first_missing(need), None);
    }

    #[test]
    fn capability_set_serialises_as_names() {
        let set: CapabilitySet = [Capability::Voice, Capability::AiVoice]
            .into_iter()
            .collect();
        let json = serde_json::to_string(&set).expect("serialise");
        assert_eq!(json, r#"["voice","ai_voice"]"#);
        let back: CapabilitySet = serde_json::from_str(&json).expect("parse");
        assert_eq!(back, set);
    }
}
