//! The live gap analysis: after any sequence of edits to its inputs, the public run catches up
//! by itself (in place: same run, only the changed rows written) and equals a fresh batch run
//! field by field; its tiles are never stale; a dated run never replaces it.

use crate::common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use sigap::analysis::gap::{GapParams, DEFAULT_CELL_M};
use sigap::analysis::run;
use sigap::store::gap as gap_store;

use common::mvt::{ogrinfo_tile_features, tile_of};
use common::{count, serve_with, TestApp, TestDb};

async fn live_app() -> TestApp {
    serve_with(TestDb::new(true).await, |c| {
        c.live_gap = true;
        c.live_gap_debounce_ms = 30;
    })
    .await
}

/// Waits (bounded) until the public run includes every logged change; returns its id and the
/// last change it includes.
async fn caught_up(app: &TestApp) -> (i64, i64) {
    let started = Instant::now();
    loop {
        let (last, _) = gap_store::change_mark(&app.pool).await.unwrap();
        if let Some(run) = gap_store::latest_default_run(&app.pool).await.unwrap() {
            let through = run.changes_through.unwrap_or(0);
            if through >= last && run.live {
                return (run.id, through);
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the live run did not catch up with change {last}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// One edit of the analysis' inputs, with its random choices.
#[derive(Debug, Clone)]
enum Edit {
    /// A new coverage circle of `radius_m` around the point of the n-th kelurahan.
    AddCoverage { kel: usize, radius_m: f64 },
    /// The n-th coverage area ends yesterday.
    EndCoverage { n: usize },
    /// The n-th coverage area is deleted.
    DeleteCoverage { n: usize },
    /// The n-th kelurahan's low-income households change to `share` of its households.
    Households { kel: usize, share: f64 },
    /// The n-th puskesmas moves (its rule-drawn coverage follows).
    MoveFacility { n: usize, dx: f64, dy: f64 },
    /// The n-th proposal waiting for verification is published (demand changes).
    Publish { n: usize },
    /// The partner of the live run's n-th follow-up gap reports mentoring there (the gap closes).
    ReportMentoring { n: usize },
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (0usize..151, 200.0f64..1500.0)
            .prop_map(|(kel, radius_m)| Edit::AddCoverage { kel, radius_m }),
        (0usize..60).prop_map(|n| Edit::EndCoverage { n }),
        (0usize..60).prop_map(|n| Edit::DeleteCoverage { n }),
        (0usize..151, 0.0f64..1.0).prop_map(|(kel, share)| Edit::Households { kel, share }),
        (0usize..25, -0.01f64..0.01, -0.01f64..0.01).prop_map(|(n, dx, dy)| Edit::MoveFacility {
            n,
            dx,
            dy
        }),
        (0usize..40).prop_map(|n| Edit::Publish { n }),
        (0usize..20).prop_map(|n| Edit::ReportMentoring { n }),
    ]
}

async fn apply(app: &TestApp, e: &Edit) {
    let client = app.pool.get().await.unwrap();
    let (sql, n): (&str, i64) = match e {
        Edit::AddCoverage { kel, radius_m } => {
            client
                .execute(
                    "INSERT INTO coverage (code, program_code, site, radius_m, geom, valid_from, valid_to)
                     SELECT 'live-' || gen_random_uuid(), (SELECT code FROM program ORDER BY code LIMIT 1),
                            ST_PointOnSurface(k.geom), $2, ST_Multi(ST_Buffer(ST_PointOnSurface(k.geom), 0.001)),
                            current_date - 30, current_date + 30
                     FROM kelurahan k ORDER BY k.code OFFSET $1 LIMIT 1",
                    &[&(*kel as i64), radius_m],
                )
                .await
                .unwrap();
            return;
        }
        Edit::EndCoverage { n } => (
            "UPDATE coverage SET valid_to = greatest(valid_from, current_date - 1)
             WHERE id = (SELECT id FROM coverage WHERE rule_code IS NULL ORDER BY id OFFSET $1 LIMIT 1)",
            *n as i64,
        ),
        Edit::DeleteCoverage { n } => (
            "DELETE FROM coverage
             WHERE id = (SELECT id FROM coverage WHERE rule_code IS NULL ORDER BY id OFFSET $1 LIMIT 1)",
            *n as i64,
        ),
        Edit::Households { kel, share } => {
            client
                .execute(
                    "UPDATE indicator SET low_income_households = floor(households * $2::float8)::bigint
                     WHERE households IS NOT NULL AND kelurahan_code =
                           (SELECT code FROM kelurahan ORDER BY code OFFSET $1 LIMIT 1)",
                    &[&(*kel as i64), share],
                )
                .await
                .unwrap();
            return;
        }
        Edit::MoveFacility { n, dx, dy } => {
            client
                .execute(
                    "UPDATE facility SET geom = ST_Translate(geom, $2, $3)
                     WHERE id = (SELECT id FROM facility WHERE category = 'puskesmas'
                                 ORDER BY id OFFSET $1 LIMIT 1)",
                    &[&(*n as i64), dx, dy],
                )
                .await
                .unwrap();
            return;
        }
        Edit::Publish { n } => (
            "UPDATE proposal SET status = 'diverifikasi'
             WHERE id = (SELECT id FROM proposal WHERE status = 'diajukan' ORDER BY id OFFSET $1 LIMIT 1)",
            *n as i64,
        ),
        Edit::ReportMentoring { n } => (
            "INSERT INTO progress_report (program_code, kelurahan_code, period_kind, period_start,
                                         participants, mentoring_sessions)
             SELECT f.program_code, f.kelurahan_code, 'month',
                    date_trunc('month', f.training_ended)::date, 0, 2
             FROM gap_followup f
             WHERE f.run_id = (SELECT id FROM gap_run_latest_default)
             ORDER BY f.kelurahan_code, f.program_code OFFSET $1 LIMIT 1
             ON CONFLICT DO NOTHING",
            *n as i64,
        ),
    };
    client.execute(sql, &[&n]).await.unwrap();
}

/// Every row of a run's per-kelurahan, per-kecamatan, per-cell, follow-up and overlap results,
/// without the run id, as text (numbers rounded to 1e-9 so that only real differences show), and
/// the run's summary.
async fn results(app: &TestApp, run_id: i64) -> Vec<String> {
    let client = app.pool.get().await.unwrap();
    let mut out = Vec::new();
    for (table, key) in [
        ("gap_kelurahan", "kelurahan_code"),
        ("gap_kecamatan", "kecamatan_code"),
        ("gap_cell", "cell_i, cell_j"),
        ("gap_followup", "kelurahan_code, program_code"),
        ("gap_overlap", "kelurahan_code, program_type"),
    ] {
        let sql = format!(
            "SELECT (SELECT string_agg(
                        CASE WHEN jsonb_typeof(v) = 'number'
                             THEN k || '=' || round((v::text)::numeric, 9)::text
                             ELSE k || '=' || v::text END, ',' ORDER BY k)
                     FROM jsonb_each(to_jsonb(t) - 'run_id') AS e(k, v))
             FROM {table} t WHERE run_id = $1 ORDER BY {key}"
        );
        for r in client.query(&sql, &[&run_id]).await.unwrap() {
            out.push(format!("{table}: {}", r.get::<_, String>(0)));
        }
    }
    let run = gap_store::get_run(&app.pool, run_id)
        .await
        .unwrap()
        .unwrap();
    out.push(format!(
        "gap_run: population_weighted={}, summary={}",
        run.population_weighted, run.summary
    ));
    out
}

