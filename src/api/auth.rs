//! Accounts over HTTP: registration, login and logout with cookie sessions, password change,
//! API tokens, staff accounts and roles (admin), the audit log (admin), the rate limiters, and
//! the [`AuthUser`] extractor with the role and area-scope checks every write route uses
//! (see docs/auth.md).

use std::net::IpAddr;

use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{header, Method, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use chrono::Utc;
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::input::{ClientIp, JsonBody};
use crate::config::ServeConfig;
use crate::domain::credentials::{
    constant_time_eq, decoy_hash, hash_password, new_password, new_secret, normalize_username,
    secret_digest, verify_password,
};
use crate::domain::{AreaCode, AreaLevel, Role};
use crate::error::{ApiError, ApiResult, Msg};
use crate::store::audit::{self, Actor};
use crate::store::rate_limit;
use crate::store::users::{self, NewUser, User, UserError};
use crate::store::StoreError;
use crate::AppState;

pub const SESSION_COOKIE: &str = "sigap_session";
pub const CSRF_COOKIE: &str = "sigap_csrf";
pub const CSRF_HEADER: &str = "x-csrf-token";
const SESSION_DAYS: i64 = 14;

// ---------------------------------------------------------------------------------------------
// Rate limits

/// The rate limiters (GCRA, keyed), shared by every process of a fleet through PostgreSQL
/// (`store::rate_limit`, V13).
pub struct Limits {
    pool: deadpool_postgres::Pool,
    /// 0: anonymous submissions are not limited (benchmarks only).
    anon_posts_per_minute: u32,
    login_per_account_per_minute: u32,
    login_per_ip_per_minute: u32,
    /// 0: follow-by-email requests are not limited.
    follow_per_ip_per_minute: u32,
    /// Checks since start; every [`PRUNE_EVERY`]th also forgets recovered keys.
    checks: std::sync::atomic::AtomicU64,
}

const PRUNE_EVERY: u64 = 1000;

fn too_many() -> ApiError {
    ApiError::too_many_requests(Msg::new(
        "Terlalu banyak percobaan. Tunggu satu menit lalu coba lagi.",
        "Too many attempts. Wait a minute and try again.",
    ))
}

impl Limits {
    pub fn new(cfg: &ServeConfig, pool: deadpool_postgres::Pool) -> Limits {
        Limits {
            pool,
            anon_posts_per_minute: cfg.anon_posts_per_minute,
            login_per_account_per_minute: cfg.login_per_account_per_minute,
            login_per_ip_per_minute: cfg.login_per_ip_per_minute,
            follow_per_ip_per_minute: cfg.follow_per_ip_per_minute,
            checks: std::sync::atomic::AtomicU64::new(0),
        }
    }

    async fn take(&self, key: &str, per_minute: u32) -> ApiResult<()> {
        let client = self.pool.get().await.map_err(StoreError::from)?;
        let n = self
            .checks
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if n % PRUNE_EVERY == PRUNE_EVERY - 1 {
            if let Err(e) = rate_limit::prune(&client).await {
                tracing::warn!(error = %e, "pruning rate limits failed");
            }
        }
        if rate_limit::take(&client, key, per_minute).await? {
            Ok(())
        } else {
            Err(too_many())
        }
    }

    /// One anonymous submission from `ip`, or 429.
    pub async fn anonymous_post(&self, ip: IpAddr) -> ApiResult<()> {
        if self.anon_posts_per_minute == 0 {
            return Ok(());
        }
        self.take(&format!("anon:{ip}"), self.anon_posts_per_minute)
            .await
    }

    /// One follow request (an email address for a proposal's updates) from `ip`, or 429.
    pub async fn follow(&self, ip: IpAddr) -> ApiResult<()> {
        if self.follow_per_ip_per_minute == 0 {
            return Ok(());
        }
        self.take(&format!("follow:{ip}"), self.follow_per_ip_per_minute)
            .await
    }

    /// One login (or registration, when `username` is `None`) attempt, or 429.
    pub async fn login(&self, ip: IpAddr, username: Option<&str>) -> ApiResult<()> {
        self.take(&format!("login-ip:{ip}"), self.login_per_ip_per_minute)
            .await?;
        if let Some(name) = username {
            self.take(
                &format!("login-account:{}", name.to_lowercase()),
                self.login_per_account_per_minute,
            )
            .await?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// The extractor

/// How a request proved who it is.
#[derive(Debug, Clone)]
pub enum Credential {
    /// A session cookie; holds the SHA-256 of the session id.
    Session { id_hash: Vec<u8> },
    /// An `Authorization: Bearer` API token (exempt from CSRF checks: browsers never send it
    /// on their own).
    Token,
}

/// The signed-in account of a request. Extracting it answers 401 when there are no valid
/// credentials, and 403 for a cookie-authenticated write without a matching `X-CSRF-Token`.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub user: User,
    pub via: Credential,
    pub csrf_token: Option<String>,
}

impl AuthUser {
    pub fn id(&self) -> i64 {
        self.user.id
    }

    pub fn role(&self) -> Role {
        self.user.role
    }

    /// The actor recorded in the audit log.
    pub fn actor(&self) -> Actor {
        Actor {
            id: Some(self.user.id),
            label: self.user.username.clone(),
        }
    }

    /// The area this account is limited to (`None`: the whole region).
    pub fn area(&self) -> Option<AreaCode> {
        if self.user.role == Role::Admin {
            return None;
        }
        self.user.area_code.as_deref().and_then(|c| c.parse().ok())
    }

    /// 403 unless the account has one of `roles`.
    pub fn require_role(&self, roles: &[Role]) -> ApiResult<()> {
        if roles.contains(&self.user.role) {
            Ok(())
        } else {
            Err(ApiError::forbidden(Msg::new(
                "Peran akun Anda tidak diizinkan melakukan ini.",
                "Your account's role may not do this.",
            )))
        }
    }

    /// True when the account may act on something located in `area` (a kelurahan or kecamatan
    /// code; `None` for something outside every kelurahan, which only unscoped staff cover).
    pub fn covers(&self, area: Option<&str>) -> bool {
        match self.area() {
            None => true,
            Some(scope) => area
                .and_then(|a| a.parse::<AreaCode>().ok())
                .is_some_and(|a| scope.contains(&a)),
        }
    }

    /// 403 unless [`covers`](Self::covers) says yes.
    pub fn require_scope(&self, area: Option<&str>) -> ApiResult<()> {
        if self.covers(area) {
            Ok(())
        } else {
            Err(ApiError::forbidden(Msg::new(
                "Ini di luar wilayah tugas akun Anda.",
                "This lies outside your account's area.",
            )))
        }
    }
}

/// The signed-in account if there is one. Credentials that are present but wrong still answer
/// 401/403: a bad cookie never silently downgrades a request to anonymous.
#[derive(Debug, Clone)]
pub struct MaybeUser(pub Option<AuthUser>);

fn unauthorized() -> ApiError {
    ApiError::unauthorized(Msg::new(
        "Silakan masuk terlebih dahulu (sesi atau token tidak berlaku).",
        "Please sign in first (the session or token is not valid).",
    ))
}

impl FromRequestParts<AppState> for MaybeUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(auth) = parts.headers.get(header::AUTHORIZATION) {
            let token = auth
                .to_str()
                .ok()
                .and_then(|v| v.strip_prefix("Bearer "))
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .ok_or_else(unauthorized)?;
            let client = super::conn(state).await?;
            let user = users::token_user(&client, &secret_digest(token))
                .await?
                .ok_or_else(unauthorized)?;
            return Ok(MaybeUser(Some(AuthUser {
                user,
                via: Credential::Token,
                csrf_token: None,
            })));
        }
        let jar = CookieJar::from_headers(&parts.headers);
        let Some(session) = jar.get(SESSION_COOKIE) else {
            return Ok(MaybeUser(None));
        };
        let id_hash = secret_digest(session.value());
        let client = super::conn(state).await?;
        let (user, csrf) = users::session_user(&client, &id_hash)
            .await?
            .ok_or_else(unauthorized)?;
        let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if !safe {
            let sent = parts
                .headers
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if !constant_time_eq(sent, &csrf) {
                return Err(ApiError::forbidden(Msg::new(
                    "Token CSRF tidak ada atau tidak cocok. Muat ulang halaman lalu coba lagi.",
                    "The CSRF token is missing or does not match. Reload the page and try again.",
                )));
            }
        }
        Ok(MaybeUser(Some(AuthUser {
            user,
            via: Credential::Session { id_hash },
            csrf_token: Some(csrf),
        })))
    }
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        MaybeUser::from_request_parts(parts, state)
            .await?
            .0
            .ok_or_else(unauthorized)
    }
}

