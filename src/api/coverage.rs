//! Coverage areas written over HTTP (issue 15): `/api/coverage`. A polygon (GeoJSON) or a site
//! point with a radius, checked and repaired by PostGIS before anything is written; the dates of a
//! coverage period edited; approval by reviewers. Access rules: [`super::partners`].

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::auth::{AuthUser, MaybeUser};
use super::fields::Fields;
use super::input::JsonBody;
use super::partners::{
    in_tx, is_reviewer, may_see, not_found, publish_now, require_owner, require_reviewer, scope,
    viewer, writable_program, write_error, WRITERS,
};
use crate::error::{ApiError, ApiResult, Msg};
use crate::store::partner_coverage::{self as store, CoverageHead, CoverageInput, Place};
use crate::store::partners::partner_trusted;
use crate::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(show, update))
        .routes(routes!(approve))
}

// The bodies as documented; the handlers read them field by field ([`Fields`]), and the test
// `openapi::documented_bodies_list_exactly_the_accepted_fields` keeps these field lists equal to
// the accepted ones.

/// A new coverage area: exactly one of `geometry` (a GeoJSON Polygon or MultiPolygon) or `site`
/// (a GeoJSON Point) with `radius_m`. PostGIS checks and repairs the shape (docs/partners.md
/// "Coverage shapes"); it must meet the region. `valid_to` may not be before `valid_from`.
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub(super) struct CoverageCreate {
    #[schema(pattern = "^[a-z0-9][a-z0-9_-]{0,63}$")]
    code: String,
    #[schema(pattern = "^[a-z0-9][a-z0-9_-]{0,63}$")]
    program_code: String,
    /// GeoJSON Polygon or MultiPolygon (EPSG:4326).
    #[schema(value_type = Option<Object>)]
    geometry: Option<Value>,
    /// GeoJSON Point of a facility or site (EPSG:4326); needs `radius_m`.
    #[schema(value_type = Option<Object>)]
    site: Option<Value>,
    /// Service radius around `site`, metres.
    #[schema(minimum = 1, maximum = 50000)]
    radius_m: Option<f64>,
    /// Default: the program's start date.
    #[schema(format = Date)]
    valid_from: Option<String>,
    /// Default: the program's end date.
    #[schema(format = Date)]
    valid_to: Option<String>,
    #[schema(max_length = 2000)]
    note: Option<String>,
}

/// A coverage area as the API shows it: a GeoJSON Feature (EPSG:4326) whose `id` is its code.
/// The answer to a creation adds `repaired` (true when PostGIS had to repair the polygon).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub(super) struct CoverageFeature {
    /// `Feature`.
    #[serde(rename = "type")]
    #[schema(schema_with = feature_type)]
    kind: String,
    id: String,
    /// A GeoJSON MultiPolygon.
    #[schema(value_type = Object)]
    geometry: Value,
    properties: CoverageProperties,
    #[serde(default)]
    repaired: Option<bool>,
}

fn feature_type() -> utoipa::openapi::Object {
    super::openapi::vocab(&["Feature"])
}

fn feature_collection_type() -> utoipa::openapi::Object {
    super::openapi::vocab(&["FeatureCollection"])
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub(super) struct CoverageProperties {
    code: String,
    program_code: String,
    partner_code: String,
    #[schema(format = Date)]
    valid_from: String,
    #[schema(format = Date)]
    valid_to: String,
    /// Only to reviewers and the partner's own staff (`null` to others).
    note: Option<String>,
    /// The site point (GeoJSON) of an area drawn as site + radius.
    #[schema(value_type = Option<Object>)]
    site: Option<Value>,
    /// Metres, with `site`.
    radius_m: Option<f64>,
    area_km2: f64,
    approved: bool,
    #[schema(format = DateTime)]
    approved_at: Option<String>,
}

/// Coverage areas (at most 2000).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub(super) struct CoverageCollection {
    #[serde(rename = "type")]
    #[schema(schema_with = feature_collection_type)]
    kind: String,
    features: Vec<CoverageFeature>,
}

