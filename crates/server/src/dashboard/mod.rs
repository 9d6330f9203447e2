//! The operator dashboard: its pages and files, and signing in to it. Every page talks to
//! the same `/v1` API as any client, authenticated by the session cookie; nothing here
//! reads or changes data the API does not.

pub mod assets;
pub mod session;
pub mod throttle;

use crate::state::Shared;
use axum::routing::{get, post};

/// The dashboard's routes.
pub fn routes() -> axum::Router<Shared> {
    let mut router = axum::Router::new()
        .route("/assets/{*path}", get(assets::asset))
        .route("/ui/login", post(session::login))
        .route("/ui/logout", post(session::logout))
        .route("/ui/session", get(session::current))
        .route("/ui/setup", post(session::setup));
    for page in assets::PAGES {
        router = router.route(page, get(assets::page));
    }
    router
}