// ---------------------------------------------------------------------------------------------
// Routes

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register))
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(me))
        .routes(routes!(change_password))
        .routes(routes!(create_token))
        .routes(routes!(create_staff))
        .routes(routes!(set_role))
        .routes(routes!(audit_log))
}

fn check_username(name: &str) -> ApiResult<String> {
    normalize_username(name).ok_or_else(|| {
        ApiError::invalid_field(
            "username",
            "Nama pengguna 3–40 karakter: huruf kecil, angka, titik, garis bawah atau tanda hubung, diawali huruf atau angka.",
            "A username has 3–40 characters: lowercase letters, digits, '.', '_' or '-', starting with a letter or digit.",
        )
    })
}

fn check_password(field: &str, pw: &str) -> ApiResult<()> {
    let n = pw.chars().count();
    if (8..=256).contains(&n) {
        Ok(())
    } else {
        Err(ApiError::invalid_field(
            field,
            "Kata sandi minimal 8 dan maksimal 256 karakter.",
            "A password has at least 8 and at most 256 characters.",
        ))
    }
}

fn check_text(field: &str, value: Option<String>, max: usize) -> ApiResult<Option<String>> {
    let value = value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    if value.as_ref().is_some_and(|v| v.chars().count() > max) {
        return Err(ApiError::invalid_field(
            field,
            format!("Kolom {field} paling panjang {max} karakter."),
            format!("The field {field} has at most {max} characters."),
        ));
    }
    Ok(value)
}

