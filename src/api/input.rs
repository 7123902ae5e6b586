//! Request input shared by the resources: a JSON body whose errors become problem+json (400
//! malformed, 422 wrong shape, 413 too large, 415 not JSON), and the client IP.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use serde::de::DeserializeOwned;

use crate::error::{ApiError, Msg};
use crate::AppState;

/// A JSON request body.
pub struct JsonBody<T>(pub T);

/// Reads a body, answering 413 when it exceeds the configured limit.
pub async fn read_body(req: Request, state: &AppState) -> Result<Bytes, ApiError> {
    Bytes::from_request(req, state).await.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            body_too_large(state.config.body_limit_bytes)
        } else {
            ApiError::bad_request(Msg::new(
                "Isi permintaan tidak dapat dibaca.",
                "The request body could not be read.",
            ))
        }
    })
}

pub fn body_too_large(limit: usize) -> ApiError {
    ApiError::too_large(Msg::new(
        format!("Isi permintaan melebihi batas {limit} byte."),
        format!("The request body exceeds the limit of {limit} bytes."),
    ))
}

/// Parses JSON, telling malformed text (400) from a well-formed value of the wrong shape (422).
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| {
        use serde_json::error::Category;
        match e.classify() {
            Category::Data => ApiError::unprocessable(Msg::new(
                format!("Data tidak sesuai: {e}"),
                format!("The data does not fit: {e}"),
            )),
            _ => ApiError::bad_request(Msg::new(
                format!("JSON tidak valid: {e}"),
                format!("Malformed JSON: {e}"),
            )),
        }
    })
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|ct| {
            let ct = ct.to_ascii_lowercase();
            ct.starts_with("application/json") || ct.contains("+json")
        })
        .unwrap_or(false)
}

pub fn unsupported_media(id: &str, en: &str) -> ApiError {
    ApiError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported-media-type",
        Msg::new(id.to_owned(), en.to_owned()),
    )
}

impl<T: DeserializeOwned> FromRequest<AppState> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        if !is_json(req.headers()) {
            return Err(unsupported_media(
                "Kirim data sebagai application/json.",
                "Send the data as application/json.",
            ));
        }
        let bytes = read_body(req, state).await?;
        parse_json(&bytes).map(JsonBody)
    }
}

/// The client's IP: the TCP peer, or the last `X-Forwarded-For` hop when
/// `SIGAP_TRUST_PROXY` says a proxy in front writes that header.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if state.config.trust_proxy {
            // The proxy appends the address it saw; earlier entries are the client's to forge.
            let forwarded = parts
                .headers
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .filter_map(|s| s.trim().parse::<IpAddr>().ok())
                .next_back();
            if let Some(ip) = forwarded {
                return Ok(ClientIp(ip));
            }
        }
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip())
            .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        Ok(ClientIp(peer))
    }
}
