//! `Idempotency-Key` on the writes a client may retry (a submission, a support, an Open311
//! request, a status change, a budget adoption): the same key from the same caller with the same
//! request answers the first result again (same id, same status) instead of writing twice.
//!
//! - The key is scoped by the caller's credential (bearer token or session cookie; anonymous
//!   callers share one scope, so their keys must be unguessable, e.g. UUIDs).
//! - The request is identified by a SHA-256 of method, path, query and body (a multipart body
//!   without its random boundary); the same key with another request is 422.
//! - The first request claims the key (a 'pending' row); a concurrent retry waits up to
//!   [`WAIT`] for it to finish and then answers its result, or 409 "still in progress" with
//!   `Retry-After`.
//! - Responses 2xx and 4xx are kept (except 401, 403 and 429, which depend on credentials and
//!   time, not on the request); a 5xx gives the key back so a retry runs again.
//! - Keys expire after [`EXPIRY`] (24 hours); expired keys are deleted once an hour.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use crate::error::{ApiError, Msg};
use crate::store::{idempotency as store, StoreError};
use crate::AppState;

pub const HEADER: &str = "idempotency-key";
/// How long a key is remembered.
pub const EXPIRY: Duration = Duration::from_secs(24 * 3600);
/// A pending key older than this belongs to a request that died with its server; it may be
/// claimed again. Longer than any write's statement timeout.
const ABANDONED: Duration = Duration::from_secs(120);
/// How long a concurrent retry waits for the first request before answering 409.
pub const WAIT: Duration = Duration::from_secs(10);
const POLL: Duration = Duration::from_millis(25);
/// Responses larger than this are not kept (the writes covered answer small JSON).
const RESPONSE_MAX_BYTES: usize = 1024 * 1024;

/// The writes that take a key.
fn covered(method: &Method, path: &str) -> bool {
    if method != Method::POST {
        return false;
    }
    let parts: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    matches!(
        parts.as_slice(),
        ["", "api", "proposals"]
            | ["", "api", "proposals", _, "support"]
            | ["", "api", "proposals", _, "status"]
            | ["", "open311", "v2", "requests.json"]
            | ["", "api", "budget", "scenarios", _, "adopt"]
    )
}

/// Middleware: everything without a key, or not covered, passes straight through.
pub async fn layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Some(key) = req.headers().get(HEADER) else {
        return next.run(req).await;
    };
    if !covered(req.method(), req.uri().path()) {
        return next.run(req).await;
    }
    let key =
        match key.to_str() {
            Ok(k) if !k.is_empty() && k.len() <= 255 && k.bytes().all(|b| b.is_ascii_graphic()) => {
                k.to_owned()
            }
            _ => return ApiError::bad_request(Msg::new(
                "Idempotency-Key harus 1 sampai 255 karakter ASCII tanpa spasi (misalnya UUID).",
                "Idempotency-Key must be 1 to 255 ASCII characters without spaces (a UUID, say).",
            ))
            .into_response(),
        };
    match run(state, key, req, next).await {
        Ok(res) => res,
        Err(e) => e.into_response(),
    }
}

fn scope(headers: &HeaderMap) -> Vec<u8> {
    let mut h = Sha256::new();
    if let Some(auth) = headers.get(header::AUTHORIZATION) {
        h.update(b"authorization\0");
        h.update(auth.as_bytes());
    } else if let Some(session) = axum_extra::extract::CookieJar::from_headers(headers)
        .get(super::auth::SESSION_COOKIE)
        .map(|c| c.value().to_owned())
    {
        h.update(b"session\0");
        h.update(session.as_bytes());
    } else {
        h.update(b"anonymous");
    }
    h.finalize().to_vec()
}