fn check_area(
    field: &str,
    code: Option<String>,
    level: Option<AreaLevel>,
) -> ApiResult<Option<String>> {
    let Some(code) = code.filter(|c| !c.trim().is_empty()) else {
        return Ok(None);
    };
    match code.trim().parse::<AreaCode>() {
        Ok(a) if level.is_none_or(|l| a.level() == l) && a.level() != AreaLevel::Region => {
            Ok(Some(a.to_string()))
        }
        _ => Err(ApiError::invalid_field(
            field,
            format!("'{code}' bukan kode kecamatan/kelurahan yang sah (mis. 32.73.01 atau 32.73.01.1001)."),
            format!("'{code}' is not a valid kecamatan/kelurahan code (e.g. 32.73.01 or 32.73.01.1001)."),
        )),
    }
}

fn user_error(e: UserError) -> ApiError {
    match e {
        UserError::UsernameTaken => ApiError::conflict(Msg::new(
            "Nama pengguna itu sudah dipakai.",
            "That username is already taken.",
        )),
        UserError::UnknownArea => ApiError::invalid_field(
            "area_code",
            "Kode wilayah itu tidak ada di SIGAP.",
            "That area code does not exist in SIGAP.",
        ),
        UserError::NotFound => {
            ApiError::not_found(Msg::new("Akun tidak ditemukan.", "No such account."))
        }
        UserError::UnknownPartner => ApiError::invalid_field(
            "partner_code",
            "Kode mitra itu tidak ada di SIGAP.",
            "That partner code does not exist in SIGAP.",
        ),
        UserError::PartnerMismatch => ApiError::invalid_field(
            "partner_code",
            "Akun mitra wajib punya kode mitra (partner_code); peran lain tidak boleh punya.",
            "A mitra account needs a partner_code; no other role may have one.",
        ),
        UserError::Store(e) => e.into(),
    }
}

