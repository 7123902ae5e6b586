//! The API error: an HTTP status, an RFC 9457 problem+json body, and a message in the caller's
//! language (Bahasa Indonesia by default, English when `Accept-Language` prefers it).
//!
//! Internal errors are logged with their full chain and answered with a generic message: a 5xx
//! body never carries internal text.

use std::borrow::Cow;

use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::store::StoreError;

/// The two languages SIGAP speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Id,
    En,
}

impl Lang {
    /// Picks the language from an `Accept-Language` header: the first of `id`/`en` by quality.
    pub fn from_headers(headers: &HeaderMap) -> Lang {
        let Some(value) = headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
        else {
            return Lang::Id;
        };
        let mut best: Option<(f32, Lang)> = None;
        for part in value.split(',') {
            let mut it = part.trim().split(';');
            let tag = it.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = it
                .find_map(|p| {
                    p.trim()
                        .strip_prefix("q=")
                        .and_then(|q| q.parse::<f32>().ok())
                })
                .unwrap_or(1.0);
            let lang = if tag.starts_with("en") {
                Lang::En
            } else if tag.starts_with("id") || tag.starts_with("in") {
                Lang::Id
            } else {
                continue;
            };
            if best.is_none_or(|(bq, _)| q > bq) {
                best = Some((q, lang));
            }
        }
        best.map(|(_, l)| l).unwrap_or(Lang::Id)
    }

    pub fn tag(self) -> &'static str {
        match self {
            Lang::Id => "id",
            Lang::En => "en",
        }
    }
}

tokio::task_local! {
    static REQUEST_LANG: Lang;
}

/// The language of the request being served (Indonesian outside a request).
pub fn current_lang() -> Lang {
    REQUEST_LANG.try_with(|l| *l).unwrap_or_default()
}

/// Middleware: remembers the caller's language for the error messages of this request.
pub async fn language(req: Request, next: Next) -> Response {
    let lang = Lang::from_headers(req.headers());
    let mut res = REQUEST_LANG.scope(lang, next.run(req)).await;
    // A handler that answers in another language (a follower's own) says so itself.
    res.headers_mut()
        .entry(header::CONTENT_LANGUAGE)
        .or_insert(HeaderValue::from_static(lang.tag()));
    res
}

/// A message in both languages.
#[derive(Debug, Clone)]
pub struct Msg {
    pub id: Cow<'static, str>,
    pub en: Cow<'static, str>,
}

impl Msg {
    pub fn new(id: impl Into<Cow<'static, str>>, en: impl Into<Cow<'static, str>>) -> Self {
        Self {
            id: id.into(),
            en: en.into(),
        }
    }

    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Id => &self.id,
            Lang::En => &self.en,
        }
    }
}

/// An error answered to an HTTP client.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    /// Short stable slug, part of the problem `type` URI.
    pub kind: &'static str,
    pub message: Msg,
    /// Extra members of the problem body (e.g. per-field errors).
    pub extra: Option<serde_json::Value>,
    /// The internal cause, logged but never sent.
    source: Option<anyhow::Error>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: StatusCode, kind: &'static str, message: Msg) -> Self {
        Self {
            status,
            kind,
            message,
            extra: None,
            source: None,
        }
    }
    pub fn bad_request(message: Msg) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad-request", message)
    }
    pub fn not_found(message: Msg) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not-found", message)
    }
    pub fn unauthorized(message: Msg) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }
    pub fn forbidden(message: Msg) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }
    pub fn conflict(message: Msg) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", message)
    }
    pub fn unprocessable(message: Msg) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "unprocessable", message)
    }
    /// A 422 naming the field that is wrong; the body adds `errors: [{field, message}]` so a form
    /// can mark the field.
    pub fn invalid_field(field: &str, id: impl Into<String>, en: impl Into<String>) -> Self {
        let en = en.into();
        Self::unprocessable(Msg::new(id.into(), en.clone()))
            .with_extra(serde_json::json!({ "errors": [{ "field": field, "message": en }] }))
    }
    pub fn not_acceptable(message: Msg) -> Self {
        Self::new(StatusCode::NOT_ACCEPTABLE, "not-acceptable", message)
    }
    pub fn too_large(message: Msg) -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, "payload-too-large", message)
    }
    pub fn too_many_requests(message: Msg) -> Self {
        Self::new(StatusCode::TOO_MANY_REQUESTS, "too-many-requests", message)
    }
    pub fn service_unavailable(message: Msg) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message)
    }
    /// An internal failure: logged in full, answered with a generic 500.
    pub fn internal(source: impl Into<anyhow::Error>) -> Self {
        let mut e = Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            Msg::new(
                "Terjadi kesalahan pada server. Silakan coba lagi nanti.",
                "Something went wrong on the server. Please try again later.",
            ),
        );
        e.source = Some(source.into());
        e
    }
    pub fn with_extra(mut self, extra: serde_json::Value) -> Self {
        self.extra = Some(extra);
        self
    }

    fn title(&self, lang: Lang) -> &'static str {
        let (id, en) = match self.status.as_u16() {
            400 => ("Permintaan tidak valid", "Bad request"),
            401 => ("Perlu masuk", "Authentication required"),
            403 => ("Tidak diizinkan", "Forbidden"),
            404 => ("Tidak ditemukan", "Not found"),
            406 => ("Format tidak tersedia", "Not acceptable"),
            409 => ("Konflik", "Conflict"),
            413 => ("Data terlalu besar", "Payload too large"),
            415 => ("Jenis media tidak didukung", "Unsupported media type"),
            416 => ("Rentang tidak dapat dipenuhi", "Range not satisfiable"),
            422 => ("Data tidak dapat diproses", "Unprocessable content"),
            429 => ("Terlalu banyak permintaan", "Too many requests"),
            503 => ("Layanan belum siap", "Service unavailable"),
            _ => ("Kesalahan server", "Server error"),
        };
        match lang {
            Lang::Id => id,
            Lang::En => en,
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status, self.kind, self.message.en)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let lang = current_lang();
        if let Some(source) = &self.source {
            tracing::error!(error = format!("{source:#}"), "request failed");
        }
        let mut body = json!({
            "type": format!("urn:sigap:problem:{}", self.kind),
            "title": self.title(lang),
            "status": self.status.as_u16(),
            "detail": self.message.get(lang),
        });
        if let (Some(serde_json::Value::Object(extra)), Some(obj)) =
            (self.extra, body.as_object_mut())
        {
            obj.extend(extra);
        }
        let mut res = (self.status, body.to_string()).into_response();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        // A 503 is always temporary here (database unreachable, a kind of work saturated).
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            res.headers_mut()
                .entry(header::RETRY_AFTER)
                .or_insert(HeaderValue::from_static("2"));
        }
        res
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        if e.is_unavailable() {
            let mut err = ApiError::service_unavailable(Msg::new(
                "Basis data sedang tidak dapat dihubungi. Coba lagi sebentar lagi.",
                "The database cannot be reached right now. Try again shortly.",
            ));
            err.source = Some(e.into());
            return err;
        }
        ApiError::internal(e)
    }
}

/// Fallback for routes that do not exist.
pub async fn not_found_fallback() -> ApiError {
    ApiError::not_found(Msg::new(
        "Alamat ini tidak ada di SIGAP.",
        "There is nothing at this address in SIGAP.",
    ))
}