fn request_hash(
    method: &Method,
    uri: &axum::http::Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Vec<u8> {
    let mut h = Sha256::new();
    h.update(method.as_str().as_bytes());
    h.update(b"\0");
    h.update(uri.path().as_bytes());
    h.update(b"\0");
    h.update(uri.query().unwrap_or("").as_bytes());
    h.update(b"\0");
    // A browser retrying a FormData body picks a new random boundary: hash without it.
    let boundary = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|ct| {
            ct.split(';')
                .find_map(|p| p.trim().strip_prefix("boundary="))
        })
        .map(|b| b.trim_matches('"').as_bytes().to_vec())
        .filter(|b| !b.is_empty());
    match boundary {
        Some(b) => {
            let mut rest = body;
            while let Some(at) = rest.windows(b.len()).position(|w| w == b.as_slice()) {
                h.update(&rest[..at]);
                rest = &rest[at + b.len()..];
            }
            h.update(rest);
        }
        None => h.update(body),
    }
    h.finalize().to_vec()
}

fn replay(stored: store::Stored) -> Response {
    let status = u16::try_from(stored.status.unwrap_or(200))
        .ok()
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::OK);
    let mut res = (status, stored.body).into_response();
    let h = res.headers_mut();
    if let Some(ct) = stored
        .content_type
        .and_then(|v| HeaderValue::from_str(&v).ok())
    {
        h.insert(header::CONTENT_TYPE, ct);
    }
    if let Some(loc) = stored.location.and_then(|v| HeaderValue::from_str(&v).ok()) {
        h.insert(header::LOCATION, loc);
    }
    h.insert("idempotent-replayed", HeaderValue::from_static("true"));
    res
}

fn mismatch() -> ApiError {
    ApiError::unprocessable(Msg::new(
        "Idempotency-Key ini sudah dipakai untuk permintaan lain. Gunakan kunci baru untuk permintaan baru.",
        "This Idempotency-Key was already used for a different request. Use a new key for a new request.",
    ))
}

fn in_progress() -> Response {
    let mut res = ApiError::conflict(Msg::new(
        "Permintaan dengan Idempotency-Key ini masih diproses. Coba lagi sebentar lagi.",
        "A request with this Idempotency-Key is still in progress. Try again shortly.",
    ))
    .into_response();
    res.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    res
}

/// Whether a response is the request's own lasting answer (kept for retries).
fn keep(status: StatusCode) -> bool {
    (status.is_success() || status.is_client_error())
        && !matches!(
            status,
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN | StatusCode::TOO_MANY_REQUESTS
        )
}

async fn run(state: AppState, key: String, req: Request, next: Next) -> Result<Response, ApiError> {
    cleanup_now_and_then(&state);
    let (parts, body) = req.into_parts();
    let body: Bytes = axum::body::to_bytes(body, state.config.body_limit_bytes)
        .await
        .map_err(|_| {
            ApiError::too_large(Msg::new(
                "Isi permintaan terlalu besar.",
                "The request body is too large.",
            ))
        })?;
    let scope = scope(&parts.headers);
    let hash = request_hash(&parts.method, &parts.uri, &parts.headers, &body);

    let started = tokio::time::Instant::now();
    loop {
        let client = super::conn(&state).await?;
        let claimed = store::claim(
            &client,
            &scope,
            &key,
            &hash,
            EXPIRY.as_secs_f64(),
            ABANDONED.as_secs_f64(),
        )
        .await?;
        if claimed {
            // Give the connection back before the handler asks for its own.
            drop(client);
            return execute(
                &state,
                &scope,
                &key,
                Request::from_parts(parts, Body::from(body)),
                next,
            )
            .await;
        }
        match store::get(&client, &scope, &key).await? {
            // Released or expired between our claim and this read: claim again.
            None => {}
            Some(stored) if stored.request_hash != hash => return Err(mismatch()),
            Some(stored) if stored.status.is_some() => return Ok(replay(stored)),
            Some(_) if started.elapsed() >= WAIT => return Ok(in_progress()),
            Some(_) => {}
        }
        drop(client);
        tokio::time::sleep(POLL).await;
    }
}