async fn hash_blocking(password: String) -> ApiResult<String> {
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(ApiError::internal)?
        .map_err(|e| ApiError::internal(anyhow::anyhow!("hashing a password: {e}")))
}

async fn verify_blocking(password: String, hash: String) -> ApiResult<bool> {
    tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .map_err(ApiError::internal)
}

/// Opens a session and returns the cookies that carry it, with the CSRF token.
async fn open_session(
    state: &AppState,
    jar: CookieJar,
    user_id: i64,
) -> ApiResult<(CookieJar, String)> {
    let session = new_secret();
    let csrf = new_secret();
    let client = super::conn(state).await?;
    users::create_session(
        &client,
        user_id,
        &secret_digest(&session),
        &csrf,
        Utc::now() + chrono::Duration::days(SESSION_DAYS),
    )
    .await?;
    let secure = state.config.is_https();
    let max_age = time_days(SESSION_DAYS);
    let session_cookie = Cookie::build((SESSION_COOKIE, session))
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure)
        .path("/")
        .max_age(max_age);
    // Readable by the page's script, which echoes it in X-CSRF-Token.
    let csrf_cookie = Cookie::build((CSRF_COOKIE, csrf.clone()))
        .same_site(SameSite::Strict)
        .secure(secure)
        .path("/")
        .max_age(max_age);
    Ok((jar.add(session_cookie).add(csrf_cookie), csrf))
}

fn time_days(days: i64) -> cookie::time::Duration {
    cookie::time::Duration::days(days)
}

/// An account as the API shows it (`store::users::User`; never the password hash).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct UserDoc {
    id: i64,
    username: String,
    display_name: Option<String>,
    #[schema(schema_with = super::openapi::role_names)]
    role: String,
    /// The area a scoped staff account acts in.
    area_code: Option<String>,
    home_kelurahan_code: Option<String>,
    /// The partner a `mitra` account works for.
    partner_code: Option<String>,
}

/// The signed-in account and the token its cookie-authenticated writes send as `X-CSRF-Token`
/// (`null` when signed in with a bearer token).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct SessionDoc {
    user: UserDoc,
    csrf_token: Option<String>,
}

/// A resident's new account. Unknown fields are refused.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct RegisterBody {
    /// 3–40 letters, digits, `.`, `_`, `-`, starting with a letter or digit; stored trimmed and
    /// lowercased (`Budi` is `budi`).
    #[schema(pattern = "^\\s*[A-Za-z0-9][A-Za-z0-9._-]{2,39}\\s*$")]
    username: String,
    #[schema(min_length = 8, max_length = 256)]
    password: String,
    #[schema(max_length = 120)]
    display_name: String,
    #[schema(max_length = 40)]
    phone: Option<String>,
    /// A kelurahan code.
    #[schema(
        pattern = "^[0-9]{2}\\.[0-9]{2}\\.[0-9]{2}\\.[0-9]{4}$",
        example = "32.73.01.1001"
    )]
    home_kelurahan_code: Option<String>,
}

/// A resident registers and is signed in (session and CSRF cookies set). Rate-limited per IP.
#[utoipa::path(post, path = "/api/auth/register", tag = "accounts",
    request_body = RegisterBody,
    responses((status = 201, description = "The account; sets the `sigap_session` and `sigap_csrf` cookies", body = SessionDoc),
              (status = 409, response = crate::api::openapi::Conflict), (status = 429, response = crate::api::openapi::TooManyRequests)))]
