use crate::error::ProviderError;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// Kinds of number a search can ask for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NumberKind {
    /// Geographic.
    #[default]
    Local,
    /// Toll free.
    TollFree,
    /// Mobile.
    Mobile,
}

/// A search for numbers to buy.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct NumberQuery {
    /// ISO 3166 alpha-2 country.
    pub country: String,
    /// Kind.
    #[serde(default)]
    pub kind: NumberKind,
    /// Area code / national destination code.
    pub area_code: Option<String>,
    /// Must take voice calls.
    #[serde(default)]
    pub voice: bool,
    /// Must take SMS.
    #[serde(default)]
    pub sms: bool,
    /// Must take MMS.
    #[serde(default)]
    pub mms: bool,
    /// Most results.
    pub limit: Option<u32>,
}

/// A number on offer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AvailableNumber {
    /// E.164.
    pub e164: String,
    /// Country.
    pub country: Option<String>,
    /// Locality or region, as the provider names it.
    pub locality: Option<String>,
    /// Voice capable.
    pub voice: bool,
    /// SMS capable.
    pub sms: bool,
    /// MMS capable.
    pub mms: bool,
}

/// A number the account owns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OwnedNumber {
    /// The provider's id for it (`PN…`, a Telnyx id).
    pub provider_number_id: String,
    /// E.164.
    pub e164: String,
    /// Voice capable.
    pub voice: bool,
    /// SMS capable.
    pub sms: bool,
    /// MMS capable.
    pub mms: bool,
}

/// Finding, buying and releasing numbers.
#[async_trait]
pub trait Numbers: Send + Sync {
    /// Numbers on offer.
    async fn search_available(
        &self,
        query: &NumberQuery,
    ) -> Result<Vec<AvailableNumber>, ProviderError>;
    /// Buys one.
    async fn buy(&self, e164: &str) -> Result<OwnedNumber, ProviderError>;
    /// Gives one back.
    async fn release(&self, provider_number_id: &str) -> Result<(), ProviderError>;
    /// Every number the account owns (all pages).
    async fn list_owned(&self) -> Result<Vec<OwnedNumber>, ProviderError>;
    /// One owned number, pointed at Switchyard's webhook so its inbound traffic arrives
    /// here; an error when the account does not own it.
    async fn import(&self, e164: &str) -> Result<OwnedNumber, ProviderError>;
}
