//! The basemap: `/config.json` tells the map which basemap to draw under SIGAP's layers (from
//! the `SIGAP_BASEMAP_*` settings), and `/basemap/{name}.pmtiles` serves the operator's PMTiles
//! archives from `SIGAP_BASEMAP_DIR` with HTTP range requests, which is how a PMTiles reader
//! fetches its header, directories and tiles.
//!
//! Range handling (RFC 9110 §14): one byte range answers 206 with `Content-Range`; a range that
//! starts past the end answers 416 with `Content-Range: bytes */LEN`; a syntactically invalid
//! Range header is ignored (200, the whole archive), and so is a request for several ranges,
//! which PMTiles readers never send. `If-Range` with a validator other than the current one also
//! answers the whole archive. The ETag is strong and changes whenever the file's size or
//! modification time does, so a replaced archive is never mixed with cached parts of the old one.

use std::io::SeekFrom;
use std::path::Path as FsPath;
use std::time::UNIX_EPOCH;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio_util::io::ReaderStream;
use tower_http::cors::{Any, CorsLayer};

use crate::config::ServeConfig;
use crate::error::{ApiError, ApiResult, Msg};
use crate::AppState;

/// Registered for PMTiles archives (the PMTiles v3 specification).
const PMTILES_TYPE: &str = "application/vnd.pmtiles";
/// Clients revalidate (cheap with the ETag), so an archive the operator replaces shows at once.
const CACHE_CONTROL: &str = "public, max-age=0, must-revalidate";
const NAME_MAX_LEN: usize = 100;
/// Read buffer of the streamed body: large enough for a PMTiles directory in one or two reads.
const CHUNK_BYTES: usize = 64 * 1024;

pub fn router() -> Router<AppState> {
    // The archives are public map data: any web map may read them, as it may the vector tiles.
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::HEAD])
        .allow_headers([
            header::RANGE,
            header::IF_NONE_MATCH,
            header::IF_RANGE,
            header::IF_MODIFIED_SINCE,
        ])
        .expose_headers([
            header::CONTENT_RANGE,
            header::CONTENT_LENGTH,
            header::ACCEPT_RANGES,
            header::ETAG,
            header::LAST_MODIFIED,
        ]);
    Router::new()
        .route("/config.json", get(map_config))
        // A catch-all, so `/basemap/a/b` answers problem+json rather than the map's index page.
        .route("/basemap/{*file}", get(archive).layer(cors))
}

/// The map's configuration: `{"basemap": null | {"type": "raster"|"pmtiles"|"style", ...}}`.
async fn map_config(State(state): State<AppState>) -> Response {
    let body = json!({ "basemap": basemap_json(&state.config) });
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body.to_string(),
    )
        .into_response()
}

/// The effective basemap: the style when one is set, else the tile setting (`none` or empty: no
/// basemap; `pmtiles://NAME`: an archive served here; `pmtiles://https://…`: one elsewhere).
pub fn basemap_json(cfg: &ServeConfig) -> Value {
    let attribution = match cfg.basemap_attribution.trim() {
        "" => Value::Null,
        a => Value::from(a),
    };
    if let Some(style) = cfg.basemap_style.as_deref().map(str::trim) {
        if !style.is_empty() {
            return json!({ "type": "style", "url": style, "attribution": attribution });
        }
    }
    let tiles = cfg.basemap_tiles.trim();
    if tiles.is_empty() || tiles.eq_ignore_ascii_case("none") {
        return Value::Null;
    }
    if let Some(rest) = tiles.strip_prefix("pmtiles://") {
        let url = if rest.contains("://") {
            rest.to_owned()
        } else {
            let name = rest.strip_suffix(".pmtiles").unwrap_or(rest);
            format!("/basemap/{name}.pmtiles")
        };
        return json!({ "type": "pmtiles", "url": url, "attribution": attribution });
    }
    json!({ "type": "raster", "tiles": tiles, "attribution": attribution })
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= NAME_MAX_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn no_archive(file: &str) -> ApiError {
    ApiError::not_found(Msg::new(
        format!("Tidak ada peta dasar '{file}'. Arsip diletakkan di SIGAP_BASEMAP_DIR sebagai NAMA.pmtiles."),
        format!("There is no basemap '{file}'. Archives go in SIGAP_BASEMAP_DIR as NAME.pmtiles."),
    ))
}

/// What the Range header asks of an archive of `len` bytes.
#[derive(Debug, PartialEq, Eq)]
enum Wanted {
    /// No usable range: the whole archive.
    Whole,
    /// Bytes `start..=end`.
    Part {
        start: u64,
        end: u64,
    },
    Unsatisfiable,
}

fn parse_range(value: &str, len: u64) -> Wanted {
    let value = value.trim();
    let Some(spec) = value
        .get(..6)
        .filter(|unit| unit.eq_ignore_ascii_case("bytes="))
        .map(|_| value[6..].trim())
    else {
        return Wanted::Whole;
    };
    if spec.contains(',') {
        return Wanted::Whole;
    }
    let Some((first, last)) = spec.split_once('-') else {
        return Wanted::Whole;
    };
    let num = |s: &str| {
        let s = s.trim();
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<u64>().ok())
            .flatten()
    };
    match (first.trim().is_empty(), num(first), num(last)) {
        // `bytes=-N`: the last N bytes.
        (true, _, Some(n)) => {
            if n == 0 || len == 0 {
                Wanted::Unsatisfiable
            } else {
                Wanted::Part {
                    start: len.saturating_sub(n),
                    end: len - 1,
                }
            }
        }
        (false, Some(start), end) => {
            let end = match (last.trim().is_empty(), end) {
                (true, _) => u64::MAX,
                (false, Some(end)) if end >= start => end,
                _ => return Wanted::Whole,
            };
            if start >= len {
                Wanted::Unsatisfiable
            } else {
                Wanted::Part {
                    start,
                    end: end.min(len - 1),
                }
            }
        }
        _ => Wanted::Whole,
    }
}

