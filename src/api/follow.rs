//! Following a proposal by email, without an account: the follow request from the tracking page
//! (double opt-in), and the confirm and unsubscribe links of the mails. The mails themselves are
//! `mail`'s; the SQL is `store::follow`'s.
//!
//! - `POST /api/proposals/{tracking_code}/followers` `{email, lang}` → 202, whatever the address
//!   (whether it already follows is never told).
//! - `GET /api/follow/confirm?token=…` → the follower gets status mails from now on.
//! - `GET|POST /api/follow/unsubscribe?token=…` → the address is deleted (POST is RFC 8058's
//!   one-click unsubscribe, named in every mail's `List-Unsubscribe-Post`).
//!
//! The link pages answer HTML (a person clicked a link in a mail), or JSON when asked for it.

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::input::{ClientIp, JsonBody};
use crate::domain::credentials::secret_digest;
use crate::domain::ProposalStatus;
use crate::error::{current_lang, ApiError, ApiResult, Lang, Msg};
use crate::mail::text::lang_of;
use crate::store::follow;
use crate::store::proposals;
use crate::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    // `{id}` is the tracking code in `…/followers`: the segment's name is shared with the other
    // `/api/proposals/{id}/…` routes (one name per position in the router).
    OpenApiRouter::new()
        .routes(routes!(subscribe))
        .routes(routes!(confirm))
        .routes(routes!(unsubscribe))
}

/// Follow a proposal by email: a confirmation mail goes to `email`, in `lang`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct FollowBody {
    /// Required; a dotted domain name, at most 254 characters.
    #[schema(format = Email, max_length = 254, example = "nama@contoh.id")]
    email: Option<String>,
    /// `id` (default) or `en`.
    #[schema(schema_with = follow_langs)]
    lang: Option<String>,
}

fn follow_langs() -> utoipa::openapi::Object {
    super::openapi::vocab(&["id", "en"])
}

/// A trimmed, checked email address: one lettre will send to, with a dotted domain name (no
/// `user@localhost`, no IP literal), at most 254 characters (RFC 5321's limit).
pub(crate) fn check_email(raw: Option<&str>) -> ApiResult<String> {
    let bad = || {
        ApiError::invalid_field(
            "email",
            "Alamat email tidak valid. Contoh: nama@contoh.id",
            "The email address is not valid. Example: name@example.org",
        )
    };
    let email = raw.map(str::trim).unwrap_or("");
    if email.is_empty() || email.len() > 254 {
        return Err(bad());
    }
    let addr: lettre::Address = email.parse().map_err(|_| bad())?;
    let domain = addr.domain();
    if domain.starts_with('[') || !domain.contains('.') || domain.ends_with('.') {
        return Err(bad());
    }
    Ok(addr.to_string())
}

fn check_lang(raw: Option<&str>) -> ApiResult<&'static str> {
    match raw.map(str::trim) {
        None | Some("") => Ok(current_lang().tag()),
        Some("id") => Ok("id"),
        Some("en") => Ok("en"),
        Some(_) => Err(ApiError::invalid_field(
            "lang",
            "Bahasa email harus 'id' (Bahasa Indonesia) atau 'en' (English).",
            "The language of the emails must be 'id' (Bahasa Indonesia) or 'en' (English).",
        )),
    }
}

fn not_found() -> ApiError {
    ApiError::not_found(Msg::new("Usulan tidak ditemukan.", "No such proposal."))
}

/// Follow a proposal by email (anyone; rate-limited per IP). The answer is the same whether or
/// not the address already follows. A proposal in a final status is 409.
#[utoipa::path(post, path = "/api/proposals/{id}/followers", tag = "proposals",
    params(("id" = String, Path, description = "The proposal's tracking code")),
    request_body = FollowBody,
    responses((status = 202, description = "`{status: \"confirmation_pending\", tracking_code, lang, message}`", body = Object),
              (status = 404, response = crate::api::openapi::NotFound), (status = 409, response = crate::api::openapi::Conflict), (status = 429, response = crate::api::openapi::TooManyRequests)))]