async fn register(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
    JsonBody(body): JsonBody<RegisterBody>,
) -> ApiResult<impl IntoResponse> {
    state.limits.login(ip, None).await?;
    let username = check_username(&body.username)?;
    check_password("password", &body.password)?;
    let display_name =
        check_text("display_name", Some(body.display_name), 120)?.ok_or_else(|| {
            ApiError::invalid_field(
                "display_name",
                "Nama tampilan wajib diisi.",
                "A display name is required.",
            )
        })?;
    let phone = check_text("phone", body.phone, 40)?;
    let home = check_area(
        "home_kelurahan_code",
        body.home_kelurahan_code,
        Some(AreaLevel::Kelurahan),
    )?;
    let password_hash = hash_blocking(body.password).await?;
    let mut client = super::conn(&state).await?;
    let tx = client.transaction().await.map_err(ApiError::internal)?;
    let new = NewUser {
        username: username.clone(),
        password_hash,
        role: Role::Resident,
        area_code: None,
        display_name: Some(display_name),
        phone,
        home_kelurahan_code: home,
        partner_code: None,
    };
    let actor = Actor {
        id: None,
        label: username,
    };
    let user = users::create(&tx, &new, &actor).await.map_err(user_error)?;
    tx.commit().await.map_err(ApiError::internal)?;
    drop(client);
    let (jar, csrf) = open_session(&state, jar, user.id).await?;
    Ok((
        StatusCode::CREATED,
        jar,
        Json(json!({"user": user, "csrf_token": csrf})),
    ))
}

#[derive(Deserialize, ToSchema)]
struct LoginBody {
    username: String,
    password: String,
}

/// Signs in (session and CSRF cookies set). Rate-limited per IP and per account.
#[utoipa::path(post, path = "/api/auth/login", tag = "accounts",
    request_body = LoginBody,
    responses((status = 200, description = "The account; sets the `sigap_session` and `sigap_csrf` cookies", body = SessionDoc),
              (status = 401, response = crate::api::openapi::Unauthorized), (status = 429, response = crate::api::openapi::TooManyRequests)))]
async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
    JsonBody(body): JsonBody<LoginBody>,
) -> ApiResult<impl IntoResponse> {
    state.limits.login(ip, Some(body.username.trim())).await?;
    let client = super::conn(&state).await?;
    let found = users::find_for_login(&client, body.username.trim()).await?;
    drop(client);
    let (user, hash) = match found {
        Some((u, h)) => (Some(u), h),
        None => (None, decoy_hash().to_owned()),
    };
    let ok = verify_blocking(body.password, hash).await?;
    let Some(user) = user.filter(|_| ok) else {
        return Err(ApiError::unauthorized(Msg::new(
            "Nama pengguna atau kata sandi salah.",
            "Wrong username or password.",
        )));
    };
    let (jar, csrf) = open_session(&state, jar, user.id).await?;
    Ok((jar, Json(json!({"user": user, "csrf_token": csrf}))))
}

/// Ends the session.
#[utoipa::path(post, path = "/api/auth/logout", tag = "accounts",
    security(("session" = [], "csrf" = []), ("bearer" = [])),
    responses((status = 204, description = "Signed out; the cookies are removed")))]
async fn logout(
    State(state): State<AppState>,
    user: AuthUser,
    jar: CookieJar,
) -> ApiResult<impl IntoResponse> {
    if let Credential::Session { id_hash } = &user.via {
        let client = super::conn(&state).await?;
        users::delete_session(&client, id_hash).await?;
    }
    let jar = jar
        .remove(Cookie::build(SESSION_COOKIE).path("/"))
        .remove(Cookie::build(CSRF_COOKIE).path("/"));
    Ok((StatusCode::NO_CONTENT, jar))
}

/// The signed-in account.
#[utoipa::path(get, path = "/api/auth/me", tag = "accounts",
    security(("session" = []), ("bearer" = [])),
    responses((status = 200, description = "The account", body = SessionDoc)))]
async fn me(user: AuthUser) -> Json<Value> {
    Json(json!({"user": user.user, "csrf_token": user.csrf_token}))
}

