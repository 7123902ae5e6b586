//! Revalidation for public JSON (OGC collections and items, TileJSON, the live gap run): a strong
//! ETag computed from the body and `Cache-Control: no-cache`, so a returning browser asks again
//! and is answered 304 with no body when nothing changed. That is what keeps a repeat visit on a
//! phone small: the map's panel data costs a few hundred bytes instead of its full size.
//!
//! Inside the compression layer, so the ETag names the uncompressed body and
//! `compression::etag_per_encoding` marks each encoding.

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures::StreamExt;

/// Bodies larger than this are sent without an ETag (exports of thousands of features).
const MAX_BODY: usize = 16 * 1024 * 1024;

fn public_json(path: &str) -> bool {
    path.starts_with("/ogc/")
        || (path.starts_with("/tiles/") && path.ends_with(".json"))
        || path == "/api/analysis/gap/latest"
}

pub async fn layer(req: Request, next: Next) -> Response {
    if req.method() != Method::GET || !public_json(req.uri().path()) {
        return next.run(req).await;
    }
    let if_none_match = req.headers().get(header::IF_NONE_MATCH).cloned();
    let res = next.run(req).await;
    let json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.contains("json"));
    if res.status() != StatusCode::OK || !json || res.headers().contains_key(header::ETAG) {
        return res;
    }
    // Read the body (items stream out of PostgreSQL); past MAX_BODY give up tagging and send
    // what was read followed by the rest of the stream, so nothing is held or lost.
    let (mut parts, body) = res.into_parts();
    let mut stream = body.into_data_stream();
    let mut chunks: Vec<Bytes> = Vec::new();
    let mut size = 0usize;
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(c) => {
                size += c.len();
                chunks.push(c);
                if size > MAX_BODY {
                    let head = futures::stream::iter(chunks.into_iter().map(Ok::<_, axum::Error>));
                    return Response::from_parts(parts, Body::from_stream(head.chain(stream)));
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "reading a response body to tag it");
                return StatusCode::SERVICE_UNAVAILABLE.into_response();
            }
        }
    }
    let bytes: Bytes = chunks.concat().into();
    let etag = super::etag::of(&bytes);
    let matches = if_none_match
        .as_ref()
        .and_then(|v| v.to_str().ok())
        .is_some_and(|list| super::etag::none_match_hits(list, &etag));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        parts.headers.insert(header::ETAG, v);
    }
    parts
        .headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-cache"));
    if matches {
        parts.status = StatusCode::NOT_MODIFIED;
        parts.headers.remove(header::CONTENT_LENGTH);
        parts.headers.remove(header::CONTENT_TYPE);
        return Response::from_parts(parts, Body::empty());
    }
    Response::from_parts(parts, Body::from(bytes))
}
