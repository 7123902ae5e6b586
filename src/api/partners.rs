//! Partners and their programs over HTTP (issue 15): `/api/partners`, `/api/programs`, program
//! approval, and the access rules the coverage and progress routes share: planners and admins
//! review and may write for any partner; a `mitra` account writes only its own partner's entries,
//! which wait for review while the partner is new. See docs/partners.md.

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
use crate::domain::{PartnerType, ProgramType, Role};
use crate::error::{ApiError, ApiResult, Msg};
use crate::store::partners::{
    self as store, PartnerInput, ProgramFilter, ProgramHead, ProgramInput, Viewer, WriteError,
};
use crate::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_partners, create_partner))
        .routes(routes!(show_partner, update_partner))
        .routes(routes!(list_programs, create_program))
        .routes(routes!(show_program, update_program))
        .routes(routes!(approve_program))
}

// ---------------------------------------------------------------------------------------------
// The bodies as documented (docs/partners.md "Routes"). The handlers read them field by field
// ([`Fields`]), so these types only describe them; the test
// `openapi::documented_bodies_list_exactly_the_accepted_fields` keeps their field lists equal to
// the ones the handlers accept, and `openapi::real_answers_match_the_documented_schemas` checks
// the answers against theirs.

use super::openapi::{partner_types, program_types};

/// A partner as the API shows it. The contact and `trusted_at` only to reviewers and the
/// partner's own staff.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub(super) struct Partner {
    code: String,
    name: String,
    #[serde(rename = "type")]
    #[schema(schema_with = partner_types)]
    kind: String,
    description: Option<String>,
    /// Trusted partners publish at once; a new partner's entries wait for review.
    trusted: bool,
    #[serde(default)]
    contact_name: Option<String>,
    #[serde(default)]
    contact_phone: Option<String>,
    #[serde(default)]
    contact_email: Option<String>,
    #[serde(default)]
    #[schema(format = DateTime)]
    trusted_at: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub(super) struct PartnerList {
    partners: Vec<Partner>,
}

/// A program as the API shows it.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub(super) struct Program {
    code: String,
    name: String,
    partner_code: String,
    partner_name: String,
    #[serde(rename = "type")]
    #[schema(schema_with = program_types)]
    kind: String,
    #[schema(format = Date)]
    start_date: String,
    #[schema(format = Date)]
    end_date: String,
    target_group: Option<String>,
    planned_beneficiaries: Option<i32>,
    description: Option<String>,
    /// Pending programs are seen only by reviewers and the partner's own staff.
    approved: bool,
    #[schema(format = DateTime)]
    approved_at: Option<String>,
    coverage_count: i64,
    pending_coverage_count: i64,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub(super) struct ProgramList {
    programs: Vec<Program>,
}

/// A new partner. Unknown fields are refused by name (422).
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub(super) struct PartnerCreate {
    #[schema(pattern = "^[a-z0-9][a-z0-9_-]{0,63}$", example = "yayasan-maju")]
    code: String,
    #[schema(max_length = 200)]
    name: String,
    #[serde(rename = "type")]
    #[schema(schema_with = partner_types)]
    kind: String,
    #[schema(max_length = 2000)]
    description: Option<String>,
    #[schema(max_length = 120)]
    contact_name: Option<String>,
    #[schema(max_length = 40)]
    contact_phone: Option<String>,
    /// Must contain `@`.
    #[schema(max_length = 120)]
    contact_email: Option<String>,
}

/// An edit of a partner: any field but `code`; the stored partner merged with it is checked as
/// a new one would be.
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub(super) struct PartnerPatch {
    #[schema(max_length = 200)]
    name: Option<String>,
    #[serde(rename = "type")]
    #[schema(schema_with = partner_types)]
    kind: Option<String>,
    #[schema(max_length = 2000)]
    description: Option<String>,
    #[schema(max_length = 120)]
    contact_name: Option<String>,
    #[schema(max_length = 40)]
    contact_phone: Option<String>,
    #[schema(max_length = 120)]
    contact_email: Option<String>,
}

/// A new program. `end_date` may not be before `start_date`.
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub(super) struct ProgramCreate {
    #[schema(
        pattern = "^[a-z0-9][a-z0-9_-]{0,63}$",
        example = "pelatihan-umkm-2025"
    )]
    code: String,
    /// The partner running it; a mitra's own partner when left out.
    #[schema(max_length = 64)]
    partner_code: Option<String>,
    #[schema(max_length = 200)]
    name: String,
    #[serde(rename = "type")]
    #[schema(schema_with = program_types)]
    kind: String,
    #[schema(format = Date, example = "2025-07-01")]
    start_date: String,
    #[schema(format = Date, example = "2025-12-31")]
    end_date: String,
    #[schema(max_length = 200)]
    target_group: Option<String>,
    #[schema(minimum = 0, maximum = 10_000_000)]
    planned_beneficiaries: Option<i32>,
    #[schema(max_length = 2000)]
    description: Option<String>,
}

