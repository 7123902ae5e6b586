//! The gap analysis over HTTP: start a run, read a run, read the latest default run, compare two
//! runs.
//!
//! Starting a run is for planners, officials and admins (checked by the shared `AuthUser`
//! extractor, which also checks CSRF for cookie sessions). Reading runs is public: results are
//! aggregates per area with nothing private in them, and the public map shows the latest one.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::analysis::gap::{GapParams, Weights, DEFAULT_FOLLOWUP_MONTHS};
use crate::analysis::run;
use crate::api::auth::AuthUser;
use crate::domain::{PartnerType, ProgramType, Role};
use crate::error::{ApiError, ApiResult, Msg};
use crate::store::gap as gap_store;
use crate::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(start_run))
        .routes(routes!(latest_run))
        .routes(routes!(super::gap_events::stream))
        .routes(routes!(compare_runs))
        .routes(routes!(get_run))
        .routes(routes!(exact_cells))
}

/// The body of `POST /api/analysis/gap`; every field is optional.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunRequest {
    /// The day the coverage is taken at (default today).
    #[schema(format = Date)]
    pub as_of: Option<String>,
    /// Count only this type of program.
    #[schema(schema_with = super::openapi::program_types)]
    pub program_type: Option<String>,
    /// Count only programs of this type of partner.
    #[schema(schema_with = super::openapi::partner_types)]
    pub partner_type: Option<String>,
    /// Hexagon cell size, metres (default: the deployment's, 500 m for a city).
    #[schema(minimum = 50, maximum = 50000)]
    pub cell_m: Option<f64>,
    /// The follow-up window, months.
    #[schema(minimum = 1, maximum = 120)]
    pub followup_months: Option<u32>,
    /// The score's weights, numbers `{share, density, demand, support}` (docs/gap-analysis.md).
    #[schema(value_type = Option<Object>)]
    pub weights: Option<Value>,
}

impl RunRequest {
    /// The run's parameters, or a 422 naming the field that is wrong.
    /// `default_cell_m` is the deployment's hexagon edge, used when the request names none.
    pub fn params(self, today: NaiveDate, default_cell_m: f64) -> ApiResult<GapParams> {
        let as_of = match self.as_of.as_deref() {
            None => today,
            Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| {
                ApiError::invalid_field(
                    "as_of",
                    "as_of harus berupa tanggal YYYY-MM-DD.",
                    "as_of must be a date YYYY-MM-DD.",
                )
            })?,
        };
        let program_type = match self.program_type.as_deref() {
            None => None,
            Some(s) => Some(ProgramType::parse(s).ok_or_else(|| {
                ApiError::invalid_field(
                    "program_type",
                    format!(
                        "program_type harus salah satu dari: {}.",
                        ProgramType::ALL.join(", ")
                    ),
                    format!(
                        "program_type must be one of: {}.",
                        ProgramType::ALL.join(", ")
                    ),
                )
            })?),
        };
        let partner_type = match self.partner_type.as_deref() {
            None => None,
            Some(s) => Some(PartnerType::parse(s).ok_or_else(|| {
                ApiError::invalid_field(
                    "partner_type",
                    format!(
                        "partner_type harus salah satu dari: {}.",
                        PartnerType::ALL.join(", ")
                    ),
                    format!(
                        "partner_type must be one of: {}.",
                        PartnerType::ALL.join(", ")
                    ),
                )
            })?),
        };
        let weights = match self.weights {
            None => Weights::default(),
            Some(v) => serde_json::from_value(v).map_err(|_| {
                ApiError::invalid_field(
                    "weights",
                    "weights hanya boleh berisi angka share, density, demand, support.",
                    "weights may only hold the numbers share, density, demand, support.",
                )
            })?,
        };
        let params = GapParams {
            as_of,
            program_type,
            partner_type,
            cell_m: self.cell_m.unwrap_or(default_cell_m),
            followup_months: self.followup_months.unwrap_or(DEFAULT_FOLLOWUP_MONTHS),
            weights,
        };
        params.check().map_err(|why| {
            let field = if why.starts_with("cell_m") {
                "cell_m"
            } else if why.starts_with("followup") {
                "followup_months"
            } else {
                "weights"
            };
            ApiError::invalid_field(field, format!("Parameter tidak valid: {why}."), why)
        })?;
        Ok(params)
    }
}

/// Runs the gap analysis with these parameters and saves it.
#[utoipa::path(post, path = "/api/analysis/gap", tag = "analysis",
    request_body(content = Option<RunRequest>, description = "Optional: an empty body runs with the defaults"),
    security(("session" = ["planner", "official", "admin"], "csrf" = []), ("bearer" = ["planner", "official", "admin"])),
    responses((status = 201, description = "`{id, summary}`", body = Object)))]
