//! Community proposals over HTTP: submission (JSON or multipart with a photo), public reads,
//! tracking by code, nearby search, supports, the status lifecycle and the moderation queue.
//! The rules live in `domain::lifecycle`, the SQL in `store::proposals`; this module parses,
//! checks who may do what, and encodes.

use std::io::Cursor;

use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Path, Query, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::auth::{AuthUser, MaybeUser};
use super::input::{body_too_large, parse_json, read_body, unsupported_media, ClientIp};
use crate::domain::{
    check_transition, roles_for, ProposalCategory, ProposalStatus, Role, TransitionKind,
};
use crate::error::{ApiError, ApiResult, Msg};
use crate::store::audit::Actor;
use crate::store::follow;
use crate::store::proposals::{
    self, NewProposal, Photo, Proposal, SupportError, Transition, TransitionError,
};
use crate::AppState;

/// Largest photo accepted, in bytes, before re-encoding.
pub const PHOTO_MAX_BYTES: usize = 5 * 1024 * 1024;
/// Radius of the "someone already asked for this" search, in metres.
pub const NEARBY_RADIUS_M: f64 = 50.0;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(submit))
        .routes(routes!(nearby))
        .routes(routes!(track))
        .routes(routes!(show))
        .routes(routes!(photo))
        .routes(routes!(support, withdraw))
        .routes(routes!(change_status))
        .routes(routes!(moderation_queue))
}

// ---------------------------------------------------------------------------------------------
// Submission

/// The fields of a submission, from JSON or from multipart text fields: a place (`lon` and
/// `lat`, or `location`) inside the region, a `category`, a `title`, and the rest optional.
/// Unknown fields are refused.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitFields {
    /// Longitude, degrees (EPSG:4326).
    #[schema(minimum = -180, maximum = 180)]
    pub lon: Option<f64>,
    /// Latitude, degrees (EPSG:4326).
    #[schema(minimum = -90, maximum = 90)]
    pub lat: Option<f64>,
    /// A GeoJSON Point, as an alternative to lon/lat.
    #[schema(value_type = Option<Object>)]
    pub location: Option<Value>,
    #[schema(schema_with = super::openapi::proposal_categories)]
    pub category: Option<String>,
    /// Required.
    #[schema(min_length = 5, max_length = 120)]
    pub title: Option<String>,
    #[schema(max_length = 2000)]
    pub description: Option<String>,
    #[schema(minimum = 0)]
    pub estimated_cost_idr: Option<i64>,
    /// Shown only to staff covering the place.
    #[schema(max_length = 120)]
    pub submitter_name: Option<String>,
    #[schema(max_length = 40)]
    pub submitter_phone: Option<String>,
}

/// A submission with a photo: the fields of [`SubmitFields`] as form fields, and the photo.
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
struct SubmitForm {
    #[serde(flatten)]
    fields: SubmitFields,
    /// JPEG, PNG or WebP, at most 5 MB; re-encoded, metadata dropped.
    #[schema(value_type = Option<String>, format = Binary)]
    photo: Option<Vec<u8>>,
}

/// Checks a longitude/latitude pair: finite numbers in range.
pub(crate) fn check_lon_lat(lon: f64, lat: f64) -> ApiResult<(f64, f64)> {
    if !lon.is_finite() || !(-180.0..=180.0).contains(&lon) {
        return Err(ApiError::invalid_field(
            "lon",
            "Bujur (lon) harus angka antara -180 dan 180.",
            "The longitude (lon) must be a number between -180 and 180.",
        ));
    }
    if !lat.is_finite() || !(-90.0..=90.0).contains(&lat) {
        return Err(ApiError::invalid_field(
            "lat",
            "Lintang (lat) harus angka antara -90 dan 90.",
            "The latitude (lat) must be a number between -90 and 90.",
        ));
    }
    Ok((lon, lat))
}