/// An edit of a coverage period: its dates and note (`note: null` clears it).
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub(super) struct CoveragePatch {
    #[schema(format = Date)]
    valid_from: Option<String>,
    #[schema(format = Date)]
    valid_to: Option<String>,
    #[schema(max_length = 2000)]
    note: Option<String>,
}

/// Largest service radius of a site, as the coverage table's CHECK allows.
const MAX_RADIUS_M: f64 = 50_000.0;

#[derive(Deserialize)]
struct ListQuery {
    program: Option<String>,
}

/// Coverage areas as a GeoJSON FeatureCollection (at most 2000; pending ones: reviewers and own
/// staff). The public layer is `/ogc/collections/coverage`.
#[utoipa::path(get, path = "/api/coverage", tag = "partners",
    params(("program" = Option<String>, Query, description = "Only this program's areas")),
    security((), ("session" = []), ("bearer" = [])),
    responses((status = 200, description = "GeoJSON FeatureCollection of coverage features", body = CoverageCollection)))]
async fn list(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Value>> {
    let client = super::conn(&state).await?;
    let features =
        store::coverage(&client, None, q.program.as_deref(), &viewer(user.as_ref())).await?;
    Ok(Json(
        json!({"type": "FeatureCollection", "features": features}),
    ))
}

async fn feature(state: &AppState, user: Option<&AuthUser>, code: &str) -> ApiResult<Value> {
    let client = super::conn(state).await?;
    store::coverage(&client, Some(code), None, &viewer(user))
        .await?
        .pop()
        .ok_or_else(|| not_found("Cakupan", "coverage area"))
}

/// One coverage area as a GeoJSON Feature.
#[utoipa::path(get, path = "/api/coverage/{code}", tag = "partners",
    params(("code" = String, Path, description = "Coverage area code")),
    security((), ("session" = []), ("bearer" = [])),
    responses((status = 200, description = "The coverage area", body = CoverageFeature), (status = 404, response = crate::api::openapi::NotFound)))]
async fn show(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    Path(code): Path<String>,
) -> ApiResult<Json<Value>> {
    Ok(Json(feature(&state, user.as_ref(), &code).await?))
}

const CREATE_FIELDS: &[&str] = &[
    "code",
    "program_code",
    "geometry",
    "site",
    "radius_m",
    "valid_from",
    "valid_to",
    "note",
];

fn place(f: &Fields) -> ApiResult<(Place, &'static str)> {
    match (f.get("geometry"), f.get("site")) {
        (Some(g), None) => {
            if f.has("radius_m") {
                return Err(ApiError::invalid_field(
                    "radius_m",
                    "radius_m hanya untuk lokasi titik (site), bukan untuk poligon.",
                    "radius_m goes with a site point, not with a polygon.",
                ));
            }
            Ok((
                Place::Polygon {
                    geojson: g.to_string(),
                },
                "geometry",
            ))
        }
        (None, Some(s)) => {
            let radius_m = f.number("radius_m", 1.0, MAX_RADIUS_M)?.ok_or_else(|| {
                ApiError::invalid_field(
                    "radius_m",
                    "Lokasi titik (site) memerlukan radius_m dalam meter (1–50000).",
                    "A site point needs radius_m in metres (1–50000).",
                )
            })?;
            Ok((
                Place::Site {
                    geojson: s.to_string(),
                    radius_m,
                },
                "site",
            ))
        }
        _ => Err(ApiError::invalid_field(
            "geometry",
            "Kirim tepat satu: geometry (Polygon/MultiPolygon GeoJSON) atau site (Point GeoJSON) dengan radius_m.",
            "Send exactly one of: geometry (a GeoJSON Polygon/MultiPolygon) or site (a GeoJSON Point) with radius_m.",
        )),
    }
}

fn dates_in_order(from: chrono::NaiveDate, to: chrono::NaiveDate) -> ApiResult<()> {
    if to < from {
        Err(ApiError::invalid_field(
            "valid_to",
            "valid_to tidak boleh sebelum valid_from.",
            "valid_to may not be before valid_from.",
        ))
    } else {
        Ok(())
    }
}

