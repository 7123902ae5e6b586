//! The map's files (SIGAP_STATIC_DIR, built by map-ui/build.mjs): precompressed copies (`.br`,
//! `.gz`) chosen by Accept-Encoding, and a caching policy a phone on little data can live with.
//! Assets sit under a content-hashed directory (`/a/<hash>/…`) and never change, so they are
//! cached for a year as immutable; `index.html`, which names the current directory, and
//! `/config.json` are revalidated on every visit, as is the service worker `/sw.js`, which must
//! stay at the root (its scope is the whole site) and names the current asset directory.
//! The web app manifest (`.webmanifest`) goes out as `application/manifest+json`.

use std::path::Path;

use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_status::SetStatus;

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const REVALIDATE: &str = "no-cache";

/// Serves `dir`; unknown paths get `index.html` (the map is a single-page app).
pub fn service(dir: &Path) -> ServeDir<SetStatus<ServeFile>> {
    ServeDir::new(dir)
        .precompressed_br()
        .precompressed_gzip()
        .not_found_service(
            ServeFile::new(dir.join("index.html"))
                .precompressed_br()
                .precompressed_gzip(),
        )
}

/// Sets the caching policy of the map's files (outermost, so it sees every response).
pub async fn cache_policy(req: Request, next: Next) -> Response {
    let asset = req.uri().path().starts_with("/a/");
    let service_worker = req.uri().path() == "/sw.js";
    let mut res = next.run(req).await;
    if res.headers().contains_key(header::CACHE_CONTROL) {
        return res;
    }
    let html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/html"));
    let policy = if service_worker {
        Some(REVALIDATE)
    } else if asset && res.status().is_success() {
        Some(IMMUTABLE)
    } else if html {
        Some(REVALIDATE)
    } else {
        None
    };
    if let Some(p) = policy {
        res.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(p));
    }
    res
}