fn point_of(f: &SubmitFields) -> ApiResult<(f64, f64)> {
    if let Some(loc) = &f.location {
        let geom = geojson::Geometry::from_json_value(loc.clone()).map_err(|_| {
            ApiError::invalid_field(
                "location",
                "location harus geometri GeoJSON.",
                "location must be a GeoJSON geometry.",
            )
        })?;
        return match geom.value {
            geojson::Value::Point(c) if c.len() >= 2 => check_lon_lat(c[0], c[1]),
            _ => Err(ApiError::invalid_field(
                "location",
                "location harus sebuah titik (GeoJSON Point), bukan garis atau poligon.",
                "location must be a single point (GeoJSON Point), not a line or polygon.",
            )),
        };
    }
    match (f.lon, f.lat) {
        (Some(lon), Some(lat)) => check_lon_lat(lon, lat),
        _ => Err(ApiError::invalid_field(
            "location",
            "Tentukan lokasi: lon dan lat, atau location (GeoJSON Point).",
            "Give a location: lon and lat, or location (a GeoJSON Point).",
        )),
    }
}

fn text_field(
    field: &str,
    value: Option<&str>,
    min: usize,
    max: usize,
) -> ApiResult<Option<String>> {
    let value = value.map(str::trim).filter(|v| !v.is_empty());
    let n = value.map(|v| v.chars().count()).unwrap_or(0);
    if (min > 0 && n < min) || n > max {
        return Err(ApiError::invalid_field(
            field,
            format!("Kolom {field} harus {min}–{max} karakter."),
            format!("The field {field} must have {min}–{max} characters."),
        ));
    }
    Ok(value.map(str::to_owned))
}

/// Validates a submission into what the store inserts.
pub(crate) fn validate(
    f: &SubmitFields,
    submitter_id: Option<i64>,
    photo: Option<Photo>,
) -> ApiResult<NewProposal> {
    let (lon, lat) = point_of(f)?;
    let category = f.category.as_deref().map(str::trim).unwrap_or("");
    if ProposalCategory::parse(category).is_none() {
        return Err(ApiError::invalid_field(
            "category",
            format!(
                "Kategori harus salah satu dari: {}.",
                ProposalCategory::ALL.join(", ")
            ),
            format!(
                "The category must be one of: {}.",
                ProposalCategory::ALL.join(", ")
            ),
        ));
    }
    let title = text_field("title", f.title.as_deref(), 5, 120)?.unwrap_or_default();
    let description = text_field("description", f.description.as_deref(), 0, 2000)?;
    if f.estimated_cost_idr.is_some_and(|c| c < 0) {
        return Err(ApiError::invalid_field(
            "estimated_cost_idr",
            "Perkiraan biaya tidak boleh negatif.",
            "The estimated cost cannot be negative.",
        ));
    }
    Ok(NewProposal {
        lon,
        lat,
        category: category.to_owned(),
        title,
        description: description.unwrap_or_default(),
        estimated_cost_idr: f.estimated_cost_idr,
        submitter_id,
        submitter_name: text_field("submitter_name", f.submitter_name.as_deref(), 0, 120)?,
        submitter_phone: text_field("submitter_phone", f.submitter_phone.as_deref(), 0, 40)?,
        photo,
    })
}

/// Sniffs, decodes and re-encodes a photo so that no metadata (EXIF, GPS, XMP) survives:
/// PNG stays PNG (lossless, keeps transparency), JPEG and WebP become JPEG.
pub(crate) fn reencode_photo(bytes: &[u8]) -> ApiResult<Photo> {
    use image::ImageFormat;
    let format = image::guess_format(bytes).ok();
    let format = match format {
        Some(f @ (ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::WebP)) => f,
        _ => {
            return Err(unsupported_media(
                "Foto harus JPEG, PNG atau WebP.",
                "The photo must be a JPEG, PNG or WebP image.",
            ))
        }
    };
    let mut reader = image::ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = image::Limits::default();
    // A decompression bomb stops here instead of filling the memory.
    limits.max_image_width = Some(10_000);
    limits.max_image_height = Some(10_000);
    limits.max_alloc = Some(256 * 1024 * 1024);
    reader.limits(limits);
    let img = reader.decode().map_err(|_| {
        ApiError::invalid_field(
            "photo",
            "Berkas foto rusak atau bukan gambar yang sebenarnya.",
            "The photo file is damaged or not really an image.",
        )
    })?;
    let mut out = Vec::new();
    let content_type = if format == ImageFormat::Png {
        img.write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
            .map_err(ApiError::internal)?;
        "image/png"
    } else {
        let rgb = img.to_rgb8();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85)
            .encode_image(&rgb)
            .map_err(ApiError::internal)?;
        "image/jpeg"
    };
    Ok(Photo {
        content_type,
        width: i32::try_from(img.width()).unwrap_or(i32::MAX),
        height: i32::try_from(img.height()).unwrap_or(i32::MAX),
        bytes: out,
    })
}

