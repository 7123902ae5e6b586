//! Progress over HTTP (issue 15): `/api/progress` reports per program, kelurahan and month or
//! quarter (aggregates only, never names), reach against plan per program and per partner, and
//! the planners' follow-up list `/api/followup`. Access rules: [`super::partners`].

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use chrono::{Datelike, NaiveDate, Utc};
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::auth::{AuthUser, MaybeUser};
use super::fields::Fields;
use super::input::JsonBody;
use super::partners::{
    in_tx, is_reviewer, may_see, not_found, require_owner, require_reviewer, scope, viewer,
    writable_program, write_error, WRITERS,
};
use crate::domain::{AreaCode, AreaLevel};
use crate::error::{ApiError, ApiResult};
use crate::store::partners::{self as partners_store, ProgramFilter};
use crate::store::progress::{self as store, Counts, ProgressFilter, ProgressInput};
use crate::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(show, update))
        .routes(routes!(program_reach))
        .routes(routes!(partner_reach))
        .routes(routes!(area_reach))
        .routes(routes!(followup))
}

// The bodies as documented; the handlers read them field by field ([`Fields`]), and the test
// `openapi::documented_bodies_list_exactly_the_accepted_fields` keeps these field lists equal to
// the accepted ones.

/// A progress report: aggregates only, never names. `period_start` is the first day of the
/// period (the 1st of a month; for a quarter 1 January, 1 April, 1 July or 1 October) and not in
/// the future; `participants_women` ≤ `participants`, `ukm_women_led` ≤ `ukm_assisted`. A
/// report overlapping another of the same program and kelurahan is 409.
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub(super) struct ProgressCreate {
    #[schema(pattern = "^[a-z0-9][a-z0-9_-]{0,63}$")]
    program_code: String,
    #[schema(
        pattern = "^[0-9]{2}\\.[0-9]{2}\\.[0-9]{2}\\.[0-9]{4}$",
        example = "32.73.01.1001"
    )]
    kelurahan_code: String,
    #[schema(schema_with = periods)]
    period: String,
    #[schema(format = Date, example = "2025-07-01")]
    period_start: String,
    /// People reached.
    #[schema(minimum = 0, maximum = 1_000_000)]
    participants: i32,
    #[schema(minimum = 0, maximum = 1_000_000)]
    participants_women: Option<i32>,
    #[schema(minimum = 0, maximum = 1_000_000)]
    ukm_assisted: Option<i32>,
    #[schema(minimum = 0, maximum = 1_000_000)]
    ukm_women_led: Option<i32>,
    #[schema(minimum = 0, maximum = 1_000_000)]
    mentoring_sessions: Option<i32>,
    #[schema(max_length = 2000)]
    note: Option<String>,
}

/// An edit of a report: its counts and note; the stored report merged with it is checked as a
/// new one would be.
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub(super) struct ProgressPatch {
    #[schema(minimum = 0, maximum = 1_000_000)]
    participants: Option<i32>,
    #[schema(minimum = 0, maximum = 1_000_000)]
    participants_women: Option<i32>,
    #[schema(minimum = 0, maximum = 1_000_000)]
    ukm_assisted: Option<i32>,
    #[schema(minimum = 0, maximum = 1_000_000)]
    ukm_women_led: Option<i32>,
    #[schema(minimum = 0, maximum = 1_000_000)]
    mentoring_sessions: Option<i32>,
    #[schema(max_length = 2000)]
    note: Option<String>,
}

/// A progress report as the API shows it: aggregates only. The `note` (free text that may name
/// people) only to reviewers and the partner's own staff, `null` to others.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub(super) struct Report {
    id: i64,
    program_code: String,
    partner_code: String,
    kelurahan_code: String,
    kelurahan_name: String,
    #[schema(schema_with = periods)]
    period: String,
    #[schema(format = Date)]
    period_start: String,
    /// The last day of the period.
    #[schema(format = Date)]
    period_end: String,
    participants: i32,
    participants_women: i32,
    ukm_assisted: i32,
    ukm_women_led: i32,
    mentoring_sessions: i32,
    note: Option<String>,
    program_approved: bool,
    #[schema(format = DateTime)]
    updated_at: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub(super) struct ReportList {
    reports: Vec<Report>,
}