async fn live_equals_batch(edits: Vec<Edit>) {
    let app = live_app().await;
    let (first, _) = caught_up(&app).await;
    for e in &edits {
        apply(&app, e).await;
    }
    let (live, _) = caught_up(&app).await;
    // None of these edits touches the boundaries: every refresh was done in place.
    assert_eq!(live, first, "the live run is updated in place");
    let (_, today) = gap_store::change_mark(&app.pool).await.unwrap();
    let cell_m = gap_store::default_cell_m(&app.pool).await.unwrap();
    let batch = run::run(&app.pool, &GapParams::defaults(today, cell_m), &|_, _| {})
        .await
        .unwrap()
        .id;
    assert_ne!(live, batch);
    let (a, b) = (results(&app, live).await, results(&app, batch).await);
    assert!(!a.is_empty());
    assert_eq!(a.len(), b.len(), "after {edits:?}");
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x, y, "after {edits:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4, failure_persistence: None, ..ProptestConfig::default() })]
    #[test]
    fn the_live_run_equals_a_fresh_batch_run_after_any_edits(edits in prop::collection::vec(edit(), 1..6)) {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(live_equals_batch(edits));
    }
}

/// A partner's mentoring report closes follow-up gaps: the live run's follow-up list follows
/// (progress reports were not logged as a change of the analysis' inputs before V15).
#[tokio::test(flavor = "multi_thread")]
async fn a_mentoring_report_refreshes_the_live_followup_list() {
    live_equals_batch(vec![
        Edit::ReportMentoring { n: 0 },
        Edit::ReportMentoring { n: 3 },
    ])
    .await;
}

