//! Read-your-writes across a fleet with read replicas: a successful write answers with the
//! primary's WAL position after it committed, in the `SIGAP-LSN` header and a short-lived
//! `sigap_lsn` cookie; a later request carrying either (to any process of the fleet) reads only
//! from a replica that has replayed that position, waiting a moment for one, else from the
//! primary (`store::read_routing`). Without replicas this layer does nothing.

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::Response;
use axum_extra::extract::cookie::CookieJar;

use crate::store::read_routing::{format_lsn, parse_lsn, READ_AFTER_LSN};
use crate::AppState;

pub const LSN_HEADER: &str = "sigap-lsn";
pub const LSN_COOKIE: &str = "sigap_lsn";
/// How long the cookie lives: replicas replay within seconds; one that lags a minute is an
/// operations alarm (docs/operations.md), and its reads for this client go to the primary.
const LSN_COOKIE_MAX_AGE_S: u32 = 60;

/// The LSN a request asks to read after: the header, else the cookie, else 0.
fn requested(req: &Request) -> u64 {
    let header = req
        .headers()
        .get(LSN_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(parse_lsn);
    header
        .or_else(|| {
            CookieJar::from_headers(req.headers())
                .get(LSN_COOKIE)
                .and_then(|c| parse_lsn(c.value()))
        })
        .unwrap_or(0)
}

pub async fn layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if !state.reads.has_replicas() {
        return next.run(req).await;
    }
    let after = requested(&req);
    let writes = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let mut res = READ_AFTER_LSN.scope(after, next.run(req)).await;
    // A 4xx writes nothing (one transaction per request), so only successes carry a position.
    if !(writes && res.status().is_success()) {
        return res;
    }
    match state.reads.primary_lsn().await {
        Ok(lsn) => {
            let text = format_lsn(lsn.max(after));
            let secure = if state.config.is_https() {
                "; Secure"
            } else {
                ""
            };
            let cookie = format!(
                "{LSN_COOKIE}={text}; Path=/; Max-Age={LSN_COOKIE_MAX_AGE_S}; HttpOnly; SameSite=Lax{secure}"
            );
            let h = res.headers_mut();
            if let Ok(v) = HeaderValue::from_str(&text) {
                h.insert(LSN_HEADER, v);
            }
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                h.append(header::SET_COOKIE, v);
            }
        }
        // The write is done; without a position the client's next reads may lag, never fail.
        Err(e) => tracing::warn!(error = %e, "cannot read the WAL position after a write"),
    }
    res
}