fn multipart_error(e: axum::extract::multipart::MultipartError, limit: usize) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        body_too_large(limit)
    } else {
        ApiError::bad_request(Msg::new(
            format!("Data multipart tidak valid: {e}"),
            format!("Malformed multipart data: {e}"),
        ))
    }
}

async fn read_multipart(
    req: Request,
    state: &AppState,
) -> ApiResult<(SubmitFields, Option<Vec<u8>>)> {
    let limit = state.config.body_limit_bytes;
    let mut mp = Multipart::from_request(req, state)
        .await
        .map_err(|e| ApiError::bad_request(Msg::new(e.body_text(), e.body_text())))?;
    let mut f = SubmitFields::default();
    let mut photo = None;
    while let Some(field) = mp
        .next_field()
        .await
        .map_err(|e| multipart_error(e, limit))?
    {
        let name = field.name().unwrap_or("").to_owned();
        if name == "photo" {
            let bytes = field.bytes().await.map_err(|e| multipart_error(e, limit))?;
            if bytes.len() > PHOTO_MAX_BYTES {
                return Err(ApiError::too_large(Msg::new(
                    "Foto lebih besar dari 5 MB.",
                    "The photo is larger than 5 MB.",
                )));
            }
            if !bytes.is_empty() {
                photo = Some(bytes.to_vec());
            }
            continue;
        }
        let text = field.text().await.map_err(|e| multipart_error(e, limit))?;
        let number = |field: &str, t: &str| -> ApiResult<f64> {
            t.trim().parse::<f64>().map_err(|_| {
                ApiError::invalid_field(
                    field,
                    format!("Kolom {field} harus angka."),
                    format!("The field {field} must be a number."),
                )
            })
        };
        match name.as_str() {
            "lon" => f.lon = Some(number("lon", &text)?),
            "lat" => f.lat = Some(number("lat", &text)?),
            "location" => f.location = Some(parse_json(text.as_bytes())?),
            "category" => f.category = Some(text),
            "title" => f.title = Some(text),
            "description" => f.description = Some(text),
            "estimated_cost_idr" => {
                f.estimated_cost_idr = Some(text.trim().parse::<i64>().map_err(|_| {
                    ApiError::invalid_field(
                        "estimated_cost_idr",
                        "Perkiraan biaya harus bilangan bulat rupiah.",
                        "The estimated cost must be a whole number of rupiah.",
                    )
                })?)
            }
            "submitter_name" => f.submitter_name = Some(text),
            "submitter_phone" => f.submitter_phone = Some(text),
            other => {
                return Err(ApiError::invalid_field(
                    other,
                    format!("Kolom '{other}' tidak dikenal."),
                    format!("Unknown field '{other}'."),
                ))
            }
        }
    }
    Ok((f, photo))
}

fn outside_region() -> ApiError {
    ApiError::invalid_field(
        "location",
        "Titik itu berada di luar wilayah Kota Bandung; usulan hanya untuk lokasi di dalam wilayah.",
        "That point lies outside the region (Kota Bandung); proposals are only for places inside it.",
    )
}

/// The rate limit, validation and insert shared by `/api/proposals` and Open311.
pub(crate) async fn create(
    state: &AppState,
    user: &MaybeUser,
    fields: &SubmitFields,
    photo: Option<Photo>,
) -> ApiResult<proposals::Created> {
    let new = validate(fields, user.0.as_ref().map(|u| u.id()), photo)?;
    let actor = user
        .0
        .as_ref()
        .map(AuthUser::actor)
        .unwrap_or_else(Actor::anonymous);
    let client = super::conn(state).await?;
    let created = proposals::insert(&client, &new, &actor).await?;
    created.ok_or_else(outside_region)
}

