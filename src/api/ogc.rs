//! OGC API - Features (Part 1 Core, GeoJSON, HTML, OpenAPI 3.0; Part 2 CRS) at `/ogc`, over the
//! collection registry. Each handler parses and checks its parameters (unknown ones are refused),
//! looks the collection up (404 when missing), and encodes JSON, HTML or an export. Items pages
//! stream: PostGIS writes each Feature, and the FeatureCollection is sent as it is read.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use bytes::Bytes;
use chrono::{DateTime, NaiveDate, Utc};
use futures::StreamExt;
use serde_json::{json, Value};

use super::ogc_export::{self, Export};
use crate::domain::crs::{Crs, CRS84, SUPPORTED};
use crate::error::{ApiError, ApiResult, Msg};
use crate::store::collections::Collection;
use crate::store::features::{self, Bbox, Geometry, Interval, Selection};
use crate::store::{CancelGuard, StoreError};
use crate::AppState;

/// Default and maximum `limit` of an items page.
pub const DEFAULT_LIMIT: i64 = 100;
pub const MAX_LIMIT: i64 = 10_000;

const GEOJSON: &str = "application/geo+json";
const OPENAPI: &str = "application/vnd.oai.openapi+json;version=3.0";

pub const CONFORMANCE: &[&str] = &[
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/ogc", get(landing))
        .route("/ogc/", get(landing))
        .route("/ogc/conformance", get(conformance))
        .route("/ogc/api", get(api))
        .route("/ogc/collections", get(collections))
        .route("/ogc/collections/{id}", get(collection))
        .route("/ogc/collections/{id}/items", get(items))
        .route("/ogc/collections/{id}/items/{fid}", get(item))
}

/// The absolute base of links: SIGAP_PUBLIC_URL, else `http://` + the Host header.
pub fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(url) = &state.config.public_url {
        return url.trim_end_matches('/').to_owned();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            h.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        })
        .map(str::to_owned)
        .unwrap_or_else(|| state.config.addr.to_string());
    format!("http://{host}")
}

/// The output formats of the OGC endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Html,
    Csv,
    Gpkg,
    Shp,
}

/// The query string as name/value pairs, checked against the names the endpoint knows.
struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    fn parse(raw: Option<String>, allowed: &dyn Fn(&str) -> bool) -> ApiResult<Params> {
        let pairs: Vec<(String, String)> =
            url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
        for (i, (k, _)) in pairs.iter().enumerate() {
            if !allowed(k) {
                let shown: String = k.chars().take(40).collect();
                return Err(ApiError::bad_request(Msg::new(
                    format!("Parameter '{shown}' tidak dikenal di sini."),
                    format!("Unknown parameter '{shown}'."),
                )));
            }
            if pairs[..i].iter().any(|(p, _)| p == k) {
                return Err(ApiError::bad_request(Msg::new(
                    format!("Parameter '{k}' diberikan lebih dari sekali."),
                    format!("Parameter '{k}' is given more than once."),
                )));
            }
        }
        Ok(Params { pairs })
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The format from `f`, else from Accept (HTML for browsers, JSON otherwise).
    fn format(&self, headers: &HeaderMap, exports: bool) -> ApiResult<Format> {
        match self.get("f") {
            Some("json") | Some("geojson") => Ok(Format::Json),
            Some("html") => Ok(Format::Html),
            Some("csv") if exports => Ok(Format::Csv),
            Some("gpkg") if exports => Ok(Format::Gpkg),
            Some("shp") if exports => Ok(Format::Shp),
            Some(other) => {
                let shown: String = other.chars().take(20).collect();
                Err(ApiError::bad_request(Msg::new(
                    format!(
                        "Format f='{shown}' tidak didukung (json, html{}).",
                        if exports { ", csv, gpkg, shp" } else { "" }
                    ),
                    format!(
                        "Format f='{shown}' is not supported (json, html{}).",
                        if exports { ", csv, gpkg, shp" } else { "" }
                    ),
                )))
            }
            None => {
                let accept = headers
                    .get(header::ACCEPT)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                let html = accept.contains("text/html") && !accept.contains("json");
                Ok(if html { Format::Html } else { Format::Json })
            }
        }
    }
}

