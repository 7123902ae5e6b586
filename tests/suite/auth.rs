//! Accounts against a real PostGIS: cookie sessions and their flags, CSRF, API tokens, logout,
//! password change, login rate limits, `sigap user add`, the append-only audit log, and the
//! role × route × area-scope matrix over every write route.

use crate::common;
use crate::fixture;

use reqwest::StatusCode;
use serde_json::{json, Value};

use common::{sigap_cli, TestApp};
use fixture::{proposal, scalar, spawn, user, IN_SCOPE, OUT_SCOPE, PASSWORD};

fn cookie_client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap()
}

async fn register(app: &TestApp, http: &reqwest::Client, name: &str) -> reqwest::Response {
    http.post(app.url("/api/auth/register"))
        .json(
            &json!({"username": name, "password": "kata-sandi-panjang", "display_name": "Warga Uji",
                      "phone": "0811", "home_kelurahan_code": "32.73.01.1001"}),
        )
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn cookie_session_with_csrf_tokens_and_logout() {
    let app = spawn(|_| {}).await;
    let http = cookie_client();
    let res = register(&app, &http, "Warga1").await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let cookies: Vec<String> = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    let session = cookies
        .iter()
        .find(|c| c.starts_with("sigap_session="))
        .expect("session cookie");
    assert!(
        session.contains("HttpOnly")
            && session.contains("SameSite=Strict")
            && !session.contains("Secure"),
        "{session}"
    );
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["user"]["username"], "warga1");
    assert_eq!(v["user"]["role"], "resident");
    assert!(v["user"].get("password_hash").is_none() && v["user"].get("phone").is_none());
    let csrf = v["csrf_token"].as_str().unwrap().to_owned();
    // Only hashes are stored.
    let stored = scalar(
        &app,
        &format!(
            "SELECT count(*) FROM app_session WHERE encode(id_hash, 'escape') LIKE '%{}%'",
            &session[14..30]
        ),
    )
    .await;
    assert_eq!(stored, 0);
    assert_eq!(
        scalar(
            &app,
            "SELECT count(*) FROM app_user WHERE password_hash LIKE '$argon2id$%'"
        )
        .await,
        1
    );

    let me: Value = http
        .get(app.url("/api/auth/me"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["user"]["username"], "warga1");

    // A cookie-authenticated write without the CSRF header is refused and writes nothing.
    let audits = scalar(&app, "SELECT count(*) FROM audit_log").await;
    let res = http
        .post(app.url("/api/auth/tokens"))
        .json(&json!({"name": "skrip"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = http
        .post(app.url("/api/auth/tokens"))
        .header("x-csrf-token", "salah")
        .json(&json!({"name": "skrip"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(scalar(&app, "SELECT count(*) FROM api_token").await, 0);
    assert_eq!(scalar(&app, "SELECT count(*) FROM audit_log").await, audits);
    let res = http
        .post(app.url("/api/auth/tokens"))
        .header("x-csrf-token", &csrf)
        .json(&json!({"name": "skrip"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let token = res.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(scalar(&app, &format!("SELECT count(*) FROM api_token WHERE token_hash = sha256(convert_to('{token}', 'UTF8'))")).await, 1);

    // The token works without cookies and without CSRF.
    let bare = reqwest::Client::new();
    let me: Value = bare
        .get(app.url("/api/auth/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["user"]["username"], "warga1");
    let res = bare
        .get(app.url("/api/auth/me"))
        .bearer_auth("sgp_palsu")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    let res = http
        .post(app.url("/api/auth/logout"))
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(scalar(&app, "SELECT count(*) FROM app_session").await, 0);
    let res = http.get(app.url("/api/auth/me")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    // Taken usernames, bad names, short passwords.
    assert_eq!(
        register(&app, &cookie_client(), "warga1").await.status(),
        StatusCode::CONFLICT
    );
    assert_eq!(
        register(&app, &cookie_client(), "x").await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let res = cookie_client()
        .post(app.url("/api/auth/register"))
        .json(&json!({"username": "warga2", "password": "pendek", "display_name": "W"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn secure_cookie_over_https() {
    let app = spawn(|c| c.public_url = Some("https://sigap.example".into())).await;
    let res = register(&app, &cookie_client(), "warga1").await;
    let secure = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .all(|v| v.to_str().unwrap().contains("Secure"));
    assert!(secure);
}

#[tokio::test]
async fn login_is_rate_limited_per_account_and_password_change_works() {
    let app = spawn(|_| {}).await;
    user(&app, "pak.rt", "resident", None).await;
    let login = |pw: &'static str| {
        let app = &app;
        async move {
            cookie_client()
                .post(app.url("/api/auth/login"))
                .json(&json!({"username": "pak.rt", "password": pw}))
                .send()
                .await
                .unwrap()
        }
    };
    for _ in 0..2 {
        assert_eq!(
            login("salah-salah").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let http = cookie_client();
    let res = http
        .post(app.url("/api/auth/login"))
        .json(&json!({"username": "PAK.RT", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let csrf = res.json::<Value>().await.unwrap()["csrf_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = http
        .post(app.url("/api/auth/password"))
        .header("x-csrf-token", &csrf)
        .json(&json!({"current_password": "keliru-keliru", "new_password": "baru-baru-123"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = http
        .post(app.url("/api/auth/password"))
        .header("x-csrf-token", &csrf)
        .json(&json!({"current_password": PASSWORD, "new_password": "baru-baru-123"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    // Per account: five attempts a minute (two wrong logins, one login, two password checks),
    // then 429 even with the right password.
    assert_eq!(
        login("baru-baru-123").await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        scalar(
            &app,
            "SELECT count(*) FROM audit_log WHERE action = 'user.password'"
        )
        .await,
        1
    );
    // Per IP: unknown names share the IP's budget (20 a minute).
    let mut statuses = Vec::new();
    for i in 0..25 {
        let res = cookie_client()
            .post(app.url("/api/auth/login"))
            .json(&json!({"username": format!("tamu{i}"), "password": "apa-saja-123"}))
            .send()
            .await
            .unwrap();
        statuses.push(res.status());
    }
    assert!(
        statuses.contains(&StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
}

#[tokio::test]
async fn cli_user_add_prints_or_reads_a_password() {
    let app = spawn(|_| {}).await;
    let out = sigap_cli(
        &app.db,
        &[
            "user",
            "add",
            "--role",
            "moderator",
            "--area",
            "32.73.01",
            "Fasil.Barat",
        ],
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let pw = stdout
        .lines()
        .find_map(|l| l.strip_prefix("one-time password: "))
        .expect("password line")
        .trim()
        .to_owned();
    let res = cookie_client()
        .post(app.url("/api/auth/login"))
        .json(&json!({"username": "fasil.barat", "password": pw}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["user"]["role"], "moderator");
    assert_eq!(v["user"]["area_code"], "32.73.01");

    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_sigap"))
        .args([
            "user",
            "add",
            "--role",
            "admin",
            "--password-stdin",
            "kepala",
        ])
        .env("DATABASE_URL", app.db.url())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use tokio::io::AsyncWriteExt;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"sandi-dari-stdin\n")
        .await
        .unwrap();
    let out = child.wait_with_output().await.unwrap();
    assert!(out.status.success());
    assert!(!String::from_utf8_lossy(&out.stdout).contains("one-time password"));
    let res = cookie_client()
        .post(app.url("/api/auth/login"))
        .json(&json!({"username": "kepala", "password": "sandi-dari-stdin"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    for bad in [
        vec!["user", "add", "--role", "raja", "x1y"],
        vec![
            "user",
            "add",
            "--role",
            "moderator",
            "--area",
            "32.73.09",
            "m2x",
        ],
        vec![
            "user", "add", "--role", "resident", "--area", "32.73.01", "r2x",
        ],
    ] {
        let out = sigap_cli(&app.db, &bad).await;
        assert!(!out.status.success(), "{bad:?}");
    }
    assert_eq!(scalar(&app, "SELECT count(*) FROM app_user").await, 2);
    assert_eq!(
        scalar(
            &app,
            "SELECT count(*) FROM audit_log WHERE action = 'user.create' AND actor_label = 'cli'"
        )
        .await,
        2
    );
}

#[tokio::test]
async fn audit_log_is_append_only_and_admin_only() {
    let app = spawn(|_| {}).await;
    let (_, admin) = user(&app, "admin1", "admin", None).await;
    let (_, resident) = user(&app, "warga", "resident", None).await;
    let id = proposal(&app, IN_SCOPE, "diajukan", "jalan").await;
    let res = reqwest::Client::new()
        .post(app.url(&format!("/api/proposals/{id}/status")))
        .bearer_auth(&admin)
        .json(&json!({"to": "diverifikasi"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let log: Value = reqwest::Client::new()
        .get(app.url("/api/audit"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let e = &log["entries"][0];
    assert_eq!(e["action"], "proposal.status");
    assert_eq!(e["actor"], "admin1");
    assert_eq!(e["before"]["status"], "diajukan");
    assert_eq!(e["after"]["status"], "diverifikasi");
    let res = reqwest::Client::new()
        .get(app.url("/api/audit"))
        .bearer_auth(&resident)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let client = app.pool.get().await.unwrap();
    for sql in [
        "UPDATE audit_log SET action = 'x'",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
    ] {
        assert!(client.batch_execute(sql).await.is_err(), "{sql}");
    }
    assert_eq!(scalar(&app, "SELECT count(*) FROM audit_log").await, 1);
}

// ---------------------------------------------------------------------------------------------
// The matrix

#[derive(Debug, Clone, Copy, PartialEq)]
enum Route {
    Submit,
    Support,
    Withdraw,
    Verify,
    Prioritize,
    Merge,
    CreateUser,
    SetRole,
    CreateToken,
    ChangePassword,
    ModerationQueue,
    ReadAudit,
}

const ROUTES: [Route; 12] = [
    Route::Submit,
    Route::Support,
    Route::Withdraw,
    Route::Verify,
    Route::Prioritize,
    Route::Merge,
    Route::CreateUser,
    Route::SetRole,
    Route::CreateToken,
    Route::ChangePassword,
    Route::ModerationQueue,
    Route::ReadAudit,
];

/// What each role gets, in scope (the proposal lies in 32.73.01, the staff's area) or out.
fn expected(route: Route, role: Option<&str>, in_scope: bool) -> StatusCode {
    use Route::*;
    let Some(role) = role else {
        return match route {
            Submit => StatusCode::CREATED,
            _ => StatusCode::UNAUTHORIZED,
        };
    };
    let scoped = |ok: StatusCode| {
        if in_scope || role == "admin" {
            ok
        } else {
            StatusCode::FORBIDDEN
        }
    };
    match (route, role) {
        (Submit, _) => StatusCode::CREATED,
        (Support | Withdraw, "resident") => StatusCode::OK,
        (Verify | Merge, "moderator" | "admin") => scoped(StatusCode::OK),
        (Prioritize, "planner" | "official" | "admin") => scoped(StatusCode::OK),
        (CreateUser, "admin") => StatusCode::CREATED,
        (SetRole, "admin") => StatusCode::OK,
        (CreateToken, _) => StatusCode::CREATED,
        (ChangePassword, _) => StatusCode::NO_CONTENT,
        (ModerationQueue, "moderator" | "admin") => StatusCode::OK,
        (ReadAudit, "admin") => StatusCode::OK,
        _ => StatusCode::FORBIDDEN,
    }
}

fn is_write(route: Route) -> bool {
    !matches!(route, Route::ModerationQueue | Route::ReadAudit)
}

async fn call(
    app: &TestApp,
    route: Route,
    token: Option<&str>,
    in_scope: bool,
    n: usize,
) -> StatusCode {
    let at = if in_scope { IN_SCOPE } else { OUT_SCOPE };
    let http = reqwest::Client::new();
    let req = match route {
        Route::Submit => http.post(app.url("/api/proposals")).json(&json!({"lon": at.0, "lat": at.1, "category": "jalan", "title": format!("Matriks {n}")})),
        Route::Support => {
            let id = proposal(app, at, "diverifikasi", "jalan").await;
            http.post(app.url(&format!("/api/proposals/{id}/support")))
        }
        Route::Withdraw => {
            let id = proposal(app, at, "diverifikasi", "jalan").await;
            http.delete(app.url(&format!("/api/proposals/{id}/support")))
        }
        Route::Verify => {
            let id = proposal(app, at, "diajukan", "jalan").await;
            http.post(app.url(&format!("/api/proposals/{id}/status"))).json(&json!({"to": "diverifikasi"}))
        }
        Route::Prioritize => {
            let id = proposal(app, at, "diverifikasi", "jalan").await;
            http.post(app.url(&format!("/api/proposals/{id}/status"))).json(&json!({"to": "diprioritaskan"}))
        }
        Route::Merge => {
            let id = proposal(app, at, "diverifikasi", "jalan").await;
            let target = proposal(app, at, "diverifikasi", "jalan").await;
            http.post(app.url(&format!("/api/proposals/{id}/status"))).json(&json!({"to": "digabung", "merged_into": target}))
        }
        Route::CreateUser => http.post(app.url("/api/users")).json(&json!({"username": format!("staf{n}"), "role": "planner", "area_code": "32.73.01"})),
        Route::SetRole => {
            let (id, _) = user(app, &format!("calon{n}"), "resident", None).await;
            http.put(app.url(&format!("/api/users/{id}/role"))).json(&json!({"role": "moderator", "area_code": "32.73.02"}))
        }
        Route::CreateToken => http.post(app.url("/api/auth/tokens")).json(&json!({"name": "skrip"})),
        Route::ChangePassword => http.post(app.url("/api/auth/password")).json(&json!({"current_password": PASSWORD, "new_password": PASSWORD})),
        Route::ModerationQueue => http.get(app.url("/api/moderation/queue")),
        Route::ReadAudit => http.get(app.url("/api/audit")),
    };
    let req = match token {
        Some(t) => req.bearer_auth(t),
        None => req,
    };
    req.send().await.unwrap().status()
}

#[tokio::test]
async fn role_route_scope_matrix() {
    let app = spawn(|c| {
        c.anon_posts_per_minute = 0;
        c.login_per_account_per_minute = 100;
        c.login_per_ip_per_minute = 100;
    })
    .await;
    let mut actors: Vec<(Option<&str>, Option<String>)> = vec![(None, None)];
    for role in ["resident", "moderator", "planner", "official", "admin"] {
        let area = (role != "resident" && role != "admin").then_some("32.73.01");
        let (_, token) = user(&app, &format!("{role}1"), role, area).await;
        actors.push((Some(role), Some(token)));
    }
    let mut n = 0;
    let mut failures = Vec::new();
    for route in ROUTES {
        for (role, token) in &actors {
            for in_scope in [true, false] {
                n += 1;
                let audits = scalar(&app, "SELECT count(*) FROM audit_log").await;
                let got = call(&app, route, token.as_deref(), in_scope, n).await;
                let want = expected(route, *role, in_scope);
                if got != want {
                    failures.push(format!(
                        "{route:?} as {role:?} in_scope={in_scope}: got {got}, want {want}"
                    ));
                }
                // Every successful write is audited; a refused one writes nothing.
                let written = scalar(&app, "SELECT count(*) FROM audit_log").await - audits;
                let wrote_ok = if !is_write(route) || (route == Route::Withdraw) {
                    written == 0
                } else if got.is_success() {
                    written >= 1
                } else {
                    written == 0
                };
                if !wrote_ok {
                    failures.push(format!(
                        "{route:?} as {role:?} in_scope={in_scope}: {written} audit rows"
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(n, 12 * 6 * 2);
}