/// A new coverage area of a program: reviewers (in their area), a mitra for its own programs;
/// a new partner's area waits for review.
#[utoipa::path(post, path = "/api/coverage", tag = "partners",
    request_body = CoverageCreate,
    security(("session" = ["planner", "admin", "mitra"], "csrf" = []), ("bearer" = ["planner", "admin", "mitra"])),
    responses((status = 201, description = "The feature; `repaired: true` when PostGIS had to repair the polygon", body = CoverageFeature),
              (status = 409, response = crate::api::openapi::Conflict)))]
async fn create(
    State(state): State<AppState>,
    user: AuthUser,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<impl IntoResponse> {
    user.require_role(WRITERS)?;
    let f = Fields::new(body, CREATE_FIELDS)?;
    let code = f.slug("code")?;
    let program_code = f.slug("program_code")?;
    let (place, field) = place(&f)?;
    let valid_from = f.date("valid_from")?;
    let valid_to = f.date("valid_to")?;
    let note = f.text("note", 2000)?;
    let area = scope(&user);
    // Checked on a connection of its own: a parse error would abort a transaction.
    let check = {
        let client = super::conn(&state).await?;
        let program = writable_program(&client, &user, &program_code, Some("program_code")).await?;
        dates_in_order(
            valid_from.unwrap_or(program.start_date),
            valid_to.unwrap_or(program.end_date),
        )?;
        store::check_shape(&client, &place, area.as_deref()).await?
    };
    let check = check.ok_or_else(|| {
        ApiError::invalid_field(
            field,
            format!("Kolom {field} bukan geometri GeoJSON yang dapat dibaca."),
            format!("The field {field} is not a GeoJSON geometry that can be read."),
        )
    })?;
    let polygon = matches!(place, Place::Polygon { .. });
    if polygon && !matches!(check.input_type.as_str(), "POLYGON" | "MULTIPOLYGON") {
        return Err(ApiError::invalid_field(
            field,
            format!("Cakupan harus Polygon atau MultiPolygon, bukan {}. Untuk satu titik, kirim site dengan radius_m.", check.input_type),
            format!("A coverage area is a Polygon or MultiPolygon, not a {}. For a single point send site with radius_m.", check.input_type),
        ));
    }
    if !polygon && check.input_type != "POINT" {
        return Err(ApiError::invalid_field(
            field,
            format!("site harus Point GeoJSON, bukan {}.", check.input_type),
            format!("site must be a GeoJSON Point, not a {}.", check.input_type),
        ));
    }
    if !check.usable {
        return Err(ApiError::invalid_field(
            field,
            "Poligon ini tidak sah dan tidak dapat diperbaiki menjadi poligon (mis. semua titiknya segaris). Gambar ulang batasnya.",
            "This polygon is invalid and cannot be repaired into a polygon (e.g. all its points lie on a line). Draw the outline again.",
        ));
    }
    if !check.in_region {
        return Err(ApiError::invalid_field(
            field,
            "Cakupan ini berada di luar wilayah SIGAP. Periksa urutan koordinat (bujur, lintang) dan lokasinya.",
            "This coverage area lies outside the SIGAP region. Check the coordinate order (longitude, latitude) and the place.",
        ));
    }
    if !check.in_area {
        return Err(ApiError::forbidden(Msg::new(
            "Cakupan ini di luar wilayah tugas akun Anda.",
            "This coverage area lies outside your account's area.",
        )));
    }
    let input = CoverageInput {
        code,
        program_code,
        place,
        valid_from,
        valid_to,
        note,
    };
    in_tx!(&state, |tx| {
        // Re-read under the transaction: the program and its partner decide the review state.
        let program =
            writable_program(&tx, &user, &input.program_code, Some("program_code")).await?;
        let trusted = partner_trusted(&tx, &program.partner_code)
            .await?
            .unwrap_or(false);
        let (approved, approver) = publish_now(&user, trusted);
        store::create_coverage(&tx, &input, approved, approver, &user.actor())
            .await
            .map_err(write_error)?
    });
    let mut shown = feature(&state, Some(&user), &input.code).await?;
    shown["repaired"] = json!(!check.valid_as_sent);
    Ok((StatusCode::CREATED, Json(shown)))
}

/// A coverage area the user may change: 404 when it is not theirs to see, 403 when it is
/// another partner's or outside a scoped reviewer's area.
async fn writable<C: deadpool_postgres::GenericClient>(
    client: &C,
    user: &AuthUser,
    code: &str,
) -> ApiResult<CoverageHead> {
    user.require_role(WRITERS)?;
    let area = scope(user);
    let head = match store::coverage_head(client, code, area.as_deref(), true).await? {
        Some(h) if may_see(Some(user), &h.partner_code, h.approved) => h,
        _ => return Err(not_found("Cakupan", "coverage area")),
    };
    require_owner(user, &head.partner_code)?;
    if is_reviewer(user) && !head.in_area {
        return Err(ApiError::forbidden(Msg::new(
            "Cakupan ini di luar wilayah tugas akun Anda.",
            "This coverage area lies outside your account's area.",
        )));
    }
    Ok(head)
}

/// An edit of a coverage area's dates and note.
#[utoipa::path(patch, path = "/api/coverage/{code}", tag = "partners",
    params(("code" = String, Path, description = "Coverage area code")),
    request_body = CoveragePatch,
    security(("session" = ["planner", "admin", "mitra"], "csrf" = []), ("bearer" = ["planner", "admin", "mitra"])),
    responses((status = 200, description = "The feature", body = CoverageFeature), (status = 404, response = crate::api::openapi::NotFound)))]