/// Reads server-sent events from `res` until the next `run` event; returns its run id and the
/// last change it includes.
async fn next_run_event(res: &mut reqwest::Response, buf: &mut String) -> (i64, i64) {
    loop {
        if let Some(end) = buf.find("\n\n") {
            let event: String = buf.drain(..end + 2).collect();
            if event.lines().any(|l| l == "event: run") {
                let data = event
                    .lines()
                    .find_map(|l| l.strip_prefix("data: "))
                    .expect("a run event carries data");
                let run: serde_json::Value = serde_json::from_str(data).expect("JSON data");
                assert!(
                    run["as_of"].is_string()
                        && run["refreshed_at"].is_string()
                        && run["changes_through"].is_i64(),
                    "{run}"
                );
                let id = run["id"].as_i64().expect("run id");
                return (
                    id,
                    run["changes_through"].as_i64().expect("changes_through"),
                );
            }
            continue; // a keep-alive comment
        }
        // A guard against a hang, not a timing check.
        let chunk = tokio::time::timeout(Duration::from_secs(60), res.chunk())
            .await
            .expect("an event within a minute")
            .expect("the stream stays readable")
            .expect("the stream stays open");
        buf.push_str(std::str::from_utf8(&chunk).expect("UTF-8 events"));
    }
}

/// The map's event stream announces the live run on connect and again after each change it takes
/// in (a refresh in place keeps the id and moves `changes_through`), without the map asking.
#[tokio::test(flavor = "multi_thread")]
async fn the_event_stream_announces_each_new_live_run() {
    let app = live_app().await;
    let first = caught_up(&app).await;
    let mut res = app
        .http
        .get(app.url("/api/analysis/gap/live/events"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let ty = res.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(ty.starts_with("text/event-stream"), "{ty}");
    let mut buf = String::new();
    assert_eq!(next_run_event(&mut res, &mut buf).await, first);

    apply(
        &app,
        &Edit::AddCoverage {
            kel: 12,
            radius_m: 800.0,
        },
    )
    .await;
    let second = caught_up(&app).await;
    assert!(second.1 > first.1, "{second:?} after {first:?}");
    // Each announced state of the run is newer than the last; the stream reaches the caught-up one.
    let mut last = first;
    while last != second {
        let now = next_run_event(&mut res, &mut buf).await;
        assert!(
            now > last && now <= second,
            "{now:?} after {last:?}, expecting {second:?}"
        );
        last = now;
    }
}

/// Per feature of a decoded gap_kelurahan tile (`ogrinfo -al` prints each feature's fields): its
/// code, run id, rank and low-income households, as printed.
fn tile_rows(info: &str) -> BTreeMap<String, (i64, String, String)> {
    let mut out = BTreeMap::new();
    let mut feature: BTreeMap<&str, &str> = BTreeMap::new();
    let mut flush = |f: &mut BTreeMap<&str, &str>| {
        if let (Some(code), Some(run)) = (f.get("code"), f.get("run_id")) {
            let field = |k: &str| f.get(k).map_or("(null)", |v| *v).to_owned();
            out.insert(
                (*code).to_owned(),
                (
                    run.parse().unwrap(),
                    field("rank"),
                    field("low_income_households"),
                ),
            );
        }
        f.clear();
    };
    for line in info.lines() {
        if line.starts_with("OGRFeature(") {
            flush(&mut feature);
        } else if let Some((name, value)) = line.trim().split_once(" = ") {
            if let Some((name, _type)) = name.split_once(" (") {
                feature.insert(name, value.trim());
            }
        }
    }
    flush(&mut feature);
    out
}

/// The same figures for `codes` as the live run holds them in the database.
async fn live_rows(app: &TestApp, codes: Vec<String>) -> BTreeMap<String, (i64, String, String)> {
    let client = app.pool.get().await.unwrap();
    client
        .query(
            "SELECT g.kelurahan_code, g.run_id, g.rank::text,
                    coalesce(g.low_income_households::text, '(null)')
             FROM gap_run_latest_default r JOIN gap_kelurahan g ON g.run_id = r.id
             WHERE g.kelurahan_code = ANY ($1)",
            &[&codes],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), (r.get(1), r.get(2), r.get(3))))
        .collect()
}