fn only_f(k: &str) -> bool {
    k == "f"
}

fn unknown_collection(id: &str) -> ApiError {
    let shown: String = id.chars().take(40).collect();
    ApiError::not_found(Msg::new(
        format!("Koleksi '{shown}' tidak ada."),
        format!("There is no collection '{shown}'."),
    ))
}

fn lookup(state: &AppState, id: &str) -> ApiResult<Arc<Collection>> {
    state
        .catalog
        .get(id)
        .cloned()
        .ok_or_else(|| unknown_collection(id))
}

fn link(href: String, rel: &str, ty: &str, title: &str) -> Value {
    json!({ "href": href, "rel": rel, "type": ty, "title": title })
}

fn json_response(body: &Value, content_type: &'static str) -> Response {
    let mut res = body.to_string().into_response();
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    res
}

async fn landing(
    State(state): State<AppState>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let p = Params::parse(q, &only_f)?;
    let format = p.format(&headers, false)?;
    let base = base_url(&state, &headers);
    let doc = json!({
        "title": "SIGAP",
        "description": "Lapisan SIGAP Kota Bandung: batas wilayah, indikator, cakupan program dan usulan warga / SIGAP layers of Kota Bandung: boundaries, indicators, program coverage and community proposals",
        "links": [
            link(format!("{base}/ogc?f=json"), "self", "application/json", "This document"),
            link(format!("{base}/ogc?f=html"), "alternate", "text/html", "This document as HTML"),
            link(format!("{base}/ogc/api"), "service-desc", OPENAPI, "The API definition"),
            // The other API of SIGAP: accounts, proposals, analysis, budget, partners.
            link(
                format!("{base}{}", super::openapi::PATH),
                "related",
                super::openapi::MEDIA_TYPE,
                "The OpenAPI document of the JSON API (/api)"
            ),
            link(format!("{base}/ogc/conformance"), "conformance", "application/json", "Conformance classes"),
            link(format!("{base}/ogc/collections"), "data", "application/json", "Collections"),
        ]
    });
    Ok(match format {
        Format::Html => Html(super::ogc_html::landing(&base, &state.catalog)).into_response(),
        _ => json_response(&doc, "application/json"),
    })
}

async fn conformance(
    State(state): State<AppState>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let p = Params::parse(q, &only_f)?;
    let doc = json!({ "conformsTo": CONFORMANCE });
    Ok(match p.format(&headers, false)? {
        Format::Html => Html(super::ogc_html::list_page(
            "Conformance",
            &base_url(&state, &headers),
            CONFORMANCE,
        ))
        .into_response(),
        _ => json_response(&doc, "application/json"),
    })
}

async fn api(
    State(state): State<AppState>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let _ = Params::parse(q, &only_f)?;
    let base = base_url(&state, &headers);
    let doc = super::ogc_openapi::document(&base, &state.catalog);
    Ok(json_response(&doc, OPENAPI))
}

