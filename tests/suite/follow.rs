//! Following a proposal by email, against a real SMTP server started here (mailin-embedded, on
//! loopback) and a real PostGIS: double opt-in, one mail per status change per confirmed
//! follower, the outbox across a restart of the real `sigap serve`, an SMTP server that is down
//! (hangs up) or answers "try later", two senders on one outbox, unsubscribe, expiry, bad input,
//! and the addresses never leaving through a public endpoint.

use crate::common;
use crate::fixture;

use std::net::TcpListener;
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mailin_embedded::{response, Handler, Response, Server, SslConfig};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sigap::config::ServeConfig;

use common::cluster::free_port;
use common::TestApp;
use fixture::{scalar, spawn, user, IN_SCOPE};

// ---------------------------------------------------------------------------------------------
// The SMTP sink

/// One mail the sink accepted.
#[derive(Debug, Clone)]
struct Received {
    to: Vec<String>,
    data: Vec<u8>,
}

impl Received {
    fn parsed(&self) -> mailparse::ParsedMail<'_> {
        mailparse::parse_mail(&self.data).expect("a parsable mail")
    }
    fn header(&self, name: &str) -> Option<String> {
        use mailparse::MailHeaderMap;
        self.parsed().headers.get_first_value(name)
    }
    fn subject(&self) -> String {
        self.header("Subject").unwrap_or_default()
    }
    fn body(&self) -> String {
        self.parsed().get_body().expect("a decodable body")
    }
    /// The path and query of the link in the body that contains `needle`.
    fn link(&self, needle: &str) -> String {
        let body = self.body();
        let at = body
            .find(needle)
            .unwrap_or_else(|| panic!("no {needle} in:\n{body}"));
        let start = body[..at].rfind("http").expect("an absolute link");
        let end = body[at..]
            .find(char::is_whitespace)
            .map_or(body.len(), |e| at + e);
        let url = url::Url::parse(&body[start..end]).expect("a URL");
        assert_eq!(
            url.host_str(),
            Some("sigap.test"),
            "links use SIGAP_PUBLIC_URL"
        );
        format!("{}?{}", url.path(), url.query().unwrap_or(""))
    }
}

#[derive(Default)]
struct Shared {
    mails: Mutex<Vec<Received>>,
    /// Recipients still to answer with 451 (try again later), as a greylisting server does.
    /// (At RCPT: mailin stays in its DATA state after a failed end of data, so a client's QUIT
    /// would go unanswered there.)
    transient_failures: AtomicUsize,
}

#[derive(Clone)]
struct Sink {
    shared: Arc<Shared>,
    to: Vec<String>,
    data: Vec<u8>,
}

impl Handler for Sink {
    fn rcpt(&mut self, to: &str) -> Response {
        // An address this server refuses for good (a permanent 5xx).
        if to.contains("tolak") {
            return response::NO_MAILBOX;
        }
        // Greylisting: "try again later" (451) for the first deliveries.
        let greylisted = self
            .shared
            .transient_failures
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if greylisted {
            return response::INTERNAL_ERROR;
        }
        response::OK
    }
    fn data_start(&mut self, _domain: &str, _from: &str, _is8bit: bool, to: &[String]) -> Response {
        self.to = to.to_vec();
        self.data.clear();
        response::OK
    }
    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.data.extend_from_slice(buf);
        Ok(())
    }
    fn data_end(&mut self) -> Response {
        self.shared.mails.lock().unwrap().push(Received {
            to: std::mem::take(&mut self.to),
            data: std::mem::take(&mut self.data),
        });
        response::OK
    }
}

/// A running SMTP server on loopback (its thread lives as long as the test binary).
#[derive(Clone)]
struct Smtp {
    port: u16,
    shared: Arc<Shared>,
}

impl Smtp {
    fn start() -> Smtp {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind SMTP");
        Self::on(listener, 0)
    }

    /// A server on `listener`, answering the first `transient_failures` recipients with 451.
    fn start_on(listener: TcpListener, transient_failures: usize) -> Smtp {
        Self::on(listener, transient_failures)
    }

    fn on(listener: TcpListener, transient_failures: usize) -> Smtp {
        let port = listener.local_addr().expect("addr").port();
        let shared = Arc::new(Shared {
            transient_failures: AtomicUsize::new(transient_failures),
            ..Shared::default()
        });
        let sink = Sink {
            shared: shared.clone(),
            to: Vec::new(),
            data: Vec::new(),
        };
        let mut server = Server::new(sink);
        server
            .with_name("sink.test")
            .with_num_threads(4)
            .with_tcp_listener(listener);
        server.with_ssl(SslConfig::None).expect("no TLS");
        std::thread::spawn(move || {
            // Serves until the test binary ends; an error here shows as mails that never come.
            if let Err(e) = server.serve() {
                eprintln!("SMTP sink stopped: {e}");
            }
        });
        Smtp { port, shared }
    }

    fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    fn mails(&self) -> Vec<Received> {
        self.shared.mails.lock().unwrap().clone()
    }

    fn to(&self, address: &str) -> Vec<Received> {
        self.mails()
            .into_iter()
            .filter(|m| m.to.iter().any(|t| t.eq_ignore_ascii_case(address)))
            .collect()
    }

    /// Waits (bounded) until `address` has received `n` mails, and returns them.
    async fn wait_for(&self, address: &str, n: usize) -> Vec<Received> {
        for _ in 0..600 {
            let got = self.to(address);
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "{address} never got {n} mails; the sink holds {:?}",
            self.mails()
                .iter()
                .map(Received::subject)
                .collect::<Vec<_>>()
        );
    }
}

/// A mail server that is down: it takes each connection and hangs up before its greeting.
/// `up()` stops that and hands the same socket back (no other process can take the port between).
struct Down {
    addr: std::net::SocketAddr,
    stop: Arc<std::sync::atomic::AtomicBool>,
    thread: std::thread::JoinHandle<TcpListener>,
}

impl Down {
    fn start() -> Down {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if flag.load(Ordering::SeqCst) {
                    break;
                }
                drop(conn);
            }
            listener
        });
        Down { addr, stop, thread }
    }

    fn up(self) -> TcpListener {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = std::net::TcpStream::connect(self.addr);
        self.thread.join().expect("the down server's thread")
    }
}

const FROM: &str = "SIGAP Uji <sigap@uji.example>";

fn mail_config(cfg: &mut ServeConfig, smtp_url: Option<String>) {
    cfg.smtp_url = smtp_url;
    cfg.mail_from = Some(FROM.to_owned());
    cfg.public_url = Some("http://sigap.test".to_owned());
    cfg.mail_poll_ms = 50;
    cfg.mail_retry_ms = 100;
    cfg.follow_per_ip_per_minute = 0;
}

// ---------------------------------------------------------------------------------------------
// Helpers over HTTP and SQL

/// A new proposal submitted anonymously: (id, tracking code).
async fn submit(base: &str, http: &reqwest::Client) -> (i64, String) {
    let res = http
        .post(format!("{base}/api/proposals"))
        .json(
            &json!({"lon": IN_SCOPE.0, "lat": IN_SCOPE.1, "category": "drainase",
                      "title": "Selokan mampet di gang", "description": "Air meluap saat hujan",
                      "submitter_name": "Ibu Ani", "submitter_phone": "0812345"}),
        )
        .send()
        .await
        .expect("submit");
    assert_eq!(res.status(), StatusCode::CREATED);
    let v: Value = res.json().await.unwrap();
    (
        v["id"].as_i64().unwrap(),
        v["tracking_code"].as_str().unwrap().to_owned(),
    )
}

async fn follow(
    base: &str,
    http: &reqwest::Client,
    code: &str,
    body: Value,
    lang: &str,
) -> reqwest::Response {
    http.post(format!("{base}/api/proposals/{code}/followers"))
        .header("Accept-Language", lang)
        .json(&body)
        .send()
        .await
        .expect("follow")
}

async fn set_status(app: &TestApp, token: &str, id: i64, body: Value) {
    let res = app
        .http
        .post(app.url(&format!("/api/proposals/{id}/status")))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("status");
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "{}",
        res.text().await.unwrap()
    );
}