fn periods() -> utoipa::openapi::Object {
    super::openapi::vocab(&["month", "quarter"])
}

/// Largest count in one report: far above any kelurahan's population.
const MAX_COUNT: i64 = 1_000_000;

const CREATE_FIELDS: &[&str] = &[
    "program_code",
    "kelurahan_code",
    "period",
    "period_start",
    "participants",
    "participants_women",
    "ukm_assisted",
    "ukm_women_led",
    "mentoring_sessions",
    "note",
];

fn area_code(field: &str, code: &str, level: Option<AreaLevel>) -> ApiResult<String> {
    match code.trim().parse::<AreaCode>() {
        Ok(a) if level.is_none_or(|l| a.level() == l) && a.level() != AreaLevel::Region => {
            Ok(a.to_string())
        }
        _ => Err(ApiError::invalid_field(
            field,
            format!(
                "'{code}' bukan kode {} yang sah (mis. 32.73.01.1001).",
                if level.is_some() {
                    "kelurahan"
                } else {
                    "kecamatan/kelurahan"
                }
            ),
            format!(
                "'{code}' is not a valid {} code (e.g. 32.73.01.1001).",
                if level.is_some() {
                    "kelurahan"
                } else {
                    "kecamatan/kelurahan"
                }
            ),
        )),
    }
}

/// Checks a whole report (a new one, or a stored one merged with an edit).
fn progress_input(f: &Fields, today: NaiveDate) -> ApiResult<ProgressInput> {
    let program_code = f.slug("program_code")?;
    let kelurahan_code = area_code(
        "kelurahan_code",
        &f.required_text("kelurahan_code", 20)?,
        Some(AreaLevel::Kelurahan),
    )?;
    let period = match f.required_text("period", 10)?.as_str() {
        "month" => "month",
        "quarter" => "quarter",
        _ => {
            return Err(ApiError::invalid_field(
                "period",
                "Kolom period harus month (bulan) atau quarter (triwulan).",
                "The field period must be month or quarter.",
            ))
        }
    };
    let period_start = f.required_date("period_start")?;
    let aligned = period_start.day() == 1
        && (period == "month" || matches!(period_start.month(), 1 | 4 | 7 | 10));
    if !aligned {
        return Err(ApiError::invalid_field(
            "period_start",
            "period_start adalah hari pertama periode: tanggal 1 suatu bulan, atau untuk triwulan 1 Januari, 1 April, 1 Juli atau 1 Oktober.",
            "period_start is the first day of the period: the 1st of a month, or for a quarter 1 January, 1 April, 1 July or 1 October.",
        ));
    }
    if period_start > today {
        return Err(ApiError::invalid_field(
            "period_start",
            "Periode ini belum dimulai; laporkan setelah periode berjalan.",
            "This period has not started yet; report once it is under way.",
        ));
    }
    let count = |field: &str| -> ApiResult<i32> { Ok(f.int(field, 0, MAX_COUNT)?.unwrap_or(0)) };
    let participants = f.int("participants", 0, MAX_COUNT)?.ok_or_else(|| {
        ApiError::invalid_field(
            "participants",
            "Kolom participants (jumlah peserta yang dijangkau) wajib diisi.",
            "The field participants (people reached) is required.",
        )
    })?;
    let counts = Counts {
        participants,
        participants_women: count("participants_women")?,
        ukm_assisted: count("ukm_assisted")?,
        ukm_women_led: count("ukm_women_led")?,
        mentoring_sessions: count("mentoring_sessions")?,
    };
    if counts.participants_women > counts.participants {
        return Err(ApiError::invalid_field(
            "participants_women",
            "Jumlah peserta perempuan (participants_women) tidak boleh melebihi jumlah peserta (participants).",
            "The number of women participants (participants_women) may not exceed the number of participants.",
        ));
    }
    if counts.ukm_women_led > counts.ukm_assisted {
        return Err(ApiError::invalid_field(
            "ukm_women_led",
            "Jumlah UKM yang dipimpin perempuan (ukm_women_led) tidak boleh melebihi jumlah UKM yang didampingi (ukm_assisted).",
            "The number of women-led UKM (ukm_women_led) may not exceed the number of UKM assisted (ukm_assisted).",
        ));
    }
    Ok(ProgressInput {
        program_code,
        kelurahan_code,
        period,
        period_start,
        counts,
        note: f.text("note", 2000)?,
    })
}

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