async fn subscribe(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(code): Path<String>,
    JsonBody(body): JsonBody<FollowBody>,
) -> ApiResult<Response> {
    state.limits.follow(ip).await?;
    let email = check_email(body.email.as_deref())?;
    let lang = check_lang(body.lang.as_deref())?;
    if code.len() > 24 {
        return Err(not_found());
    }
    let mut client = super::conn(&state).await?;
    let tx = client.transaction().await.map_err(ApiError::internal)?;
    let p = proposals::by_tracking_code(&tx, &code)
        .await?
        .ok_or_else(not_found)?;
    if p.status().is_some_and(ProposalStatus::is_final) {
        return Err(ApiError::conflict(Msg::new(
            "Usulan ini sudah selesai diproses; tidak akan ada kabar lagi untuk diikuti.",
            "This proposal has reached its final status; there will be no more updates to follow.",
        )));
    }
    follow::subscribe(&tx, p.id, &email, lang).await?;
    tx.commit().await.map_err(ApiError::internal)?;
    // The same answer whether the address is new, waiting for confirmation or already
    // following: the form must not tell anyone who follows what.
    let msg = Msg::new(
        "Jika alamat ini belum mengikuti usulan ini, kami mengirim email konfirmasi ke sana. \
         Buka tautan di dalamnya untuk mulai menerima kabar.",
        "Unless this address already follows this proposal, we are sending it a confirmation \
         email. Open the link in it to start getting updates.",
    );
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({
            "status": "confirmation_pending",
            "tracking_code": p.tracking_code,
            "lang": lang,
            "message": msg.get(current_lang()),
        })),
    )
        .into_response())
}

#[derive(Debug, Deserialize)]
struct TokenQuery {
    token: Option<String>,
}

/// The token's digest, or None when it cannot be one of ours (43 base64url characters).
fn token_hash(
    q: &Result<Query<TokenQuery>, axum::extract::rejection::QueryRejection>,
) -> Option<Vec<u8>> {
    let token = q.as_ref().ok()?.token.as_deref()?.trim();
    let ok = token.len() == 43
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    ok.then(|| secret_digest(token))
}

/// The link of the confirmation mail: an HTML page (JSON with `Accept: application/json`).
#[utoipa::path(get, path = "/api/follow/confirm", tag = "proposals",
    params(("token" = String, Query, description = "The token in the mail link")),
    responses((status = 200, description = "Confirmed", content(("text/html"), (Object = "application/json"))),
              (status = 404, description = "Unknown or expired (7 days) token", content(("text/html"), (Object = "application/json")))))]
async fn confirm(
    State(state): State<AppState>,
    headers: HeaderMap,
    q: Result<Query<TokenQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Response> {
    let found = match token_hash(&q) {
        Some(hash) => {
            let client = super::conn(&state).await?;
            follow::confirm(&client, &hash).await?
        }
        None => None,
    };
    Ok(match found {
        Some(f) => {
            let lang = lang_of(&f.lang);
            page(
                &headers,
                StatusCode::OK,
                lang,
                "confirmed",
                Msg::new(
                    "Anda mengikuti usulan ini",
                    "You are following this proposal",
                ),
                Msg::new(
                    "Terima kasih. Setiap kali status usulan ini berubah, kami mengirim satu \
                     email. Setiap email berisi tautan untuk berhenti mengikuti.",
                    "Thank you. Each time the status of this proposal changes, we send one \
                     email. Every email has a link to stop following.",
                ),
                Some(&f.tracking_code),
            )
        }
        None => page(
            &headers,
            StatusCode::NOT_FOUND,
            current_lang(),
            "invalid",
            Msg::new("Tautan tidak berlaku", "This link is not valid"),
            Msg::new(
                format!(
                    "Tautan konfirmasi ini salah, sudah kedaluwarsa ({} hari) atau alamatnya \
                     sudah dihapus. Ikuti lagi usulan itu dari halaman lacak.",
                    follow::UNCONFIRMED_DAYS
                ),
                format!(
                    "This confirmation link is wrong, has expired ({} days), or its address was \
                     deleted. Follow the proposal again from its tracking page.",
                    follow::UNCONFIRMED_DAYS
                ),
            ),
            None,
        ),
    })
}

/// The link in every mail (`List-Unsubscribe`; POST is the RFC 8058 one-click): the address is
/// deleted, also on a second click.
#[utoipa::path(method(get, post), path = "/api/follow/unsubscribe", tag = "proposals",
    params(("token" = String, Query, description = "The token in the mail link")),
    responses((status = 200, description = "Unsubscribed", content(("text/html"), (Object = "application/json"))),
              (status = 404, description = "Unknown token", content(("text/html"), (Object = "application/json")))))]