async fn update(
    State(state): State<AppState>,
    user: AuthUser,
    Path(code): Path<String>,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<Json<Value>> {
    let f = Fields::new(body, &["valid_from", "valid_to", "note"])?;
    in_tx!(&state, |tx| {
        let head = writable(&tx, &user, &code).await?;
        let from = f.date("valid_from")?.unwrap_or(head.valid_from);
        let to = f.date("valid_to")?.unwrap_or(head.valid_to);
        dates_in_order(from, to)?;
        // `"note": null` clears the note; an absent note keeps it.
        let note = if f.present("note") {
            f.text("note", 2000)?
        } else {
            head.note.clone()
        };
        store::update_coverage_dates(&tx, &head, from, to, note.as_deref(), &user.actor())
            .await
            .map_err(write_error)?
    });
    Ok(Json(feature(&state, Some(&user), &code).await?))
}

/// A reviewer approves one coverage area (its program must be approved: else 409).
#[utoipa::path(post, path = "/api/coverage/{code}/approve", tag = "partners",
    params(("code" = String, Path, description = "Coverage area code")),
    security(("session" = ["planner", "admin"], "csrf" = []), ("bearer" = ["planner", "admin"])),
    responses((status = 200, description = "The feature", body = CoverageFeature), (status = 404, response = crate::api::openapi::NotFound), (status = 409, response = crate::api::openapi::Conflict)))]
async fn approve(
    State(state): State<AppState>,
    user: AuthUser,
    Path(code): Path<String>,
) -> ApiResult<Json<Value>> {
    require_reviewer(&user)?;
    in_tx!(&state, |tx| {
        let head = writable(&tx, &user, &code).await?;
        if !head.program_approved {
            return Err(ApiError::conflict(Msg::new(
                format!("Program '{}' belum disetujui. Setujui programnya dulu (POST /api/programs/{}/approve); cakupannya ikut disetujui.", head.program_code, head.program_code),
                format!("Program '{}' is not approved yet. Approve the program first (POST /api/programs/{}/approve); its coverage is approved with it.", head.program_code, head.program_code),
            )));
        }
        store::approve_coverage(&tx, &code, &user.actor())
            .await
            .map_err(write_error)?
    });
    Ok(Json(feature(&state, Some(&user), &code).await?))
}