/// An edit of a program: any field but `code` and `partner_code`.
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub(super) struct ProgramPatch {
    #[schema(max_length = 200)]
    name: Option<String>,
    #[serde(rename = "type")]
    #[schema(schema_with = program_types)]
    kind: Option<String>,
    #[schema(format = Date)]
    start_date: Option<String>,
    #[schema(format = Date)]
    end_date: Option<String>,
    #[schema(max_length = 200)]
    target_group: Option<String>,
    #[schema(minimum = 0, maximum = 10_000_000)]
    planned_beneficiaries: Option<i32>,
    #[schema(max_length = 2000)]
    description: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Who may do what (shared with coverage.rs and progress.rs)

/// Roles that write partner entries (a mitra only its own partner's).
pub(super) const WRITERS: &[Role] = &[Role::Planner, Role::Admin, Role::Mitra];

/// Planners and admins review partner entries and may write for any partner.
pub(super) fn is_reviewer(user: &AuthUser) -> bool {
    matches!(user.role(), Role::Planner | Role::Admin)
}

/// What a request may read.
pub(super) fn viewer(user: Option<&AuthUser>) -> Viewer {
    match user {
        Some(u) if is_reviewer(u) => Viewer {
            reviewer: true,
            partner: None,
        },
        Some(u) if u.role() == Role::Mitra => Viewer {
            reviewer: false,
            partner: u.user.partner_code.clone(),
        },
        _ => Viewer::default(),
    }
}

/// True when an entry of `partner` in this review state is visible to `user`.
pub(super) fn may_see(user: Option<&AuthUser>, partner: &str, approved: bool) -> bool {
    let v = viewer(user);
    approved || v.reviewer || v.partner.as_deref() == Some(partner)
}

/// 403 unless `user` reviews, or is staff of `partner`.
pub(super) fn require_owner(user: &AuthUser, partner: &str) -> ApiResult<()> {
    user.require_role(WRITERS)?;
    if is_reviewer(user) || user.user.partner_code.as_deref() == Some(partner) {
        Ok(())
    } else {
        Err(ApiError::forbidden(Msg::new(
            "Akun mitra hanya dapat mengubah data mitranya sendiri.",
            "A partner account may change only its own partner's data.",
        )))
    }
}

/// 403 unless `user` reviews.
pub(super) fn require_reviewer(user: &AuthUser) -> ApiResult<()> {
    user.require_role(&[Role::Planner, Role::Admin])
}

/// The area a scoped reviewer is limited to.
pub(super) fn scope(user: &AuthUser) -> Option<String> {
    user.area().map(|a| a.to_string())
}

/// Whether a new entry is published at once, and by whom: a reviewer's own entries are approved
/// by them; a trusted partner's entries need no review; an untrusted partner's wait.
pub(super) fn publish_now(user: &AuthUser, partner_trusted: bool) -> (bool, Option<i64>) {
    if is_reviewer(user) {
        (true, Some(user.id()))
    } else {
        (partner_trusted, None)
    }
}

pub(super) fn not_found(what_id: &str, what_en: &str) -> ApiError {
    ApiError::not_found(Msg::new(
        format!("{what_id} tidak ditemukan."),
        format!("No such {what_en}."),
    ))
}

/// A program the user may write, or 404 (unknown, or pending and not theirs) / 403 (not theirs).
pub(super) async fn writable_program<C: deadpool_postgres::GenericClient>(
    client: &C,
    user: &AuthUser,
    code: &str,
    field: Option<&str>,
) -> ApiResult<ProgramHead> {
    user.require_role(WRITERS)?;
    let head = store::program_head(client, code).await?;
    let head = match head {
        Some(h) if may_see(Some(user), &h.partner_code, h.approved) => h,
        _ => {
            return Err(match field {
                Some(f) => ApiError::invalid_field(
                    f,
                    format!("Program '{code}' tidak ditemukan."),
                    format!("There is no program '{code}'."),
                ),
                None => not_found("Program", "program"),
            })
        }
    };
    require_owner(user, &head.partner_code)?;
    Ok(head)
}

pub(super) fn write_error(e: WriteError) -> ApiError {
    match e {
        WriteError::NotFound => not_found("Data", "record"),
        WriteError::Duplicate(field) => ApiError::conflict(Msg::new(
            format!("Kode pada kolom {field} sudah dipakai. Pilih kode lain."),
            format!("The code in {field} is already taken. Choose another."),
        ))
        .with_extra(json!({"errors": [{"field": field, "message": "already taken"}]})),
        WriteError::UnknownReference(field) => ApiError::invalid_field(
            field,
            format!("Kode pada kolom {field} tidak ada di SIGAP."),
            format!("The code in {field} does not exist in SIGAP."),
        ),
        WriteError::Overlap => ApiError::conflict(Msg::new(
            "Sudah ada laporan program ini di kelurahan ini untuk sebagian periode tersebut. Ubah laporan itu (PATCH) alih-alih membuat yang baru.",
            "A report of this program in this kelurahan already covers part of that period. Edit that report (PATCH) instead of adding another.",
        ))
        .with_extra(json!({"errors": [{"field": "period_start", "message": "overlaps an existing report"}]})),
        WriteError::Store(e) => e.into(),
    }
}

/// One transaction per write.
macro_rules! in_tx {
    ($state:expr, |$tx:ident| $body:expr) => {{
        let mut client = super::conn($state).await?;
        let $tx = client.transaction().await.map_err(ApiError::internal)?;
        let out = $body;
        $tx.commit().await.map_err(ApiError::internal)?;
        out
    }};
}
pub(super) use in_tx;

// ---------------------------------------------------------------------------------------------
// Partners

const PARTNER_FIELDS: &[&str] = &[
    "code",
    "name",
    "type",
    "description",
    "contact_name",
    "contact_phone",
    "contact_email",
];

fn partner_input(f: &Fields) -> ApiResult<PartnerInput> {
    let contact_email = f.text("contact_email", 120)?;
    if contact_email.as_ref().is_some_and(|e| !e.contains('@')) {
        return Err(ApiError::invalid_field(
            "contact_email",
            "Alamat surel (contact_email) tidak sah.",
            "The contact_email is not an e-mail address.",
        ));
    }
    Ok(PartnerInput {
        code: f.slug("code")?,
        name: f.required_text("name", 200)?,
        kind: f.vocab("type", PartnerType::ALL, PartnerType::parse)?,
        description: f.text("description", 2000)?,
        contact_name: f.text("contact_name", 120)?,
        contact_phone: f.text("contact_phone", 40)?,
        contact_email,
    })
}

/// The partners: trusted ones to anyone, untrusted ones and contacts also to reviewers and the
/// partner's own staff.
#[utoipa::path(get, path = "/api/partners", tag = "partners",
    security((), ("session" = []), ("bearer" = [])),
    responses((status = 200, description = "The partners", body = PartnerList)))]