/// The tile's ETag and figures, checked against the live run in the database: never stale.
async fn get_gap_tile(app: &TestApp, t: (u32, u32, u32)) -> reqwest::Response {
    app.http
        .get(app.url(&format!("/tiles/gap_kelurahan/{}/{}/{}.mvt", t.0, t.1, t.2)))
        .send()
        .await
        .unwrap()
}

async fn gap_tile(
    app: &TestApp,
    t: (u32, u32, u32),
) -> (String, BTreeMap<String, (i64, String, String)>) {
    let res = get_gap_tile(app, t).await;
    let etag = res.headers()["etag"].to_str().unwrap().to_owned();
    let bytes = res.bytes().await.unwrap();
    let rows = tile_rows(&ogrinfo_tile_features(&bytes, t).await);
    assert!(!rows.is_empty(), "the tile has gap features");
    assert_eq!(rows, live_rows(app, rows.keys().cloned().collect()).await);
    (etag, rows)
}

#[tokio::test(flavor = "multi_thread")]
async fn gap_tiles_follow_the_live_run_and_dated_runs_never_replace_it() {
    let app = live_app().await;
    let first = caught_up(&app).await;
    let (lon, lat) = (107.61, -6.91);
    let t = tile_of(lon, lat, 12);
    let (etag, rows) = gap_tile(&app, t).await;
    assert!(
        rows.values().all(|r| r.0 == first.0),
        "{rows:?} vs {first:?}"
    );

    // The low-income households of the kelurahan at the tile's point change: the live run takes
    // the change in place (same id), its figures (and ranks) change, and the cached tile with
    // them.
    let client = app.pool.get().await.unwrap();
    let edited = client
        .execute(
            "UPDATE indicator SET low_income_households = coalesce(low_income_households, 0) + 137
             WHERE kelurahan_code = (SELECT code FROM kelurahan
                                     WHERE ST_Intersects(geom, ST_SetSRID(ST_MakePoint($1, $2), 4326))
                                     ORDER BY code LIMIT 1)",
            &[&lon, &lat],
        )
        .await
        .unwrap();
    assert!(edited >= 1);
    let second = caught_up(&app).await;
    assert_eq!(second.0, first.0, "the live run is updated in place");
    assert!(second.1 > first.1);
    let (etag2, rows2) = gap_tile(&app, t).await;
    assert_ne!(etag, etag2, "the gap tile changed with the run");
    assert_ne!(rows, rows2);

    // An edit that changes no figure is taken in (the run includes it) but leaves the cached
    // gap tiles alone.
    client
        .execute(
            "UPDATE indicator SET low_income_households = low_income_households
             WHERE kelurahan_code = (SELECT min(code) FROM kelurahan)",
            &[],
        )
        .await
        .unwrap();
    let unchanged = caught_up(&app).await;
    assert_eq!(unchanged.0, second.0);
    assert!(unchanged.1 > second.1, "{unchanged:?} after {second:?}");
    let res = get_gap_tile(&app, t).await;
    assert_eq!(res.headers()["x-cache"], "hit", "the tile was kept");
    assert_eq!(res.headers()["etag"].to_str().unwrap(), etag2);
    let second = unchanged;
    // One live run per day.
    assert_eq!(
        count(&app.pool, "SELECT count(*) FROM gap_run WHERE live").await,
        1
    );

    // A planner's dated run is kept and readable by id, but the public run stays the live one.
    let dated = run::run(
        &app.pool,
        &GapParams::defaults(
            chrono::NaiveDate::from_ymd_opt(2025, 6, 1).unwrap(),
            DEFAULT_CELL_M,
        ),
        &|_, _| {},
    )
    .await
    .unwrap()
    .id;
    let latest: serde_json::Value = app.get_json("/api/analysis/gap/latest").await;
    assert_eq!(latest["id"], second.0);
    assert_eq!(latest["live"], true);
    assert_eq!(latest["changes_through"], second.1);
    let at = |k: &str| chrono::DateTime::parse_from_rfc3339(latest[k].as_str().unwrap()).unwrap();
    assert!(at("refreshed_at") > at("created_at"), "{latest}");
    let (_, rows) = gap_tile(&app, t).await;
    assert!(rows.values().all(|r| r.0 == second.0));
    let dated_read = app
        .http
        .get(app.url(&format!("/api/analysis/gap/{dated}")))
        .send()
        .await
        .unwrap();
    assert_eq!(dated_read.status(), 200);

    // A new day (or a change to the boundaries) is a full refresh: a new live run, and the
    // tiles follow it.
    client
        .execute(
            "UPDATE kelurahan SET name = name || '' WHERE code = (SELECT min(code) FROM kelurahan)",
            &[],
        )
        .await
        .unwrap();
    let third = caught_up(&app).await;
    assert!(third.0 > second.0, "{third:?} after {second:?}");
    let (_, rows) = gap_tile(&app, t).await;
    assert!(rows.values().all(|r| r.0 == third.0));
    assert_eq!(
        count(&app.pool, "SELECT count(*) FROM gap_run WHERE live").await,
        1
    );
}