/// A collection's metadata document.
async fn collection_doc(
    c: &Collection,
    base: &str,
    client: &deadpool_postgres::Object,
) -> ApiResult<Value> {
    let (bbox, time) = features::extent(client, c).await?;
    let href = format!("{base}/ogc/collections/{}", c.id);
    let mut doc = json!({
        "id": c.id,
        "title": c.title,
        "description": c.description,
        "itemType": "feature",
        "crs": SUPPORTED.iter().map(|c| c.uri).collect::<Vec<_>>(),
        "storageCrs": CRS84.uri,
        "links": [
            link(format!("{href}?f=json"), "self", "application/json", "This collection"),
            link(format!("{href}?f=html"), "alternate", "text/html", "This collection as HTML"),
            link(format!("{href}/items?f=json"), "items", GEOJSON, "Features"),
            link(format!("{href}/items?f=html"), "items", "text/html", "Features as HTML"),
            link(format!("{href}/items?f=csv"), "alternate", "text/csv", "Export: CSV"),
            link(format!("{href}/items?f=gpkg"), "alternate", "application/geopackage+sqlite3", "Export: GeoPackage"),
            link(format!("{href}/items?f=shp"), "alternate", "application/zip", "Export: Shapefile (zip)"),
            link(format!("{base}/tiles/{}.json", c.id), "tiles", "application/json", "Vector tiles (TileJSON)"),
        ],
    });
    // Attribution and licences of the data shown (OGC API Common's `attribution`, and a
    // `license` link per licence).
    let sources = crate::store::sources::for_layers(&***client, c.sources).await?;
    if let Some(text) = crate::store::sources::joined(&sources) {
        doc["attribution"] = Value::from(text);
        if let Some(links) = doc["links"].as_array_mut() {
            for s in &sources {
                if let Some(url) = &s.license_url {
                    links.push(link(url.clone(), "license", "text/html", &s.license));
                }
            }
        }
    }
    let mut extent = serde_json::Map::new();
    if let Some(b) = bbox {
        extent.insert("spatial".into(), json!({ "bbox": [b], "crs": CRS84.uri }));
    }
    if let Some((t0, t1)) = time {
        extent.insert(
            "temporal".into(),
            json!({ "interval": [[t0, t1]], "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian" }),
        );
    }
    if !extent.is_empty() {
        doc["extent"] = Value::Object(extent);
    }
    Ok(doc)
}

async fn collections(
    State(state): State<AppState>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let p = Params::parse(q, &only_f)?;
    let format = p.format(&headers, false)?;
    let base = base_url(&state, &headers);
    let client = super::read_conn(&state).await?;
    let mut docs = Vec::new();
    for c in &state.catalog.collections {
        docs.push(collection_doc(c, &base, &client).await?);
    }
    Ok(match format {
        Format::Html => Html(super::ogc_html::collections(&base, &docs)).into_response(),
        _ => json_response(
            &json!({
                "links": [
                    link(format!("{base}/ogc/collections?f=json"), "self", "application/json", "Collections"),
                    link(format!("{base}/ogc/collections?f=html"), "alternate", "text/html", "Collections as HTML"),
                ],
                "crs": SUPPORTED.iter().map(|c| c.uri).collect::<Vec<_>>(),
                "collections": docs,
            }),
            "application/json",
        ),
    })
}

async fn collection(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let p = Params::parse(q, &only_f)?;
    let format = p.format(&headers, false)?;
    let c = lookup(&state, &id)?;
    let base = base_url(&state, &headers);
    let client = super::read_conn(&state).await?;
    let doc = collection_doc(&c, &base, &client).await?;
    Ok(match format {
        Format::Html => Html(super::ogc_html::collections(&base, &[doc])).into_response(),
        _ => json_response(&doc, "application/json"),
    })
}

fn bad(id: String, en: String) -> ApiError {
    ApiError::bad_request(Msg::new(id, en))
}

fn parse_crs(value: Option<&str>, name: &str) -> ApiResult<Crs> {
    match value {
        None => Ok(CRS84),
        Some(v) => Crs::parse(v).ok_or_else(|| {
            let shown: String = v.chars().take(60).collect();
            bad(
                format!(
                    "{name} '{shown}' tidak didukung; gunakan salah satu dari: {}.",
                    uris()
                ),
                format!("{name} '{shown}' is not supported; use one of: {}.", uris()),
            )
        }),
    }
}