async fn execute(
    state: &AppState,
    scope: &[u8],
    key: &str,
    req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    // If the handler panics or the client goes away, the pending row is left to expire as
    // abandoned (ABANDONED), never answered as a success.
    let res = next.run(req).await;
    let status = res.status();
    if !keep(status) {
        let client = super::conn(state).await?;
        store::release(&client, scope, key).await?;
        return Ok(res);
    }
    let (parts, body) = res.into_parts();
    let bytes = match axum::body::to_bytes(body, RESPONSE_MAX_BYTES).await {
        Ok(b) => b,
        Err(e) => {
            let client = super::conn(state).await?;
            store::release(&client, scope, key).await?;
            return Err(ApiError::internal(anyhow::anyhow!(
                "idempotent response body unreadable: {e}"
            )));
        }
    };
    let header_text = |name: header::HeaderName| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let stored = async {
        let client = state.pool.get().await.map_err(StoreError::from)?;
        store::complete(
            &client,
            scope,
            key,
            status.as_u16() as i16,
            header_text(header::CONTENT_TYPE).as_deref(),
            header_text(header::LOCATION).as_deref(),
            &bytes,
        )
        .await
    }
    .await;
    if let Err(e) = stored {
        // The write happened; the client gets its answer. A retry within ABANDONED gets 409,
        // after it the key may run again (logged so an operator can see it).
        tracing::error!(error = %e, "could not store an idempotent response");
    }
    Ok(Response::from_parts(parts, Body::from(bytes)))
}

/// Deletes expired keys at most once an hour, in the background.
fn cleanup_now_and_then(state: &AppState) {
    static LAST: AtomicI64 = AtomicI64::new(0);
    let now = chrono::Utc::now().timestamp();
    let last = LAST.load(Ordering::Relaxed);
    if now - last < 3600
        || LAST
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_err()
    {
        return;
    }
    let pool = state.pool.clone();
    tokio::spawn(async move {
        let result = async {
            let client = pool.get().await.map_err(StoreError::from)?;
            store::delete_expired(&client, EXPIRY.as_secs_f64()).await
        }
        .await;
        match result {
            Ok(n) => tracing::debug!(deleted = n, "expired idempotency keys"),
            Err(e) => tracing::warn!(error = %e, "deleting expired idempotency keys"),
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn covers_the_retryable_writes_only() {
        assert!(covered(&Method::POST, "/api/proposals"));
        assert!(covered(&Method::POST, "/api/proposals/12/support"));
        assert!(covered(&Method::POST, "/api/proposals/12/status"));
        assert!(covered(&Method::POST, "/open311/v2/requests.json"));
        assert!(covered(&Method::POST, "/api/budget/scenarios/3/adopt"));
        assert!(!covered(&Method::GET, "/api/proposals"));
        assert!(!covered(&Method::POST, "/api/auth/login"));
        assert!(!covered(&Method::DELETE, "/api/proposals/12/support"));
    }

    #[test]
    fn multipart_hash_ignores_the_boundary() {
        let uri: axum::http::Uri = "/api/proposals".parse().unwrap();
        let body = |b: &str| {
            format!("--{b}\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n1\r\n--{b}--\r\n")
        };
        let headers = |b: &str| {
            let mut h = HeaderMap::new();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_str(&format!("multipart/form-data; boundary={b}")).unwrap(),
            );
            h
        };
        let one = request_hash(
            &Method::POST,
            &uri,
            &headers("aaa111"),
            body("aaa111").as_bytes(),
        );
        let two = request_hash(
            &Method::POST,
            &uri,
            &headers("bbb222"),
            body("bbb222").as_bytes(),
        );
        assert_eq!(one, two);
        let other = body("aaa111").replace("\r\n1\r\n", "\r\n2\r\n");
        let three = request_hash(&Method::POST, &uri, &headers("aaa111"), other.as_bytes());
        assert_ne!(one, three);
    }
}
