//! What a routing request asks and what the router answers: the primary provider, ordered
//! alternates, every excluded provider with its reason, and why each was placed where it is.

use crate::channel::{Capability, CapabilitySet, Channel};
use crate::money::{Currency, Money};
use crate::policy::{LeadPriority, Strategy};
use crate::provider::ProviderId;
use crate::rating::{Terms, Usage, rate_usage};
use rust_decimal::Decimal;
use serde::{Serialize, Serializer};
use std::fmt;
use std::sync::Arc;

/// One routing question.
#[derive(Debug, Clone)]
pub struct RouteRequest<'a> {
    /// Destination digits without `+` (empty for channels priced flat, such as email).
    pub digits: &'a str,
    /// Country calling code of the destination, for per-country health.
    pub country_code: Option<u16>,
    /// The channel.
    pub channel: Channel,
    /// Capabilities needed beyond the channel's own.
    pub required: CapabilitySet,
    /// Strategy; `None` uses the policy default.
    pub strategy: Option<Strategy>,
    /// Lead priority.
    pub lead: Option<LeadPriority>,
    /// Highest acceptable rate per unit.
    pub max_rate: Option<Decimal>,
    /// Use this provider if it is eligible; the router's own pick is still reported.
    pub provider_override: Option<&'a str>,
    /// Expected usage, to compare expected costs.
    pub usage: Usage,
    /// Size of the message in bytes, for providers with a size limit (email).
    pub size_bytes: Option<u64>,
    /// The instant of the decision, unix milliseconds (selects rates in force, health).
    pub at_ms: i64,
    /// Seed of the `weighted` draw: the same seed gives the same pick.
    pub seed: u64,
    /// Alternates wanted; `None` uses the policy's.
    pub max_alternates: Option<usize>,
    /// Whether a provider in the half-open breaker state may take this request as its
    /// recovery probe (true when the decision will really be sent).
    pub claim_probes: bool,
}

impl<'a> RouteRequest<'a> {
    /// A request for `digits` on `channel` at `at_ms`, everything else default: one
    /// answered minute for voice, one segment for messages, one recipient for email.
    pub fn new(digits: &'a str, channel: Channel, at_ms: i64) -> Self {
        let usage = match channel {
            Channel::Voice => Usage::Call {
                answered: true,
                duration_secs: 60,
            },
            Channel::Email => Usage::Email {
                recipients: 1,
                attachments: 0,
            },
            _ => Usage::Message { segments: 1 },
        };
        RouteRequest {
            digits,
            country_code: None,
            channel,
            required: CapabilitySet::EMPTY,
            strategy: None,
            lead: None,
            max_rate: None,
            provider_override: None,
            usage,
            size_bytes: None,
            at_ms,
            seed: 0,
            max_alternates: None,
            claim_probes: false,
        }
    }
}

/// A digit prefix stored inline (no allocation on the routing path).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Prefix {
    digits: [u8; 16],
    len: u8,
}

impl Prefix {
    /// The first `len` bytes of `digits` (at most 16).
    pub fn new(digits: &[u8], len: usize) -> Self {
        let len = len.min(16).min(digits.len());
        let mut buf = [0u8; 16];
        buf[..len].copy_from_slice(&digits[..len]);
        Prefix {
            digits: buf,
            len: len as u8,
        }
    }

    /// The digits as text.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.digits[..self.len as usize]).unwrap_or("")
    }
}

impl fmt::Display for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.as_str())
    }
}

