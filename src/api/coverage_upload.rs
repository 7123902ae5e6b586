//! Coverage uploaded as a file (issue 15): `POST /api/coverage/upload`. A GeoJSON, GeoPackage,
//! zipped Shapefile or KML file goes through the import pipeline of `sigap import` (GDAL reading,
//! per-feature checks in PostGIS) with a partner's rules ([`crate::import::partner`]). Without
//! `confirm=true` it is a preview: every feature is checked and the report returned, nothing is
//! written. With it, the good features are written (pending while the partner is new, like
//! `POST /api/coverage`) and each is audited. The server keeps nothing between the two calls: the
//! client sends the file again to confirm, so any server behind the balancer can answer.

use axum::extract::{Multipart, Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::auth::AuthUser;
use super::partners::{publish_now, scope, writable_program, WRITERS};
use crate::error::{ApiError, ApiResult, Msg};
use crate::import::partner::{upload_coverage, UploadContext};
use crate::import::{FeatureNote, ImportError};
use crate::store::partners::partner_trusted;
use crate::AppState;

/// File name endings GDAL reads for coverage, and the one the temporary file gets.
const FORMATS: &[(&str, &str)] = &[
    (".geojson", "geojson"),
    (".json", "geojson"),
    (".gpkg", "gpkg"),
    (".shp.zip", "zip"),
    (".zip", "zip"),
    (".kml", "kml"),
];

pub fn router() -> OpenApiRouter<AppState> {
    // The body limit is the server's (SIGAP_BODY_LIMIT_BYTES, 6 MB by default), the same one the
    // idempotency layer buffers a keyed request under, so a retried upload is answered the same.
    OpenApiRouter::new().routes(routes!(upload))
}

/// The upload form.
#[derive(ToSchema)]
#[allow(dead_code)]
struct UploadForm {
    /// One file: GeoJSON (`.geojson`, `.json`), GeoPackage (`.gpkg`), zipped Shapefile
    /// (`.shp.zip`, `.zip`) or KML (`.kml`), told apart by its name.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

#[derive(Deserialize)]
struct UploadQuery {
    program: Option<String>,
    /// `true` writes; anything else previews.
    confirm: Option<bool>,
}

fn too_large(limit_bytes: usize) -> ApiError {
    let mb = limit_bytes as f64 / 1024.0 / 1024.0;
    ApiError::too_large(Msg::new(
        format!("Berkas terlalu besar: paling banyak {mb:.1} MB."),
        format!("The file is too large: at most {mb:.1} MB."),
    ))
}

fn no_file() -> ApiError {
    ApiError::invalid_field(
        "file",
        "Kirim satu berkas pada kolom 'file' (multipart/form-data).",
        "Send one file in the 'file' field (multipart/form-data).",
    )
}

/// The one file of the multipart body: its format and bytes.
async fn read_file(
    mut form: Multipart,
    limit_bytes: usize,
) -> ApiResult<(&'static str, String, Vec<u8>)> {
    let multipart_error = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            too_large(limit_bytes)
        } else {
            no_file()
        }
    };
    while let Some(part) = form.next_field().await.map_err(multipart_error)? {
        if part.name() != Some("file") {
            continue;
        }
        let name = part.file_name().unwrap_or_default().to_owned();
        let lower = name.to_lowercase();
        let Some((_, ext)) = FORMATS.iter().find(|(end, _)| lower.ends_with(end)) else {
            return Err(ApiError::invalid_field(
                "file",
                format!("Jenis berkas '{name}' tidak dikenal. Kirim GeoJSON (.geojson), GeoPackage (.gpkg), Shapefile dalam zip (.zip) atau KML (.kml)."),
                format!("Unknown kind of file '{name}'. Send GeoJSON (.geojson), GeoPackage (.gpkg), a zipped Shapefile (.zip) or KML (.kml)."),
            ));
        };
        let bytes = part.bytes().await.map_err(multipart_error)?;
        if bytes.is_empty() {
            return Err(ApiError::invalid_field(
                "file",
                "Berkas kosong.",
                "The file is empty.",
            ));
        }
        return Ok((ext, name, bytes.to_vec()));
    }
    Err(no_file())
}

