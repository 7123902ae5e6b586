//! The map's files (SIGAP_STATIC_DIR, built by map-ui/build.mjs): precompressed copies (`.br`,
//! `.gz`) chosen by Accept-Encoding, and a caching policy a phone on little data can live with.
//! Assets sit under a content-hashed directory (`/a/<hash>/…`) and never change, so they are
//! cached for a year as immutable; `index.html`, which names the current directory, and
//! `/config.json` are revalidated on every visit, as is the service worker `/sw.js`, which must
//! stay at the root (its scope is the whole site) and names the current asset directory.
//! The web app manifest (`.webmanifest`) goes out as `application/manifest+json`.
//! MapLibre's worker goes as a delta against MapLibre's main module where the browser keeps that
//! module as a compression dictionary (RFC 9842, `dcz`): [`worker_delta`].

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
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

/// MapLibre's main module, the dictionary, and its worker, under `/a/<hash>/`.
const DICTIONARY_FILE: &str = "/vendor/maplibre-gl.mjs";
const WORKER_FILE: &str = "/vendor/maplibre-gl-worker.mjs";
/// What the main module is a dictionary for: the worker of any build (a build's worker is sent
/// as a delta only against its own main module: the hash must match).
const USE_AS_DICTIONARY: &str =
    r#"match="/a/*/vendor/maplibre-gl-worker.mjs", match-dest=("worker")"#;
/// The start of a `dcz` body: the magic number, then the dictionary's SHA-256 (RFC 9842, 4).
const DCZ_MAGIC: [u8; 8] = [0x5e, 0x2a, 0x4d, 0x18, 0x20, 0x00, 0x00, 0x00];
const DCZ_HEADER_LEN: usize = DCZ_MAGIC.len() + 32;

/// Compression Dictionary Transport for MapLibre's worker (520 KB, 119 KB as brotli), which
/// repeats most of the main module the page has just loaded: the main module goes out with
/// `Use-As-Dictionary`, and a request for the worker that names that module's SHA-256 in
/// `Available-Dictionary` and accepts `dcz` gets the `.dcz` copy the build wrote (about 30 KB;
/// map-ui/build.mjs). Any other request for the worker gets the precompressed copy as before,
/// and both answers say they vary by `Available-Dictionary`.
pub async fn worker_delta(dir: Arc<PathBuf>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if !path.starts_with("/a/") || path.split('/').any(|s| s == ".." || s == ".") {
        return next.run(req).await;
    }
    if path.ends_with(DICTIONARY_FILE) {
        let mut res = next.run(req).await;
        if res.status() == StatusCode::OK {
            res.headers_mut().insert(
                HeaderName::from_static("use-as-dictionary"),
                HeaderValue::from_static(USE_AS_DICTIONARY),
            );
        }
        return res;
    }
    if !path.ends_with(WORKER_FILE) {
        return next.run(req).await;
    }
    let readable = matches!(*req.method(), Method::GET | Method::HEAD);
    let delta = match wanted_dictionary(req.headers()) {
        Some(hash) if readable => read_delta(&dir.join(format!("{}.dcz", &path[1..])), &hash).await,
        _ => None,
    };
    let mut res = match delta {
        Some(body) => (
            [
                (header::CONTENT_TYPE, "text/javascript"),
                (header::CONTENT_ENCODING, "dcz"),
                // Private: a shared cache that keys only on Accept-Encoding (many ignore
                // `Vary: Available-Dictionary`) must never hand the delta to a browser without
                // the dictionary. The brotli copy stays public.
                (
                    header::CACHE_CONTROL,
                    "private, max-age=31536000, immutable",
                ),
            ],
            Body::from(body),
        )
            .into_response(),
        None => next.run(req).await,
    };
    // Added to whatever `Vary` an inner layer set, as one value.
    let h = res.headers_mut();
    let mut vary: Vec<String> = h
        .get_all(header::VARY)
        .iter()
        .filter_map(|x| x.to_str().ok())
        .flat_map(|x| x.split(','))
        .map(|x| x.trim().to_ascii_lowercase())
        .filter(|x| !x.is_empty())
        .collect();
    for v in ["accept-encoding", "available-dictionary"] {
        if !vary.iter().any(|x| x == v) {
            vary.push(v.to_owned());
        }
    }
    if let Ok(v) = HeaderValue::from_str(&vary.join(", ")) {
        h.insert(header::VARY, v);
    }
    res
}

/// The SHA-256 a request offers as its dictionary, if it also accepts `dcz`.
fn wanted_dictionary(headers: &HeaderMap) -> Option<Vec<u8>> {
    let accepts = headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|e| {
            let mut parts = e.split(';');
            let is_dcz = parts.next().is_some_and(|t| t.trim() == "dcz");
            // `dcz;q=0` refuses it (RFC 9110, 12.5.3).
            let refused = parts.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            is_dcz && !refused
        });
    if !accepts {
        return None;
    }
    // A structured-field byte sequence: `:<base64>:`.
    let value = headers.get("available-dictionary")?.to_str().ok()?.trim();
    let b64 = value.strip_prefix(':')?.strip_suffix(':')?;
    let hash = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
    (hash.len() == 32).then_some(hash)
}

/// The `.dcz` file when it is a delta against the dictionary `hash`; `None` otherwise (no such
/// file: an older build or no zstd at build time; another build's main module).
async fn read_delta(file: &Path, hash: &[u8]) -> Option<Vec<u8>> {
    let body = tokio::fs::read(file).await.ok()?;
    let ok = body.len() > DCZ_HEADER_LEN
        && body[..DCZ_MAGIC.len()] == DCZ_MAGIC
        && &body[DCZ_MAGIC.len()..DCZ_HEADER_LEN] == hash;
    ok.then_some(body)
}