struct Validators {
    len: u64,
    etag: String,
    last_modified: String,
}

async fn validators(file: &tokio::fs::File) -> std::io::Result<Validators> {
    let meta = file.metadata().await?;
    let modified = meta.modified()?;
    let nanos = modified
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    Ok(Validators {
        len: meta.len(),
        etag: format!("\"{:x}-{nanos:x}\"", meta.len()),
        last_modified: httpdate::fmt_http_date(modified),
    })
}

/// Opens `dir/name.pmtiles`; `None` when there is no such regular file.
async fn open(dir: &FsPath, name: &str) -> std::io::Result<Option<tokio::fs::File>> {
    match tokio::fs::File::open(dir.join(format!("{name}.pmtiles"))).await {
        Ok(f) if f.metadata().await?.is_file() => Ok(Some(f)),
        Ok(_) => Ok(None),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

async fn archive(
    State(state): State<AppState>,
    Path(file): Path<String>,
    method: Method,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let Some(dir) = state.config.basemap_dir.as_deref() else {
        return Err(ApiError::not_found(Msg::new(
            "Server ini tidak menyajikan arsip peta dasar: SIGAP_BASEMAP_DIR belum diatur.",
            "This server serves no basemap archives: SIGAP_BASEMAP_DIR is not set.",
        )));
    };
    let Some(name) = file
        .strip_suffix(".pmtiles")
        .filter(|_| !file.contains('/'))
    else {
        return Err(no_archive(&file));
    };
    if !valid_name(name) {
        return Err(ApiError::bad_request(Msg::new(
            format!("Nama arsip peta dasar hanya boleh berisi huruf, angka, '_' dan '-' (paling panjang {NAME_MAX_LEN})."),
            format!("A basemap archive name may hold only letters, digits, '_' and '-' (at most {NAME_MAX_LEN})."),
        )));
    }
    let Some(mut f) = open(dir, name).await.map_err(ApiError::internal)? else {
        return Err(no_archive(&file));
    };
    let v = validators(&f).await.map_err(ApiError::internal)?;
    let common = |status: StatusCode| {
        let mut res = Response::builder()
            .status(status)
            .header(header::ACCEPT_RANGES, "bytes")
            .header(header::CACHE_CONTROL, CACHE_CONTROL)
            .header(header::LAST_MODIFIED, &v.last_modified);
        if let Ok(etag) = HeaderValue::from_str(&v.etag) {
            res = res.header(header::ETAG, etag);
        }
        res
    };
    let header_str = |name: header::HeaderName| headers.get(name).and_then(|h| h.to_str().ok());

    // Conditional GET: If-None-Match wins over If-Modified-Since (RFC 9110 §13.2.2).
    let not_modified = match header_str(header::IF_NONE_MATCH) {
        Some(list) => super::etag::none_match_hits(list, &v.etag),
        None => header_str(header::IF_MODIFIED_SINCE)
            .and_then(|d| httpdate::parse_http_date(d).ok())
            .is_some_and(|since| {
                // Last-Modified has whole seconds; compare at that precision.
                httpdate::parse_http_date(&v.last_modified).is_ok_and(|m| m <= since)
            }),
    };
    if not_modified {
        return common(StatusCode::NOT_MODIFIED)
            .body(Body::empty())
            .map_err(ApiError::internal);
    }

    let range_applies = match header_str(header::IF_RANGE) {
        None => true,
        Some(validator) => validator == v.etag || validator == v.last_modified,
    };
    let wanted = match header_str(header::RANGE) {
        Some(range) if range_applies => parse_range(range, v.len),
        _ => Wanted::Whole,
    };
    let (status, start, count) = match wanted {
        Wanted::Whole => (StatusCode::OK, 0, v.len),
        Wanted::Part { start, end } => (StatusCode::PARTIAL_CONTENT, start, end - start + 1),
        Wanted::Unsatisfiable => {
            let mut res = ApiError::new(
                StatusCode::RANGE_NOT_SATISFIABLE,
                "range-not-satisfiable",
                Msg::new(
                    format!("Rentang byte di luar arsip: arsip ini {} byte.", v.len),
                    format!(
                        "The byte range lies outside the archive: it has {} bytes.",
                        v.len
                    ),
                ),
            )
            .into_response();
            let h = res.headers_mut();
            h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
            if let Ok(cr) = HeaderValue::from_str(&format!("bytes */{}", v.len)) {
                h.insert(header::CONTENT_RANGE, cr);
            }
            return Ok(res);
        }
    };
    let mut res = common(status)
        .header(header::CONTENT_TYPE, PMTILES_TYPE)
        .header(header::CONTENT_LENGTH, count);
    if status == StatusCode::PARTIAL_CONTENT {
        res = res.header(
            header::CONTENT_RANGE,
            format!("bytes {start}-{}/{}", start + count - 1, v.len),
        );
    }
    if method == Method::HEAD {
        return res.body(Body::empty()).map_err(ApiError::internal);
    }
    // Only the asked bytes are read, in chunks: an archive of a country never sits in memory.
    f.seek(SeekFrom::Start(start))
        .await
        .map_err(ApiError::internal)?;
    let body = Body::from_stream(ReaderStream::with_capacity(f.take(count), CHUNK_BYTES));
    res.body(body).map_err(ApiError::internal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        let part = |start, end| Wanted::Part { start, end };
        assert_eq!(parse_range("bytes=0-9", 100), part(0, 9));
        assert_eq!(parse_range("bytes=90-", 100), part(90, 99));
        assert_eq!(parse_range("bytes=90-500", 100), part(90, 99));
        assert_eq!(parse_range("bytes=-10", 100), part(90, 99));
        assert_eq!(parse_range("bytes=-500", 100), part(0, 99));
        assert_eq!(parse_range("Bytes = 5-5", 100), Wanted::Whole);
        assert_eq!(parse_range("BYTES=5-5", 100), part(5, 5));
        assert_eq!(parse_range("bytes=100-", 100), Wanted::Unsatisfiable);
        assert_eq!(parse_range("bytes=-0", 100), Wanted::Unsatisfiable);
        assert_eq!(parse_range("bytes=9-2", 100), Wanted::Whole);
        assert_eq!(parse_range("bytes=0-1,5-6", 100), Wanted::Whole);
        assert_eq!(parse_range("items=0-1", 100), Wanted::Whole);
        assert_eq!(parse_range("bytes=a-b", 100), Wanted::Whole);
        assert_eq!(parse_range("bytes=-", 100), Wanted::Whole);
    }

    #[test]
    fn names() {
        assert!(valid_name("bandung-2026_v2"));
        for bad in [
            "",
            "..",
            "a/b",
            "a.b",
            "a b",
            "ä",
            &"x".repeat(NAME_MAX_LEN + 1),
        ] {
            assert!(!valid_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn basemap_settings() {
        let mut cfg = ServeConfig::default();
        assert_eq!(basemap_json(&cfg)["type"], "raster");
        cfg.basemap_tiles = "none".into();
        assert!(basemap_json(&cfg).is_null());
        cfg.basemap_tiles = "pmtiles://bandung".into();
        assert_eq!(basemap_json(&cfg)["url"], "/basemap/bandung.pmtiles");
        cfg.basemap_tiles = "pmtiles://https://example.org/a.pmtiles".into();
        assert_eq!(basemap_json(&cfg)["url"], "https://example.org/a.pmtiles");
        cfg.basemap_style = Some("https://example.org/style.json".into());
        assert_eq!(basemap_json(&cfg)["type"], "style");
    }
}