fn uris() -> String {
    SUPPORTED
        .iter()
        .map(|c| c.uri)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Reads `bbox` (4 or 6 numbers) in `crs` into x/y order.
pub fn parse_bbox(value: &str, crs: Crs) -> ApiResult<Bbox> {
    let malformed = || {
        bad(
            "bbox harus 4 atau 6 angka dipisah koma: minx,miny,maxx,maxy.".into(),
            "bbox must be 4 or 6 comma-separated numbers: minx,miny,maxx,maxy.".into(),
        )
    };
    let nums: Vec<f64> = value
        .split(',')
        .map(|s| s.trim().parse::<f64>().ok().filter(|n| n.is_finite()))
        .collect::<Option<Vec<_>>>()
        .ok_or_else(malformed)?;
    let mut c = match nums.len() {
        4 => [nums[0], nums[1], nums[2], nums[3]],
        6 => [nums[0], nums[1], nums[3], nums[4]],
        _ => return Err(malformed()),
    };
    if crs.lat_lon {
        c = [c[1], c[0], c[3], c[2]];
    }
    if c[0] > c[2] || c[1] > c[3] {
        return Err(bad(
            "bbox terbalik: nilai minimum melebihi maksimum.".into(),
            "bbox is reversed: a minimum exceeds its maximum.".into(),
        ));
    }
    if crs.srid == 4326 && (c[0] < -180.0 || c[2] > 180.0 || c[1] < -90.0 || c[3] > 90.0) {
        return Err(bad(
            "bbox di luar rentang derajat (bujur ±180, lintang ±90).".into(),
            "bbox is outside degree ranges (longitude ±180, latitude ±90).".into(),
        ));
    }
    Ok(Bbox {
        coords: c,
        srid: crs.srid,
    })
}

/// One end of a `datetime`: `..`/empty is open; a date covers its whole day.
fn parse_instant(s: &str, end: bool) -> Result<Option<DateTime<Utc>>, ()> {
    if s.is_empty() || s == ".." {
        return Ok(None);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(Some(t.with_timezone(&Utc)));
    }
    let d = NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| ())?;
    let t = if end {
        d.succ_opt()
            .and_then(|n| n.and_hms_opt(0, 0, 0))
            .map(|n| n.and_utc() - chrono::Duration::microseconds(1))
    } else {
        d.and_hms_opt(0, 0, 0).map(|n| n.and_utc())
    };
    t.map(Some).ok_or(())
}

/// Reads `datetime`: an instant, or an interval `start/end` with `..` for an open end.
pub fn parse_datetime(value: &str) -> ApiResult<Interval> {
    let err = || {
        bad(
            "datetime harus instan RFC 3339 (2024-01-31 atau 2024-01-31T08:00:00Z) atau interval 'awal/akhir' dengan '..' untuk ujung terbuka.".into(),
            "datetime must be an RFC 3339 instant (2024-01-31 or 2024-01-31T08:00:00Z) or an interval 'start/end' with '..' for an open end.".into(),
        )
    };
    match value.split_once('/') {
        None => {
            if value == ".." || value.is_empty() {
                return Err(err());
            }
            let a = parse_instant(value, false).map_err(|_| err())?;
            let b = parse_instant(value, true).map_err(|_| err())?;
            Ok((a, b))
        }
        Some((a, b)) => {
            let a = parse_instant(a, false).map_err(|_| err())?;
            let b = parse_instant(b, true).map_err(|_| err())?;
            if let (Some(a), Some(b)) = (a, b) {
                if a > b {
                    return Err(bad(
                        "Interval datetime terbalik: awal setelah akhir.".into(),
                        "The datetime interval is reversed: start after end.".into(),
                    ));
                }
            }
            Ok((a, b))
        }
    }
}

fn parse_int(value: Option<&str>, name: &str, default: i64, max: i64) -> ApiResult<i64> {
    let Some(v) = value else { return Ok(default) };
    match v.parse::<i64>() {
        Ok(n) if (0..=max).contains(&n) && !(name == "limit" && n == 0) => Ok(n),
        _ => {
            let shown: String = v.chars().take(20).collect();
            let min = if name == "limit" { 1 } else { 0 };
            Err(bad(
                format!("{name}='{shown}' tidak valid: harus bilangan bulat {min}–{max}."),
                format!("{name}='{shown}' is invalid: it must be an integer from {min} to {max}."),
            ))
        }
    }
}

/// The parsed query of `/items`.
pub struct ItemsQuery {
    pub format: Format,
    pub selection: Selection,
    pub crs: Crs,
    /// `skipGeometry=true`: GeoJSON features with `"geometry": null` (JSON only).
    pub geometry: Geometry,
    pub limit: Option<i64>,
    pub offset: i64,
}

