//! Budget prioritisation over HTTP (officials and admins; a scoped official works only inside
//! their area): the ranking, scenarios (create = validate + solve, edit, re-solve, adopt),
//! comparison of two scenarios, and CSV/XLSX exports.

use std::collections::{BTreeMap, BTreeSet};

use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::auth::AuthUser;
use super::input::JsonBody;
use crate::analysis::budget::plan::{self, Evaluation, PlanError, ScenarioParams};
use crate::analysis::budget::score::ScoreParams;
use crate::analysis::budget::{export, BudgetError, SolveOptions};
use crate::domain::{check_transition, roles_for, ProposalStatus, Role};
use crate::error::{ApiError, ApiResult, Msg};
use crate::store::budget::{self as store, Scenario};
use crate::store::proposals::{self, Transition, TransitionError};
use crate::AppState;

const ROLES: &[Role] = &[Role::Official, Role::Admin];

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(ranking, ranking_with))
        .routes(routes!(list, create))
        .routes(routes!(read, update))
        .routes(routes!(resolve))
        .routes(routes!(adopt))
        .routes(routes!(compare))
}

// The bodies as documented (docs/budget.md); the handlers read them into the analysis types
// (`ScoreParams`, `ScenarioParams`), which stay free of the HTTP layer's documentation.

/// Score weights; each missing one keeps its default (docs/budget.md). Unknown fields: 422.
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
struct ScoreBody {
    w_gap: Option<f64>,
    w_support: Option<f64>,
    w_cost: Option<f64>,
    /// What one support from a resident of the proposal's own kelurahan counts, against 1.
    resident_weight: Option<f64>,
    /// Multiplier per proposal category (missing: 1).
    category_weights: Option<BTreeMap<String, f64>>,
}

/// A scenario's constraints. A limit is `{"amount_idr": n}` or `{"share": 0..1}`.
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
struct ScenarioParamsBody {
    #[schema(minimum = 0)]
    budget_idr: i64,
    /// Per kecamatan code: `{floor?, cap?}` limits.
    #[schema(value_type = Option<Object>)]
    kecamatan: Option<Value>,
    /// Per proposal category: a limit.
    #[schema(value_type = Option<Object>)]
    category_caps: Option<Value>,
    /// Proposal ids that must be funded.
    must_fund: Option<Vec<i64>>,
    /// Proposal ids that may not be funded.
    must_not_fund: Option<Vec<i64>>,
    /// Leave out proposals without a cost estimate.
    exclude_uncosted: Option<bool>,
    score: Option<ScoreBody>,
}

/// A scenario: a name and its constraints; it is validated and solved when saved. An impossible
/// constraint is 422 with `constraint` naming it.
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
struct ScenarioBodyDoc {
    #[schema(min_length = 1, max_length = 120)]
    name: String,
    params: ScenarioParamsBody,
}

fn conflict(id: &str, en: &str) -> ApiError {
    ApiError::conflict(Msg::new(id.to_owned(), en.to_owned()))
}

fn not_found() -> ApiError {
    ApiError::not_found(Msg::new(
        "Skenario anggaran tidak ditemukan.",
        "No such budget scenario.",
    ))
}

fn read_only() -> ApiError {
    conflict(
        "Skenario ini sudah ditetapkan dan tidak dapat diubah lagi.",
        "This scenario has been adopted and is read-only.",
    )
}