impl Serialize for Prefix {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Why a candidate holds its place; rendered into a sentence when serialised or displayed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Why {
    /// Ordered by expected cost.
    Cost,
    /// Ordered by the user's priority.
    Priority(i32),
    /// Ordered by quality score.
    Quality,
    /// Ordered by the balanced score.
    Balanced {
        /// Normalised quality part (0–1).
        quality: f64,
        /// Normalised cost part (0–1, 1 = cheapest).
        cost: f64,
        /// Weight of quality.
        quality_weight: f64,
    },
    /// Drawn by weight (primary) or ordered by weight (alternates).
    Weight {
        /// This provider's weight.
        weight: u32,
        /// Sum of the eligible providers' weights.
        total: u32,
        /// Whether it was the drawn one.
        drawn: bool,
    },
    /// Ordered by load relative to the concurrency limit.
    Load {
        /// Requests in progress.
        active: u32,
        /// The limit, if any.
        limit: Option<u32>,
    },
    /// Chosen by the request's explicit override.
    Override,
}

/// An eligible provider in the decision.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// The provider.
    pub provider: ProviderId,
    /// The longest prefix of the destination it prices.
    pub prefix: Prefix,
    /// The deck's name for that destination.
    pub destination: Arc<str>,
    /// The price terms of that prefix (rate, fees, increments, currency).
    pub terms: Terms,
    /// The usage the expected cost is computed for.
    pub usage: Usage,
    /// The channel (names the rate's unit in explanations).
    pub channel: Channel,
    /// The strategy's score (higher is better; for least cost, the negated cost rank).
    pub score: f64,
    /// Quality score 0–1.
    pub quality: f64,
    /// Health score 0–100.
    pub health: u8,
    /// This request is the provider's recovery probe.
    pub probe: bool,
    /// Place in the order, 0 for the primary.
    pub rank: usize,
    /// Why it is placed here (rendered by [`Candidate::explain`]).
    pub why: Why,
}

impl Candidate {
    /// Rate per unit.
    pub fn rate(&self) -> Decimal {
        self.terms.rate
    }

    /// Cost of the request's expected usage (computed on demand: the division it needs is
    /// not paid on the routing path).
    pub fn expected_cost(&self) -> Money {
        rate_usage(&self.terms, self.usage).total
    }

    /// The explanation line of this candidate.
    pub fn explain(&self) -> String {
        use std::fmt::Write;
        let mut out = String::with_capacity(160);
        let ord = Ordinal(self.rank + 1);
        // Writing to a String cannot fail.
        let _ = match self.why {
            Why::Cost => write!(out, "{ord} cheapest: expected {}", self.expected_cost()),
            Why::Priority(p) => write!(out, "{ord} by priority (priority {p})"),
            Why::Quality => write!(out, "{ord} by quality (score {:.2})", self.quality),
            Why::Balanced {
                quality,
                cost,
                quality_weight,
            } => write!(
                out,
                "{ord} by balanced score {:.2} = {:.0}% quality {:.2} + {:.0}% cost {:.2}",
                self.score,
                quality_weight * 100.0,
                quality,
                (1.0 - quality_weight) * 100.0,
                cost
            ),
            Why::Weight {
                weight,
                total,
                drawn: true,
            } => write!(out, "drawn by weight {weight} of {total}"),
            Why::Weight { weight, total, .. } => {
                write!(out, "{ord} by weight ({weight} of {total})")
            }
            Why::Load {
                active,
                limit: Some(l),
            } => write!(out, "{ord} least loaded ({active}/{l} in use)"),
            Why::Load {
                active,
                limit: None,
            } => {
                write!(out, "{ord} least loaded ({active} in use, no limit)")
            }
            Why::Override => write!(out, "chosen by explicit provider override"),
        };
        let _ = write!(
            out,
            "; {} {} per {} at prefix {}",
            self.terms.rate.normalize(),
            self.terms.currency,
            self.channel.rate_unit(),
            self.prefix
        );
        if !self.destination.is_empty() {
            let _ = write!(out, " ({})", self.destination);
        }
        if self.probe {
            out.push_str("; recovery probe");
        }
        out
    }
}

/// "1st", "2nd", "3rd", "4th"…
struct Ordinal(usize);

