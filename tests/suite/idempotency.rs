//! `Idempotency-Key` against a real PostGIS: a retried write answers the first result and
//! writes nothing more, another body under the same key is 422, concurrent retries of one key
//! make one row, and keys expire.

use crate::common;
use crate::fixture;

use reqwest::StatusCode;
use serde_json::{json, Value};

use common::TestApp;
use fixture::{proposal, residents, scalar, spawn, user, IN_SCOPE};

fn body(title: &str) -> Value {
    json!({"lon": IN_SCOPE.0, "lat": IN_SCOPE.1, "category": "drainase", "title": title,
           "description": "Selokan tersumbat", "submitter_name": "Ibu Ani"})
}

async fn submit(app: &TestApp, key: &str, v: &Value) -> reqwest::Response {
    app.http
        .post(app.url("/api/proposals"))
        .header("Idempotency-Key", key)
        .json(v)
        .send()
        .await
        .expect("post")
}

async fn proposals(app: &TestApp) -> i64 {
    scalar(app, "SELECT count(*) FROM proposal").await
}

#[tokio::test]
async fn a_retried_submission_answers_the_first_result_and_writes_once() {
    let app = spawn(|_| {}).await;
    let first = submit(&app, "k-1", &body("Selokan mampet")).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.unwrap();

    let again = submit(&app, "k-1", &body("Selokan mampet")).await;
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(
        again
            .headers()
            .get("idempotent-replayed")
            .and_then(|v| v.to_str().ok()),
        Some("true")
    );
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["id"], first["id"]);
    assert_eq!(again["tracking_code"], first["tracking_code"]);
    assert_eq!(proposals(&app).await, 1);

    // Another key is another submission.
    let other = submit(&app, "k-2", &body("Selokan mampet")).await;
    assert_eq!(other.status(), StatusCode::CREATED);
    assert_eq!(proposals(&app).await, 2);
}

#[tokio::test]
async fn the_same_key_with_another_body_is_422() {
    let app = spawn(|_| {}).await;
    assert_eq!(
        submit(&app, "k-1", &body("Selokan mampet satu"))
            .await
            .status(),
        StatusCode::CREATED
    );
    let res = app
        .http
        .post(app.url("/api/proposals"))
        .header("Idempotency-Key", "k-1")
        .header("Accept-Language", "en")
        .json(&body("Selokan mampet dua"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        res.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/problem+json")
    );
    let problem: Value = res.json().await.unwrap();
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("already used for a different request"),
        "{problem}"
    );
    assert_eq!(proposals(&app).await, 1);

    let res = submit(&app, "has space", &body("Selokan mampet tiga")).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(proposals(&app).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_retries_of_one_key_make_one_row() {
    let app = spawn(|c| c.anon_posts_per_minute = 0).await;
    let v = body("Jalan berlubang");
    let answers = futures::future::join_all((0..20).map(|_| async {
        let res = submit(&app, "same-key", &v).await;
        let status = res.status();
        let body: Value = res.json().await.unwrap_or(Value::Null);
        (status, body["id"].clone())
    }))
    .await;
    let first_id = answers[0].1.clone();
    assert!(first_id.is_i64(), "{answers:?}");
    for (status, id) in &answers {
        assert_eq!(*status, StatusCode::CREATED, "{answers:?}");
        assert_eq!(*id, first_id, "{answers:?}");
    }
    assert_eq!(proposals(&app).await, 1);
    assert_eq!(
        scalar(&app, "SELECT count(*) FROM idempotency_key").await,
        1
    );
}

#[tokio::test]
async fn supports_status_changes_and_open311_replay() {
    let app = spawn(|_| {}).await;
    let id = proposal(&app, IN_SCOPE, "diverifikasi", "jalan").await;
    let pending = proposal(&app, IN_SCOPE, "diajukan", "jalan").await;
    let tokens = residents(&app, 1).await;
    let support = || async {
        app.http
            .post(app.url(&format!("/api/proposals/{id}/support")))
            .bearer_auth(&tokens[0])
            .header("Idempotency-Key", "s-1")
            .send()
            .await
            .unwrap()
    };
    let a = support().await;
    assert_eq!(a.status(), StatusCode::OK);
    let a: Value = a.json().await.unwrap();
    let b: Value = support().await.json().await.unwrap();
    assert_eq!(a, b);
    assert_eq!(
        scalar(
            &app,
            &format!("SELECT count(*) FROM proposal_support WHERE proposal_id = {id}")
        )
        .await,
        1
    );

    // A status change retried: the second call answers the first result instead of a refusal
    // of a transition that already happened, and one audit entry is written.
    let (_, moderator) = user(&app, "mod1", "moderator", Some("32.73.01")).await;
    let audit_before = scalar(&app, "SELECT count(*) FROM audit_log").await;
    let change = || async {
        app.http
            .post(app.url(&format!("/api/proposals/{pending}/status")))
            .bearer_auth(&moderator)
            .header("Idempotency-Key", "st-1")
            .json(&json!({"to": "diverifikasi", "note": "sudah dicek"}))
            .send()
            .await
            .unwrap()
    };
    let first = change().await;
    assert_eq!(first.status(), StatusCode::OK);
    let first: Value = first.json().await.unwrap();
    let second = change().await;
    assert_eq!(second.status(), StatusCode::OK);
    assert_eq!(second.json::<Value>().await.unwrap(), first);
    assert_eq!(
        scalar(&app, "SELECT count(*) FROM audit_log").await,
        audit_before + 1
    );

    // Open311 (form body).
    let post = || async {
        app.http
            .post(app.url("/open311/v2/requests.json"))
            .header("Idempotency-Key", "o-1")
            .form(&[
                ("service_code", "drainase"),
                ("lat", "-6.9"),
                ("long", "107.55"),
                ("description", "Got mampet"),
            ])
            .send()
            .await
            .unwrap()
    };
    let before = proposals(&app).await;
    let one: Value = post().await.json().await.unwrap();
    let two: Value = post().await.json().await.unwrap();
    assert_eq!(one[0]["service_request_id"], two[0]["service_request_id"]);
    assert_eq!(proposals(&app).await, before + 1);
}

#[tokio::test]
async fn keys_expire_after_a_day() {
    let app = spawn(|_| {}).await;
    assert_eq!(
        submit(&app, "k-old", &body("Selokan mampet satu"))
            .await
            .status(),
        StatusCode::CREATED
    );
    app.pool
        .get()
        .await
        .unwrap()
        .execute(
            "UPDATE idempotency_key SET created_at = now() - interval '24 hours 1 minute'",
            &[],
        )
        .await
        .unwrap();
    // Expired: the key is free again, even for another body.
    assert_eq!(
        submit(&app, "k-old", &body("Selokan mampet dua"))
            .await
            .status(),
        StatusCode::CREATED
    );
    assert_eq!(proposals(&app).await, 2);
}