/// A 422 naming the impossible constraint, in both languages; `constraint` is a stable slug.
fn budget_error(e: &BudgetError) -> ApiError {
    use BudgetError::*;
    let en = e.to_string();
    let (slug, id) = match e {
        NegativeBudget(b) => ("budget", format!("Anggaran tidak boleh negatif ({b} IDR).")),
        BudgetTooLarge(b) => (
            "budget",
            format!("Anggaran {b} IDR melebihi batas yang diterima."),
        ),
        BadLimit { what, detail } => ("limit", format!("{what}: batas tidak sah ({detail}).")),
        UnknownKecamatan(c) => (
            "kecamatan",
            format!("Kode kecamatan tidak dikenal: {}.", c.join(", ")),
        ),
        UnknownCategory(c) => (
            "category",
            format!("Kategori tidak dikenal: {}.", c.join(", ")),
        ),
        MissingCost(ids) => (
            "cost",
            format!(
                "Usulan tanpa perkiraan biaya: {}. Isi biayanya, masukkan ke daftar must_not_fund, atau pakai exclude_uncosted.",
                ids_text(ids)
            ),
        ),
        CostTooLarge(ids) => (
            "cost",
            format!("Usulan dengan biaya terlalu besar: {}.", ids_text(ids)),
        ),
        BadPriority(ids) => (
            "priority",
            format!("Usulan dengan skor tidak sah: {}.", ids_text(ids)),
        ),
        UnknownProposal(ids) => (
            "lists",
            format!(
                "Daftar must_fund/must_not_fund memuat usulan yang bukan kandidat: {}.",
                ids_text(ids)
            ),
        ),
        ConflictingLists(ids) => (
            "lists",
            format!(
                "Usulan ada di must_fund dan must_not_fund sekaligus: {}.",
                ids_text(ids)
            ),
        ),
        FloorsExceedBudget {
            floors_idr,
            budget_idr,
        } => (
            "floors",
            format!("Jumlah batas bawah kecamatan ({floors_idr} IDR) melebihi anggaran ({budget_idr} IDR)."),
        ),
        CapBelowFloor {
            kecamatan,
            floor_idr,
            cap_idr,
        } => (
            "cap_below_floor",
            format!("Kecamatan {kecamatan}: batas atas {cap_idr} IDR di bawah batas bawah {floor_idr} IDR."),
        ),
        FloorUnreachable {
            kecamatan,
            floor_idr,
            available_idr,
        } => (
            "floor_unreachable",
            format!("Kecamatan {kecamatan}: batas bawah {floor_idr} IDR melebihi total biaya semua usulannya ({available_idr} IDR)."),
        ),
        MustFundOverBudget {
            must_fund_idr,
            budget_idr,
        } => (
            "must_fund",
            format!("Usulan wajib didanai berbiaya {must_fund_idr} IDR, melebihi anggaran {budget_idr} IDR."),
        ),
        MustFundOverCap {
            scope,
            must_fund_idr,
            cap_idr,
        } => (
            "must_fund",
            format!("{scope}: usulan wajib didanai berbiaya {must_fund_idr} IDR, melebihi batas atas {cap_idr} IDR."),
        ),
        Infeasible => (
            "infeasible",
            "Tidak ada pilihan usulan yang memenuhi semua batas bawah, batas atas dan anggaran sekaligus.".to_owned(),
        ),
        GreedyFloorsUnmet { kecamatan, .. } => (
            "infeasible",
            format!(
                "Metode greedy tidak dapat memenuhi batas bawah kecamatan {}; turunkan batas bawah atau naikkan anggaran/batas atas.",
                kecamatan.join(", ")
            ),
        ),
        NoSolutionInTime(secs) => (
            "infeasible",
            format!("Dalam {secs} detik tidak ditemukan alokasi yang memenuhi batas bawah (greedy pun gagal); batas bawah mungkin mustahil bersama batas atas dan anggaran: turunkan batas bawah."),
        ),
        Solver(_) => {
            return ApiError::internal(anyhow::anyhow!(en));
        }
    };
    ApiError::unprocessable(Msg::new(id, en.clone())).with_extra(json!({
        "constraint": slug,
        "errors": [{"field": slug, "message": en}],
    }))
}

