//! Proposals against a real PostGIS: submission and tracking, bad input that writes nothing,
//! photos, the anonymous rate limit, exact support counts, merges, the lifecycle, public reads,
//! the moderation queue and Open311.

use crate::common;
use crate::fixture;

use std::io::Cursor;

use futures::StreamExt;
use reqwest::StatusCode;
use serde_json::{json, Value};

use common::TestApp;
use fixture::{proposal, residents, scalar, spawn, user, IN_SCOPE, OUTSIDE, OUT_SCOPE};

fn body(at: (f64, f64), title: &str) -> Value {
    json!({"lon": at.0, "lat": at.1, "category": "drainase", "title": title,
           "description": "Selokan tersumbat", "submitter_name": "Ibu Ani", "submitter_phone": "0812345"})
}

async fn post_json(app: &TestApp, v: &Value) -> reqwest::Response {
    app.http
        .post(app.url("/api/proposals"))
        .json(v)
        .send()
        .await
        .expect("post")
}

async fn set_status(app: &TestApp, token: &str, id: i64, v: Value) -> reqwest::Response {
    app.http
        .post(app.url(&format!("/api/proposals/{id}/status")))
        .bearer_auth(token)
        .json(&v)
        .send()
        .await
        .expect("status")
}

async fn writes(app: &TestApp) -> (i64, i64, i64) {
    (
        scalar(app, "SELECT count(*) FROM proposal").await,
        scalar(app, "SELECT count(*) FROM audit_log").await,
        scalar(app, "SELECT count(*) FROM proposal_photo").await,
    )
}