async fn list_partners(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
) -> ApiResult<Json<Value>> {
    let client = super::conn(&state).await?;
    let partners = store::partners(&client, None, &viewer(user.as_ref())).await?;
    Ok(Json(json!({ "partners": partners })))
}

/// One partner (as the list shows it).
#[utoipa::path(get, path = "/api/partners/{code}", tag = "partners",
    params(("code" = String, Path, description = "Partner code")),
    security((), ("session" = []), ("bearer" = [])),
    responses((status = 200, description = "The partner", body = Partner),
              (status = 404, response = crate::api::openapi::NotFound)))]
async fn show_partner(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    Path(code): Path<String>,
) -> ApiResult<Json<Value>> {
    let client = super::conn(&state).await?;
    let mut found = store::partners(&client, Some(&code), &viewer(user.as_ref())).await?;
    found
        .pop()
        .map(Json)
        .ok_or_else(|| not_found("Mitra", "partner"))
}

/// Planners and admins add partners (untrusted until their first program is approved).
#[utoipa::path(post, path = "/api/partners", tag = "partners",
    request_body = PartnerCreate,
    security(("session" = ["planner", "admin"], "csrf" = []), ("bearer" = ["planner", "admin"])),
    responses((status = 201, description = "The partner", body = Partner),
              (status = 409, response = crate::api::openapi::Conflict)))]
async fn create_partner(
    State(state): State<AppState>,
    user: AuthUser,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<impl IntoResponse> {
    require_reviewer(&user)?;
    let input = partner_input(&Fields::new(body, PARTNER_FIELDS)?)?;
    in_tx!(&state, |tx| store::create_partner(
        &tx,
        &input,
        &user.actor()
    )
    .await
    .map_err(write_error)?);
    let client = super::conn(&state).await?;
    let shown = store::partners(&client, Some(&input.code), &viewer(Some(&user))).await?;
    Ok((
        StatusCode::CREATED,
        Json(shown.into_iter().next().unwrap_or(Value::Null)),
    ))
}

/// Reviewers edit any partner, a mitra its own (the code never changes).
#[utoipa::path(patch, path = "/api/partners/{code}", tag = "partners",
    params(("code" = String, Path, description = "Partner code")),
    request_body = PartnerPatch,
    security(("session" = ["planner", "admin", "mitra"], "csrf" = []), ("bearer" = ["planner", "admin", "mitra"])),
    responses((status = 200, description = "The partner", body = Partner),
              (status = 404, response = crate::api::openapi::NotFound)))]