fn ids_text(ids: &[i64]) -> String {
    ids.iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn plan_error(e: PlanError) -> ApiError {
    match e {
        PlanError::Budget(b) => budget_error(&b),
        PlanError::Score(s) => ApiError::invalid_field(
            "score",
            format!("Bobot skor tidak sah: {s}"),
            format!("Invalid score weights: {s}"),
        ),
        PlanError::Store(s) => s.into(),
    }
}

/// The area the user works in, as a code (`None`: the whole region).
fn scope(user: &AuthUser) -> Option<String> {
    user.area().map(|a| a.as_str().to_owned())
}

/// 404 unless the scenario exists, 403 unless the user's area covers it.
fn visible(user: &AuthUser, s: Option<Scenario>) -> ApiResult<Scenario> {
    let s = s.ok_or_else(not_found)?;
    if user.area().is_some() && !user.covers(s.area_code.as_deref()) {
        return Err(ApiError::forbidden(Msg::new(
            "Skenario ini di luar wilayah tugas akun Anda.",
            "This scenario lies outside your account's area.",
        )));
    }
    Ok(s)
}

/// Kecamatan limits outside the user's area are refused with 403 (unknown codes stay a 422
/// from the solver's validation).
async fn check_params_scope(
    state: &AppState,
    user: &AuthUser,
    params: &ScenarioParams,
) -> ApiResult<()> {
    if user.area().is_none() {
        return Ok(());
    }
    let client = super::conn(state).await?;
    for code in params.kecamatan.keys() {
        if !user.covers(Some(code)) && store::kecamatan_exists(&client, code).await? {
            return Err(ApiError::forbidden(Msg::new(
                format!("Kecamatan {code} di luar wilayah tugas akun Anda."),
                format!("Kecamatan {code} lies outside your account's area."),
            )));
        }
    }
    Ok(())
}

/// Candidate proposals ranked by score, best first (a scoped official: their area's).
#[utoipa::path(get, path = "/api/budget/ranking", tag = "budget",
    security(("session" = ["official", "admin"]), ("bearer" = ["official", "admin"])),
    responses((status = 200, description = "`{area_code, gap_run_id, score_params, proposals: [ranked]}`", body = Object)))]
async fn ranking(State(state): State<AppState>, user: AuthUser) -> ApiResult<Json<Value>> {
    rank(&state, &user, &ScoreParams::default()).await
}

/// The ranking with other score weights.
#[utoipa::path(post, path = "/api/budget/ranking", tag = "budget",
    request_body = ScoreBody,
    security(("session" = ["official", "admin"], "csrf" = []), ("bearer" = ["official", "admin"])),
    responses((status = 200, description = "`{area_code, gap_run_id, score_params, proposals: [ranked]}`", body = Object)))]
async fn ranking_with(
    State(state): State<AppState>,
    user: AuthUser,
    JsonBody(params): JsonBody<ScoreParams>,
) -> ApiResult<Json<Value>> {
    rank(&state, &user, &params).await
}

async fn rank(state: &AppState, user: &AuthUser, params: &ScoreParams) -> ApiResult<Json<Value>> {
    user.require_role(ROLES)?;
    let client = super::conn(state).await?;
    let area = scope(user);
    let (gap_run_id, proposals) = plan::ranking(&client, area.as_deref(), params)
        .await
        .map_err(plan_error)?;
    Ok(Json(json!({
        "area_code": area,
        "gap_run_id": gap_run_id,
        "score_params": params,
        "proposals": proposals,
    })))
}

/// Scenarios without their results, newest first.
#[utoipa::path(get, path = "/api/budget/scenarios", tag = "budget",
    security(("session" = ["official", "admin"]), ("bearer" = ["official", "admin"])),
    responses((status = 200, description = "`{scenarios: [scenario]}`", body = Object)))]