#[derive(Deserialize, ToSchema)]
struct PasswordBody {
    current_password: String,
    #[schema(min_length = 8, max_length = 256)]
    new_password: String,
}

/// Changes the password; other sessions end. Rate-limited like login.
#[utoipa::path(post, path = "/api/auth/password", tag = "accounts",
    request_body = PasswordBody,
    security(("session" = [], "csrf" = []), ("bearer" = [])),
    responses((status = 204, description = "Changed"), (status = 429, response = crate::api::openapi::TooManyRequests)))]
async fn change_password(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    user: AuthUser,
    JsonBody(body): JsonBody<PasswordBody>,
) -> ApiResult<StatusCode> {
    state.limits.login(ip, Some(&user.user.username)).await?;
    check_password("new_password", &body.new_password)?;
    let mut client = super::conn(&state).await?;
    let hash = users::password_hash(&client, user.id())
        .await?
        .ok_or_else(unauthorized)?;
    if !verify_blocking(body.current_password, hash).await? {
        return Err(ApiError::forbidden(Msg::new(
            "Kata sandi saat ini salah.",
            "The current password is wrong.",
        )));
    }
    let new_hash = hash_blocking(body.new_password).await?;
    let keep = match &user.via {
        Credential::Session { id_hash } => Some(id_hash.as_slice()),
        Credential::Token => None,
    };
    let tx = client.transaction().await.map_err(ApiError::internal)?;
    users::set_password(&tx, user.id(), &new_hash, keep, &user.actor()).await?;
    tx.commit().await.map_err(ApiError::internal)?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct TokenBody {
    #[schema(min_length = 1, max_length = 80)]
    name: String,
}

/// A new API token for scripts (`Authorization: Bearer`); shown once.
#[utoipa::path(post, path = "/api/auth/tokens", tag = "accounts",
    request_body = TokenBody,
    security(("session" = [], "csrf" = []), ("bearer" = [])),
    responses((status = 201, description = "`{id, name, token}`", body = Object)))]
async fn create_token(
    State(state): State<AppState>,
    user: AuthUser,
    JsonBody(body): JsonBody<TokenBody>,
) -> ApiResult<impl IntoResponse> {
    let name = check_text("name", Some(body.name), 80)?.ok_or_else(|| {
        ApiError::invalid_field(
            "name",
            "Nama token wajib diisi.",
            "A token name is required.",
        )
    })?;
    let token = format!("sgp_{}", new_secret());
    let mut client = super::conn(&state).await?;
    let tx = client.transaction().await.map_err(ApiError::internal)?;
    let id =
        users::create_token(&tx, user.id(), &name, &secret_digest(&token), &user.actor()).await?;
    tx.commit().await.map_err(ApiError::internal)?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"id": id, "name": name, "token": token})),
    ))
}

/// A staff or partner account; its password is generated and answered once.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct StaffBody {
    /// 3–40 letters, digits, `.`, `_`, `-`, starting with a letter or digit; stored trimmed and
    /// lowercased.
    #[schema(pattern = "^\\s*[A-Za-z0-9][A-Za-z0-9._-]{2,39}\\s*$")]
    username: String,
    #[schema(schema_with = super::openapi::role_names)]
    role: Role,
    /// A kecamatan or kelurahan code the account is limited to (moderator, planner, official).
    #[schema(pattern = "^[0-9]{2}\\.[0-9]{2}(\\.[0-9]{4})?$", example = "32.73.01")]
    area_code: Option<String>,
    #[schema(max_length = 120)]
    display_name: Option<String>,
    /// Required for `mitra`, refused for every other role.
    partner_code: Option<String>,
}

fn check_role_area(role: Role, area: Option<String>) -> ApiResult<Option<String>> {
    let area = check_area("area_code", area, None)?;
    if area.is_some() && !role.may_have_area() {
        return Err(ApiError::invalid_field(
            "area_code",
            "Hanya moderator, perencana dan pejabat yang dapat dibatasi pada satu wilayah.",
            "Only moderators, planners and officials can be limited to an area.",
        ));
    }
    Ok(area)
}