/// Files a proposal (anyone; anonymous submissions are rate-limited per IP). Accepts an
/// `Idempotency-Key`. A place outside the region is 422 on `location`.
#[utoipa::path(post, path = "/api/proposals", tag = "proposals",
    params(("Idempotency-Key" = Option<String>, Header, description = "A retry with the same key and body answers the first result (24 h)")),
    request_body(content((SubmitFields = "application/json"), (SubmitForm = "multipart/form-data"))),
    security((), ("session" = []), ("bearer" = [])),
    responses((status = 201, description = "`{id, tracking_code, status: \"diajukan\", kelurahan_code, kecamatan_code}`", body = Object),
              (status = 429, response = crate::api::openapi::TooManyRequests)))]
async fn submit(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    user: MaybeUser,
    req: Request,
) -> ApiResult<Response> {
    if user.0.is_none() {
        state.limits.anonymous_post(ip).await?;
    }
    let ct = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let (fields, photo_bytes) = if ct.starts_with("application/json") {
        let bytes = read_body(req, &state).await?;
        (parse_json::<SubmitFields>(&bytes)?, None)
    } else if ct.starts_with("multipart/form-data") {
        read_multipart(req, &state).await?
    } else {
        return Err(unsupported_media(
            "Kirim usulan sebagai application/json atau multipart/form-data.",
            "Send the proposal as application/json or multipart/form-data.",
        ));
    };
    // Check the fields before spending time on the photo.
    validate(&fields, None, None)?;
    let photo = match photo_bytes {
        Some(bytes) => Some(
            tokio::task::spawn_blocking(move || reencode_photo(&bytes))
                .await
                .map_err(ApiError::internal)??,
        ),
        None => None,
    };
    let created = create(&state, &user, &fields, photo).await?;
    let location = format!("/api/proposals/{}", created.id);
    let mut res = (StatusCode::CREATED, Json(created)).into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    Ok(res)
}

// ---------------------------------------------------------------------------------------------
// Reads

/// True when the viewer is staff whose area covers the proposal.
fn staff_covering(user: &MaybeUser, p: &Proposal) -> bool {
    user.0.as_ref().is_some_and(|u| {
        u.role().is_staff() && u.covers(p.kelurahan_code.as_deref().or(p.kecamatan_code.as_deref()))
    })
}

/// Public, or shown to covering staff and to the submitter.
fn visible(user: &MaybeUser, p: &Proposal) -> bool {
    p.status().is_some_and(ProposalStatus::is_public)
        || staff_covering(user, p)
        || user
            .0
            .as_ref()
            .is_some_and(|u| p.submitter_id == Some(u.id()))
}

fn not_found() -> ApiError {
    ApiError::not_found(Msg::new("Usulan tidak ditemukan.", "No such proposal."))
}

/// The JSON of a proposal: public fields, history, and contact data only for covering staff.
async fn view(state: &AppState, p: &Proposal, with_contact: bool) -> ApiResult<Value> {
    let client = super::conn(state).await?;
    let history = proposals::history(&client, p.id).await?;
    let mut v = serde_json::to_value(p).map_err(ApiError::internal)?;
    if let Some(obj) = v.as_object_mut() {
        obj.insert("history".into(), json!(history));
        obj.insert(
            "photo_url".into(),
            json!(p
                .has_photo
                .then(|| format!("/api/proposals/{}/photo", p.id))),
        );
        if with_contact {
            obj.insert(
                "contact".into(),
                json!({"name": p.submitter_name, "phone": p.submitter_phone}),
            );
            // How many confirmed email followers; who they are is never shown.
            obj.insert(
                "follower_count".into(),
                json!(follow::follower_count(&client, p.id).await?),
            );
        }
    }
    Ok(v)
}

/// A proposal: published ones to anyone; pending or rejected ones to covering staff and the
/// submitter. Covering staff also get the contact and the follower count.
#[utoipa::path(get, path = "/api/proposals/{id}", tag = "proposals",
    params(("id" = i64, Path, description = "Proposal id")),
    security((), ("session" = []), ("bearer" = [])),
    responses((status = 200, description = "proposal with `history`", body = Object), (status = 404, response = crate::api::openapi::NotFound)))]
async fn show(
    State(state): State<AppState>,
    user: MaybeUser,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    let client = super::conn(&state).await?;
    let p = proposals::get(&client, id).await?.ok_or_else(not_found)?;
    drop(client);
    if !visible(&user, &p) {
        return Err(not_found());
    }
    Ok(Json(view(&state, &p, staff_covering(&user, &p)).await?))
}

