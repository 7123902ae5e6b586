//! The service as a whole: health, readiness, the Bandung sample, errors in two languages.

use crate::common;

use common::{count, serve, sigap_cli, spawn_app, TestDb};
use serde_json::Value;

#[tokio::test(flavor = "multi_thread")]
async fn readyz_waits_for_migrations_and_healthz_always_answers() {
    let app = serve(TestDb::blank().await).await;
    let health = app.http.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let ready = app.http.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 503);
    let body: Value = ready.json().await.unwrap();
    assert!(
        body["database"].as_str().unwrap().contains("sigap migrate"),
        "{body}"
    );

    let out = sigap_cli(&app.db, &["migrate"]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ready = app.http.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_bandung_sample_is_complete_and_ready() {
    let app = spawn_app(true).await;
    let pool = &app.pool;
    assert_eq!(count(pool, "SELECT count(*) FROM region").await, 1);
    assert_eq!(count(pool, "SELECT count(*) FROM kecamatan").await, 30);
    assert_eq!(count(pool, "SELECT count(*) FROM kelurahan").await, 151);
    assert!(count(pool, "SELECT count(*) FROM program").await >= 12);
    assert!(count(pool, "SELECT count(DISTINCT partner_code) FROM program").await >= 8);
    assert_eq!(
        count(pool, "SELECT count(DISTINCT type) FROM partner").await,
        4
    );
    assert!(
        count(
            pool,
            "SELECT count(DISTINCT type) FROM program WHERE type <> 'lainnya'"
        )
        .await
            >= 5
    );
    assert!(count(pool, "SELECT count(*) FROM coverage WHERE site IS NOT NULL").await > 0);
    assert!(count(pool, "SELECT count(*) FROM coverage WHERE site IS NULL").await > 0);
    assert!(count(pool, "SELECT count(*) FROM proposal").await >= 300);
    // Every proposal fell inside a kelurahan and got its areas from the point.
    assert_eq!(
        count(
            pool,
            "SELECT count(*) FROM proposal WHERE kelurahan_code IS NULL"
        )
        .await,
        0
    );
    // Indicators: each kecamatan's sums equal its facts.
    let facts = std::fs::read_to_string(
        common::repo_root().join("sample-layers/facts/kecamatan_facts.csv"),
    )
    .unwrap();
    let client = pool.get().await.unwrap();
    for line in facts.lines().skip(1) {
        let cols: Vec<&str> = line.split(',').collect();
        let (code, population, low_income): (&str, i64, i64) =
            (cols[0], cols[2].parse().unwrap(), cols[4].parse().unwrap());
        let row = client
            .query_one(
                "SELECT sum(l.population)::bigint, sum(l.low_income_households)::bigint
                 FROM indicator_latest l JOIN kelurahan k ON k.code = l.kelurahan_code
                 WHERE k.kecamatan_code = $1",
                &[&code],
            )
            .await
            .unwrap();
        assert_eq!(row.get::<_, i64>(0), population, "population of {code}");
        assert_eq!(
            row.get::<_, i64>(1),
            low_income,
            "low-income households of {code}"
        );
    }
    // The fictional layers lie inside the real kelurahan they name: each proposal in exactly one
    // kelurahan (never in an overlap), each coverage area only over kelurahan its note names.
    let misplaced: i64 = client
        .query_one(
            "SELECT count(*) FROM proposal p
             WHERE (SELECT count(*) FROM kelurahan k WHERE ST_Intersects(k.geom, p.geom)) <> 1",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(misplaced, 0);
    let outside: Vec<String> = client
        .query(
            "SELECT c.code || ' over ' || k.name FROM coverage c
             JOIN kelurahan k ON ST_Intersects(k.geom, c.geom)
             WHERE c.rule_code IS NULL
               AND ST_Area(ST_Intersection(k.geom, c.geom)::geography) > 1
               AND position(k.name IN c.note) = 0",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(
        outside.is_empty(),
        "coverage outside the kelurahan it names: {outside:?}"
    );
    // The real boundaries overlap (reported by tests/suite/boundary_quality.rs); every one is valid.
    let invalid: i64 = client
        .query_one(
            "SELECT count(*) FROM kelurahan WHERE NOT ST_IsValid(geom)",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(invalid, 0);

    let ready = app.http.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn loading_the_sample_twice_changes_nothing() {
    let db = TestDb::new(true).await;
    let pool = db.pool();
    let before = count(&pool, "SELECT count(*) FROM proposal").await
        + count(&pool, "SELECT count(*) FROM coverage").await
        + count(&pool, "SELECT count(*) FROM kelurahan").await;
    let out = sigap_cli(&db, &["sample", "load"]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after = count(&pool, "SELECT count(*) FROM proposal").await
        + count(&pool, "SELECT count(*) FROM coverage").await
        + count(&pool, "SELECT count(*) FROM kelurahan").await;
    assert_eq!(before, after);
    // The CLI load ends with the default gap analysis, so the public gap map is never empty.
    assert_eq!(
        count(&pool, "SELECT count(*) FROM gap_run WHERE is_default").await,
        1
    );
    let out = sigap_cli(&db, &["sample", "load", "--if-empty"]).await;
    assert!(String::from_utf8_lossy(&out.stdout).contains("already present"));
    // Already loaded and already analysed: no second run.
    assert_eq!(count(&pool, "SELECT count(*) FROM gap_run").await, 1);
    // A database that lost its runs gets one back from `--if-empty` (what ./scripts/run does).
    pool.get()
        .await
        .unwrap()
        .execute("DELETE FROM gap_run", &[])
        .await
        .unwrap();
    let out = sigap_cli(&db, &["sample", "load", "--if-empty"]).await;
    assert!(String::from_utf8_lossy(&out.stdout).contains("default gap analysis: run"));
    let app = serve(db).await;
    let res = app
        .http
        .get(app.url("/api/analysis/gap/latest"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_paths_answer_problem_json_in_the_callers_language() {
    let app = serve(TestDb::new(false).await).await;
    let res = app
        .http
        .get(app.url("/api/tidak-ada"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["title"], "Tidak ditemukan");

    let res = app
        .http
        .get(app.url("/api/tidak-ada"))
        .header("Accept-Language", "en-US,en;q=0.9,id;q=0.5")
        .send()
        .await
        .unwrap();
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["title"], "Not found");
    assert_eq!(body["status"], 404);
}