fn parse_items(c: &Collection, raw: Option<String>, headers: &HeaderMap) -> ApiResult<ItemsQuery> {
    let p = Params::parse(raw, &|k: &str| {
        matches!(
            k,
            "f" | "bbox" | "bbox-crs" | "datetime" | "limit" | "offset" | "crs" | "skipGeometry"
        ) || c.filter(k).is_some()
    })?;
    let format = p.format(headers, true)?;
    let crs = parse_crs(p.get("crs"), "crs")?;
    let bbox_crs = parse_crs(p.get("bbox-crs"), "bbox-crs")?;
    if p.get("bbox-crs").is_some() && p.get("bbox").is_none() {
        return Err(bad(
            "bbox-crs hanya berlaku bersama bbox.".into(),
            "bbox-crs applies only together with bbox.".into(),
        ));
    }
    let bbox = p.get("bbox").map(|b| parse_bbox(b, bbox_crs)).transpose()?;
    let datetime = p.get("datetime").map(parse_datetime).transpose()?;
    let limit = match p.get("limit") {
        None if matches!(format, Format::Json | Format::Html) => Some(DEFAULT_LIMIT),
        None => None,
        v => Some(parse_int(v, "limit", DEFAULT_LIMIT, MAX_LIMIT)?),
    };
    let offset = parse_int(p.get("offset"), "offset", 0, i64::from(i32::MAX))?;
    let geometry = parse_skip_geometry(p.get("skipGeometry"), format)?;
    let mut filters = Vec::new();
    for f in c.filters {
        if let Some(v) = p.get(f.name) {
            if !f.kind.accepts(v) {
                let shown: String = v.chars().take(40).collect();
                return Err(bad(
                    format!("Nilai '{shown}' tidak valid untuk {}.", f.name),
                    format!("'{shown}' is not a valid value for {}.", f.name),
                ));
            }
            filters.push((f.name, v.to_owned()));
        }
    }
    Ok(ItemsQuery {
        format,
        selection: Selection {
            bbox,
            datetime,
            filters,
        },
        crs,
        geometry,
        limit,
        offset,
    })
}

/// `skipGeometry` (not in OGC API Features Part 1; pg_featureserv and tipg have it): `true`
/// sends every feature with `"geometry": null`, for clients that draw from the vector tiles and
/// want only the properties. GeoJSON pages only: an export or an HTML page without geometry
/// would be a different thing under the same name.
fn parse_skip_geometry(value: Option<&str>, format: Format) -> ApiResult<Geometry> {
    let skip = match value {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            let shown: String = other.chars().take(20).collect();
            return Err(bad(
                format!("skipGeometry='{shown}' tidak valid: gunakan true atau false."),
                format!("skipGeometry='{shown}' is invalid: use true or false."),
            ));
        }
    };
    if skip && format != Format::Json {
        return Err(bad(
            "skipGeometry=true hanya berlaku untuk GeoJSON (f=json).".into(),
            "skipGeometry=true applies only to GeoJSON (f=json).".into(),
        ));
    }
    Ok(if skip {
        Geometry::Skipped
    } else {
        Geometry::Included
    })
}

/// The query string of a page link: every parameter of this request with another offset.
fn page_href(base: &str, c: &Collection, raw: &[(String, String)], offset: i64) -> String {
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in raw {
        if k != "offset" && k != "f" {
            ser.append_pair(k, v);
        }
    }
    ser.append_pair("f", "json");
    ser.append_pair("offset", &offset.to_string());
    format!("{base}/ogc/collections/{}/items?{}", c.id, ser.finish())
}