/// A proposal by its tracking code, whatever its status.
#[utoipa::path(get, path = "/api/proposals/track/{code}", tag = "proposals",
    params(("code" = String, Path, description = "Tracking code")),
    responses((status = 200, description = "proposal", body = Object), (status = 404, response = crate::api::openapi::NotFound)))]
async fn track(State(state): State<AppState>, Path(code): Path<String>) -> ApiResult<Json<Value>> {
    if code.len() > 24 {
        return Err(not_found());
    }
    let client = super::conn(&state).await?;
    let p = proposals::by_tracking_code(&client, &code)
        .await?
        .ok_or_else(not_found)?;
    drop(client);
    Ok(Json(view(&state, &p, false).await?))
}

/// The proposal's photo (as the proposal is visible), re-encoded.
#[utoipa::path(get, path = "/api/proposals/{id}/photo", tag = "proposals",
    params(("id" = i64, Path, description = "Proposal id")),
    security((), ("session" = []), ("bearer" = [])),
    responses((status = 200, description = "The image", content_type = "image/jpeg"), (status = 404, response = crate::api::openapi::NotFound)))]
async fn photo(
    State(state): State<AppState>,
    user: MaybeUser,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    let client = super::conn(&state).await?;
    let p = proposals::get(&client, id).await?.ok_or_else(not_found)?;
    if !visible(&user, &p) {
        return Err(not_found());
    }
    let (ct, bytes) = proposals::photo(&client, id).await?.ok_or_else(not_found)?;
    let mut res = Response::new(Body::from(bytes));
    let headers = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&ct) {
        headers.insert(header::CONTENT_TYPE, v);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    Ok(res)
}

#[derive(Deserialize)]
struct NearbyQuery {
    lon: f64,
    lat: f64,
    category: Option<String>,
}

/// Published proposals within 50 m, the same category first ("someone already asked for this").
#[utoipa::path(get, path = "/api/proposals/nearby", tag = "proposals",
    params(("lon" = f64, Query, description = "Longitude, degrees"), ("lat" = f64, Query, description = "Latitude, degrees"),
           ("category" = Option<String>, Query, description = "A proposal category (else 422)")),
    responses((status = 200, description = "`{radius_m: 50, proposals: [{id, title, category, status, support_count, distance_m}]}`", body = Object),
              (status = 400, response = crate::api::openapi::BadRequest), (status = 422, response = crate::api::openapi::Unprocessable)))]
async fn nearby(
    State(state): State<AppState>,
    q: Result<Query<NearbyQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Value>> {
    let Query(q) = q.map_err(|e| {
        ApiError::bad_request(Msg::new(
            format!("Parameter tidak valid (perlu lon, lat, category opsional): {e}"),
            format!("Invalid parameters (lon, lat, optional category): {e}"),
        ))
    })?;
    let (lon, lat) = check_lon_lat(q.lon, q.lat)?;
    let category = q.category.as_deref().filter(|c| !c.is_empty());
    if category.is_some_and(|c| ProposalCategory::parse(c).is_none()) {
        return Err(ApiError::invalid_field(
            "category",
            "Kategori tidak dikenal.",
            "Unknown category.",
        ));
    }
    let client = super::conn(&state).await?;
    let found = proposals::nearby(&client, lon, lat, category, NEARBY_RADIUS_M).await?;
    Ok(Json(
        json!({"radius_m": NEARBY_RADIUS_M, "proposals": found}),
    ))
}

// ---------------------------------------------------------------------------------------------
// Supports

fn support_error(e: SupportError) -> ApiError {
    match e {
        SupportError::NotFound => not_found(),
        SupportError::NotPublished => ApiError::conflict(Msg::new(
            "Usulan ini belum (atau tidak lagi) terbuka untuk dukungan.",
            "This proposal is not (or no longer) open for support.",
        )),
        SupportError::Store(e) => e.into(),
    }
}

/// `?via=nearby`: the support came from the "similar proposals nearby" list, instead of a new
/// proposal.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SupportQuery {
    via: Option<String>,
}