async fn list(State(state): State<AppState>, user: AuthUser) -> ApiResult<Json<Value>> {
    user.require_role(ROLES)?;
    let client = super::conn(&state).await?;
    let scenarios = store::list(&client, scope(&user).as_deref()).await?;
    Ok(Json(json!({ "scenarios": scenarios })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScenarioBody {
    name: String,
    params: ScenarioParams,
}

fn check_name(name: &str) -> ApiResult<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 120 {
        return Err(ApiError::invalid_field(
            "name",
            "Nama skenario wajib diisi, paling banyak 120 karakter.",
            "A scenario needs a name of at most 120 characters.",
        ));
    }
    Ok(name.to_owned())
}

/// Solves `params` over the candidates of `area` and returns the result as stored JSON plus the
/// funded rows `(proposal_id, cost_idr, score)`.
async fn evaluate<C: deadpool_postgres::GenericClient>(
    client: &C,
    area: Option<&str>,
    params: &ScenarioParams,
) -> ApiResult<(Value, Vec<(i64, i64, f64)>)> {
    let e = plan::evaluate(client, area, params, &SolveOptions::default())
        .await
        .map_err(plan_error)?;
    let funded = e
        .proposals
        .iter()
        .filter(|p| p.funded == Some(true))
        .map(|p| (p.id, p.estimated_cost_idr.unwrap_or(0), p.score.score))
        .collect();
    let value = serde_json::to_value(&e).map_err(ApiError::internal)?;
    Ok((value, funded))
}

/// A new scenario, validated and solved.
#[utoipa::path(post, path = "/api/budget/scenarios", tag = "budget",
    request_body = ScenarioBodyDoc,
    security(("session" = ["official", "admin"], "csrf" = []), ("bearer" = ["official", "admin"])),
    responses((status = 201, description = "scenario", body = Object)))]
async fn create(
    State(state): State<AppState>,
    user: AuthUser,
    JsonBody(body): JsonBody<ScenarioBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    user.require_role(ROLES)?;
    let name = check_name(&body.name)?;
    check_params_scope(&state, &user, &body.params).await?;
    let area = scope(&user);
    let params = serde_json::to_value(&body.params).map_err(ApiError::internal)?;
    let mut client = super::conn(&state).await?;
    let tx = client.transaction().await.map_err(ApiError::internal)?;
    let (result, funded) = evaluate(&tx, area.as_deref(), &body.params).await?;
    let s = store::insert(&tx, &name, area.as_deref(), &params, &user.actor()).await?;
    store::save_result(&tx, s.id, &result, &funded, &user.actor()).await?;
    let s = store::get(&tx, s.id).await?.ok_or_else(not_found)?;
    tx.commit().await.map_err(ApiError::internal)?;
    Ok((StatusCode::CREATED, Json(json!(s))))
}

/// Replaces a scenario's name and constraints and solves it again (adopted: 409).
#[utoipa::path(put, path = "/api/budget/scenarios/{id}", tag = "budget",
    params(("id" = i64, Path, description = "Scenario id")),
    request_body = ScenarioBodyDoc,
    security(("session" = ["official", "admin"], "csrf" = []), ("bearer" = ["official", "admin"])),
    responses((status = 200, description = "scenario", body = Object), (status = 404, response = crate::api::openapi::NotFound), (status = 409, response = crate::api::openapi::Conflict)))]
async fn update(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<i64>,
    JsonBody(body): JsonBody<ScenarioBody>,
) -> ApiResult<Json<Value>> {
    user.require_role(ROLES)?;
    let name = check_name(&body.name)?;
    check_params_scope(&state, &user, &body.params).await?;
    let params = serde_json::to_value(&body.params).map_err(ApiError::internal)?;
    let mut client = super::conn(&state).await?;
    let tx = client.transaction().await.map_err(ApiError::internal)?;
    let before = visible(&user, store::lock(&tx, id).await?)?;
    if before.status == "adopted" {
        return Err(read_only());
    }
    let (result, funded) = evaluate(&tx, before.area_code.as_deref(), &body.params).await?;
    store::update(&tx, &before, &name, &params, &user.actor()).await?;
    store::save_result(&tx, id, &result, &funded, &user.actor()).await?;
    let s = store::get(&tx, id).await?.ok_or_else(not_found)?;
    tx.commit().await.map_err(ApiError::internal)?;
    Ok(Json(json!(s)))
}