async fn items(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let c = lookup(&state, &id)?;
    let q = parse_items(&c, raw.clone(), &headers)?;
    let base = base_url(&state, &headers);
    match q.format {
        Format::Csv => return ogc_export::export(&state, &c, &q, Export::Csv).await,
        Format::Gpkg => return ogc_export::export(&state, &c, &q, Export::Gpkg).await,
        Format::Shp => return ogc_export::export(&state, &c, &q, Export::Shp).await,
        Format::Html => {
            let client = super::read_conn(&state).await?;
            let limit = q.limit.unwrap_or(DEFAULT_LIMIT);
            let matched = features::count(&client, &c, &q.selection).await?;
            let mut rows = features::page(
                &client,
                &c,
                &q.selection,
                q.crs,
                q.geometry,
                limit,
                q.offset,
            )
            .await?
            .boxed();
            let mut feats = Vec::new();
            while let Some(row) = rows.next().await {
                let row = row.map_err(|e| StoreError::Postgres {
                    context: "reading features",
                    source: e,
                })?;
                let text: String = row.get(0);
                feats.push(serde_json::from_str::<Value>(&text).unwrap_or(Value::Null));
            }
            let json_href = page_href(&base, &c, &pairs(&raw), q.offset);
            let sources = crate::store::sources::for_layers(&**client, c.sources).await?;
            let attribution = crate::store::sources::joined(&sources);
            return Ok(Html(super::ogc_html::items(
                &c,
                &feats,
                matched,
                &json_href,
                attribution.as_deref(),
                state.config.suppress_below,
            ))
            .into_response());
        }
        Format::Json => {}
    }
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT);
    let guard = CancelGuard::new(super::read_conn(&state).await?);
    let client = guard.client()?;
    let matched = features::count(client, &c, &q.selection).await?;
    let rows = features::page(client, &c, &q.selection, q.crs, q.geometry, limit, q.offset).await?;

    let raw_pairs = pairs(&raw);
    let without_skip_geometry: Vec<(String, String)> = raw_pairs
        .iter()
        .filter(|(k, _)| k != "skipGeometry")
        .cloned()
        .collect();
    let mut links = vec![
        link(
            page_href(&base, &c, &raw_pairs, q.offset),
            "self",
            GEOJSON,
            "This page",
        ),
        link(
            // HTML pages always show the geometry: `skipGeometry` is a JSON-only parameter.
            page_href(&base, &c, &without_skip_geometry, q.offset).replace("f=json", "f=html"),
            "alternate",
            "text/html",
            "This page as HTML",
        ),
        link(
            format!("{base}/ogc/collections/{}", c.id),
            "collection",
            "application/json",
            "The collection",
        ),
    ];
    if q.offset + limit < matched {
        links.push(link(
            page_href(&base, &c, &raw_pairs, q.offset + limit),
            "next",
            GEOJSON,
            "Next page",
        ));
    }
    if q.offset > 0 {
        links.push(link(
            page_href(&base, &c, &raw_pairs, (q.offset - limit).max(0)),
            "prev",
            GEOJSON,
            "Previous page",
        ));
    }
    // No `timeStamp` (optional in OGC API Features): the same data gives the same bytes, so a
    // returning client revalidates with its ETag and gets 304 (src/api/revalidate.rs).
    let head = format!(
        "{{\"type\":\"FeatureCollection\",\"numberMatched\":{matched},\"links\":{},\"features\":[",
        Value::Array(links),
    );
    let returned = Arc::new(AtomicU64::new(0));
    let counter = returned.clone();
    let features = rows.map(move |row| {
        row.map(|row| {
            let text: &str = row.get(0);
            let n = counter.fetch_add(1, Ordering::Relaxed);
            let mut buf = Vec::with_capacity(text.len() + 1);
            if n > 0 {
                buf.push(b',');
            }
            buf.extend_from_slice(text.as_bytes());
            Bytes::from(buf)
        })
    });
    // The guard rides along to the end of the stream: dropped early (client gone), it cancels
    // the query; at the end it returns the connection.
    let tail = futures::stream::once(async move {
        guard.finish();
        Ok(Bytes::from(format!(
            "],\"numberReturned\":{}}}",
            returned.load(Ordering::Relaxed)
        )))
    });
    let body = futures::stream::once(async move { Ok(Bytes::from(head)) })
        .chain(features)
        .chain(tail);
    let mut res = Response::new(Body::from_stream(body));
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(GEOJSON));
    content_crs(h, q.crs);
    Ok(res)
}