/// A resident supports a published proposal. Accepts an `Idempotency-Key`.
#[utoipa::path(post, path = "/api/proposals/{id}/support", tag = "proposals",
    params(("id" = i64, Path, description = "Proposal id"), ("via" = Option<String>, Query, description = "`nearby` when chosen from the nearby list instead of filing a new one; another value is 422"),
           ("Idempotency-Key" = Option<String>, Header, description = "Retry key")),
    security(("session" = ["resident"], "csrf" = []), ("bearer" = ["resident"])),
    responses((status = 200, description = "`{support_count, supported: true}`", body = Object),
              (status = 404, response = crate::api::openapi::NotFound), (status = 409, response = crate::api::openapi::Conflict), (status = 422, response = crate::api::openapi::Unprocessable)))]
async fn support(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<i64>,
    q: Result<Query<SupportQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Value>> {
    user.require_role(&[Role::Resident])?;
    let via = q.ok().and_then(|Query(q)| q.via);
    let instead_of_new = match via.as_deref() {
        None => false,
        Some("nearby") => true,
        Some(_) => {
            return Err(ApiError::invalid_field(
                "via",
                "Nilai via yang dikenal hanya 'nearby'.",
                "The only known value of via is 'nearby'.",
            ))
        }
    };
    let client = super::conn(&state).await?;
    let count = proposals::support(&client, id, &user.actor(), instead_of_new)
        .await
        .map_err(support_error)?;
    Ok(Json(json!({"support_count": count, "supported": true})))
}

/// A resident withdraws their support.
#[utoipa::path(delete, path = "/api/proposals/{id}/support", tag = "proposals",
    params(("id" = i64, Path, description = "Proposal id")),
    security(("session" = ["resident"], "csrf" = []), ("bearer" = ["resident"])),
    responses((status = 200, description = "`{support_count, supported: false}`", body = Object), (status = 404, response = crate::api::openapi::NotFound)))]
async fn withdraw(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    user.require_role(&[Role::Resident])?;
    let client = super::conn(&state).await?;
    let count = proposals::withdraw(&client, id, &user.actor())
        .await
        .map_err(support_error)?;
    Ok(Json(json!({"support_count": count, "supported": false})))
}

// ---------------------------------------------------------------------------------------------
// Lifecycle

/// A status change (docs/proposals.md): `reason` is required to reject, `merged_into` (a
/// published proposal) to merge.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct StatusBody {
    #[schema(schema_with = super::openapi::proposal_statuses)]
    to: ProposalStatus,
    #[schema(max_length = 2000)]
    note: Option<String>,
    #[schema(max_length = 2000)]
    reason: Option<String>,
    merged_into: Option<i64>,
}

fn conflict(id: &str, en: &str) -> ApiError {
    ApiError::conflict(Msg::new(id.to_owned(), en.to_owned()))
}

/// Moves a proposal along its lifecycle: moderators verify, reject and merge; planners and
/// officials the later stages; scoped staff only inside their area. Accepts an
/// `Idempotency-Key`.
#[utoipa::path(post, path = "/api/proposals/{id}/status", tag = "proposals",
    params(("id" = i64, Path, description = "Proposal id"), ("Idempotency-Key" = Option<String>, Header, description = "Retry key")),
    request_body = StatusBody,
    security(("session" = ["moderator", "planner", "official", "admin"], "csrf" = []), ("bearer" = ["moderator", "planner", "official", "admin"])),
    responses((status = 200, description = "The proposal", body = Object), (status = 404, response = crate::api::openapi::NotFound),
              (status = 409, response = crate::api::openapi::Conflict)))]