impl fmt::Display for Ordinal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0;
        let suffix = match (n % 10, n % 100) {
            (_, 11..=13) => "th",
            (1, _) => "st",
            (2, _) => "nd",
            (3, _) => "rd",
            _ => "th",
        };
        write!(f, "{n}{suffix}")
    }
}

/// Why a provider was left out.
#[derive(Debug, Clone, PartialEq)]
pub enum ExclusionReason {
    /// Lacks a needed capability.
    MissingCapability(Capability),
    /// Turned off by the user.
    Disabled,
    /// The message is larger than the provider accepts.
    TooLarge {
        /// The message's size in bytes.
        size: u64,
        /// The provider's limit in bytes.
        max: u64,
    },
    /// Circuit breaker open after repeated failures.
    AutoDisabled {
        /// When a probe becomes possible.
        until_ms: i64,
        /// Whether only the destination country is affected.
        country: Option<u16>,
    },
    /// Half-open, but its single probe is already out.
    ProbeInFlight,
    /// Health below the floor.
    HealthBelowFloor {
        /// Its score.
        score: u8,
        /// The floor.
        floor: u8,
    },
    /// At its concurrency limit.
    ConcurrencyLimit {
        /// In progress.
        active: u32,
        /// The limit.
        limit: u32,
    },
    /// At its calls-per-second limit.
    CpsLimit {
        /// This second's requests.
        current: u32,
        /// The limit.
        limit: u32,
    },
    /// Answer-seizure ratio too low.
    AsrBelowMin {
        /// Its ASR.
        asr: f64,
        /// The minimum.
        min: f64,
        /// Calls sampled.
        samples: u32,
    },
    /// Request success ratio too low.
    UptimeBelowMin {
        /// Its ratio.
        uptime: f64,
        /// The minimum.
        min: f64,
    },
    /// Its budget is spent.
    BudgetCapReached,
    /// No rate covers the destination.
    NoRate,
    /// The deck marks the matching prefix as closed.
    PrefixClosed(Prefix),
    /// Its rate is above the request's maximum.
    RateAboveMax {
        /// Its rate.
        rate: Decimal,
        /// The maximum.
        max: Decimal,
    },
    /// Its deck is in another currency than the policy's.
    CurrencyMismatch(Currency),
    /// Its type is switched off by this feature toggle.
    FeatureOff(String),
}

impl ExclusionReason {
    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            ExclusionReason::MissingCapability(_) => "missing_capability",
            ExclusionReason::Disabled => "disabled",
            ExclusionReason::TooLarge { .. } => "message_too_large",
            ExclusionReason::AutoDisabled { .. } => "auto_disabled",
            ExclusionReason::ProbeInFlight => "probe_in_flight",
            ExclusionReason::HealthBelowFloor { .. } => "health_below_floor",
            ExclusionReason::ConcurrencyLimit { .. } => "concurrency_limit",
            ExclusionReason::CpsLimit { .. } => "cps_limit",
            ExclusionReason::AsrBelowMin { .. } => "asr_below_min",
            ExclusionReason::UptimeBelowMin { .. } => "uptime_below_min",
            ExclusionReason::BudgetCapReached => "budget_cap_reached",
            ExclusionReason::NoRate => "no_rate",
            ExclusionReason::PrefixClosed(_) => "prefix_closed",
            ExclusionReason::RateAboveMax { .. } => "rate_above_max",
            ExclusionReason::CurrencyMismatch(_) => "currency_mismatch",
            ExclusionReason::FeatureOff(_) => "feature_off",
        }
    }
}