#[derive(Deserialize)]
struct ListQuery {
    program: Option<String>,
    partner: Option<String>,
    /// A kelurahan or kecamatan code.
    area: Option<String>,
}

/// Progress reports, newest period first (at most 5000; of pending programs: reviewers and own
/// staff).
#[utoipa::path(get, path = "/api/progress", tag = "partners",
    params(("program" = Option<String>, Query, description = "Only this program's reports"),
           ("partner" = Option<String>, Query, description = "Only this partner's reports"),
           ("area" = Option<String>, Query, description = "Only inside this kecamatan or kelurahan code (else 422)")),
    security((), ("session" = []), ("bearer" = [])),
    responses((status = 200, description = "The reports", body = ReportList), (status = 422, response = crate::api::openapi::Unprocessable)))]
async fn list(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Value>> {
    let area_code = q
        .area
        .as_deref()
        .map(|a| area_code("area", a, None))
        .transpose()?;
    let filter = ProgressFilter {
        id: None,
        program_code: q.program,
        partner_code: q.partner,
        area_code,
    };
    let client = super::conn(&state).await?;
    let reports = store::progress(&client, &filter, &viewer(user.as_ref())).await?;
    Ok(Json(json!({ "reports": reports })))
}

async fn report_json(state: &AppState, user: Option<&AuthUser>, id: i64) -> ApiResult<Value> {
    let client = super::conn(state).await?;
    let filter = ProgressFilter {
        id: Some(id),
        ..ProgressFilter::default()
    };
    store::progress(&client, &filter, &viewer(user))
        .await?
        .pop()
        .ok_or_else(|| not_found("Laporan", "progress report"))
}

/// One progress report.
#[utoipa::path(get, path = "/api/progress/{id}", tag = "partners",
    params(("id" = i64, Path, description = "Report id")),
    security((), ("session" = []), ("bearer" = [])),
    responses((status = 200, description = "The report", body = Report), (status = 404, response = crate::api::openapi::NotFound)))]
async fn show(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    Ok(Json(report_json(&state, user.as_ref(), id).await?))
}

/// A new progress report: reviewers (kelurahan in their area), a mitra for its own programs.
#[utoipa::path(post, path = "/api/progress", tag = "partners",
    request_body = ProgressCreate,
    security(("session" = ["planner", "admin", "mitra"], "csrf" = []), ("bearer" = ["planner", "admin", "mitra"])),
    responses((status = 201, description = "The report", body = Report), (status = 409, response = crate::api::openapi::Conflict)))]
async fn create(
    State(state): State<AppState>,
    user: AuthUser,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<impl IntoResponse> {
    user.require_role(WRITERS)?;
    let input = progress_input(&Fields::new(body, CREATE_FIELDS)?, today())?;
    if is_reviewer(&user) {
        user.require_scope(Some(&input.kelurahan_code))?;
    }
    let id = in_tx!(&state, |tx| {
        writable_program(&tx, &user, &input.program_code, Some("program_code")).await?;
        store::create_progress(&tx, &input, &user.actor())
            .await
            .map_err(write_error)?
    });
    Ok((
        StatusCode::CREATED,
        Json(report_json(&state, Some(&user), id).await?),
    ))
}

/// An edit of a report's counts and note.
///
/// Program, kelurahan and period stay: another period is a new report.
#[utoipa::path(patch, path = "/api/progress/{id}", tag = "partners",
    params(("id" = i64, Path, description = "Report id")),
    request_body = ProgressPatch,
    security(("session" = ["planner", "admin", "mitra"], "csrf" = []), ("bearer" = ["planner", "admin", "mitra"])),
    responses((status = 200, description = "The report", body = Report), (status = 404, response = crate::api::openapi::NotFound), (status = 409, response = crate::api::openapi::Conflict)))]