fn pairs(raw: &Option<String>) -> Vec<(String, String)> {
    url::form_urlencoded::parse(raw.as_deref().unwrap_or("").as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn content_crs(h: &mut HeaderMap, crs: Crs) {
    if let Ok(v) = HeaderValue::from_str(&format!("<{}>", crs.uri)) {
        h.insert("content-crs", v);
    }
}

async fn item(
    State(state): State<AppState>,
    Path((id, fid)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let c = lookup(&state, &id)?;
    let p = Params::parse(raw, &|k: &str| k == "f" || k == "crs")?;
    let format = p.format(&headers, false)?;
    let crs = parse_crs(p.get("crs"), "crs")?;
    let base = base_url(&state, &headers);
    let client = super::read_conn(&state).await?;
    let not_found = || {
        let shown: String = fid.chars().take(40).collect();
        ApiError::not_found(Msg::new(
            format!("Fitur '{shown}' tidak ada di koleksi {}.", c.id),
            format!("There is no feature '{shown}' in collection {}.", c.id),
        ))
    };
    let text = features::one(&client, &c, &fid, crs)
        .await?
        .ok_or_else(not_found)?;
    let mut feature: Value = serde_json::from_str(&text).map_err(ApiError::internal)?;
    let href = format!("{base}/ogc/collections/{}/items/{}", c.id, urlencode(&fid));
    feature["links"] = json!([
        link(format!("{href}?f=json"), "self", GEOJSON, "This feature"),
        link(
            format!("{href}?f=html"),
            "alternate",
            "text/html",
            "This feature as HTML"
        ),
        link(
            format!("{base}/ogc/collections/{}", c.id),
            "collection",
            "application/json",
            "The collection"
        ),
    ]);
    Ok(match format {
        Format::Html => {
            let client = super::read_conn(&state).await?;
            let sources = crate::store::sources::for_layers(&**client, c.sources).await?;
            Html(super::ogc_html::items(
                &c,
                std::slice::from_ref(&feature),
                1,
                &format!("{href}?f=json"),
                crate::store::sources::joined(&sources).as_deref(),
                state.config.suppress_below,
            ))
            .into_response()
        }
        _ => {
            let mut res = json_response(&feature, GEOJSON);
            content_crs(res.headers_mut(), crs);
            res
        }
    })
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::crs::SUPPORTED;

    #[test]
    fn bbox_axis_order_and_refusals() {
        let b = parse_bbox("107.5,-7.0,107.7,-6.8", CRS84).unwrap();
        assert_eq!(b.coords, [107.5, -7.0, 107.7, -6.8]);
        let epsg4326 = SUPPORTED[1];
        let b = parse_bbox("-7.0,107.5,-6.8,107.7", epsg4326).unwrap();
        assert_eq!(b.coords, [107.5, -7.0, 107.7, -6.8]);
        let b = parse_bbox("107.5,-7.0,0,107.7,-6.8,100", CRS84).unwrap();
        assert_eq!(b.coords, [107.5, -7.0, 107.7, -6.8]);
        assert!(parse_bbox("107.7,-7.0,107.5,-6.8", CRS84).is_err());
        assert!(parse_bbox("1,2,3", CRS84).is_err());
        assert!(parse_bbox("1,2,3,NaN", CRS84).is_err());
        assert!(parse_bbox("0,0,200,10", CRS84).is_err());
    }

    #[test]
    fn datetime_instants_and_intervals() {
        let (a, b) = parse_datetime("2025-01-31").unwrap();
        assert_eq!(a.unwrap().to_rfc3339(), "2025-01-31T00:00:00+00:00");
        assert!(b.unwrap() > a.unwrap());
        let (a, b) = parse_datetime("../2025-01-31T08:00:00Z").unwrap();
        assert!(a.is_none() && b.is_some());
        let (a, b) = parse_datetime("2025-01-01/..").unwrap();
        assert!(a.is_some() && b.is_none());
        assert!(parse_datetime("..").is_err());
        assert!(parse_datetime("2025-02-01/2025-01-01").is_err());
        assert!(parse_datetime("1 OR 1=1").is_err());
    }
}