async fn unsubscribe(
    State(state): State<AppState>,
    headers: HeaderMap,
    q: Result<Query<TokenQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Response> {
    let Some(hash) = token_hash(&q) else {
        return Ok(page(
            &headers,
            StatusCode::NOT_FOUND,
            current_lang(),
            "invalid",
            Msg::new("Tautan tidak berlaku", "This link is not valid"),
            Msg::new(
                "Tautan berhenti mengikuti ini tidak lengkap. Salin seluruh tautan dari email.",
                "This unsubscribe link is incomplete. Copy the whole link from the email.",
            ),
            None,
        ));
    };
    let client = super::conn(&state).await?;
    let gone = follow::unsubscribe(&client, &hash).await?;
    // A second click (or a token of an address already deleted) answers the same: the address
    // gets no more mail either way.
    let lang = gone
        .as_ref()
        .map(|f| lang_of(&f.lang))
        .unwrap_or_else(current_lang);
    Ok(page(
        &headers,
        StatusCode::OK,
        lang,
        "unsubscribed",
        Msg::new("Anda berhenti mengikuti", "You stopped following"),
        Msg::new(
            "Alamat email Anda sudah dihapus dari SIGAP; Anda tidak akan menerima email lagi \
             tentang usulan ini.",
            "Your email address is deleted from SIGAP; you will get no more email about this \
             proposal.",
        ),
        gone.as_ref().map(|f| f.tracking_code.as_str()),
    ))
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The page a link from a mail opens: HTML for a person, JSON when the client asks for it. Not
/// cached, and no Referer leaves it (its URL holds the token).
fn page(
    headers: &HeaderMap,
    status: StatusCode,
    lang: Lang,
    state: &str,
    title: Msg,
    text: Msg,
    tracking_code: Option<&str>,
) -> Response {
    let wants_json = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("application/json"));
    let mut res = if wants_json {
        (
            status,
            Json(json!({
                "status": state,
                "title": title.get(lang),
                "message": text.get(lang),
                "tracking_code": tracking_code,
            })),
        )
            .into_response()
    } else {
        let link = tracking_code.map_or_else(String::new, |c| {
            let label = match lang {
                Lang::Id => "Lihat usulan",
                Lang::En => "See the proposal",
            };
            format!("<p><a href=\"/#usulan/{}\">{label}</a></p>", escape(c))
        });
        let html = format!(
            "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>{title} · SIGAP</title>\
             <style>body{{font:16px/1.5 system-ui,sans-serif;max-width:36em;margin:2em auto;\
             padding:0 1em;color:#222}}h1{{font-size:1.4em}}</style></head>\
             <body><h1>{title}</h1><p>{text}</p>{link}</body></html>",
            lang = lang.tag(),
            title = escape(title.get(lang)),
            text = escape(text.get(lang)),
        );
        let mut r = (status, html).into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        r
    };
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if let Ok(v) = HeaderValue::from_str(lang.tag()) {
        h.insert(header::CONTENT_LANGUAGE, v);
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_checked_and_trimmed() {
        assert_eq!(
            check_email(Some("  Warga.Satu@Contoh.id ")).unwrap(),
            "Warga.Satu@Contoh.id"
        );
        for bad in [
            "",
            "warga",
            "warga@",
            "@contoh.id",
            "warga@localhost",
            "warga@[127.0.0.1]",
            "war ga@contoh.id",
            "warga@contoh.id\r\nBcc: x@y.z",
            "a@b.",
        ] {
            assert!(check_email(Some(bad)).is_err(), "{bad:?}");
        }
        assert!(check_email(None).is_err());
        let long = format!("{}@contoh.id", "a".repeat(250));
        assert!(check_email(Some(&long)).is_err());
    }
}
