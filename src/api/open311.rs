//! Open311 GeoReport v2 over the same proposals: `services.json` lists the proposal categories
//! as services, `requests.json` lists published proposals and accepts new ones (form-encoded,
//! as 311 clients send them), `requests/{id}.json` shows one. Only the JSON format is offered.
//! Errors stay problem+json like the rest of SIGAP; their HTTP status codes follow the spec.

use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::MaybeUser;
use super::input::ClientIp;
use super::proposals::{create, SubmitFields};
use crate::domain::{ProposalCategory, ProposalStatus};
use crate::error::{ApiError, ApiResult, Msg};
use crate::store::proposals::{self, Proposal};
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/open311/v2/services.json", get(services))
        .route(
            "/open311/v2/requests.json",
            get(list_requests).post(post_request),
        )
        .route("/open311/v2/requests/{file}", get(one_request))
}

fn service_name(code: &str) -> &'static str {
    match code {
        "jalan" => "Jalan",
        "drainase" => "Drainase",
        "air_bersih" => "Air bersih",
        "sanitasi" => "Sanitasi",
        "penerangan_jalan" => "Penerangan jalan",
        "fasilitas_umum" => "Fasilitas umum",
        _ => "Lainnya",
    }
}

async fn services() -> Json<Value> {
    let list: Vec<Value> = ProposalCategory::ALL
        .iter()
        .map(|code| {
            json!({
                "service_code": code,
                "service_name": service_name(code),
                "description": format!("Usulan infrastruktur: {}", service_name(code)),
                "metadata": false,
                "type": "realtime",
                "keywords": code.replace('_', " "),
                "group": "infrastruktur",
            })
        })
        .collect();
    Json(Value::Array(list))
}

/// A proposal as a GeoReport service request (public fields only).
fn request_json(p: &Proposal) -> Value {
    json!({
        "service_request_id": p.id.to_string(),
        "status": if p.status == "selesai" { "closed" } else { "open" },
        "status_notes": p.status,
        "service_name": service_name(&p.category),
        "service_code": p.category,
        "description": if p.description.is_empty() { p.title.clone() } else { format!("{}: {}", p.title, p.description) },
        "agency_responsible": "Pemerintah Kota Bandung",
        "requested_datetime": p.created_at,
        "updated_datetime": p.updated_at,
        "address": Value::Null,
        "lat": p.lat,
        "long": p.lon,
        "media_url": p.has_photo.then(|| format!("/api/proposals/{}/photo", p.id)),
    })
}

#[derive(Deserialize)]
struct ListQuery {
    service_code: Option<String>,
    status: Option<String>,
}

async fn list_requests(
    State(state): State<AppState>,
    q: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Value>> {
    let Query(q) = q.map_err(|e| {
        ApiError::bad_request(Msg::new(
            format!("Parameter tidak valid: {e}"),
            format!("Invalid parameters: {e}"),
        ))
    })?;
    let category = q.service_code.as_deref().filter(|c| !c.is_empty());
    if category.is_some_and(|c| ProposalCategory::parse(c).is_none()) {
        return Err(ApiError::bad_request(Msg::new(
            "service_code tidak dikenal.",
            "Unknown service_code.",
        )));
    }
    let statuses: Vec<&str> = match q.status.as_deref() {
        None | Some("") => ProposalStatus::PUBLIC.to_vec(),
        Some("closed") => vec!["selesai"],
        Some("open") => ProposalStatus::PUBLIC
            .iter()
            .copied()
            .filter(|s| *s != "selesai")
            .collect(),
        Some(_) => {
            return Err(ApiError::bad_request(Msg::new(
                "status harus open atau closed.",
                "status must be open or closed.",
            )))
        }
    };
    let client = super::conn(&state).await?;
    let rows = proposals::list_public(&client, category, &statuses, 1000).await?;
    Ok(Json(Value::Array(rows.iter().map(request_json).collect())))
}

async fn one_request(
    State(state): State<AppState>,
    Path(file): Path<String>,
) -> ApiResult<Json<Value>> {
    let not_found =
        || ApiError::not_found(Msg::new("Permintaan tidak ditemukan.", "No such request."));
    let id: i64 = file
        .strip_suffix(".json")
        .and_then(|s| s.parse().ok())
        .ok_or_else(not_found)?;
    let client = super::conn(&state).await?;
    let p = proposals::get(&client, id).await?.ok_or_else(not_found)?;
    if !p.status().is_some_and(ProposalStatus::is_public) {
        return Err(not_found());
    }
    Ok(Json(json!([request_json(&p)])))
}

/// The GeoReport v2 POST fields SIGAP uses (others, like `api_key` or `media_url`, are ignored).
#[derive(Deserialize)]
struct PostRequest {
    service_code: String,
    lat: f64,
    long: f64,
    description: String,
    first_name: Option<String>,
    last_name: Option<String>,
    phone: Option<String>,
}

async fn post_request(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    user: MaybeUser,
    form: Result<Form<PostRequest>, axum::extract::rejection::FormRejection>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    if user.0.is_none() {
        state.limits.anonymous_post(ip).await?;
    }
    let Form(r) = form.map_err(|e| {
        ApiError::bad_request(Msg::new(
            format!("Isian tidak valid (perlu service_code, lat, long, description): {e}"),
            format!("Invalid form (service_code, lat, long and description are required): {e}"),
        ))
    })?;
    // GeoReport has no title: the first line of the description, cut at 120 characters.
    let first_line = r.description.lines().next().unwrap_or("").trim();
    let title: String = first_line.chars().take(120).collect();
    let name = [r.first_name.as_deref(), r.last_name.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    let fields = SubmitFields {
        lon: Some(r.long),
        lat: Some(r.lat),
        category: Some(r.service_code),
        title: Some(title),
        description: Some(r.description.clone()),
        submitter_name: Some(name),
        submitter_phone: r.phone,
        ..SubmitFields::default()
    };
    let created = create(&state, &user, &fields, None).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!([{
            "service_request_id": created.id.to_string(),
            "token": created.tracking_code,
            "service_notice": "Usulan diterima dan menunggu verifikasi. Simpan kode pelacakan (token).",
            "account_id": Value::Null,
        }])),
    ))
}