/// Solves a scenario again against today's candidates (adopted: 409).
///
/// Supports, statuses and gap runs move, so a draft's answer can change.
#[utoipa::path(post, path = "/api/budget/scenarios/{id}/solve", tag = "budget",
    params(("id" = i64, Path, description = "Scenario id")),
    security(("session" = ["official", "admin"], "csrf" = []), ("bearer" = ["official", "admin"])),
    responses((status = 200, description = "scenario", body = Object), (status = 404, response = crate::api::openapi::NotFound), (status = 409, response = crate::api::openapi::Conflict), (status = 422, response = crate::api::openapi::Unprocessable)))]
async fn resolve(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    user.require_role(ROLES)?;
    let mut client = super::conn(&state).await?;
    let tx = client.transaction().await.map_err(ApiError::internal)?;
    let s = visible(&user, store::lock(&tx, id).await?)?;
    if s.status == "adopted" {
        return Err(read_only());
    }
    let params: ScenarioParams =
        serde_json::from_value(s.params.clone()).map_err(ApiError::internal)?;
    let (result, funded) = evaluate(&tx, s.area_code.as_deref(), &params).await?;
    store::save_result(&tx, id, &result, &funded, &user.actor()).await?;
    let s = store::get(&tx, id).await?.ok_or_else(not_found)?;
    tx.commit().await.map_err(ApiError::internal)?;
    Ok(Json(json!(s)))
}

#[derive(Debug, Deserialize)]
struct ReadQuery {
    f: Option<String>,
}

fn evaluation(s: &Scenario) -> ApiResult<Evaluation> {
    let result = s.result.clone().ok_or_else(|| {
        conflict(
            "Skenario ini belum dihitung.",
            "This scenario has not been solved.",
        )
    })?;
    serde_json::from_value(result).map_err(ApiError::internal)
}

/// A scenario, or its result as CSV or XLSX (`?f=csv` / `?f=xlsx`).
#[utoipa::path(get, path = "/api/budget/scenarios/{id}", tag = "budget",
    params(("id" = i64, Path, description = "Scenario id"), ("f" = Option<String>, Query, description = "`json` (default), `csv` or `xlsx`")),
    security(("session" = ["official", "admin"]), ("bearer" = ["official", "admin"])),
    responses((status = 200, description = "scenario", content((Object = "application/json"), ("text/csv"), ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
              (status = 404, response = crate::api::openapi::NotFound), (status = 422, response = crate::api::openapi::Unprocessable)))]
async fn read(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<i64>,
    Query(q): Query<ReadQuery>,
) -> ApiResult<Response> {
    user.require_role(ROLES)?;
    let client = super::conn(&state).await?;
    let s = visible(&user, store::get(&client, id).await?)?;
    let file = |ext: &str| format!("attachment; filename=\"anggaran-{id}.{ext}\"");
    match q.f.as_deref() {
        None | Some("json") => Ok(Json(json!(s)).into_response()),
        Some("csv") => {
            let body = export::to_csv(&evaluation(&s)?);
            Ok((
                [
                    (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                    (header::CONTENT_DISPOSITION, file("csv")),
                ],
                body,
            )
                .into_response())
        }
        Some("xlsx") => {
            let body = export::to_xlsx(&evaluation(&s)?, &s.name).map_err(ApiError::internal)?;
            Ok((
                [
                    (
                        header::CONTENT_TYPE,
                        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
                            .to_owned(),
                    ),
                    (header::CONTENT_DISPOSITION, file("xlsx")),
                ],
                body,
            )
                .into_response())
        }
        Some(other) => Err(ApiError::bad_request(Msg::new(
            format!("Format '{other}' tidak tersedia; pilih json, csv atau xlsx."),
            format!("Format '{other}' is not available; use json, csv or xlsx."),
        ))),
    }
}

/// Adopts a scenario: its funded proposals move to `dianggarkan` (adopted already: 409).
///
/// Each funded proposal moves through the proposal lifecycle (a `diverifikasi` one via
/// `diprioritaskan`), each step checked, recorded as a proposal event and audited like any other
/// status change; then the scenario is frozen. One transaction: all or nothing. Accepts an
/// `Idempotency-Key`.
#[utoipa::path(post, path = "/api/budget/scenarios/{id}/adopt", tag = "budget",
    params(("id" = i64, Path, description = "Scenario id"), ("Idempotency-Key" = Option<String>, Header, description = "Retry key")),
    security(("session" = ["official", "admin"], "csrf" = []), ("bearer" = ["official", "admin"])),
    responses((status = 200, description = "scenario (`status: \"adopted\"`)", body = Object), (status = 404, response = crate::api::openapi::NotFound), (status = 409, response = crate::api::openapi::Conflict)))]