impl fmt::Display for ExclusionReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExclusionReason::MissingCapability(c) => write!(f, "lacks the {c} capability"),
            ExclusionReason::Disabled => f.write_str("disabled by the user"),
            ExclusionReason::FeatureOff(key) => {
                write!(f, "its feature {key} is switched off (Settings → Features)")
            }
            ExclusionReason::TooLarge { size, max } => {
                write!(
                    f,
                    "the message is {size} bytes, more than its limit of {max}"
                )
            }
            ExclusionReason::AutoDisabled {
                until_ms,
                country: None,
            } => write!(
                f,
                "auto-disabled after repeated failures until {}",
                fmt_ms(*until_ms)
            ),
            ExclusionReason::AutoDisabled {
                until_ms,
                country: Some(c),
            } => write!(
                f,
                "auto-disabled towards +{c} after repeated failures until {}",
                fmt_ms(*until_ms)
            ),
            ExclusionReason::ProbeInFlight => {
                f.write_str("recovering: its single probe request is already in flight")
            }
            ExclusionReason::HealthBelowFloor { score, floor } => {
                write!(f, "health score {score} is below the floor of {floor}")
            }
            ExclusionReason::ConcurrencyLimit { active, limit } => {
                write!(f, "concurrency limit reached ({active}/{limit})")
            }
            ExclusionReason::CpsLimit { current, limit } => {
                write!(f, "calls-per-second limit reached ({current}/{limit})")
            }
            ExclusionReason::AsrBelowMin { asr, min, samples } => write!(
                f,
                "ASR {:.1}% over {samples} calls is below the minimum of {:.1}%",
                asr * 100.0,
                min * 100.0
            ),
            ExclusionReason::UptimeBelowMin { uptime, min } => write!(
                f,
                "uptime {:.2}% is below the minimum of {:.2}%",
                uptime * 100.0,
                min * 100.0
            ),
            ExclusionReason::BudgetCapReached => f.write_str("its budget cap is reached"),
            ExclusionReason::NoRate => f.write_str("no rate covers this destination"),
            ExclusionReason::PrefixClosed(p) => write!(f, "the deck closes prefix {p}"),
            ExclusionReason::RateAboveMax { rate, max } => write!(
                f,
                "rate {} is above the maximum of {}",
                rate.normalize(),
                max.normalize()
            ),
            ExclusionReason::CurrencyMismatch(c) => {
                write!(f, "its deck is priced in {c}, not the policy's currency")
            }
        }
    }
}

fn fmt_ms(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_else(|| ms.to_string())
}

/// An excluded provider.
#[derive(Debug, Clone)]
pub struct Exclusion {
    /// The provider.
    pub provider: ProviderId,
    /// Why.
    pub reason: ExclusionReason,
}

impl Serialize for Exclusion {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Exclusion", 3)?;
        st.serialize_field("provider", &self.provider)?;
        st.serialize_field("code", self.reason.code())?;
        st.serialize_field("reason", &self.reason.to_string())?;
        st.end()
    }
}

/// Why no provider was chosen at all.
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    /// The destination is on the blocklist.
    BlockedDestination(Prefix),
    /// Every provider was excluded.
    NoEligibleProvider,
    /// The override names no configured provider.
    UnknownOverride(String),
    /// The override's provider is excluded.
    OverrideExcluded(ExclusionReason),
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::BlockedDestination(p) => {
                write!(f, "destination is blocked by the policy (prefix {p})")
            }
            Refusal::NoEligibleProvider => {
                f.write_str("no provider is eligible for this destination")
            }
            Refusal::UnknownOverride(p) => write!(f, "override names unknown provider {p:?}"),
            Refusal::OverrideExcluded(r) => write!(f, "the override's provider is excluded: {r}"),
        }
    }
}

impl Refusal {
    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::BlockedDestination(_) => "blocked_destination",
            Refusal::NoEligibleProvider => "no_route",
            Refusal::UnknownOverride(_) => "unknown_override",
            Refusal::OverrideExcluded(_) => "override_excluded",
        }
    }
}