/// The hexagon edge of the live run now, and how many cells that run has.
async fn live_cells(app: &TestApp, id: i64) -> (f64, i64) {
    let run = gap_store::get_run(&app.pool, id).await.unwrap().unwrap();
    let cells = count(
        &app.pool,
        &format!("SELECT count(*) FROM gap_cell WHERE run_id = {id}"),
    )
    .await;
    (run.params["cell_m"].as_f64().unwrap(), cells)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_live_hexagon_size_follows_the_region_unless_the_deployment_sets_one() {
    // The ladder: a city keeps 500 m, a province too, the country gets 2 km (bounding boxes
    // over-estimate, so twice the land area must still fit).
    let empty = TestDb::new(false).await;
    let row = empty
        .pool()
        .get()
        .await
        .unwrap()
        .query_one(
            "SELECT gap_cell_for_area(167e6), gap_cell_for_area(35.4e9),
                    gap_cell_for_area(1.9e12), gap_cell_for_area(2 * 1.9e12),
                    gap_cell_for_area(1e15)",
            &[],
        )
        .await
        .unwrap();
    let sizes: Vec<f64> = (0..5).map(|i| row.get(i)).collect();
    assert_eq!(sizes, [500.0, 500.0, 2000.0, 2000.0, 20000.0]);

    let app = live_app().await;
    let (first, _) = caught_up(&app).await;
    let (cell_m, cells_500) = live_cells(&app, first).await;
    assert_eq!(cell_m, DEFAULT_CELL_M, "Bandung's extent calls for 500 m");
    assert!(cells_500 > 0);
    // The region's size is kept until the kelurahan layer changes.
    let cached = "SELECT count(*) FROM gap_auto_cell WHERE cell_m = 500";
    assert_eq!(count(&app.pool, cached).await, 1);
    app.pool
        .get()
        .await
        .unwrap()
        .execute(
            "UPDATE kelurahan SET name = name WHERE code = (SELECT min(code) FROM kelurahan)",
            &[],
        )
        .await
        .unwrap();
    let forgotten = "SELECT count(*) FROM gap_auto_cell WHERE cell_m IS NULL AND generation > 0";
    assert_eq!(count(&app.pool, forgotten).await, 1);
    let (first, _) = caught_up(&app).await;

    let set = common::sigap_cli(&app.db, &["gap", "cell-size", "1000"]).await;
    assert!(set.status.success(), "{set:?}");
    assert!(String::from_utf8_lossy(&set.stdout).contains("1000 m"));
    let (second, _) = caught_up(&app).await;
    assert!(second > first, "changing the size refreshes the live run");
    let (cell_m, cells_1000) = live_cells(&app, second).await;
    assert_eq!(cell_m, 1000.0);
    assert!(
        cells_1000 < cells_500,
        "{cells_1000} cells of 1 km against {cells_500} of 500 m"
    );
    let latest: serde_json::Value = app.get_json("/api/analysis/gap/latest").await;
    assert_eq!(latest["id"], second);

    // A 500 m run is now a planner's run: it never replaces the live one.
    let (_, today) = gap_store::change_mark(&app.pool).await.unwrap();
    let other = run::run(
        &app.pool,
        &GapParams::defaults(today, DEFAULT_CELL_M),
        &|_, _| {},
    )
    .await
    .unwrap();
    let info = gap_store::get_run(&app.pool, other.id)
        .await
        .unwrap()
        .unwrap();
    assert!(!info.is_default && !info.live);
    let latest: serde_json::Value = app.get_json("/api/analysis/gap/latest").await;
    assert_eq!(latest["id"], second);

    let bad = common::sigap_cli(&app.db, &["gap", "cell-size", "20"]).await;
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("from 50 to 50000 metres"));

    let auto = common::sigap_cli(&app.db, &["gap", "cell-size", "auto"]).await;
    assert!(auto.status.success(), "{auto:?}");
    assert!(String::from_utf8_lossy(&auto.stdout).contains("500 m"));
    let (third, _) = caught_up(&app).await;
    assert!(third > second);
    assert_eq!(live_cells(&app, third).await, (DEFAULT_CELL_M, cells_500));
}
