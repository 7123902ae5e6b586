//! Compression of every compressible response — JSON, GeoJSON, HTML, CSV, MVT, the map's
//! JavaScript — with brotli or gzip as the client's `Accept-Encoding` prefers (`Vary:
//! Accept-Encoding` is set), and ETags kept correct per encoding.
//!
//! A strong ETag names one representation, so a compressed response carries its handler's
//! ETag with `-br` or `-gzip` before the closing quote. A conditional request sends that back:
//! the suffix is taken off before the handler compares, and put back on its 304.
//! Byte ranges (PMTiles basemaps) and already-compressed types (images, zip, GeoPackage) are
//! sent as they are.

use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Version};
use axum::middleware::Next;
use axum::response::Response;
use tower_http::compression::predicate::{DefaultPredicate, NotForContentType, Predicate};
use tower_http::compression::{CompressionLayer, CompressionLevel};

const SUFFIXES: [&str; 2] = ["-br", "-gzip"];

/// The compression layer: brotli and gzip at a level that suits answering on the fly.
pub fn layer() -> CompressionLayer<impl Predicate> {
    let predicate = DefaultPredicate::new()
        .and(NotForContentType::const_new("application/zip"))
        .and(NotForContentType::const_new(
            "application/geopackage+sqlite3",
        ))
        .and(NotForContentType::const_new("application/vnd.pmtiles"))
        .and(
            |_: StatusCode, _: Version, h: &HeaderMap, _: &axum::http::Extensions| {
                !h.contains_key(header::CONTENT_RANGE)
            },
        );
    CompressionLayer::new()
        .br(true)
        .gzip(true)
        .quality(CompressionLevel::Precise(4))
        .compress_when(predicate)
}

/// The suffix of an ETag (`"abc-br"` → `("\"abc\"", "-br")`), if it has one of ours.
fn split(tag: &str) -> Option<(String, &'static str)> {
    let inner = tag.strip_suffix('"')?;
    SUFFIXES
        .iter()
        .find_map(|s| inner.strip_suffix(s).map(|base| (format!("{base}\""), *s)))
}

/// Wraps the compression layer (outside it): per-encoding ETags, see the module docs.
pub async fn etag_per_encoding(mut req: Request, next: Next) -> Response {
    let mut stripped: Option<&'static str> = None;
    if let Some(v) = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
    {
        let tags: Vec<String> = v
            .split(',')
            .map(|t| {
                let t = t.trim();
                let (weak, bare) = match t.strip_prefix("W/") {
                    Some(b) => ("W/", b),
                    None => ("", t),
                };
                match split(bare) {
                    Some((base, suffix)) => {
                        stripped = Some(suffix);
                        format!("{weak}{base}")
                    }
                    None => t.to_owned(),
                }
            })
            .collect();
        if let Ok(v) = HeaderValue::from_str(&tags.join(", ")) {
            req.headers_mut().insert(header::IF_NONE_MATCH, v);
        }
    }
    let mut res = next.run(req).await;
    let suffix = match res
        .headers()
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
    {
        Some("br") => Some("-br"),
        Some("gzip") => Some("-gzip"),
        Some(_) => None,
        None if res.status() == StatusCode::NOT_MODIFIED => stripped,
        None => None,
    };
    if let Some(suffix) = suffix {
        let tagged = res
            .headers()
            .get(header::ETAG)
            .and_then(|v| v.to_str().ok())
            .and_then(|t| t.strip_suffix('"').map(|b| format!("{b}{suffix}\"")))
            .and_then(|t| HeaderValue::from_str(&t).ok());
        if let Some(v) = tagged {
            res.headers_mut().insert(header::ETAG, v);
        }
    }
    res
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn suffixes_come_off_quoted_tags_only() {
        assert_eq!(split("\"abc-br\""), Some(("\"abc\"".to_owned(), "-br")));
        assert_eq!(split("\"abc-gzip\""), Some(("\"abc\"".to_owned(), "-gzip")));
        assert_eq!(split("\"abc\""), None);
        assert_eq!(split("abc-br"), None);
    }
}
