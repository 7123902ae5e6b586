//! Atom 1.0 feeds for people who follow without an account: one per proposal (by its tracking
//! code, which is what a resident holds: its whole public history), and one per kelurahan and per
//! kecamatan (the newest status changes of its published proposals, including the verification
//! that published each). Only what the public tracking page and layers show; never a submitter.
//!
//! `GET /feeds/usulan/{tracking_code}.atom`, `/feeds/kelurahan/{code}.atom`,
//! `/feeds/kecamatan/{code}.atom`; entries link to the map's tracking view.

use atom_syndication::{Content, Entry, Feed, FixedDateTime, Link, Person, Text};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, Utc};

use crate::domain::AreaCode;
use crate::error::{ApiError, ApiResult, Msg};
use crate::store::proposals;
use crate::AppState;

const ATOM: &str = "application/atom+xml; charset=utf-8";
/// How many events an area feed holds.
const AREA_ENTRIES: i64 = 50;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/feeds/usulan/{file}", get(proposal_feed))
        .route("/feeds/kelurahan/{file}", get(kelurahan_feed))
        .route("/feeds/kecamatan/{file}", get(kecamatan_feed))
}

fn not_found() -> ApiError {
    ApiError::not_found(Msg::new(
        "Umpan tidak ditemukan: periksa kode usulan atau kode wilayah.",
        "No such feed: check the tracking code or the area code.",
    ))
}

fn stem(file: &str) -> ApiResult<&str> {
    file.strip_suffix(".atom").ok_or_else(not_found)
}

fn at(t: DateTime<Utc>) -> FixedDateTime {
    t.fixed_offset()
}

fn link(href: String, rel: &str, ty: &str) -> Link {
    let mut l = Link::default();
    l.set_href(href);
    l.set_rel(rel);
    l.set_mime_type(Some(ty.to_owned()));
    l
}

fn text(s: impl Into<String>) -> Text {
    Text::plain(s.into())
}

/// "diajukan → diverifikasi", or the first status alone.
fn transition(from: Option<&str>, to: &str) -> String {
    match from {
        Some(f) => format!("{f} → {to}"),
        None => to.to_owned(),
    }
}

fn feed(
    id: String,
    title: String,
    self_href: String,
    alternate: String,
    entries: Vec<Entry>,
) -> Response {
    let mut f = Feed::default();
    f.set_id(id);
    f.set_title(text(title));
    f.set_updated(
        entries
            .iter()
            .map(|e| *e.updated())
            .max()
            .unwrap_or_else(|| at(DateTime::<Utc>::UNIX_EPOCH)),
    );
    let mut author = Person::default();
    author.set_name("SIGAP");
    f.set_authors(vec![author]);
    f.set_links(vec![
        link(self_href, "self", "application/atom+xml"),
        link(alternate, "alternate", "text/html"),
    ]);
    f.set_entries(entries);
    let mut res = f.to_string().into_response();
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(ATOM));
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=60"),
    );
    res
}

async fn proposal_feed(
    State(state): State<AppState>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let code = stem(&file)?;
    if code.len() > 24 {
        return Err(not_found());
    }
    let client = super::conn(&state).await?;
    let p = proposals::by_tracking_code(&client, code)
        .await?
        .ok_or_else(not_found)?;
    let history = proposals::history(&client, p.id).await?;
    let base = super::ogc::base_url(&state, &headers);
    let page = format!("{base}/#usulan/{}", p.tracking_code);
    let entries = history
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let mut entry = Entry::default();
            entry.set_id(format!("{base}/feeds/usulan/{}#{}", p.tracking_code, i + 1));
            entry.set_title(text(format!(
                "{}: {}",
                p.title,
                transition(e.from_status.as_deref(), &e.to_status)
            )));
            entry.set_updated(at(e.at));
            entry.set_links(vec![link(page.clone(), "alternate", "text/html")]);
            if let Some(note) = &e.note {
                entry.set_summary(Some(text(note.clone())));
            }
            entry
        })
        .rev()
        .collect();
    Ok(feed(
        format!("{base}/feeds/usulan/{}", p.tracking_code),
        format!("Usulan {}: {}", p.tracking_code, p.title),
        format!("{base}/feeds/usulan/{}.atom", p.tracking_code),
        page,
        entries,
    ))
}

async fn area_feed(
    state: AppState,
    file: String,
    headers: HeaderMap,
    level: crate::domain::AreaLevel,
) -> ApiResult<Response> {
    let code = stem(&file)?;
    match code.parse::<AreaCode>() {
        Ok(c) if c.level() == level => {}
        _ => return Err(not_found()),
    }
    let client = super::conn(&state).await?;
    let (name, kind) = proposals::area_name(&client, code)
        .await?
        .ok_or_else(not_found)?;
    let events = proposals::area_events(&client, code, AREA_ENTRIES).await?;
    let base = super::ogc::base_url(&state, &headers);
    let entries = events
        .iter()
        .map(|e| {
            let mut entry = Entry::default();
            entry.set_id(format!(
                "{base}/feeds/usulan/{}#event-{}",
                e.tracking_code, e.id
            ));
            entry.set_title(text(format!(
                "{} ({})",
                e.title,
                transition(e.from_status.as_deref(), &e.to_status)
            )));
            entry.set_updated(at(e.at));
            entry.set_links(vec![
                link(
                    format!("{base}/#usulan/{}", e.tracking_code),
                    "alternate",
                    "text/html",
                ),
                link(
                    format!("{base}/feeds/usulan/{}.atom", e.tracking_code),
                    "related",
                    "application/atom+xml",
                ),
            ]);
            let mut content = Content::default();
            content.set_content_type(Some("text".to_owned()));
            content.set_value(Some(format!(
                "{} · {} · {} dukungan\n{}",
                e.category,
                e.kelurahan_code.as_deref().unwrap_or(""),
                e.support_count,
                e.description
            )));
            entry.set_content(Some(content));
            entry
        })
        .collect();
    Ok(feed(
        format!("{base}/feeds/{kind}/{code}"),
        format!("Usulan warga {} {name} ({code})", capitalised(kind)),
        format!("{base}/feeds/{kind}/{code}.atom"),
        format!("{base}/#usulan"),
        entries,
    ))
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

async fn kelurahan_feed(
    State(state): State<AppState>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    area_feed(state, file, headers, crate::domain::AreaLevel::Kelurahan).await
}

async fn kecamatan_feed(
    State(state): State<AppState>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    area_feed(state, file, headers, crate::domain::AreaLevel::Kecamatan).await
}