async fn update(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<i64>,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<Json<Value>> {
    user.require_role(WRITERS)?;
    let patch = Fields::new(body, &CREATE_FIELDS[4..])?;
    in_tx!(&state, |tx| {
        let (before, partner, kelurahan) = store::progress_head(&tx, id)
            .await?
            .ok_or_else(|| not_found("Laporan", "progress report"))?;
        let program_code = before["program_code"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let head = partners_store::program_head(&tx, &program_code).await?;
        if !head.is_some_and(|h| may_see(Some(&user), &partner, h.approved)) {
            return Err(not_found("Laporan", "progress report"));
        }
        require_owner(&user, &partner)?;
        if is_reviewer(&user) {
            user.require_scope(Some(&kelurahan))?;
        }
        let input = progress_input(&Fields::merged(before.clone(), patch), today())?;
        store::update_progress(&tx, id, &input, before, &user.actor())
            .await
            .map_err(write_error)?
    });
    Ok(Json(report_json(&state, Some(&user), id).await?))
}

// ---------------------------------------------------------------------------------------------
// Reach against plan

/// A program's reach against plan (`planned_beneficiaries`).
#[utoipa::path(get, path = "/api/programs/{code}/reach", tag = "partners",
    params(("code" = String, Path, description = "Program code")),
    security((), ("session" = []), ("bearer" = [])),
    responses((status = 200, description = "program reach", body = Object), (status = 404, response = crate::api::openapi::NotFound)))]
async fn program_reach(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    Path(code): Path<String>,
) -> ApiResult<Json<Value>> {
    let client = super::conn(&state).await?;
    let visible = partners_store::program_head(&client, &code)
        .await?
        .is_some_and(|h| may_see(user.as_ref(), &h.partner_code, h.approved));
    if !visible {
        return Err(not_found("Program", "program"));
    }
    store::reach(&client, &[code])
        .await?
        .pop()
        .map(Json)
        .ok_or_else(|| not_found("Program", "program"))
}

fn as_i64(v: &Value, key: &str) -> i64 {
    v.get(key).and_then(Value::as_i64).unwrap_or(0)
}

const SUMMED: &[&str] = &[
    "participants",
    "participants_women",
    "ukm_assisted",
    "ukm_women_led",
    "mentoring_sessions",
    "reports",
];

/// A partner's reach against plan, over its programs.
///
/// Totals and per-kelurahan sums over programs; `reach_ratio` compares only programs that have a
/// plan with their own participants.
#[utoipa::path(get, path = "/api/partners/{code}/reach", tag = "partners",
    params(("code" = String, Path, description = "Partner code")),
    security((), ("session" = []), ("bearer" = [])),
    responses((status = 200, description = "partner reach", body = Object), (status = 404, response = crate::api::openapi::NotFound)))]