async fn change_status(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<i64>,
    super::input::JsonBody(body): super::input::JsonBody<StatusBody>,
) -> ApiResult<Json<Value>> {
    let note = text_field("note", body.note.as_deref(), 0, 2000)?;
    let reason = text_field("reason", body.reason.as_deref(), 0, 2000)?;
    let mut client = super::conn(&state).await?;
    let tx = client.transaction().await.map_err(ApiError::internal)?;
    let p = proposals::lock(&tx, id).await?.ok_or_else(not_found)?;
    let from = p
        .status()
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("bad status")))?;
    user.require_role(roles_for(from, body.to))?;
    user.require_scope(p.kelurahan_code.as_deref().or(p.kecamatan_code.as_deref()))?;
    let kind = check_transition(from, body.to).map_err(|e| {
        ApiError::conflict(Msg::new(
            format!(
                "Status usulan tidak dapat berpindah dari {} ke {}.",
                e.from, e.to
            ),
            format!("A proposal cannot move from {} to {}.", e.from, e.to),
        ))
    })?;
    let mut merged_into = None;
    match kind {
        TransitionKind::Reject if reason.is_none() => {
            return Err(ApiError::invalid_field(
                "reason",
                "Penolakan memerlukan alasan (reason) yang akan ditampilkan untuk umum.",
                "A rejection needs a reason, which is shown publicly.",
            ))
        }
        TransitionKind::Merge => {
            let target_id = body.merged_into.ok_or_else(|| {
                ApiError::invalid_field(
                    "merged_into",
                    "Penggabungan memerlukan merged_into (id usulan tujuan).",
                    "A merge needs merged_into (the id of the target proposal).",
                )
            })?;
            if target_id == id {
                return Err(ApiError::invalid_field(
                    "merged_into",
                    "Usulan tidak dapat digabung ke dirinya sendiri.",
                    "A proposal cannot be merged into itself.",
                ));
            }
            let target = proposals::lock(&tx, target_id).await?.ok_or_else(|| {
                ApiError::invalid_field(
                    "merged_into",
                    "Usulan tujuan tidak ada.",
                    "The target proposal does not exist.",
                )
            })?;
            user.require_scope(
                target
                    .kelurahan_code
                    .as_deref()
                    .or(target.kecamatan_code.as_deref()),
            )?;
            if !target.status().is_some_and(ProposalStatus::is_public) {
                return Err(conflict(
                    "Usulan tujuan penggabungan harus sudah diverifikasi.",
                    "The merge target must be a verified (published) proposal.",
                ));
            }
            merged_into = Some(target_id);
        }
        _ => {}
    }
    let t = Transition {
        to: body.to,
        kind,
        note,
        reason,
        merged_into,
    };
    proposals::apply_transition(&tx, &p, &t, &user.actor())
        .await
        .map_err(|e| match e {
            TransitionError::TargetNotPublished => conflict(
                "Usulan tujuan penggabungan harus sudah diverifikasi.",
                "The merge target must be a verified (published) proposal.",
            ),
            TransitionError::Conflict => conflict(
                "Perubahan lain pada usulan yang sama terjadi bersamaan; coba lagi.",
                "Another change to the same proposals happened at the same time; try again.",
            ),
            TransitionError::Store(e) => e.into(),
        })?;
    let after = proposals::get(&tx, id).await?.ok_or_else(not_found)?;
    tx.commit().await.map_err(ApiError::internal)?;
    drop(client);
    Ok(Json(view(&state, &after, true).await?))
}

/// Proposals waiting for moderation in the moderator's area, oldest first, with nearby
/// duplicates.
#[utoipa::path(get, path = "/api/moderation/queue", tag = "proposals",
    security(("session" = ["moderator", "admin"]), ("bearer" = ["moderator", "admin"])),
    responses((status = 200, description = "`{items: [proposal + nearby_duplicates + follower_count], supports_instead_of_new}`", body = Object)))]
async fn moderation_queue(State(state): State<AppState>, user: AuthUser) -> ApiResult<Json<Value>> {
    user.require_role(&[Role::Moderator, Role::Admin])?;
    let area = user.area().map(|a| a.to_string());
    let client = super::conn(&state).await?;
    let rows = proposals::moderation_queue(&client, area.as_deref(), 200).await?;
    let instead = proposals::supports_instead_of_new(&client, area.as_deref()).await?;
    let items: Vec<Value> = rows
        .into_iter()
        .map(|(p, dups, followers)| {
            let mut v = serde_json::to_value(&p).unwrap_or(Value::Null);
            if let Some(obj) = v.as_object_mut() {
                obj.insert("nearby_duplicates".into(), dups);
                obj.insert(
                    "contact".into(),
                    json!({"name": p.submitter_name, "phone": p.submitter_phone}),
                );
                obj.insert("follower_count".into(), json!(followers));
            }
            v
        })
        .collect();
    Ok(Json(
        json!({"items": items, "supports_instead_of_new": instead}),
    ))
}
