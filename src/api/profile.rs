//! Printable area profiles for Musrenbang (issue 15): `/profil/kelurahan/{code}` and
//! `/profil/kecamatan/{code}` as one self-contained HTML page (A4 print stylesheet, Bahasa
//! Indonesia, map and charts as SVG drawn from PostGIS), and the same page as PDF
//! (`…/{code}.pdf`), rendered by headless Chromium run by the server. Public data only. The page
//! itself: [`super::profile_html`]. See docs/partners.md "Printable profiles".

use std::collections::HashMap;
use std::sync::OnceLock;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::{Datelike, NaiveDate};
use serde_json::{json, Value};
use tokio::sync::Semaphore;

use super::profile_html;
use crate::domain::ProposalStatus;
use crate::error::{ApiError, ApiResult, Msg};
use crate::store::partners::{self as partners_store, Viewer};
use crate::store::profile::{self as store, Area, CoverageYear, Level};
use crate::store::progress;
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/profil/kelurahan/{code}", get(kelurahan))
        .route("/profil/kecamatan/{code}", get(kecamatan))
}

/// Years of coverage the chart shows, ending with the current one.
const YEARS: i32 = 6;
/// Proposals listed by priority.
const TOP_PROPOSALS: i64 = 10;
/// The follow-up window, as the gap analysis's default.
const FOLLOWUP_MONTHS: i32 = 6;
/// Chromium renders at most this many PDFs at once; each takes a few hundred MB.
const PDF_AT_ONCE: usize = 2;
/// A render that takes longer is stopped (its process killed).
const PDF_TIMEOUT: Duration = Duration::from_secs(90);

/// Everything one profile shows.
pub(super) struct Profile {
    pub level: Level,
    pub area: Area,
    pub as_of: NaiveDate,
    /// The first year of the coverage chart (and of the coverage on the map).
    pub first_year: i32,
    pub map: Value,
    pub gap: Option<Value>,
    pub years: Vec<CoverageYear>,
    /// Each program's reach (sql/queries/partners_reach.sql) with `in_area` sums and
    /// `partner_name`.
    pub programs: Vec<Value>,
    /// Rows of the follow-up list (contacts are not shown).
    pub followup: Vec<Value>,
    /// `{by_stage, top}`.
    pub proposals: Value,
}

async fn kelurahan(state: State<AppState>, Path(code): Path<String>) -> ApiResult<Response> {
    page(state, Level::Kelurahan, code).await
}

async fn kecamatan(state: State<AppState>, Path(code): Path<String>) -> ApiResult<Response> {
    page(state, Level::Kecamatan, code).await
}

async fn page(State(state): State<AppState>, level: Level, code: String) -> ApiResult<Response> {
    let (code, pdf) = match code.strip_suffix(".pdf") {
        Some(c) => (c.to_owned(), true),
        None => (code, false),
    };
    let profile = gather(&state, level, &code).await?;
    let html = profile_html::render(&profile);
    if !pdf {
        return Ok(Html(html).into_response());
    }
    let bytes = render_pdf(&state.config.chromium, &html).await?;
    let filename = format!("profil-{}-{}.pdf", level.as_str(), code);
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{filename}\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// Reads everything the profile shows; 404 for an unknown area.
pub(super) async fn gather(state: &AppState, level: Level, code: &str) -> ApiResult<Profile> {
    let client = super::conn(state).await?;
    let area = store::area(&client, level, code).await?.ok_or_else(|| {
        ApiError::not_found(Msg::new(
            format!("Tidak ada {} dengan kode '{code}'.", level.as_str()),
            format!("There is no {} with code '{code}'.", level.as_str()),
        ))
    })?;
    let as_of = chrono::Local::now().date_naive();
    let first_year = as_of.year() - YEARS + 1;
    let from = NaiveDate::from_ymd_opt(first_year, 1, 1).unwrap_or(as_of);
    let map = store::map(&client, level, code, (from, as_of), ProposalStatus::PUBLIC).await?;
    let gap = store::gap(&client, level, code).await?;
    let years = store::coverage_years(&client, level, code, first_year, as_of.year()).await?;
    let codes = store::programs(&client, level, code).await?;
    // Names only (an approved program's partner is named publicly on the program itself).
    let all = Viewer {
        reviewer: true,
        partner: None,
    };
    let partner_names: HashMap<String, String> = partners_store::partners(&client, None, &all)
        .await?
        .iter()
        .filter_map(|p| {
            Some((
                p["code"].as_str()?.to_owned(),
                p["name"].as_str()?.to_owned(),
            ))
        })
        .collect();
    let mut programs = progress::reach(&client, &codes).await?;
    super::progress::add_in_area(&mut programs, code);
    for p in &mut programs {
        let partner = p["partner_code"].as_str().unwrap_or_default().to_owned();
        p["partner_name"] = json!(partner_names.get(&partner).cloned().unwrap_or(partner));
    }
    let followup = progress::followup(&client, as_of, FOLLOWUP_MONTHS, Some(code)).await?;
    let proposals = store::proposals(&client, code, ProposalStatus::PUBLIC, TOP_PROPOSALS).await?;
    Ok(Profile {
        level,
        area,
        as_of,
        first_year,
        map,
        gap,
        years,
        programs,
        followup,
        proposals,
    })
}

fn renderer_unavailable() -> ApiError {
    ApiError::service_unavailable(Msg::new(
        "PDF tidak dapat dibuat saat ini. Buka halaman profil dan cetak dari peramban.",
        "The PDF cannot be made right now. Open the profile page and print it from the browser.",
    ))
}

/// Prints `html` to A4 PDF with headless Chromium: the page is written to a private temporary
/// directory and opened as a file, so the renderer needs no network and no access to the server.
async fn render_pdf(chromium: &std::path::Path, html: &str) -> ApiResult<Vec<u8>> {
    static SLOTS: OnceLock<Semaphore> = OnceLock::new();
    let _slot = SLOTS
        .get_or_init(|| Semaphore::new(PDF_AT_ONCE))
        .acquire()
        .await
        .map_err(ApiError::internal)?;
    let dir = tempfile::Builder::new()
        .prefix("sigap-profil-")
        .tempdir()
        .map_err(ApiError::internal)?;
    let page = dir.path().join("profil.html");
    let out = dir.path().join("profil.pdf");
    tokio::fs::write(&page, html)
        .await
        .map_err(ApiError::internal)?;
    let mut cmd = tokio::process::Command::new(chromium);
    cmd.arg("--headless")
        .arg("--no-sandbox")
        .arg("--disable-gpu")
        .arg("--disable-dev-shm-usage")
        .arg("--no-first-run")
        .arg("--no-pdf-header-footer")
        .arg(format!(
            "--user-data-dir={}",
            dir.path().join("chromium").display()
        ))
        .arg(format!("--print-to-pdf={}", out.display()))
        .arg(format!("file://{}", page.display()))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        // A dropped request or a timeout ends the renderer too.
        .kill_on_drop(true);
    let status = match tokio::time::timeout(PDF_TIMEOUT, cmd.status()).await {
        Ok(Ok(status)) => status,
        Ok(Err(e)) => {
            tracing::error!(error = %e, "cannot start the PDF renderer");
            return Err(renderer_unavailable());
        }
        Err(_) => {
            tracing::error!("the PDF renderer timed out");
            return Err(renderer_unavailable());
        }
    };
    let bytes = tokio::fs::read(&out).await.unwrap_or_default();
    if !status.success() || !bytes.starts_with(b"%PDF") {
        tracing::error!(?status, "the PDF renderer made no PDF");
        return Err(renderer_unavailable());
    }
    Ok(bytes)
}