async fn adopt(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    user.require_role(ROLES)?;
    let mut client = super::conn(&state).await?;
    let tx = client.transaction().await.map_err(ApiError::internal)?;
    let s = visible(&user, store::lock(&tx, id).await?)?;
    if s.status == "adopted" {
        return Err(read_only());
    }
    let e = evaluation(&s)?;
    let note = format!("skenario anggaran {} ({})", s.id, s.name);
    for &pid in &e.allocation.funded {
        let mut p = proposals::lock(&tx, pid)
            .await?
            .ok_or_else(|| ApiError::internal(anyhow::anyhow!("funded proposal {pid} vanished")))?;
        user.require_scope(p.kelurahan_code.as_deref().or(p.kecamatan_code.as_deref()))?;
        // The path from the status it had when solved; any other status means someone moved it
        // since (budgeted by another scenario, merged, ...): the result is stale.
        let path: &[ProposalStatus] = match p.status() {
            Some(ProposalStatus::Diverifikasi) => {
                &[ProposalStatus::Diprioritaskan, ProposalStatus::Dianggarkan]
            }
            Some(ProposalStatus::Diprioritaskan) => &[ProposalStatus::Dianggarkan],
            _ => {
                return Err(ApiError::conflict(Msg::new(
                    format!(
                    "Usulan {pid} kini berstatus {}; hitung ulang skenario sebelum menetapkannya.",
                    p.status
                ),
                    format!(
                        "Proposal {pid} is now {}; solve the scenario again before adopting it.",
                        p.status
                    ),
                )))
            }
        };
        for &to in path {
            let from = p.status().ok_or_else(|| {
                ApiError::internal(anyhow::anyhow!("proposal {pid} has a bad status"))
            })?;
            user.require_role(roles_for(from, to))?;
            let kind = check_transition(from, to).map_err(|e| {
                ApiError::conflict(Msg::new(
                    format!(
                        "Status usulan tidak dapat berpindah dari {} ke {}.",
                        e.from, e.to
                    ),
                    format!("A proposal cannot move from {} to {}.", e.from, e.to),
                ))
            })?;
            let t = Transition {
                to,
                kind,
                note: Some(note.clone()),
                reason: None,
                merged_into: None,
            };
            proposals::apply_transition(&tx, &p, &t, &user.actor())
                .await
                .map_err(|e| match e {
                    TransitionError::Store(e) => e.into(),
                    other => ApiError::conflict(Msg::new(
                        "Perubahan lain pada usulan yang sama terjadi bersamaan; coba lagi.",
                        format!("{other}; try again."),
                    )),
                })?;
            p.status = to.as_str().to_owned();
        }
    }
    store::mark_adopted(&tx, id, &user.actor()).await?;
    let s = store::get(&tx, id).await?.ok_or_else(not_found)?;
    tx.commit().await.map_err(ApiError::internal)?;
    Ok(Json(json!(s)))
}

#[derive(Debug, Deserialize)]
struct CompareQuery {
    a: i64,
    b: i64,
}

