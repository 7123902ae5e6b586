//! The OpenAPI 3.1 document of the JSON API under `/api`, served at `GET /api/openapi.json`.
//!
//! The document and the routes come from one source: every `/api` handler carries a
//! `#[utoipa::path]` annotation (method, path, parameters, body, answers, roles), and each
//! resource's router is a `utoipa_axum::OpenApiRouter` that mounts the handlers *through* those
//! annotations (`routes!(…)`), so a route cannot be served under another path or method than the
//! one documented. What the annotations would repeat on every operation is added here once, by
//! rule (see [`CommonAnswers`]): 500/503 everywhere, 401 where there are credentials to check,
//! 403 where a role or the CSRF token is checked, 400/413/422 where there is a JSON body and 415
//! where that body is required. Operation ids are made from method and path, so they are unique.
//! The document is built once per router and served from memory with a strong ETag.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Serialize;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Content, Ref, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;

use super::auth::{CSRF_HEADER, SESSION_COOKIE};
use crate::AppState;

/// Where the document is served.
pub const PATH: &str = "/api/openapi.json";
pub const MEDIA_TYPE: &str = "application/vnd.oai.openapi+json;version=3.1";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "SIGAP API",
        description = "The JSON API of SIGAP (geospatial planning for community-based poverty \
alleviation): accounts, proposals and their moderation, the gap analysis, the budget, partners, \
programs, coverage, progress and reach. The OGC API Features has its own document at /ogc/api.\n\n\
Errors are RFC 9457 problem details (`application/problem+json`), with `detail` in Bahasa \
Indonesia by default or in English when `Accept-Language` prefers `en`; a validation error adds \
`errors: [{field, message}]` naming the field.\n\n\
Credentials: the map signs in with a session cookie (`sigap_session`), and every write it makes \
with that cookie also sends `X-CSRF-Token` (the `csrf_token` of login or /api/auth/me); scripts \
send `Authorization: Bearer <token>` (POST /api/auth/tokens). The roles a route needs are listed \
as the role names of its security requirement (OpenAPI 3.1) and in its description. Staff with \
an `area_code` act only inside that area (403 outside it).",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    paths(openapi_json),
    components(schemas(Problem, FieldError)),
    modifiers(&Security),
    tags(
        (name = "accounts", description = "Sign-in, sessions, API tokens, staff accounts, audit log (docs/auth.md)."),
        (name = "proposals", description = "Residents' proposals, support, status changes, moderation, following by email (docs/proposals.md)."),
        (name = "analysis", description = "The gap analysis (docs/gap-analysis.md)."),
        (name = "budget", description = "Budget ranking and scenarios (docs/budget.md)."),
        (name = "partners", description = "Partners, programs, coverage areas, progress reports, reach and follow-up (docs/partners.md)."),
        (name = "meta", description = "This document."),
    )
)]
pub struct ApiDoc;

/// An RFC 9457 problem details object, as every error of the API is answered
/// (`application/problem+json`).
#[derive(Serialize, ToSchema)]
#[schema(example = json!({
    "type": "urn:sigap:problem:unprocessable", "title": "Unprocessable content", "status": 422,
    "detail": "The field end_date may not be before the start_date.",
    "errors": [{"field": "end_date", "message": "The end_date may not be before the start_date."}]
}))]
pub struct Problem {
    /// `urn:sigap:problem:{kind}`, a stable slug per kind of error (e.g. `not-found`,
    /// `unprocessable`, `forbidden`).
    #[serde(rename = "type")]
    #[schema(pattern = "^urn:sigap:problem:[a-z-]+$")]
    pub kind: String,
    /// A short summary of the status, in the request's language.
    pub title: String,
    /// The HTTP status code.
    #[schema(minimum = 400, maximum = 599)]
    pub status: u16,
    /// What went wrong and what to do, in Bahasa Indonesia or English (`Accept-Language`).
    pub detail: String,
    /// Validation errors, each naming its field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
    /// Budget scenarios: the constraint that cannot be met (docs/budget.md).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub constraint: Option<String>,
    /// A 503 of a saturated kind of work: which one (docs/reliability.md).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub work: Option<String>,
}

/// One wrong field of a request.
#[derive(Serialize, ToSchema)]
pub struct FieldError {
    /// The field's name as sent (`code`, `end_date`, `geometry`, …).
    pub field: String,
    /// What is wrong with it (English).
    pub message: String,
}

/// The security schemes: the map's session cookie (with its CSRF header on writes) and bearer
/// API tokens.
struct Security;