/// Follows and confirms `email` through its confirmation mail; returns that mail.
async fn follow_and_confirm(
    app: &TestApp,
    smtp: &Smtp,
    code: &str,
    email: &str,
    lang: &str,
) -> Received {
    let before = smtp.to(email).len();
    let res = follow(
        &app.base,
        &app.http,
        code,
        json!({"email": email, "lang": lang}),
        "id",
    )
    .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let mail = smtp.wait_for(email, before + 1).await.pop().unwrap();
    let res = app
        .http
        .get(app.url(&mail.link("/api/follow/confirm?token=")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    mail
}

async fn sql_i64(pool: &deadpool_postgres::Pool, sql: &str, email: &str) -> i64 {
    let client = pool.get().await.expect("client");
    client
        .query_one(sql, &[&email])
        .await
        .expect("query")
        .get(0)
}

/// Waits (bounded) until every queued mail is sent or refused for good.
async fn outbox_drained(pool: &deadpool_postgres::Pool) {
    for _ in 0..600 {
        if common::count(
            pool,
            "SELECT count(*) FROM mail_outbox WHERE sent_at IS NULL AND failed_at IS NULL",
        )
        .await
            == 0
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the outbox never drained");
}

const STATUS_ROWS: &str =
    "SELECT count(*) FROM mail_outbox o JOIN proposal_follower f ON f.id = o.follower_id
     WHERE o.kind = 'status' AND lower(f.email) = lower($1)";

// ---------------------------------------------------------------------------------------------
// Tests

#[tokio::test]
async fn confirmed_followers_get_one_mail_per_status_change() {
    let smtp = Smtp::start();
    let app = spawn(|c| mail_config(c, Some(smtp.url()))).await;
    let (_, moderator) = user(&app, "mod1", "moderator", None).await;
    let (_, planner) = user(&app, "plan1", "planner", None).await;
    let (id, code) = submit(&app.base, &app.http).await;

    // Two addresses ask; only the first confirms.
    let confirm_mail = follow_and_confirm(&app, &smtp, &code, "Warga.Satu@Contoh.id", "id").await;
    assert!(
        confirm_mail.subject().contains(&code),
        "{}",
        confirm_mail.subject()
    );
    assert!(confirm_mail.subject().contains("Konfirmasi"));
    assert!(confirm_mail
        .header("From")
        .unwrap()
        .contains("<sigap@uji.example>"));
    let body = confirm_mail.body();
    assert!(
        body.contains(&format!("http://sigap.test/#usulan/{code}")),
        "{body}"
    );
    let list_unsub = confirm_mail
        .header("List-Unsubscribe")
        .expect("List-Unsubscribe");
    assert!(list_unsub.starts_with("<http://sigap.test/api/follow/unsubscribe?token="));
    assert_eq!(
        confirm_mail.header("List-Unsubscribe-Post").as_deref(),
        Some("List-Unsubscribe=One-Click")
    );
    let res = follow(
        &app.base,
        &app.http,
        &code,
        json!({"email": "pendatang@contoh.id", "lang": "en"}),
        "id",
    )
    .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let unconfirmed = smtp.wait_for("pendatang@contoh.id", 1).await;
    assert!(
        unconfirmed[0].subject().starts_with("[SIGAP] Confirm"),
        "English as chosen"
    );

    // Asking again with a confirmed address answers exactly as for a new one, and sends nothing.
    let first: Value = follow(
        &app.base,
        &app.http,
        &code,
        json!({"email": "pendatang2@contoh.id", "lang": "id"}),
        "id",
    )
    .await
    .json()
    .await
    .unwrap();
    let again = follow(
        &app.base,
        &app.http,
        &code,
        json!({"email": "warga.satu@contoh.id", "lang": "id"}),
        "id",
    )
    .await;
    assert_eq!(again.status(), StatusCode::ACCEPTED);
    let again: Value = again.json().await.unwrap();
    assert_eq!(again, first, "the answer never tells who already follows");

    // A refused change (409) queues nothing: the mails share the change's transaction.
    let res = app
        .http
        .post(app.url(&format!("/api/proposals/{id}/status")))
        .bearer_auth(&moderator)
        .json(&json!({"to": "selesai"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(
        scalar(
            &app,
            "SELECT count(*) FROM mail_outbox WHERE kind = 'status'"
        )
        .await,
        0
    );

    // A status change: one mail to the confirmed follower, none to the unconfirmed.
    set_status(&app, &moderator, id, json!({"to": "diverifikasi"})).await;
    outbox_drained(&app.pool).await;
    let mails = smtp.to("warga.satu@contoh.id");
    assert_eq!(mails.len(), 2, "confirmation + one status mail");
    let status_mail = &mails[1];
    assert!(
        status_mail.subject().contains("Diverifikasi"),
        "{}",
        status_mail.subject()
    );
    let body = status_mail.body();
    assert!(body.contains("Diajukan → Diverifikasi"), "{body}");
    assert!(body.contains(&format!("http://sigap.test/#usulan/{code}")));
    assert!(body.contains("/api/follow/unsubscribe?token="));
    assert_eq!(
        smtp.to("pendatang@contoh.id").len(),
        1,
        "unconfirmed: nothing but the confirmation"
    );
    assert_eq!(
        sql_i64(&app.pool, STATUS_ROWS, "pendatang@contoh.id").await,
        0
    );

    // Staff see how many follow, never who.
    let staff: Value = app
        .http
        .get(app.url(&format!("/api/proposals/{id}")))
        .bearer_auth(&moderator)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(staff["follower_count"], 1);
    assert!(!staff.to_string().to_lowercase().contains("contoh.id"));

    // A second change: exactly one more; each mail has its own working unsubscribe link.
    set_status(&app, &planner, id, json!({"to": "diprioritaskan"})).await;
    outbox_drained(&app.pool).await;
    let mails = smtp.to("warga.satu@contoh.id");
    assert_eq!(mails.len(), 3);
    assert_ne!(
        mails[1].link("/api/follow/unsubscribe?token="),
        mails[2].link("/api/follow/unsubscribe?token=")
    );
    assert_eq!(
        scalar(
            &app,
            "SELECT count(DISTINCT token_hash) FROM follower_token"
        )
        .await,
        scalar(&app, "SELECT count(*) FROM follower_token").await
    );
    // Tokens are stored as digests only.
    let token = mails[2]
        .link("/api/follow/unsubscribe?token=")
        .rsplit('=')
        .next()
        .unwrap()
        .to_owned();
    let client = app.pool.get().await.unwrap();
    let plain: i64 = client
        .query_one(
            "SELECT count(*) FROM follower_token WHERE token_hash = convert_to($1, 'UTF8')",
            &[&token],
        )
        .await
        .unwrap()
        .get(0);
    let hashed: i64 = client
        .query_one(
            "SELECT count(*) FROM follower_token WHERE token_hash = sha256(convert_to($1, 'UTF8'))",
            &[&token],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!((plain, hashed), (0, 1));
}

#[tokio::test]
async fn final_status_sends_a_last_mail_and_forgets_the_address() {
    let smtp = Smtp::start();
    let app = spawn(|c| mail_config(c, Some(smtp.url()))).await;
    let (_, moderator) = user(&app, "mod1", "moderator", None).await;
    let (id, code) = submit(&app.base, &app.http).await;
    follow_and_confirm(&app, &smtp, &code, "akhir@contoh.id", "en").await;
    set_status(
        &app,
        &moderator,
        id,
        json!({"to": "ditolak", "reason": "Sudah dikerjakan dinas lain"}),
    )
    .await;
    let mails = smtp.wait_for("akhir@contoh.id", 2).await;
    let body = mails[1].body();
    assert!(body.contains("Submitted → Rejected"), "{body}");
    assert!(body.contains("Note: Sudah dikerjakan dinas lain"), "{body}");
    assert!(body.contains("last email"), "{body}");
    outbox_drained(&app.pool).await;
    assert_eq!(
        scalar(&app, "SELECT count(*) FROM proposal_follower").await
            + scalar(&app, "SELECT count(*) FROM follower_token").await
            + scalar(&app, "SELECT count(*) FROM mail_outbox").await,
        0,
        "nothing of the address is left"
    );
    // A closed proposal takes no new followers.
    let res = follow(
        &app.base,
        &app.http,
        &code,
        json!({"email": "telat@contoh.id"}),
        "en",
    )
    .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(
        scalar(&app, "SELECT count(*) FROM proposal_follower").await,
        0
    );
}

#[tokio::test]
async fn unsubscribe_stops_mail_and_deletes_the_address() {
    let smtp = Smtp::start();
    let app = spawn(|c| mail_config(c, Some(smtp.url()))).await;
    let (_, moderator) = user(&app, "mod1", "moderator", None).await;
    let (id, code) = submit(&app.base, &app.http).await;
    let a = follow_and_confirm(&app, &smtp, &code, "pergi@contoh.id", "id").await;
    let b = follow_and_confirm(&app, &smtp, &code, "sekali-klik@contoh.id", "id").await;
    let tinggal = follow_and_confirm(&app, &smtp, &code, "tinggal@contoh.id", "id").await;
    drop(tinggal);

    // The link in the mail (GET), twice: the second click answers the same. The page speaks the
    // follower's language (Indonesian here), whatever the browser asks.
    for click in 0..2 {
        let res = app
            .http
            .get(app.url(&a.link("/api/follow/unsubscribe?token=")))
            .header("Accept-Language", "en")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        if click == 0 {
            assert_eq!(res.headers().get("content-language").unwrap(), "id");
            assert_eq!(res.headers().get("cache-control").unwrap(), "no-store");
        }
        assert!(res
            .headers()
            .get("content-type")
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("text/html"));
        assert_eq!(res.headers().get("referrer-policy").unwrap(), "no-referrer");
    }
    // RFC 8058 one-click: POST to the List-Unsubscribe URL.
    let header = b.header("List-Unsubscribe").unwrap();
    let url = url::Url::parse(header.trim_matches(['<', '>'])).unwrap();
    let res = app
        .http
        .post(app.url(&format!("{}?{}", url.path(), url.query().unwrap())))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    for gone in ["pergi@contoh.id", "sekali-klik@contoh.id"] {
        assert_eq!(
            sql_i64(
                &app.pool,
                "SELECT count(*) FROM proposal_follower WHERE lower(email) = lower($1)",
                gone
            )
            .await,
            0,
            "{gone} is deleted"
        );
    }
    assert_eq!(
        scalar(&app, "SELECT count(*) FROM proposal_follower").await,
        1
    );
    // Their tokens and mails went with them; the confirm link of a deleted address is dead.
    assert_eq!(
        scalar(
            &app,
            "SELECT count(*) FROM follower_token t LEFT JOIN proposal_follower f ON f.id = t.follower_id WHERE f.id IS NULL"
        )
        .await,
        0
    );
    let res = app
        .http
        .get(app.url(&a.link("/api/follow/confirm?token=")))
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    set_status(&app, &moderator, id, json!({"to": "diverifikasi"})).await;
    outbox_drained(&app.pool).await;
    assert_eq!(smtp.to("tinggal@contoh.id").len(), 2);
    assert_eq!(
        smtp.to("pergi@contoh.id").len(),
        1,
        "only the confirmation, before"
    );
    assert_eq!(smtp.to("sekali-klik@contoh.id").len(), 1);
}

#[tokio::test]
async fn unconfirmed_addresses_get_nothing_and_expire() {
    let smtp = Smtp::start();
    let app = spawn(|c| mail_config(c, Some(smtp.url()))).await;
    let (_, moderator) = user(&app, "mod1", "moderator", None).await;
    let (id, code) = submit(&app.base, &app.http).await;
    let res = follow(
        &app.base,
        &app.http,
        &code,
        json!({"email": "ragu@contoh.id"}),
        "id",
    )
    .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let confirm = smtp.wait_for("ragu@contoh.id", 1).await.pop().unwrap();
    assert!(
        confirm.subject().contains("Konfirmasi"),
        "the request's language by default"
    );

    // Asking again at once queues no second confirmation (no flooding an inbox).
    let res = follow(
        &app.base,
        &app.http,
        &code,
        json!({"email": "RAGU@contoh.id"}),
        "id",
    )
    .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    assert_eq!(
        scalar(
            &app,
            "SELECT count(*) FROM mail_outbox WHERE kind = 'confirm'"
        )
        .await,
        1
    );
    assert_eq!(
        scalar(&app, "SELECT count(*) FROM proposal_follower").await,
        1
    );

    set_status(&app, &moderator, id, json!({"to": "diverifikasi"})).await;
    assert_eq!(sql_i64(&app.pool, STATUS_ROWS, "ragu@contoh.id").await, 0);

    // Eight days later the link is dead and the sweep deletes the address.
    app.pool
        .get()
        .await
        .unwrap()
        .execute(
            "UPDATE proposal_follower SET created_at = now() - interval '8 days'",
            &[],
        )
        .await
        .unwrap();
    let res = app
        .http
        .get(app.url(&confirm.link("/api/follow/confirm?token=")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let client = app.pool.get().await.unwrap();
    let swept = sigap::store::follow::sweep(&client).await.unwrap();
    assert_eq!(swept.expired, 1);
    assert_eq!(
        scalar(&app, "SELECT count(*) FROM proposal_follower").await,
        0
    );
    assert_eq!(scalar(&app, "SELECT count(*) FROM mail_outbox").await, 0);
    assert_eq!(smtp.to("ragu@contoh.id").len(), 1);
}

#[tokio::test]
async fn bad_input_is_422_in_the_callers_language_and_writes_nothing() {
    let app = spawn(|c| mail_config(c, None)).await;
    let (_, code) = submit(&app.base, &app.http).await;
    let cases = [
        (json!({"email": "bukan-email"}), "email"),
        (json!({"email": ""}), "email"),
        (json!({}), "email"),
        (json!({"email": "warga@localhost"}), "email"),
        (
            json!({"email": "warga@contoh.id\r\nBcc: semua@contoh.id"}),
            "email",
        ),
        (
            json!({"email": format!("{}@contoh.id", "a".repeat(250))}),
            "email",
        ),
        (json!({"email": "warga@contoh.id", "lang": "fr"}), "lang"),
    ];
    for (body, field) in &cases {
        for (lang, word) in [("id", "email"), ("en", "email")] {
            let res = follow(&app.base, &app.http, &code, body.clone(), lang).await;
            assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{body}");
            assert_eq!(
                res.headers().get("content-type").unwrap(),
                "application/problem+json"
            );
            let p: Value = res.json().await.unwrap();
            assert_eq!(p["errors"][0]["field"], *field, "{p}");
            let detail = p["detail"].as_str().unwrap().to_lowercase();
            if *field == "email" {
                assert!(detail.contains(word), "{detail}");
            }
            if lang == "id" {
                assert!(
                    detail.contains("tidak valid") || detail.contains("harus"),
                    "{detail}"
                );
            } else {
                assert!(
                    detail.contains("not valid") || detail.contains("must"),
                    "{detail}"
                );
            }
        }
    }
    // Unknown fields, a body that is not JSON, an unknown proposal.
    let res = follow(
        &app.base,
        &app.http,
        &code,
        json!({"email": "warga@contoh.id", "nama": "Ani"}),
        "id",
    )
    .await;
    assert!(res.status().is_client_error());
    let res = app
        .http
        .post(app.url(&format!("/api/proposals/{code}/followers")))
        .header("Content-Type", "application/json")
        .body("{email:")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res = follow(
        &app.base,
        &app.http,
        "TIDAKADA1",
        json!({"email": "warga@contoh.id"}),
        "id",
    )
    .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    // Tokens that cannot be ours.
    for path in [
        "/api/follow/confirm",
        "/api/follow/confirm?token=pendek",
        "/api/follow/unsubscribe?token=",
    ] {
        let res = app.http.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
    }
    assert_eq!(
        scalar(&app, "SELECT count(*) FROM proposal_follower").await
            + scalar(&app, "SELECT count(*) FROM mail_outbox").await
            + scalar(&app, "SELECT count(*) FROM follower_token").await,
        0
    );
}

#[tokio::test]
async fn follow_requests_are_rate_limited_per_ip() {
    let app = spawn(|c| {
        mail_config(c, None);
        c.follow_per_ip_per_minute = 3;
    })
    .await;
    let (_, code) = submit(&app.base, &app.http).await;
    let mut statuses = Vec::new();
    for i in 0..5 {
        let res = follow(
            &app.base,
            &app.http,
            &code,
            json!({"email": format!("banjir{i}@contoh.id")}),
            "en",
        )
        .await;
        statuses.push(res.status());
    }
    assert_eq!(&statuses[..3], &[StatusCode::ACCEPTED; 3]);
    assert_eq!(&statuses[3..], &[StatusCode::TOO_MANY_REQUESTS; 2]);
    assert_eq!(
        scalar(&app, "SELECT count(*) FROM proposal_follower").await,
        3
    );
}

#[tokio::test]
async fn smtp_down_then_try_later_is_retried_and_sent_once() {
    // The mail server is down at first: it hangs up on every attempt, which is retried with
    // backoff.
    let down = Down::start();
    let smtp_url = format!("smtp://{}", down.addr);
    let app = spawn(|c| mail_config(c, Some(smtp_url))).await;
    let (_, code) = submit(&app.base, &app.http).await;
    let res = follow(
        &app.base,
        &app.http,
        &code,
        json!({"email": "sabar@contoh.id"}),
        "id",
    )
    .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    // And one the server refuses for good.
    let res = follow(
        &app.base,
        &app.http,
        &code,
        json!({"email": "tolak@contoh.id"}),
        "id",
    )
    .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    for _ in 0..600 {
        if scalar(
            &app,
            "SELECT count(*) FROM mail_outbox WHERE attempts >= 2 AND sent_at IS NULL AND last_error IS NOT NULL",
        )
        .await
            == 2
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        scalar(
            &app,
            "SELECT count(*) FROM mail_outbox WHERE attempts >= 2 AND sent_at IS NULL"
        )
        .await,
        2,
        "both refused and retried"
    );

    // The server comes up, and greylists the first delivery: 451, try again later.
    let smtp = Smtp::start_on(down.up(), 1);
    let mails = smtp.wait_for("sabar@contoh.id", 1).await;
    outbox_drained(&app.pool).await;
    assert_eq!(mails.len(), 1);
    assert_eq!(smtp.to("sabar@contoh.id").len(), 1, "sent once");
    assert!(smtp.to("tolak@contoh.id").is_empty());
    let client = app.pool.get().await.unwrap();
    let rows = client
        .query(
            "SELECT f.email, o.attempts, o.sent_at IS NOT NULL, o.failed_at IS NOT NULL, o.last_error
             FROM mail_outbox o JOIN proposal_follower f ON f.id = o.follower_id ORDER BY f.email",
            &[],
        )
        .await
        .unwrap();
    let sabar = rows
        .iter()
        .find(|r| r.get::<_, String>(0) == "sabar@contoh.id")
        .unwrap();
    assert!(
        sabar.get::<_, i32>(1) >= 3,
        "refused, refused, 451, then sent"
    );
    assert!(sabar.get::<_, bool>(2));
    let tolak = rows
        .iter()
        .find(|r| r.get::<_, String>(0) == "tolak@contoh.id")
        .unwrap();
    assert!(
        !tolak.get::<_, bool>(2) && tolak.get::<_, bool>(3),
        "a 550 is not retried"
    );
    assert!(tolak.get::<_, Option<String>>(4).unwrap().contains("550"));
}

#[tokio::test]
async fn two_senders_never_send_a_mail_twice() {
    let smtp = Smtp::start();
    let app = spawn(|c| mail_config(c, Some(smtp.url()))).await;
    // A second sender on the same outbox, as a second server of a fleet would run it.
    let mut cfg = ServeConfig::default();
    mail_config(&mut cfg, Some(smtp.url()));
    sigap::mail::spawn(app.db.pool(), &cfg);
    let (_, moderator) = user(&app, "mod1", "moderator", None).await;
    let (id, code) = submit(&app.base, &app.http).await;
    let n = 12;
    for i in 0..n {
        follow_and_confirm(&app, &smtp, &code, &format!("warga{i}@contoh.id"), "id").await;
    }
    set_status(&app, &moderator, id, json!({"to": "diverifikasi"})).await;
    outbox_drained(&app.pool).await;
    let status: Vec<Received> = smtp
        .mails()
        .into_iter()
        .filter(|m| m.subject().contains("Diverifikasi"))
        .collect();
    assert_eq!(status.len(), n);
    let mut ids: Vec<String> = status
        .iter()
        .map(|m| m.header("Message-ID").unwrap())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), n);
    for i in 0..n {
        assert_eq!(smtp.to(&format!("warga{i}@contoh.id")).len(), 2);
    }
}

struct Binary {
    child: tokio::process::Child,
    base: String,
}

/// The real `sigap serve` on `db`, with SMTP when `smtp` is given.
async fn serve_binary(db: &common::TestDb, smtp: Option<&Smtp>) -> Binary {
    let port = free_port();
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_sigap"));
    cmd.arg("serve")
        .env("DATABASE_URL", db.url())
        .env("SIGAP_ADDR", format!("127.0.0.1:{port}"))
        .env("SIGAP_STATIC_DIR", common::repo_root().join("map-ui/dist"))
        .env("SIGAP_LIVE_GAP", "false")
        .env("SIGAP_PUBLIC_URL", "http://sigap.test")
        .env("SIGAP_MAIL_FROM", FROM)
        .env("SIGAP_MAIL_POLL_MS", "50")
        .env("SIGAP_LOG", "warn")
        .env_remove("SIGAP_SMTP_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    if let Some(s) = smtp {
        cmd.env("SIGAP_SMTP_URL", s.url());
    }
    let child = cmd.spawn().expect("spawn sigap serve");
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    for _ in 0..600 {
        if let Ok(res) = http.get(format!("{base}/readyz")).send().await {
            if res.status() == StatusCode::OK {
                return Binary { child, base };
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("sigap serve never became ready");
}

#[tokio::test]
async fn the_outbox_survives_a_restart_and_sends_once() {
    let smtp = Smtp::start();
    // The in-process app has no SMTP: its outbox only holds.
    let app = spawn(|c| mail_config(c, None)).await;
    let (_, moderator) = user(&app, "mod1", "moderator", None).await;
    let (id, code) = submit(&app.base, &app.http).await;
    let res = follow(
        &app.base,
        &app.http,
        &code,
        json!({"email": "tetap@contoh.id", "lang": "en"}),
        "id",
    )
    .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    assert_eq!(
        scalar(
            &app,
            "SELECT count(*) FROM mail_outbox WHERE sent_at IS NULL"
        )
        .await,
        1,
        "held"
    );

    // A server with SMTP starts: the held confirmation goes out; the follower confirms.
    let mut server = serve_binary(&app.db, Some(&smtp)).await;
    let confirm = smtp.wait_for("tetap@contoh.id", 1).await.pop().unwrap();
    let res = app
        .http
        .get(format!(
            "{}{}",
            server.base,
            confirm.link("/api/follow/confirm?token=")
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    // kill -9: no goodbye.
    server.child.start_kill().expect("kill");
    server.child.wait().await.expect("reaped");

    // The status changes while no sender runs: the mail waits in the outbox.
    set_status(&app, &moderator, id, json!({"to": "diverifikasi"})).await;
    assert_eq!(
        scalar(
            &app,
            "SELECT count(*) FROM mail_outbox WHERE kind = 'status' AND sent_at IS NULL"
        )
        .await,
        1
    );
    assert_eq!(smtp.to("tetap@contoh.id").len(), 1);

    // A new server with SMTP: the mail is sent, once.
    let mut server = serve_binary(&app.db, Some(&smtp)).await;
    let mails = smtp.wait_for("tetap@contoh.id", 2).await;
    outbox_drained(&app.pool).await;
    server.child.start_kill().expect("kill");
    server.child.wait().await.expect("reaped");
    assert_eq!(smtp.to("tetap@contoh.id").len(), 2);
    assert!(
        mails[1].subject().contains("Verified"),
        "{}",
        mails[1].subject()
    );
    assert_eq!(
        scalar(&app, "SELECT count(*) FROM mail_outbox WHERE kind = 'status' AND sent_at IS NOT NULL AND attempts = 1").await,
        1
    );
}

#[tokio::test]
async fn public_endpoints_never_show_an_address() {
    let smtp = Smtp::start();
    let app = spawn(|c| mail_config(c, Some(smtp.url()))).await;
    let (_, moderator) = user(&app, "mod1", "moderator", None).await;
    let (_, resident) = user(&app, "warga1", "resident", None).await;
    let (published, published_code) = submit(&app.base, &app.http).await;
    let (pending, pending_code) = submit(&app.base, &app.http).await;
    set_status(&app, &moderator, published, json!({"to": "diverifikasi"})).await;
    let secret = "rahasia.pengikut";
    let email = format!("{secret}@contoh.id");
    follow_and_confirm(&app, &smtp, &published_code, &email, "id").await;
    follow_and_confirm(&app, &smtp, &pending_code, &email, "id").await;

    let (z, x, y) = tile_of(IN_SCOPE, 12);
    let paths = [
        format!("/api/proposals/track/{published_code}"),
        format!("/api/proposals/track/{pending_code}"),
        format!("/api/proposals/{published}"),
        "/api/proposals/nearby?lon=107.55&lat=-6.9".to_owned(),
        "/ogc/collections/proposals/items?f=json".to_owned(),
        "/ogc/collections/proposals/items?f=html".to_owned(),
        "/ogc/collections/proposals/items?f=csv".to_owned(),
        format!("/ogc/collections/proposals/items/{published}?f=json"),
        format!("/tiles/proposals/{z}/{x}/{y}.mvt"),
        "/open311/v2/requests.json".to_owned(),
        format!("/feeds/usulan/{published_code}.atom"),
        format!("/feeds/usulan/{pending_code}.atom"),
        "/feeds/kelurahan/32.73.01.1001.atom".to_owned(),
        "/feeds/kecamatan/32.73.01.atom".to_owned(),
    ];
    let mut seen_published = false;
    for path in &paths {
        for token in [None, Some(resident.as_str())] {
            let mut req = app.http.get(app.url(path));
            if let Some(t) = token {
                req = req.bearer_auth(t);
            }
            let res = req.send().await.unwrap();
            assert!(res.status().is_success(), "{path}: {}", res.status());
            let bytes = res.bytes().await.unwrap();
            let text = String::from_utf8_lossy(&bytes).to_lowercase();
            assert!(!text.contains(secret), "{path} shows the address");
            assert!(!text.contains("follower"), "{path} shows followers");
            seen_published |= text.contains(&published_code.to_lowercase());
        }
    }
    assert!(seen_published, "the public reads do show the proposal");

    // Staff: a count, in the proposal and in the moderation queue, never the address.
    for (path, pointer) in [
        (
            format!("/api/proposals/{published}"),
            "/follower_count".to_owned(),
        ),
        (
            "/api/moderation/queue".to_owned(),
            "/items/0/follower_count".to_owned(),
        ),
    ] {
        let v: Value = app
            .http
            .get(app.url(&path))
            .bearer_auth(&moderator)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(v.pointer(&pointer), Some(&json!(1)), "{path}: {v}");
        assert!(!v.to_string().contains(secret), "{path}");
    }
    let queue: Value = app
        .http
        .get(app.url("/api/moderation/queue"))
        .bearer_auth(&moderator)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(queue["items"][0]["id"], pending);
}

/// The z/x/y of the web-mercator tile holding a point.
fn tile_of((lon, lat): (f64, f64), z: u32) -> (u32, u32, u32) {
    let n = f64::from(1u32 << z);
    let x = ((lon + 180.0) / 360.0 * n).floor() as u32;
    let lat = lat.to_radians();
    let y = ((1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / std::f64::consts::PI) / 2.0 * n).floor()
        as u32;
    (z, x, y)
}