async fn partner_reach(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    Path(code): Path<String>,
) -> ApiResult<Json<Value>> {
    let client = super::conn(&state).await?;
    let v = viewer(user.as_ref());
    if partners_store::partners(&client, Some(&code), &v)
        .await?
        .is_empty()
    {
        return Err(not_found("Mitra", "partner"));
    }
    let filter = ProgramFilter {
        partner_code: Some(code.clone()),
        ..ProgramFilter::default()
    };
    let codes: Vec<String> = partners_store::programs(&client, &filter, &v)
        .await?
        .iter()
        .filter_map(|p| p["code"].as_str().map(str::to_owned))
        .collect();
    let programs = store::reach(&client, &codes).await?;
    let mut totals: BTreeMap<&str, i64> = SUMMED.iter().map(|k| (*k, 0)).collect();
    let (mut planned, mut reached_of_planned) = (0i64, 0i64);
    let mut per_kel: BTreeMap<String, Value> = BTreeMap::new();
    for p in &programs {
        for k in SUMMED {
            *totals.entry(k).or_default() += as_i64(p, k);
        }
        if let Some(plan) = p["planned_beneficiaries"].as_i64() {
            planned += plan;
            reached_of_planned += as_i64(p, "participants");
        }
        for kel in p["kelurahan"].as_array().into_iter().flatten() {
            let code = kel["kelurahan_code"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            let entry = per_kel.entry(code.clone()).or_insert_with(|| {
                let mut e = json!({"kelurahan_code": code, "kelurahan_name": kel["kelurahan_name"],
                                   "programs": 0});
                for k in SUMMED {
                    e[*k] = json!(0);
                }
                e
            });
            entry["programs"] = json!(as_i64(entry, "programs") + 1);
            for k in SUMMED {
                entry[*k] = json!(as_i64(entry, k) + as_i64(kel, k));
            }
        }
    }
    let mut body = json!({
        "partner_code": code,
        "planned_beneficiaries": planned,
        "participants_of_planned_programs": reached_of_planned,
        "reach_ratio": (planned > 0).then(|| ((reached_of_planned as f64 / planned as f64) * 10_000.0).round() / 10_000.0),
        "programs": programs,
        "kelurahan": per_kel.into_values().collect::<Vec<_>>(),
    });
    for (k, n) in totals {
        body[k] = json!(n);
    }
    Ok(Json(body))
}

/// Sets each program's `in_area`: the sums of its reports in the kelurahan whose code starts with
/// `area` (a kelurahan or kecamatan code), and those kelurahan's rows.
pub(crate) fn add_in_area(programs: &mut [Value], area: &str) {
    for p in programs {
        let inside: Vec<Value> = p["kelurahan"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|k| {
                k["kelurahan_code"]
                    .as_str()
                    .is_some_and(|c| c.starts_with(area))
            })
            .cloned()
            .collect();
        let mut sums = json!({});
        for k in SUMMED {
            sums[*k] = json!(inside.iter().map(|v| as_i64(v, k)).sum::<i64>());
        }
        sums["kelurahan"] = Value::Array(inside);
        p["in_area"] = sums;
    }
}

#[derive(Deserialize)]
struct AreaQuery {
    area: Option<String>,
}

/// For a kelurahan (or kecamatan) panel: each program that reported there, with its sums inside
/// the area (`in_area`) beside its overall reach against plan.
#[utoipa::path(get, path = "/api/reach", tag = "partners",
    params(("area" = String, Query, description = "A kecamatan or kelurahan code (else 422)")),
    security((), ("session" = []), ("bearer" = [])),
    responses((status = 200, description = "`{area_code, programs: [program reach + in_area]}`", body = Object), (status = 422, response = crate::api::openapi::Unprocessable)))]
async fn area_reach(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    Query(q): Query<AreaQuery>,
) -> ApiResult<Json<Value>> {
    let area = area_code("area", q.area.as_deref().unwrap_or_default(), None)?;
    let client = super::conn(&state).await?;
    let codes = store::programs_reporting_in(&client, &area, &viewer(user.as_ref())).await?;
    let mut programs = store::reach(&client, &codes).await?;
    add_in_area(&mut programs, &area);
    Ok(Json(json!({"area_code": area, "programs": programs})))
}

// ---------------------------------------------------------------------------------------------
// Follow-up

#[derive(Deserialize)]
struct FollowupQuery {
    as_of: Option<String>,
    months: Option<String>,
}

/// Reviewers: trained places still waiting for mentoring, with the partner to contact.
#[utoipa::path(get, path = "/api/followup", tag = "partners",
    params(("as_of" = Option<String>, Query, format = Date, description = "The day to look from (default today)"),
           ("months" = Option<i32>, Query, minimum = 1, maximum = 60, description = "The follow-up window in months (default 6)")),
    security(("session" = ["planner", "admin"]), ("bearer" = ["planner", "admin"])),
    responses((status = 200, description = "`{as_of, months, programs: [followup]}`", body = Object), (status = 422, response = crate::api::openapi::Unprocessable)))]
async fn followup(
    State(state): State<AppState>,
    user: AuthUser,
    Query(q): Query<FollowupQuery>,
) -> ApiResult<Json<Value>> {
    require_reviewer(&user)?;
    let mut params = serde_json::Map::new();
    if let Some(a) = q.as_of {
        params.insert("as_of".into(), json!(a));
    }
    if let Some(m) = q.months {
        params.insert(
            "months".into(),
            m.trim()
                .parse::<i64>()
                .map(|n| json!(n))
                .unwrap_or(json!(m)),
        );
    }
    let f = Fields::new(Value::Object(params), &["as_of", "months"])?;
    let as_of = f.date("as_of")?.unwrap_or_else(today);
    let months = f.int("months", 1, 60)?.unwrap_or(6);
    let area = scope(&user);
    let client = super::conn(&state).await?;
    let programs = store::followup(&client, as_of, months, area.as_deref()).await?;
    Ok(Json(json!({
        "as_of": as_of,
        "months": months,
        "programs": programs,
    })))
}