impl Modify for Security {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let c = doc.components.get_or_insert_with(Default::default);
        c.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                SESSION_COOKIE,
                "The session cookie set by POST /api/auth/login or /api/auth/register.",
            ))),
        );
        c.add_security_scheme(
            "csrf",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                CSRF_HEADER,
                "With the session cookie, every write sends the csrf_token of login or \
                 /api/auth/me (also in the sigap_csrf cookie); missing or wrong: 403.",
            ))),
        );
        c.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An API token from POST /api/auth/tokens (`sgp_…`); no CSRF token needed.",
                    ))
                    .build(),
            ),
        );
    }
}

/// A problem+json answer.
fn problem(description: &str) -> RefOr<utoipa::openapi::Response> {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/problem+json",
            Content::new(Some(Ref::from_schema_name("Problem"))),
        )
        .build()
        .into()
}

/// The shared problem answers, by status, each under `components/responses` as `Problem{status}`.
const SHARED: &[(u16, &str)] = &[
    (400, "Malformed request (JSON that does not parse, a query that cannot be read)."),
    (401, "No valid credentials: sign in, or send a valid bearer token."),
    (403, "The account's role may not do this, it lies outside the account's area or partner, or a cookie-authenticated write lacks a matching X-CSRF-Token."),
    (404, "No such record (or one the caller may not see)."),
    (409, "Conflicts with the current state (a taken code, an illegal transition, an adopted scenario)."),
    (413, "The request body exceeds the server's limit (SIGAP_BODY_LIMIT_BYTES)."),
    (415, "The body is not application/json."),
    (422, "A value is wrong; `errors[].field` names the field."),
    (429, "Too many attempts; wait a minute."),
    (500, "Server error; the body never carries internal text."),
    (503, "The database cannot be reached or this kind of work is saturated; retry after Retry-After seconds."),
];

/// The text of a shared answer.
fn shared(status: u16) -> &'static str {
    SHARED
        .iter()
        .find(|(s, _)| *s == status)
        .map(|(_, t)| *t)
        .unwrap_or("Problem details")
}

/// Names a shared problem answer in an annotation: `(status = 404, response = NotFound)`
/// refers to `#/components/responses/Problem404`.
macro_rules! shared_answer {
    ($($name:ident = $status:literal),+ $(,)?) => {$(
        pub struct $name;
        impl<'r> utoipa::ToResponse<'r> for $name {
            fn response() -> (&'r str, RefOr<utoipa::openapi::Response>) {
                (concat!("Problem", $status), problem(shared($status)))
            }
        }
    )+};
}

shared_answer!(
    BadRequest = 400,
    Unauthorized = 401,
    Forbidden = 403,
    NotFound = 404,
    Conflict = 409,
    PayloadTooLarge = 413,
    UnsupportedMedia = 415,
    Unprocessable = 422,
    TooManyRequests = 429,
    Unavailable = 503,
);

/// Adds the answers every operation of a kind can give, so the annotations list only their own.
struct CommonAnswers;

impl Modify for CommonAnswers {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let c = doc.components.get_or_insert_with(Default::default);
        for (status, text) in SHARED {
            c.responses
                .insert(format!("Problem{status}"), problem(text));
        }
        for (path, item) in doc.paths.paths.iter_mut() {
            let ops: [(&str, Option<&mut Operation>); 5] = [
                ("get", item.get.as_mut()),
                ("post", item.post.as_mut()),
                ("put", item.put.as_mut()),
                ("patch", item.patch.as_mut()),
                ("delete", item.delete.as_mut()),
            ];
            for (method, op) in ops {
                let Some(op) = op else { continue };
                // Unique by construction (one operation per method and path); the handlers'
                // names repeat across resources (`list`, `create`, …).
                op.operation_id = Some(operation_id(method, path));
                let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
                let write = method != "get";
                let json_body = op
                    .request_body
                    .as_ref()
                    .filter(|b| b.content.contains_key("application/json"));
                // A required JSON body is read by `input::JsonBody`, which answers 415 to another
                // media type; an optional one (`POST /api/analysis/gap`) is read as it comes.
                let required = json_body
                    .is_some_and(|b| matches!(b.required, Some(utoipa::openapi::Required::True)));
                let mut add = vec![500, 503];
                if secured {
                    add.push(401);
                    // A role check, or the CSRF check of a cookie-authenticated write.
                    if write || roles_of(op).next().is_some() {
                        add.push(403);
                    }
                }
                if json_body.is_some() {
                    add.extend([400, 413, 422]);
                }
                if required {
                    add.push(415);
                }
                for status in add {
                    op.responses
                        .responses
                        .entry(status.to_string())
                        .or_insert_with(|| {
                            RefOr::Ref(Ref::new(format!("#/components/responses/Problem{status}")))
                        });
                }
            }
        }
    }
}

