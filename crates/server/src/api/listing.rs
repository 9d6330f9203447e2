//! The filters shared by the message and call listings.

use super::providers::clamp_limit;
use crate::error::{ApiError, ApiResult};
use serde::Deserialize;
use switchyard_store::OutboxFilter;

/// Filters of a message or call listing.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct OutboxQuery {
    /// Only in this status.
    status: Option<String>,
    /// Only through this provider id.
    provider: Option<String>,
    /// Created at or after this instant (RFC 3339).
    since: Option<String>,
    /// Created before this instant (RFC 3339).
    until: Option<String>,
    /// `key:value`: only those whose metadata holds this string value under this key.
    metadata: Option<String>,
    /// Items per page (1–500, default 50).
    limit: Option<usize>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

fn instant(field: &str, text: Option<&str>) -> ApiResult<Option<i64>> {
    text.map(|t| {
        chrono::DateTime::parse_from_rfc3339(t)
            .map(|d| d.timestamp_millis())
            .map_err(|e| {
                ApiError::invalid(
                    field,
                    format!(
                        "{field} must be an RFC 3339 instant such as 2026-11-22T09:00:00Z: {e}"
                    ),
                )
            })
    })
    .transpose()
}

impl OutboxQuery {
    /// The store filter, or a 422 naming the malformed parameter.
    pub fn filter(&self) -> ApiResult<OutboxFilter<'_>> {
        let metadata = match self.metadata.as_deref() {
            Some(pair) => Some(pair.split_once(':').ok_or_else(|| {
                ApiError::invalid("metadata", "metadata filters are written key:value")
            })?),
            None => None,
        };
        Ok(OutboxFilter {
            status: self.status.as_deref(),
            provider_id: self.provider.as_deref(),
            since: instant("since", self.since.as_deref())?,
            until: instant("until", self.until.as_deref())?,
            metadata,
            before: self.cursor.as_deref(),
        })
    }

    /// Page size.
    pub fn limit(&self) -> usize {
        clamp_limit(self.limit)
    }
}
