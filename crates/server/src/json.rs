//! A JSON body extractor with the API's error rules: malformed JSON and unknown fields are
//! 400, values of the wrong type or missing required fields are 422 naming the field, and
//! a body over the limit is 413.

use crate::error::ApiError;
use crate::state::Shared;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

/// A strictly parsed JSON body.
pub struct Json<T>(pub T);

impl<T: DeserializeOwned> FromRequest<Shared> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &Shared) -> Result<Self, Self::Rejection> {
        read(req, state.settings.max_json_bytes).await.map(Json)
    }
}

/// A strictly parsed JSON body that may be as large as an upload (an email with its
/// attachments in base64).
pub struct UploadJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<Shared> for UploadJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &Shared) -> Result<Self, Self::Rejection> {
        read(req, state.settings.max_upload_bytes)
            .await
            .map(UploadJson)
    }
}

async fn read<T: DeserializeOwned>(req: Request, limit: usize) -> Result<T, ApiError> {
    let bytes = axum::body::to_bytes(req.into_body(), limit)
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!("the request body is larger than {limit} bytes or could not be read"),
            )
        })?;
    parse(&bytes)
}

/// Parses JSON bytes with the rules above.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let result: Result<T, _> = serde_path_to_error::deserialize(&mut de);
    let value = result.map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let message = inner.to_string();
        match inner.classify() {
            serde_json::error::Category::Syntax
            | serde_json::error::Category::Eof
            | serde_json::error::Category::Io => ApiError::bad_request(
                "malformed_json",
                format!("the body is not valid JSON: {message}"),
            ),
            serde_json::error::Category::Data if message.starts_with("unknown field") => {
                ApiError::bad_request("unknown_field", format!("{path}: {message}"))
                    .with_details(serde_json::json!({ "field": path }))
            }
            serde_json::error::Category::Data => {
                ApiError::invalid(&path, format!("{path}: {message}"))
            }
        }
    })?;
    de.end().map_err(|e| {
        ApiError::bad_request("malformed_json", format!("the body is not valid JSON: {e}"))
    })?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Body {
        name: String,
        weight: u32,
    }

    #[test]
    fn status_by_kind_of_mistake() {
        assert_eq!(
            parse::<Body>(b"{").err().map(|e| e.status),
            Some(StatusCode::BAD_REQUEST)
        );
        let e = parse::<Body>(br#"{"name":"a","weight":1,"x":2}"#).expect_err("unknown");
        assert_eq!(
            (e.status, e.code),
            (StatusCode::BAD_REQUEST, "unknown_field")
        );
        let e = parse::<Body>(br#"{"name":"a","weight":"heavy"}"#).expect_err("type");
        assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(e.message.starts_with("weight:"), "{}", e.message);
        let e = parse::<Body>(br#"{"name":"a"}"#).expect_err("missing");
        assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            e.message.contains("missing field `weight`"),
            "{}",
            e.message
        );
        let ok = parse::<Body>(br#"{"name":"a","weight":1}"#).expect("valid");
        assert_eq!((ok.name.as_str(), ok.weight), ("a", 1));
    }
}