/// `GET /api/programs/{code}/reach` → `getProgramsByCodeReach`.
fn operation_id(method: &str, path: &str) -> String {
    let mut id = method.to_owned();
    for seg in path.trim_start_matches("/api/").split(['/', '.', '_']) {
        let (by, word) = match seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            Some(name) => ("By", name),
            None => ("", seg),
        };
        id.push_str(by);
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            id.extend(first.to_uppercase());
            id.push_str(chars.as_str());
        }
    }
    id
}

/// The role names an operation's security requirements list.
fn roles_of(op: &Operation) -> impl Iterator<Item = String> + '_ {
    op.security
        .iter()
        .flatten()
        .filter_map(|req| serde_json::to_value(req).ok())
        .filter_map(|v| v.as_object().cloned())
        .flat_map(|o| o.into_iter().flat_map(|(_, v)| v.as_array().cloned()))
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_owned))
}

/// A string of one vocabulary's ids, for `#[schema(schema_with = …)]`: the ids come from the
/// domain's own lists, so the document names exactly the values the server accepts.
pub(super) fn vocab(ids: &[&str]) -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(ids.iter().copied()))
        .build()
}

pub(super) fn role_names() -> utoipa::openapi::Object {
    let ids: Vec<&str> = crate::domain::Role::ALL
        .iter()
        .map(|r| r.as_str())
        .collect();
    vocab(&ids)
}

pub(super) fn program_types() -> utoipa::openapi::Object {
    vocab(crate::domain::ProgramType::ALL)
}

pub(super) fn partner_types() -> utoipa::openapi::Object {
    vocab(crate::domain::PartnerType::ALL)
}

pub(super) fn proposal_categories() -> utoipa::openapi::Object {
    vocab(crate::domain::ProposalCategory::ALL)
}

pub(super) fn proposal_statuses() -> utoipa::openapi::Object {
    vocab(crate::domain::ProposalStatus::ALL)
}

/// Every `/api` route, documented: the resources' routers merged into one.
pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(super::auth::router())
        .merge(super::proposals::router())
        .merge(super::follow::router())
        .merge(super::analysis::router())
        .merge(super::budget::router())
        .merge(super::partners::router())
        .merge(super::coverage::router())
        .merge(super::coverage_upload::router())
        .merge(super::progress::router())
}

/// The routes and their finished document.
fn parts() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (routes, mut doc) = api().split_for_parts();
    // After the merge: the modifiers of `ApiDoc` run before the resources' paths are in.
    CommonAnswers.modify(&mut doc);
    (routes, doc)
}

/// The document, indented for reading (`sigap openapi` prints it; the server sends it compact).
pub fn document_json() -> String {
    serde_json::to_string_pretty(&parts().1).expect("the OpenAPI document serializes")
}

/// The `/api` routes and, beside them, `GET /api/openapi.json` serving their document.
pub fn router() -> Router<AppState> {
    let (routes, doc) = parts();
    let served = Arc::new(Served::new(&doc));
    routes.route(
        PATH,
        get(move |headers: HeaderMap| {
            let served = served.clone();
            async move { served.answer(&headers) }
        }),
    )
}

/// The document as sent: its bytes and their ETag.
struct Served {
    body: bytes::Bytes,
    etag: HeaderValue,
}

impl Served {
    fn new(doc: &utoipa::openapi::OpenApi) -> Served {
        // Serializing types built by the macros above cannot fail (no maps with non-string keys).
        let body = serde_json::to_vec(doc).expect("the OpenAPI document serializes");
        let etag = HeaderValue::from_str(&super::etag::of(&body)).expect("an ETag is ASCII");
        Served {
            body: body.into(),
            etag,
        }
    }

    fn answer(&self, headers: &HeaderMap) -> Response {
        let tag = self.etag.to_str().unwrap_or_default();
        let status = if super::etag::request_hits(headers, tag) {
            StatusCode::NOT_MODIFIED
        } else {
            StatusCode::OK
        };
        let body = if status == StatusCode::OK {
            Body::from(self.body.clone())
        } else {
            Body::empty()
        };
        let mut res = (status, body).into_response();
        let h = res.headers_mut();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(MEDIA_TYPE));
        h.insert(header::ETAG, self.etag.clone());
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        res
    }
}

/// The OpenAPI 3.1 document of `/api` (this document). Built once when the server starts and
/// served from memory; revalidate with `If-None-Match`.
#[utoipa::path(
    get,
    path = "/api/openapi.json",
    tag = "meta",
    responses(
        (status = 200, description = "The OpenAPI 3.1 document (`application/vnd.oai.openapi+json;version=3.1`).", body = Object,
         headers(("ETag" = String, description = "Strong tag of the document"))),
        (status = 304, description = "Unchanged since the `If-None-Match` tag."),
    )
)]
#[allow(dead_code)] // Documents the closure that `router` mounts at `PATH`.
async fn openapi_json() {}
