//! Handler results: a refusal is a ready response, boxed to keep `Result`s small.

use axum::response::{IntoResponse, Response};

/// A response that ends a handler early.
pub struct Fail(Box<Response>);

impl From<Response> for Fail {
    fn from(r: Response) -> Self {
        Fail(Box::new(r))
    }
}

impl IntoResponse for Fail {
    fn into_response(self) -> Response {
        *self.0
    }
}

/// What a handler returns.
pub type Reply = Result<Response, Fail>;
