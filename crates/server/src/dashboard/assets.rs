//! The dashboard's files, embedded in the binary at build time: one HTML page for every
//! dashboard URL (the page's script draws the route), and its scripts, styles and the
//! vendored chart library under `/assets/`.

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

#[derive(rust_embed::Embed)]
#[folder = "dashboard/"]
struct Files;

/// The URLs that are dashboard pages (the page reads the rest of the path).
pub const PAGES: [&str; 15] = [
    "/",
    "/login",
    "/setup",
    "/providers",
    "/rates",
    "/routing",
    "/numbers",
    "/messages",
    "/messages/{id}",
    "/calls/{id}",
    "/emails/{id}",
    "/costs",
    "/settings/features",
    "/settings/users",
    "/settings/account",
];

fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        _ => "application/octet-stream",
    }
}

/// Headers that keep the page from being framed, sniffed or talking to other origins.
fn harden(resp: &mut Response) {
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
             img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; form-action 'self'",
        ),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
}

fn file(path: &str) -> Response {
    match Files::get(path) {
        Some(f) => {
            let mut resp = (
                [
                    (header::CONTENT_TYPE, content_type(path)),
                    (header::CACHE_CONTROL, "no-cache"),
                ],
                f.data.into_owned(),
            )
                .into_response();
            harden(&mut resp);
            resp
        }
        None => crate::error::ApiError::not_found("file").into_response(),
    }
}

/// The page for every dashboard URL.
pub async fn page() -> Response {
    file("index.html")
}

/// `GET /assets/{*path}`.
pub async fn asset(Path(path): Path<String>) -> Response {
    if path.contains("..") || path == "index.html" {
        return StatusCode::NOT_FOUND.into_response();
    }
    file(&path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_script_the_page_loads_is_embedded() {
        let index = Files::get("index.html").expect("index.html is embedded");
        let html = String::from_utf8_lossy(&index.data).to_string();
        for part in html.split("/assets/").skip(1) {
            let name = part.split('"').next().unwrap_or_default();
            assert!(
                Files::get(name).is_some(),
                "{name} is linked but not embedded"
            );
        }
        assert!(Files::get("vendor/uplot/uPlot.iife.min.js").is_some());
        assert!(Files::get("vendor/uplot/LICENSE").is_some());
    }

    #[test]
    fn types_follow_extensions() {
        assert_eq!(content_type("js/app.js"), "text/javascript; charset=utf-8");
        assert_eq!(content_type("app.css"), "text/css; charset=utf-8");
        assert_eq!(content_type("LICENSE"), "application/octet-stream");
    }
}