#[tokio::test]
async fn anonymous_submitter_follows_by_tracking_code() {
    let app = spawn(|_| {}).await;
    let res = post_json(&app, &body(IN_SCOPE, "Selokan mampet di gang")).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let created: Value = res.json().await.unwrap();
    assert_eq!(created["status"], "diajukan");
    assert_eq!(created["kelurahan_code"], "32.73.01.1001");
    assert_eq!(created["kecamatan_code"], "32.73.01");
    let id = created["id"].as_i64().unwrap();
    let code = created["tracking_code"].as_str().unwrap().to_owned();

    // Pending: not public, but the tracking code shows it, without contact data.
    let res = app
        .http
        .get(app.url(&format!("/api/proposals/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let tracked: Value = app
        .http
        .get(app.url(&format!("/api/proposals/track/{}", code.to_lowercase())))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(tracked["id"], id);
    assert_eq!(tracked["status"], "diajukan");
    assert_eq!(tracked["history"].as_array().unwrap().len(), 1);
    let text = tracked.to_string();
    assert!(
        !text.contains("0812345") && !text.contains("Ibu Ani"),
        "{text}"
    );

    // A moderator verifies it; the submitter sees the step, the public sees the proposal.
    let (_, moderator) = user(&app, "mod1", "moderator", Some("32.73.01")).await;
    let res = set_status(
        &app,
        &moderator,
        id,
        json!({"to": "diverifikasi", "note": "dicek lapangan"}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let tracked: Value = app
        .http
        .get(app.url(&format!("/api/proposals/track/{code}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let history = tracked["history"].as_array().unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[1]["from_status"], "diajukan");
    assert_eq!(history[1]["to_status"], "diverifikasi");
    assert_eq!(history[1]["note"], "dicek lapangan");
    assert!(history[1].get("actor_id").is_none());
    let public: Value = app
        .http
        .get(app.url(&format!("/api/proposals/{id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(public["status"], "diverifikasi");
    let text = public.to_string();
    assert!(
        !text.contains("0812345") && !text.contains("Ibu Ani") && !text.contains("contact"),
        "{text}"
    );
}

#[tokio::test]
async fn bad_input_writes_nothing() {
    // Rejected requests count against the anonymous limit too; lift it for this table.
    let app = spawn(|c| c.anon_posts_per_minute = 0).await;
    let polygon = json!({"location": {"type": "Polygon", "coordinates": [[[107.55,-6.9],[107.56,-6.9],[107.56,-6.91],[107.55,-6.9]]]},
                         "category": "jalan", "title": "Jalan berlubang"});
    let cases: Vec<(&str, reqwest::RequestBuilder, StatusCode)> = vec![
        ("malformed JSON", app.http.post(app.url("/api/proposals")).header("content-type", "application/json").body("{\"lon\": 107.5,"), StatusCode::BAD_REQUEST),
        ("NaN literal", app.http.post(app.url("/api/proposals")).header("content-type", "application/json").body(r#"{"lon": NaN, "lat": -6.9, "category": "jalan", "title": "Jalan rusak"}"#), StatusCode::BAD_REQUEST),
        ("wrong type", app.http.post(app.url("/api/proposals")).json(&json!({"lon": "107.55", "lat": -6.9, "category": "jalan", "title": "Jalan rusak"})), StatusCode::UNPROCESSABLE_ENTITY),
        ("lon out of range", app.http.post(app.url("/api/proposals")).json(&json!({"lon": 207.5, "lat": -6.9, "category": "jalan", "title": "Jalan rusak"})), StatusCode::UNPROCESSABLE_ENTITY),
        ("lat out of range", app.http.post(app.url("/api/proposals")).json(&json!({"lon": 107.5, "lat": -96.9, "category": "jalan", "title": "Jalan rusak"})), StatusCode::UNPROCESSABLE_ENTITY),
        ("NaN in multipart", app.http.post(app.url("/api/proposals")).multipart(reqwest::multipart::Form::new().text("lon", "NaN").text("lat", "-6.9").text("category", "jalan").text("title", "Jalan rusak")), StatusCode::UNPROCESSABLE_ENTITY),
        ("polygon for a point", app.http.post(app.url("/api/proposals")).json(&polygon), StatusCode::UNPROCESSABLE_ENTITY),
        ("unknown category", app.http.post(app.url("/api/proposals")).json(&json!({"lon": 107.55, "lat": -6.9, "category": "bandara", "title": "Jalan rusak"})), StatusCode::UNPROCESSABLE_ENTITY),
        ("short title", app.http.post(app.url("/api/proposals")).json(&json!({"lon": 107.55, "lat": -6.9, "category": "jalan", "title": "abc"})), StatusCode::UNPROCESSABLE_ENTITY),
        ("negative cost", app.http.post(app.url("/api/proposals")).json(&json!({"lon": 107.55, "lat": -6.9, "category": "jalan", "title": "Jalan rusak", "estimated_cost_idr": -5})), StatusCode::UNPROCESSABLE_ENTITY),
        ("outside region", app.http.post(app.url("/api/proposals")).json(&body(OUTSIDE, "Di Jakarta")), StatusCode::UNPROCESSABLE_ENTITY),
        ("oversized body", app.http.post(app.url("/api/proposals")).header("content-type", "application/json").body(vec![b' '; 7 * 1024 * 1024]), StatusCode::PAYLOAD_TOO_LARGE),
        ("not JSON", app.http.post(app.url("/api/proposals")).header("content-type", "text/plain").body("halo"), StatusCode::UNSUPPORTED_MEDIA_TYPE),
    ];
    for (name, req, expected) in cases {
        let res = req
            .header("accept-language", "en")
            .send()
            .await
            .expect(name);
        assert_eq!(res.status(), expected, "{name}");
        assert_eq!(
            res.headers()["content-type"],
            "application/problem+json",
            "{name}"
        );
        let problem: Value = res.json().await.unwrap();
        assert!(!problem["detail"].as_str().unwrap().is_empty(), "{name}");
        if name == "outside region" {
            assert!(
                problem["detail"]
                    .as_str()
                    .unwrap()
                    .contains("outside the region"),
                "{problem}"
            );
        }
    }
    assert_eq!(writes(&app).await, (0, 0, 0));
}

fn jpeg_with_gps() -> Vec<u8> {
    let img = image::RgbImage::from_fn(32, 24, |x, y| image::Rgb([x as u8 * 8, y as u8 * 8, 90]));
    let mut jpeg = Vec::new();
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut Cursor::new(&mut jpeg), image::ImageFormat::Jpeg)
        .unwrap();
    // An APP1 Exif segment carrying a GPS marker, right after SOI.
    let payload = b"Exif\0\0MM\0*\0\0\0\x08GPSLatitude-6.9SECRET";
    let mut seg = vec![0xFF, 0xE1];
    seg.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    seg.extend_from_slice(payload);
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&seg);
    out.extend_from_slice(&jpeg[2..]);
    assert!(image::load_from_memory(&out).is_ok());
    out
}

fn form_with_photo(bytes: Vec<u8>, file: &str) -> reqwest::multipart::Form {
    reqwest::multipart::Form::new()
        .text("lon", IN_SCOPE.0.to_string())
        .text("lat", IN_SCOPE.1.to_string())
        .text("category", "jalan")
        .text("title", "Jalan berlubang besar")
        .part(
            "photo",
            reqwest::multipart::Part::bytes(bytes).file_name(file.to_owned()),
        )
}

#[tokio::test]
async fn photos_are_sniffed_and_stripped() {
    let app = spawn(|_| {}).await;
    let mut elf = b"\x89PNG\r\n\x1a\n".to_vec();
    elf.extend_from_slice(b"\x7fELF\x02\x01\x01\0");
    elf.extend(std::iter::repeat_n(0x90u8, 4096));
    let res = app
        .http
        .post(app.url("/api/proposals"))
        .multipart(form_with_photo(elf, "x.png"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let mut plain_elf = b"\x7fELF\x02\x01\x01\0".to_vec();
    plain_elf.extend(std::iter::repeat_n(0u8, 512));
    let res = app
        .http
        .post(app.url("/api/proposals"))
        .multipart(form_with_photo(plain_elf, "y.png"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let mut big = b"\x89PNG\r\n\x1a\n".to_vec();
    big.resize(5 * 1024 * 1024 + 10, 0);
    let res = app
        .http
        .post(app.url("/api/proposals"))
        .multipart(form_with_photo(big, "big.png"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(writes(&app).await, (0, 0, 0));

    let res = app
        .http
        .post(app.url("/api/proposals"))
        .multipart(form_with_photo(jpeg_with_gps(), "a.jpg"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let created: Value = res.json().await.unwrap();
    let code = created["tracking_code"].as_str().unwrap();
    let id = created["id"].as_i64().unwrap();
    assert_eq!(writes(&app).await, (1, 1, 1));
    // Pending: the photo is as private as the proposal; verify it first.
    let (_, admin) = user(&app, "admin1", "admin", None).await;
    assert_eq!(
        set_status(&app, &admin, id, json!({"to": "diverifikasi"}))
            .await
            .status(),
        StatusCode::OK
    );
    let tracked: Value = app
        .http
        .get(app.url(&format!("/api/proposals/track/{code}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let url = tracked["photo_url"].as_str().unwrap().to_owned();
    let res = app.http.get(app.url(&url)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "image/jpeg");
    let bytes = res.bytes().await.unwrap();
    let img = image::load_from_memory(&bytes).unwrap();
    assert_eq!((img.width(), img.height()), (32, 24));
    let hay = bytes.to_vec();
    for needle in [&b"Exif"[..], b"GPS", b"SECRET"] {
        assert!(
            !hay.windows(needle.len()).any(|w| w == needle),
            "{needle:?} survived"
        );
    }
}

#[tokio::test]
async fn script_and_sql_are_stored_verbatim() {
    let app = spawn(|_| {}).await;
    let title = "<script>alert(1)</script>'; DROP TABLE proposal;--";
    let desc = "\"quoted\" \\ back </script><img src=x onerror=alert(2)>";
    let res = post_json(&app, &json!({"lon": IN_SCOPE.0, "lat": IN_SCOPE.1, "category": "lainnya", "title": title, "description": desc})).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let code = res.json::<Value>().await.unwrap()["tracking_code"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = app
        .http
        .get(app.url(&format!("/api/proposals/track/{code}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["content-type"], "application/json");
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["title"], title);
    assert_eq!(v["description"], desc);
    assert_eq!(scalar(&app, "SELECT count(*) FROM proposal").await, 1);
}

#[tokio::test]
async fn rapid_anonymous_posts_hit_429_and_lose_nothing() {
    let app = spawn(|c| c.anon_posts_per_minute = 20).await;
    let results: Vec<(StatusCode, Option<i64>)> = futures::stream::iter(0..1000)
        .map(|i| {
            let app = &app;
            async move {
                let res = post_json(app, &body(IN_SCOPE, &format!("Usulan cepat {i}"))).await;
                let status = res.status();
                let id = if status == StatusCode::CREATED {
                    res.json::<Value>().await.unwrap()["id"].as_i64()
                } else {
                    None
                };
                (status, id)
            }
        })
        .buffer_unordered(32)
        .collect()
        .await;
    let ok: Vec<i64> = results.iter().filter_map(|(_, id)| *id).collect();
    let limited = results
        .iter()
        .filter(|(s, _)| *s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert!(limited > 0, "no 429 after 1000 posts");
    assert_eq!(ok.len() + limited, 1000, "only 201 or 429 expected");
    assert!(ok.len() >= 20);
    assert_eq!(
        scalar(&app, "SELECT count(*) FROM proposal").await,
        ok.len() as i64
    );
    let client = app.pool.get().await.unwrap();
    let found: i64 = client
        .query_one("SELECT count(*) FROM proposal WHERE id = ANY($1)", &[&ok])
        .await
        .unwrap()
        .get(0);
    assert_eq!(found, ok.len() as i64);
}

async fn support(app: &TestApp, token: &str, id: i64) -> reqwest::Response {
    app.http
        .post(app.url(&format!("/api/proposals/{id}/support")))
        .bearer_auth(token)
        .send()
        .await
        .expect("support")
}

#[tokio::test]
async fn two_hundred_concurrent_supports_count_exactly() {
    let app = spawn(|_| {}).await;
    let id = proposal(&app, IN_SCOPE, "diverifikasi", "jalan").await;
    let tokens = residents(&app, 200).await;
    let statuses: Vec<StatusCode> = futures::future::join_all(
        tokens
            .iter()
            .map(|t| async { support(&app, t, id).await.status() }),
    )
    .await;
    assert!(
        statuses.iter().all(|s| *s == StatusCode::OK),
        "{statuses:?}"
    );
    assert_eq!(
        scalar(
            &app,
            &format!("SELECT support_count::bigint FROM proposal WHERE id = {id}")
        )
        .await,
        200
    );
    assert_eq!(
        scalar(
            &app,
            &format!("SELECT count(*) FROM proposal_support WHERE proposal_id = {id}")
        )
        .await,
        200
    );

    // The same account twice counts once; withdrawing takes it back.
    let again: Value = support(&app, &tokens[0], id).await.json().await.unwrap();
    assert_eq!(again["support_count"], 200);
    let res = app
        .http
        .delete(app.url(&format!("/api/proposals/{id}/support")))
        .bearer_auth(&tokens[0])
        .send()
        .await
        .unwrap();
    let v: Value = res.json().await.unwrap();
    assert_eq!(v, json!({"support_count": 199, "supported": false}));
}

#[tokio::test]
async fn who_may_support_what() {
    let app = spawn(|_| {}).await;
    let pending = proposal(&app, IN_SCOPE, "diajukan", "jalan").await;
    let public = proposal(&app, IN_SCOPE, "diverifikasi", "jalan").await;
    let tokens = residents(&app, 1).await;
    let (_, moderator) = user(&app, "mod1", "moderator", None).await;
    assert_eq!(
        support(&app, &tokens[0], pending).await.status(),
        StatusCode::CONFLICT
    );
    assert_eq!(
        support(&app, &tokens[0], 999_999).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        support(&app, &moderator, public).await.status(),
        StatusCode::FORBIDDEN
    );
    let anon = app
        .http
        .post(app.url(&format!("/api/proposals/{public}/support")))
        .send()
        .await
        .unwrap();
    assert_eq!(anon.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        scalar(&app, "SELECT count(*) FROM proposal_support").await,
        0
    );
    assert_eq!(
        scalar(&app, "SELECT sum(support_count) FROM proposal").await,
        0
    );
}

#[tokio::test]
async fn merged_proposals_do_not_double_count() {
    let app = spawn(|_| {}).await;
    let a = proposal(&app, IN_SCOPE, "diverifikasi", "jalan").await;
    let b = proposal(&app, IN_SCOPE, "diverifikasi", "jalan").await;
    let t = residents(&app, 5).await;
    for tok in &t[0..3] {
        assert_eq!(support(&app, tok, a).await.status(), StatusCode::OK);
    }
    for tok in &t[1..5] {
        assert_eq!(support(&app, tok, b).await.status(), StatusCode::OK);
    }
    let (_, moderator) = user(&app, "mod1", "moderator", Some("32.73.01")).await;
    let res = set_status(
        &app,
        &moderator,
        a,
        json!({"to": "digabung", "merged_into": b, "note": "sama"}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let merged: Value = res.json().await.unwrap();
    assert_eq!(merged["merged_into"], b);
    assert_eq!(merged["support_count"], 0);
    assert_eq!(
        scalar(
            &app,
            &format!("SELECT support_count::bigint FROM proposal WHERE id = {b}")
        )
        .await,
        5
    );
    assert_eq!(
        scalar(
            &app,
            &format!("SELECT count(*) FROM proposal_support WHERE proposal_id = {b}")
        )
        .await,
        5
    );
    assert_eq!(
        scalar(
            &app,
            &format!("SELECT count(*) FROM proposal_support WHERE proposal_id = {a}")
        )
        .await,
        0
    );
    // The merged one takes no new supports.
    assert_eq!(support(&app, &t[0], a).await.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn lifecycle_illegal_transitions_get_409_and_write_nothing() {
    let app = spawn(|_| {}).await;
    let (_, admin) = user(&app, "admin1", "admin", None).await;
    let id = proposal(&app, IN_SCOPE, "diajukan", "jalan").await;
    let before = (
        scalar(&app, "SELECT count(*) FROM proposal_event").await,
        scalar(&app, "SELECT count(*) FROM audit_log").await,
    );
    for to in ["selesai", "dianggarkan", "diprioritaskan", "diajukan"] {
        let res = set_status(&app, &admin, id, json!({"to": to})).await;
        assert_eq!(res.status(), StatusCode::CONFLICT, "diajukan -> {to}");
    }
    let res = set_status(&app, &admin, id, json!({"to": "ditolak"})).await;
    assert_eq!(
        res.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "a rejection needs a reason"
    );
    let after = (
        scalar(&app, "SELECT count(*) FROM proposal_event").await,
        scalar(&app, "SELECT count(*) FROM audit_log").await,
    );
    assert_eq!(before, after);

    // The whole build path, with a carry-over to next year's cycle on the way.
    let year = scalar(
        &app,
        &format!("SELECT cycle_year::bigint FROM proposal WHERE id = {id}"),
    )
    .await;
    for to in [
        "diverifikasi",
        "diprioritaskan",
        "diverifikasi",
        "diprioritaskan",
        "dianggarkan",
        "dikerjakan",
        "selesai",
    ] {
        assert_eq!(
            set_status(&app, &admin, id, json!({"to": to}))
                .await
                .status(),
            StatusCode::OK,
            "-> {to}"
        );
    }
    assert_eq!(
        scalar(
            &app,
            &format!("SELECT cycle_year::bigint FROM proposal WHERE id = {id}")
        )
        .await,
        year + 1
    );
    assert_eq!(
        set_status(&app, &admin, id, json!({"to": "diverifikasi"}))
            .await
            .status(),
        StatusCode::CONFLICT
    );
    let rejected = proposal(&app, IN_SCOPE, "diajukan", "jalan").await;
    let res = set_status(
        &app,
        &admin,
        rejected,
        json!({"to": "ditolak", "reason": "Di luar kewenangan kota"}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        set_status(&app, &admin, rejected, json!({"to": "diverifikasi"}))
            .await
            .status(),
        StatusCode::CONFLICT
    );
    assert_eq!(
        scalar(
            &app,
            "SELECT count(*) FROM audit_log WHERE action = 'proposal.status'"
        )
        .await,
        8
    );
}

#[tokio::test]
async fn pending_proposals_never_appear_in_public_reads() {
    let app = spawn(|_| {}).await;
    let pending = proposal(&app, IN_SCOPE, "diajukan", "drainase").await;
    let rejected = proposal(&app, IN_SCOPE, "ditolak", "drainase").await;
    let public = proposal(&app, IN_SCOPE, "diverifikasi", "jalan").await;
    let public_same = proposal(
        &app,
        (IN_SCOPE.0 + 0.0002, IN_SCOPE.1),
        "dikerjakan",
        "drainase",
    )
    .await;
    let _far = proposal(
        &app,
        (IN_SCOPE.0 + 0.01, IN_SCOPE.1),
        "diverifikasi",
        "drainase",
    )
    .await;

    let near: Value = app
        .http
        .get(app.url(&format!(
            "/api/proposals/nearby?lon={}&lat={}&category=drainase",
            IN_SCOPE.0, IN_SCOPE.1
        )))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<i64> = near["proposals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_i64().unwrap())
        .collect();
    assert_eq!(
        ids,
        vec![public_same, public],
        "same category first, within 50 m, public only"
    );

    for id in [pending, rejected] {
        let res = app
            .http
            .get(app.url(&format!("/api/proposals/{id}")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        let res = app
            .http
            .get(app.url(&format!("/open311/v2/requests/{id}.json")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
    }
    let list: Value = app
        .http
        .get(app.url("/open311/v2/requests.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut listed: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["service_request_id"].as_str().unwrap().to_owned())
        .collect();
    listed.sort();
    assert_eq!(listed.len(), 3);
    assert!(!listed.contains(&pending.to_string()) && !listed.contains(&rejected.to_string()));
}

#[tokio::test]
async fn moderation_queue_is_scoped_and_oldest_first() {
    let app = spawn(|_| {}).await;
    let first = proposal(&app, IN_SCOPE, "diajukan", "jalan").await;
    let dup = proposal(
        &app,
        (IN_SCOPE.0 + 0.0001, IN_SCOPE.1),
        "diverifikasi",
        "jalan",
    )
    .await;
    let second = proposal(&app, IN_SCOPE, "diajukan", "jalan").await;
    let _other = proposal(&app, OUT_SCOPE, "diajukan", "jalan").await;
    let (_, moderator) = user(&app, "mod1", "moderator", Some("32.73.01")).await;
    let (_, resident) = user(&app, "warga", "resident", None).await;
    let q: Value = app
        .http
        .get(app.url("/api/moderation/queue"))
        .bearer_auth(&moderator)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let items = q["items"].as_array().unwrap();
    let ids: Vec<i64> = items.iter().map(|i| i["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, vec![first, second]);
    let dups: Vec<i64> = items[0]["nearby_duplicates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_i64().unwrap())
        .collect();
    assert!(dups.contains(&dup) && dups.contains(&second), "{dups:?}");
    let res = app
        .http
        .get(app.url("/api/moderation/queue"))
        .bearer_auth(&resident)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn open311_services_and_requests() {
    let app = spawn(|_| {}).await;
    let services: Value = app
        .http
        .get(app.url("/open311/v2/services.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(services.as_array().unwrap().len(), 7);
    assert!(services
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["service_code"] == "drainase"));
    let res = app
        .http
        .post(app.url("/open311/v2/requests.json"))
        .form(&[
            ("service_code", "drainase"),
            ("lat", "-6.9"),
            ("long", "107.55"),
            ("description", "Got mampet depan masjid\nsudah seminggu"),
            ("first_name", "Ani"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let v: Value = res.json().await.unwrap();
    let id: i64 = v[0]["service_request_id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(v[0]["token"].as_str().unwrap().starts_with("USL-"));
    assert_eq!(scalar(&app, &format!("SELECT count(*) FROM proposal WHERE id = {id} AND status = 'diajukan' AND title = 'Got mampet depan masjid'")).await, 1);
    let res = app
        .http
        .post(app.url("/open311/v2/requests.json"))
        .form(&[
            ("service_code", "drainase"),
            ("lat", "-6.2"),
            ("long", "106.8"),
            ("description", "Di luar kota"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let (_, admin) = user(&app, "admin1", "admin", None).await;
    assert_eq!(
        set_status(&app, &admin, id, json!({"to": "diverifikasi"}))
            .await
            .status(),
        StatusCode::OK
    );
    let one: Value = app
        .http
        .get(app.url(&format!("/open311/v2/requests/{id}.json")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(one[0]["status"], "open");
    assert_eq!(one[0]["service_code"], "drainase");
    assert!(one.to_string().find("Ani").is_none());
}

#[tokio::test]
async fn forwarded_for_counts_only_behind_a_trusted_proxy() {
    for trust in [false, true] {
        let app = spawn(|c| {
            c.anon_posts_per_minute = 1;
            c.trust_proxy = trust;
        })
        .await;
        let mut statuses = Vec::new();
        for ip in ["203.0.113.7", "203.0.113.8"] {
            let res = app
                .http
                .post(app.url("/api/proposals"))
                .header("x-forwarded-for", format!("10.9.9.9, {ip}"))
                .json(&body(IN_SCOPE, "Lampu jalan mati"))
                .send()
                .await
                .unwrap();
            statuses.push(res.status());
        }
        let second = if trust {
            StatusCode::CREATED
        } else {
            StatusCode::TOO_MANY_REQUESTS
        };
        assert_eq!(
            statuses,
            vec![StatusCode::CREATED, second],
            "trust_proxy = {trust}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn supporting_a_nearby_proposal_instead_of_a_new_one_is_counted() {
    let app = common::spawn_app(true).await;
    let (_, resident) = common::user(&app, "warga_dekat", "resident", None).await;
    let (_, moderator) = common::user(&app, "moderator_dekat", "moderator", None).await;
    let id: i64 = app
        .pool
        .get()
        .await
        .unwrap()
        .query_one(
            "SELECT id FROM proposal WHERE status = 'diverifikasi' ORDER BY id LIMIT 1",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let queue = |app: &common::TestApp, token: String| {
        let req = app
            .http
            .get(app.url("/api/moderation/queue"))
            .bearer_auth(token);
        async move {
            req.send()
                .await
                .unwrap()
                .json::<serde_json::Value>()
                .await
                .unwrap()
        }
    };
    assert_eq!(
        queue(&app, moderator.clone()).await["supports_instead_of_new"],
        0
    );
    // An unknown `via` names the parameter, in both languages.
    let res = app
        .http
        .post(app.url(&format!("/api/proposals/{id}/support?via=rumor")))
        .bearer_auth(&resident)
        .header("accept-language", "en")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["errors"][0]["field"], "via");
    // From the nearby list: counted and audited as such.
    let res = app
        .http
        .post(app.url(&format!("/api/proposals/{id}/support?via=nearby")))
        .bearer_auth(&resident)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        queue(&app, moderator.clone()).await["supports_instead_of_new"],
        1
    );
    assert_eq!(
        common::count(
            &app.pool,
            "SELECT count(*) FROM audit_log WHERE action = 'proposal.support_instead_of_new'"
        )
        .await,
        1
    );
}