/// The router's answer.
#[derive(Debug, Clone)]
pub struct Decision {
    /// Where to send, if anywhere.
    pub primary: Option<Candidate>,
    /// Where to fail over to, in order.
    pub alternates: Vec<Candidate>,
    /// Providers left out, with reasons.
    pub excluded: Vec<Exclusion>,
    /// The strategy used.
    pub strategy: Strategy,
    /// With an override: the provider the strategy itself would have picked.
    pub router_choice: Option<ProviderId>,
    /// Why nothing was chosen.
    pub refusal: Option<Refusal>,
    /// Version of the routing snapshot that decided.
    pub snapshot_version: u64,
    /// Time the decision took, nanoseconds.
    pub decision_ns: u64,
}

impl Serialize for Candidate {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let c = self;
        let mut st = s.serialize_struct("Candidate", 13)?;
        st.serialize_field("provider", &c.provider)?;
        st.serialize_field("prefix", &c.prefix)?;
        st.serialize_field("destination", &*c.destination)?;
        st.serialize_field("rate", &c.terms.rate.normalize().to_string())?;
        st.serialize_field("currency", &c.terms.currency)?;
        st.serialize_field(
            "connection_fee",
            &c.terms.connection_fee.normalize().to_string(),
        )?;
        st.serialize_field("increment", &c.terms.increment)?;
        st.serialize_field(
            "expected_cost",
            &c.expected_cost().amount.normalize().to_string(),
        )?;
        st.serialize_field("score", &round4(c.score))?;
        st.serialize_field("quality", &round4(c.quality))?;
        st.serialize_field("health", &c.health)?;
        st.serialize_field("probe", &c.probe)?;
        st.serialize_field("why", &c.explain())?;
        st.end()
    }
}

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

impl Serialize for Decision {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Decision", 8)?;
        st.serialize_field("primary", &self.primary)?;
        st.serialize_field("alternates", &self.alternates)?;
        st.serialize_field("excluded", &self.excluded)?;
        st.serialize_field("strategy", &self.strategy)?;
        st.serialize_field("router_choice", &self.router_choice)?;
        st.serialize_field(
            "refusal",
            &self
                .refusal
                .as_ref()
                .map(|r| serde_json::json!({"code": r.code(), "message": r.to_string()})),
        )?;
        st.serialize_field("snapshot_version", &self.snapshot_version)?;
        st.serialize_field("decision_us", &(self.decision_ns as f64 / 1000.0))?;
        st.end()
    }
}

/// A decision in the compact form audit logs keep: every choice, rate, exclusion code and
/// reason, without the explanation sentences (which follow from rank, strategy and rate).
pub struct CompactDecision<'a>(pub &'a Decision);

struct CompactCandidate<'a>(&'a Candidate);

impl Serialize for CompactCandidate<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let c = self.0;
        let mut st = s.serialize_struct("CompactCandidate", 4)?;
        st.serialize_field("provider", &c.provider)?;
        st.serialize_field("prefix", &c.prefix)?;
        st.serialize_field("rate", &c.terms.rate.normalize().to_string())?;
        st.serialize_field("currency", &c.terms.currency)?;
        st.end()
    }
}

impl Serialize for CompactDecision<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let d = self.0;
        let mut st = s.serialize_struct("CompactDecision", 7)?;
        st.serialize_field("strategy", &d.strategy)?;
        st.serialize_field("primary", &d.primary.as_ref().map(CompactCandidate))?;
        let alternates: Vec<CompactCandidate<'_>> =
            d.alternates.iter().map(CompactCandidate).collect();
        st.serialize_field("alternates", &alternates)?;
        st.serialize_field("excluded", &d.excluded)?;
        st.serialize_field("router_choice", &d.router_choice)?;
        st.serialize_field("refusal", &d.refusal.as_ref().map(Refusal::code))?;
        st.serialize_field("decision_us", &(d.decision_ns as f64 / 1000.0))?;
        st.end()
    }
}

impl Decision {
    /// Every candidate in order: the primary, then the alternates.
    pub fn candidates(&self) -> impl Iterator<Item = &Candidate> {
        self.primary.iter().chain(self.alternates.iter())
    }
}