fn notes(notes: &[FeatureNote]) -> Value {
    Value::Array(
        notes
            .iter()
            .map(|n| json!({"index": n.index, "fid": n.fid, "reason": n.reason}))
            .collect(),
    )
}

/// Coverage from a file, through the import pipeline: without `confirm=true` a preview that
/// writes nothing; with it the good features are written (pending while the partner is new).
/// Either way the answer is the per-feature report.
#[utoipa::path(post, path = "/api/coverage/upload", tag = "partners",
    params(("program" = String, Query, description = "The program of the coverage (missing: 422 on `program`)"),
           ("confirm" = Option<bool>, Query, description = "`true` writes; otherwise a preview")),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    security(("session" = ["planner", "admin", "mitra"], "csrf" = []), ("bearer" = ["planner", "admin", "mitra"])),
    responses((status = 200, description = "The per-feature report (preview, or written)", body = Object),
              (status = 201, description = "The per-feature report; features were written", body = Object),
              (status = 404, response = crate::api::openapi::NotFound), (status = 413, response = crate::api::openapi::PayloadTooLarge), (status = 422, response = crate::api::openapi::Unprocessable)))]
async fn upload(
    State(state): State<AppState>,
    user: AuthUser,
    Query(q): Query<UploadQuery>,
    form: Multipart,
) -> ApiResult<(StatusCode, Json<Value>)> {
    user.require_role(WRITERS)?;
    let program_code = q.program.filter(|p| !p.is_empty()).ok_or_else(|| {
        ApiError::invalid_field(
            "program",
            "Pilih program cakupan ini (?program=KODE).",
            "Choose the program of this coverage (?program=CODE).",
        )
    })?;
    let commit = q.confirm.unwrap_or(false);
    // Who may write for this program is known before the file is read.
    let (approved, approver) = {
        let client = super::conn(&state).await?;
        let program = writable_program(&client, &user, &program_code, Some("program")).await?;
        let trusted = partner_trusted(&client, &program.partner_code)
            .await?
            .unwrap_or(false);
        let (approved, approver) = publish_now(&user, trusted);
        // Coverage of a pending program stays pending, whoever writes it (the V10 trigger).
        (approved && program.approved, approver)
    };
    let (ext, name, bytes) = read_file(form, state.config.body_limit_bytes).await?;
    let file = tempfile::Builder::new()
        .prefix("sigap-upload-")
        .suffix(&format!(".{ext}"))
        .tempfile()
        .map_err(ApiError::internal)?;
    tokio::fs::write(file.path(), &bytes)
        .await
        .map_err(ApiError::internal)?;
    let stamp = chrono::Utc::now().format("%y%m%d%H%M%S");
    let ctx = UploadContext {
        code_prefix: format!("{program_code}-{stamp}-"),
        program_code: program_code.clone(),
        area: scope(&user),
        approved,
        approver,
        creator: Some(user.id()),
        actor: user.actor().label,
    };
    let report = upload_coverage(&state.pool, file.path(), &ctx, commit)
        .await
        .map_err(|e| match e {
            ImportError::Open { .. } | ImportError::NoSuchSourceLayer { .. } => {
                ApiError::invalid_field(
                    "file",
                    format!("Berkas '{name}' tidak dapat dibaca sebagai data vektor."),
                    format!("The file '{name}' cannot be read as vector data."),
                )
            }
            ImportError::BadSrs(_) => ApiError::invalid_field(
                "file",
                "Sistem koordinat berkas ini tidak dikenal.",
                "The file's coordinate reference system is unknown.",
            ),
            ImportError::NoRegion => ApiError::conflict(Msg::new(
                "Batas wilayah belum dimuat.",
                "No region outline is loaded yet.",
            )),
            other => ApiError::internal(anyhow::anyhow!(other)),
        })?;
    let status = if report.committed && report.loaded > 0 {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(json!({
            "program_code": program_code,
            "file": name,
            "confirm": commit,
            "committed": report.committed,
            "read": report.read,
            "loaded": report.loaded,
            "approved": approved,
            "repaired": notes(&report.repaired),
            "rejected": notes(&report.rejected),
            "source_srs": report.source_srs,
            "assumed_srs": report.assumed_srs,
        })),
    ))
}