async fn update_partner(
    State(state): State<AppState>,
    user: AuthUser,
    Path(code): Path<String>,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<Json<Value>> {
    user.require_role(WRITERS)?;
    let patch = Fields::new(body, &PARTNER_FIELDS[1..])?;
    in_tx!(&state, |tx| {
        let before = match store::partner_fields(&tx, &code).await? {
            Some(b) if is_reviewer(&user) || user.user.partner_code.as_deref() == Some(&code) => b,
            // Another partner: 403 when it is public, 404 while it is not (untrusted).
            Some(_) if store::partner_trusted(&tx, &code).await? == Some(true) => {
                return Err(ApiError::forbidden(Msg::new(
                    "Akun mitra hanya dapat mengubah data mitranya sendiri.",
                    "A partner account may change only its own partner's data.",
                )))
            }
            _ => return Err(not_found("Mitra", "partner")),
        };
        let input = partner_input(&Fields::merged(before.clone(), patch))?;
        store::update_partner(&tx, &input, before, &user.actor())
            .await
            .map_err(write_error)?
    });
    let client = super::conn(&state).await?;
    let shown = store::partners(&client, Some(&code), &viewer(Some(&user))).await?;
    Ok(Json(shown.into_iter().next().unwrap_or(Value::Null)))
}

// ---------------------------------------------------------------------------------------------
// Programs

const PROGRAM_FIELDS: &[&str] = &[
    "code",
    "partner_code",
    "name",
    "type",
    "start_date",
    "end_date",
    "target_group",
    "planned_beneficiaries",
    "description",
];

fn program_input(f: &Fields, partner_code: String) -> ApiResult<ProgramInput> {
    let start_date = f.required_date("start_date")?;
    let end_date = f.required_date("end_date")?;
    if end_date < start_date {
        return Err(ApiError::invalid_field(
            "end_date",
            "Tanggal selesai (end_date) tidak boleh sebelum tanggal mulai (start_date).",
            "The end_date may not be before the start_date.",
        ));
    }
    Ok(ProgramInput {
        code: f.slug("code")?,
        name: f.required_text("name", 200)?,
        partner_code,
        kind: f.vocab("type", ProgramType::ALL, ProgramType::parse)?,
        start_date,
        end_date,
        target_group: f.text("target_group", 200)?,
        planned_beneficiaries: f.int("planned_beneficiaries", 0, 10_000_000)?,
        description: f.text("description", 2000)?,
    })
}

#[derive(Deserialize)]
struct ProgramQuery {
    partner: Option<String>,
    /// `pending`, `approved` or `all` (default).
    status: Option<String>,
}

/// The programs: approved ones to anyone, pending ones also to reviewers and the partner's own
/// staff.
#[utoipa::path(get, path = "/api/programs", tag = "partners",
    params(("partner" = Option<String>, Query, description = "Only this partner's programs"),
           ("status" = Option<String>, Query, description = "`pending`, `approved` or `all` (default); another value is 422")),
    security((), ("session" = []), ("bearer" = [])),
    responses((status = 200, description = "The programs", body = ProgramList),
              (status = 422, response = crate::api::openapi::Unprocessable)))]
async fn list_programs(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    Query(q): Query<ProgramQuery>,
) -> ApiResult<Json<Value>> {
    let pending = match q.status.as_deref() {
        None | Some("all") => None,
        Some("pending") => Some(true),
        Some("approved") => Some(false),
        Some(other) => {
            return Err(ApiError::invalid_field(
                "status",
                format!("status '{other}' tidak dikenal: pending, approved atau all."),
                format!("Unknown status '{other}': pending, approved or all."),
            ))
        }
    };
    let filter = ProgramFilter {
        code: None,
        partner_code: q.partner,
        pending,
    };
    let client = super::conn(&state).await?;
    let programs = store::programs(&client, &filter, &viewer(user.as_ref())).await?;
    Ok(Json(json!({ "programs": programs })))
}