/// How two scenarios differ.
///
/// Parameters, totals, funded proposals, kecamatan spending and the equity distance.
#[utoipa::path(get, path = "/api/budget/compare", tag = "budget",
    params(("a" = i64, Query, description = "A scenario id"), ("b" = i64, Query, description = "Another scenario id")),
    security(("session" = ["official", "admin"]), ("bearer" = ["official", "admin"])),
    responses((status = 200, description = "`{a, b, params_changed, only_in_a, only_in_b, in_both, kecamatan_changed}`", body = Object),
              (status = 400, response = crate::api::openapi::BadRequest), (status = 404, response = crate::api::openapi::NotFound)))]
async fn compare(
    State(state): State<AppState>,
    user: AuthUser,
    Query(q): Query<CompareQuery>,
) -> ApiResult<Json<Value>> {
    user.require_role(ROLES)?;
    let client = super::conn(&state).await?;
    let sa = visible(&user, store::get(&client, q.a).await?)?;
    let sb = visible(&user, store::get(&client, q.b).await?)?;
    let (ea, eb) = (evaluation(&sa)?, evaluation(&sb)?);

    let params_changed: Vec<Value> = {
        let empty = serde_json::Map::new();
        let pa = sa.params.as_object().unwrap_or(&empty);
        let pb = sb.params.as_object().unwrap_or(&empty);
        let keys: BTreeSet<&String> = pa.keys().chain(pb.keys()).collect();
        keys.into_iter()
            .filter(|k| pa.get(*k) != pb.get(*k))
            .map(|k| json!({"param": k, "a": pa.get(k), "b": pb.get(k)}))
            .collect()
    };
    let fa: BTreeSet<i64> = ea.allocation.funded.iter().copied().collect();
    let fb: BTreeSet<i64> = eb.allocation.funded.iter().copied().collect();
    let titles: BTreeMap<i64, &plan::Ranked> = ea
        .proposals
        .iter()
        .chain(&eb.proposals)
        .map(|p| (p.id, p))
        .collect();
    let describe = |ids: Vec<i64>| -> Vec<Value> {
        ids.into_iter()
            .map(|id| {
                let p = titles.get(&id);
                json!({
                    "id": id,
                    "title": p.map(|p| p.title.clone()),
                    "kecamatan_code": p.map(|p| p.kecamatan_code.clone()),
                    "estimated_cost_idr": p.and_then(|p| p.estimated_cost_idr),
                })
            })
            .collect()
    };
    let spent = |e: &Evaluation| -> BTreeMap<String, i64> {
        e.equity
            .rows
            .iter()
            .map(|r| (r.code.clone(), r.spent_idr))
            .collect()
    };
    let (ka, kb) = (spent(&ea), spent(&eb));
    let codes: BTreeSet<&String> = ka.keys().chain(kb.keys()).collect();
    let kecamatan: Vec<Value> = codes
        .into_iter()
        .map(|c| {
            let (a, b) = (
                ka.get(c).copied().unwrap_or(0),
                kb.get(c).copied().unwrap_or(0),
            );
            json!({"code": c, "a_spent_idr": a, "b_spent_idr": b, "change_idr": b - a})
        })
        .filter(|v| v["change_idr"] != json!(0))
        .collect();
    let totals = |s: &Scenario, e: &Evaluation| {
        json!({
            "id": s.id, "name": s.name, "status": s.status,
            "method": e.allocation.method, "budget_idr": e.allocation.budget_idr,
            "spent_idr": e.allocation.spent_idr, "objective": e.allocation.objective,
            "funded": e.allocation.funded.len(), "equity_distance": e.equity.distance,
        })
    };
    Ok(Json(json!({
        "a": totals(&sa, &ea),
        "b": totals(&sb, &eb),
        "params_changed": params_changed,
        "only_in_a": describe(fa.difference(&fb).copied().collect()),
        "only_in_b": describe(fb.difference(&fa).copied().collect()),
        "in_both": fa.intersection(&fb).count(),
        "kecamatan_changed": kecamatan,
    })))
}