async fn start_run(
    State(state): State<AppState>,
    auth: AuthUser,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    auth.require_role(&[Role::Planner, Role::Official, Role::Admin])?;
    let request: RunRequest = if body.iter().all(u8::is_ascii_whitespace) {
        RunRequest::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            ApiError::bad_request(Msg::new(
                format!("Isi permintaan tidak sesuai: {e}"),
                format!("The request body does not fit: {e}"),
            ))
        })?
    };
    let default_cell_m = gap_store::default_cell_m(&state.pool).await?;
    let params = request.params(chrono::Local::now().date_naive(), default_cell_m)?;
    // The run goes on in its own task: a client that hangs up must not cut it off half-way
    // (its connections would return to the pool inside a transaction).
    let pool = state.pool.clone();
    let outcome = tokio::spawn(async move { run::run(&pool, &params, &|_, _| {}).await })
        .await
        .map_err(ApiError::internal)??;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "id": outcome.id, "summary": outcome.summary })),
    ))
}

fn run_not_found() -> ApiError {
    ApiError::not_found(Msg::new(
        "Analisis kesenjangan ini tidak ada.",
        "There is no such gap analysis run.",
    ))
}

/// A saved run.
#[utoipa::path(get, path = "/api/analysis/gap/{id}", tag = "analysis",
    params(("id" = i64, Path, description = "Run id")),
    responses((status = 200, description = "`{id, created_at, params, is_default, live, changes_through, population_weighted, summary}`", body = Object),
              (status = 404, response = crate::api::openapi::NotFound)))]
async fn get_run(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<gap_store::RunInfo>> {
    let id: i64 = id.parse().map_err(|_| run_not_found())?;
    let run = gap_store::get_run(&super::read_pool(&state).await, id)
        .await?
        .ok_or_else(run_not_found)?;
    Ok(Json(run))
}

/// The live run: default parameters as of the day it was made, kept fresh by `sigap serve`.
/// Public JSON with an ETag.
#[utoipa::path(get, path = "/api/analysis/gap/latest", tag = "analysis",
    responses((status = 200, description = "The run", body = Object),
              (status = 304, description = "Unchanged since the `If-None-Match` tag"),
              (status = 404, response = crate::api::openapi::NotFound)))]
async fn latest_run(State(state): State<AppState>) -> ApiResult<Json<gap_store::RunInfo>> {
    let run = gap_store::latest_default_run(&super::read_pool(&state).await)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(Msg::new(
                "Belum ada analisis kesenjangan dengan parameter bawaan.",
                "No gap analysis with the default parameters has been run yet.",
            ))
        })?;
    Ok(Json(run))
}

#[derive(Debug, Deserialize)]
struct CompareQuery {
    a: i64,
    b: i64,
    min_delta: Option<f64>,
}

/// Per kelurahan, how two runs differ (losses first).
#[utoipa::path(get, path = "/api/analysis/gap/compare", tag = "analysis",
    params(("a" = i64, Query, description = "A run id"), ("b" = i64, Query, description = "Another run id"),
           ("min_delta" = Option<f64>, Query, minimum = 0, maximum = 1, description = "Smallest change listed (default 0.001)")),
    responses((status = 200, description = "`{a, b, changes: [{kelurahan_code, covered_fraction_a, covered_fraction_b, delta, gap_score_a, gap_score_b}]}`", body = Object),
              (status = 400, response = crate::api::openapi::BadRequest), (status = 404, response = crate::api::openapi::NotFound), (status = 422, response = crate::api::openapi::Unprocessable)))]
async fn compare_runs(
    State(state): State<AppState>,
    query: Result<Query<CompareQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Value>> {
    let Query(q) = query.map_err(|_| {
        ApiError::bad_request(Msg::new(
            "Sebutkan dua nomor analisis: ?a=…&b=…",
            "Name two run ids: ?a=…&b=…",
        ))
    })?;
    let min_delta = q.min_delta.unwrap_or(0.001);
    if !(min_delta.is_finite() && (0.0..=1.0).contains(&min_delta)) {
        return Err(ApiError::invalid_field(
            "min_delta",
            "min_delta harus antara 0 dan 1.",
            "min_delta must be from 0 to 1.",
        ));
    }
    for id in [q.a, q.b] {
        gap_store::get_run(&super::read_pool(&state).await, id)
            .await?
            .ok_or_else(run_not_found)?;
    }
    let changes = gap_store::compare(&super::read_pool(&state).await, q.a, q.b, min_delta).await?;
    Ok(Json(json!({ "a": q.a, "b": q.b, "changes": changes })))
}

/// A run's hexagon cells with exact household figures.
///
/// For planners, officials and admins: the public `gap_cells` layer withholds small counts
/// (docs/privacy.md).
#[utoipa::path(get, path = "/api/analysis/gap/{id}/cells", tag = "analysis",
    params(("id" = i64, Path, description = "Run id")),
    security(("session" = ["planner", "official", "admin"]), ("bearer" = ["planner", "official", "admin"])),
    responses((status = 200, description = "GeoJSON FeatureCollection", body = Object, content_type = "application/geo+json"),
              (status = 404, response = crate::api::openapi::NotFound)))]
async fn exact_cells(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<String>,
) -> ApiResult<axum::response::Response> {
    use axum::response::IntoResponse;
    auth.require_role(&[Role::Planner, Role::Official, Role::Admin])?;
    let id: i64 = id.parse().map_err(|_| run_not_found())?;
    let body = gap_store::cells_geojson(&super::read_pool(&state).await, id)
        .await?
        .ok_or_else(run_not_found)?;
    let mut res = body.into_response();
    res.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/geo+json"),
    );
    Ok(res)
}