/// An admin creates a staff or partner (`mitra`) account.
///
/// With a one-time password, shown once in the answer.
#[utoipa::path(post, path = "/api/users", tag = "accounts",
    request_body = StaffBody,
    security(("session" = ["admin"], "csrf" = []), ("bearer" = ["admin"])),
    responses((status = 201, description = "`{user, password}` (the generated password, shown once)", body = Object),
              (status = 409, response = crate::api::openapi::Conflict)))]
async fn create_staff(
    State(state): State<AppState>,
    user: AuthUser,
    JsonBody(body): JsonBody<StaffBody>,
) -> ApiResult<impl IntoResponse> {
    user.require_role(&[Role::Admin])?;
    let username = check_username(&body.username)?;
    let area = check_role_area(body.role, body.area_code)?;
    let display_name = check_text("display_name", body.display_name, 120)?;
    let password = new_password();
    let password_hash = hash_blocking(password.clone()).await?;
    let mut client = super::conn(&state).await?;
    let tx = client.transaction().await.map_err(ApiError::internal)?;
    let new = NewUser {
        username,
        password_hash,
        role: body.role,
        area_code: area,
        display_name,
        phone: None,
        home_kelurahan_code: None,
        partner_code: body.partner_code,
    };
    let created = users::create(&tx, &new, &user.actor())
        .await
        .map_err(user_error)?;
    tx.commit().await.map_err(ApiError::internal)?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"user": created, "password": password})),
    ))
}

/// An account's new role (and area or partner, as for a new account).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct RoleBody {
    #[schema(schema_with = super::openapi::role_names)]
    role: Role,
    #[schema(pattern = "^[0-9]{2}\\.[0-9]{2}(\\.[0-9]{4})?$", example = "32.73.01")]
    area_code: Option<String>,
    partner_code: Option<String>,
}

/// An admin changes an account's role and area.
#[utoipa::path(put, path = "/api/users/{id}/role", tag = "accounts",
    params(("id" = i64, Path, description = "Account id")),
    request_body = RoleBody,
    security(("session" = ["admin"], "csrf" = []), ("bearer" = ["admin"])),
    responses((status = 200, description = "`{user}`", body = Object), (status = 404, response = crate::api::openapi::NotFound)))]
async fn set_role(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<i64>,
    JsonBody(body): JsonBody<RoleBody>,
) -> ApiResult<Json<Value>> {
    user.require_role(&[Role::Admin])?;
    let area = check_role_area(body.role, body.area_code)?;
    let mut client = super::conn(&state).await?;
    let tx = client.transaction().await.map_err(ApiError::internal)?;
    let changed = users::set_role(
        &tx,
        id,
        body.role,
        area.as_deref(),
        body.partner_code.as_deref(),
        &user.actor(),
    )
    .await
    .map_err(user_error)?;
    tx.commit().await.map_err(ApiError::internal)?;
    Ok(Json(json!({"user": changed})))
}

#[derive(Deserialize)]
struct AuditQuery {
    limit: Option<i64>,
    before: Option<i64>,
}

/// The audit log, newest first (admins).
#[utoipa::path(get, path = "/api/audit", tag = "accounts",
    params(("limit" = Option<i64>, Query, minimum = 1, maximum = 1000, description = "At most this many entries (default 100; clamped to 1–1000)"),
           ("before" = Option<i64>, Query, description = "Only entries with a smaller id (paging)")),
    security(("session" = ["admin"]), ("bearer" = ["admin"])),
    responses((status = 200, description = "`{entries: [entry]}`", body = Object)))]
async fn audit_log(
    State(state): State<AppState>,
    user: AuthUser,
    Query(q): Query<AuditQuery>,
) -> ApiResult<Json<Value>> {
    user.require_role(&[Role::Admin])?;
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let client = super::conn(&state).await?;
    let entries = audit::list(&client, limit, q.before).await?;
    Ok(Json(json!({"entries": entries})))
}