pub(super) async fn program_json(
    state: &AppState,
    user: Option<&AuthUser>,
    code: &str,
) -> ApiResult<Value> {
    let client = super::conn(state).await?;
    let filter = ProgramFilter {
        code: Some(code.to_owned()),
        ..ProgramFilter::default()
    };
    store::programs(&client, &filter, &viewer(user))
        .await?
        .pop()
        .ok_or_else(|| not_found("Program", "program"))
}

/// One program (pending ones: reviewers and own staff).
#[utoipa::path(get, path = "/api/programs/{code}", tag = "partners",
    params(("code" = String, Path, description = "Program code")),
    security((), ("session" = []), ("bearer" = [])),
    responses((status = 200, description = "The program", body = Program),
              (status = 404, response = crate::api::openapi::NotFound)))]
async fn show_program(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    Path(code): Path<String>,
) -> ApiResult<Json<Value>> {
    Ok(Json(program_json(&state, user.as_ref(), &code).await?))
}

/// A new program of a partner: reviewers for any partner, a mitra for its own. A new partner's
/// program waits for review.
#[utoipa::path(post, path = "/api/programs", tag = "partners",
    request_body = ProgramCreate,
    security(("session" = ["planner", "admin", "mitra"], "csrf" = []), ("bearer" = ["planner", "admin", "mitra"])),
    responses((status = 201, description = "The program", body = Program),
              (status = 409, response = crate::api::openapi::Conflict)))]
async fn create_program(
    State(state): State<AppState>,
    user: AuthUser,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<impl IntoResponse> {
    user.require_role(WRITERS)?;
    let f = Fields::new(body, PROGRAM_FIELDS)?;
    let partner_code = match (f.text("partner_code", 64)?, &user.user.partner_code) {
        (Some(p), _) => p,
        (None, Some(own)) => own.clone(),
        (None, None) => f.slug("partner_code")?,
    };
    require_owner(&user, &partner_code)?;
    let input = program_input(&f, partner_code)?;
    in_tx!(&state, |tx| {
        let trusted = store::partner_trusted(&tx, &input.partner_code)
            .await?
            .ok_or_else(|| write_error(WriteError::UnknownReference("partner_code")))?;
        let (approved, approver) = publish_now(&user, trusted);
        store::create_program(&tx, &input, approved, approver, &user.actor())
            .await
            .map_err(write_error)?
    });
    let shown = program_json(&state, Some(&user), &input.code).await?;
    Ok((StatusCode::CREATED, Json(shown)))
}

/// An edit of a program (reviewers, the partner's own mitra).
#[utoipa::path(patch, path = "/api/programs/{code}", tag = "partners",
    params(("code" = String, Path, description = "Program code")),
    request_body = ProgramPatch,
    security(("session" = ["planner", "admin", "mitra"], "csrf" = []), ("bearer" = ["planner", "admin", "mitra"])),
    responses((status = 200, description = "The program", body = Program),
              (status = 404, response = crate::api::openapi::NotFound)))]
async fn update_program(
    State(state): State<AppState>,
    user: AuthUser,
    Path(code): Path<String>,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<Json<Value>> {
    let patch = Fields::new(body, &PROGRAM_FIELDS[2..])?;
    in_tx!(&state, |tx| {
        let head = writable_program(&tx, &user, &code, None).await?;
        let before = store::program_fields(&tx, &code)
            .await?
            .ok_or_else(|| not_found("Program", "program"))?;
        let input = program_input(&Fields::merged(before.clone(), patch), head.partner_code)?;
        store::update_program(&tx, &input, before, &user.actor())
            .await
            .map_err(write_error)?
    });
    Ok(Json(program_json(&state, Some(&user), &code).await?))
}

/// Reviewers approve a program with its pending coverage, and trust its partner from then on.
#[utoipa::path(post, path = "/api/programs/{code}/approve", tag = "partners",
    params(("code" = String, Path, description = "Program code")),
    security(("session" = ["planner", "admin"], "csrf" = []), ("bearer" = ["planner", "admin"])),
    responses((status = 200, description = "`{program, approved: {program, coverage: [code], partner_trusted}}`", body = Object),
              (status = 404, response = crate::api::openapi::NotFound)))]
async fn approve_program(
    State(state): State<AppState>,
    user: AuthUser,
    Path(code): Path<String>,
) -> ApiResult<Json<Value>> {
    require_reviewer(&user)?;
    let area = scope(&user);
    let done = in_tx!(&state, |tx| store::approve_program(
        &tx,
        &code,
        area.as_deref(),
        &user.actor()
    )
    .await
    .map_err(|e| match e {
        WriteError::NotFound => not_found("Program", "program"),
        e => write_error(e),
    })?);
    let program = program_json(&state, Some(&user), &code).await?;
    Ok(Json(json!({ "program": program, "approved": done })))
}
