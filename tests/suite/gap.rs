//! Gap analysis against real PostGIS: hand-computable cases on synthetic squares drawn in
//! ESRI:54034 (the equal-area CRS the analysis measures in), reproducibility, the HTTP and command-line interfaces, and (on the Bandung
//! sample) every kelurahan's covered fraction against an independent computation with `geo`.

use crate::common;

use chrono::NaiveDate;
use common::{sigap_cli, spawn_app, user, TestDb};
use deadpool_postgres::Pool;
use serde_json::{json, Value};
use sigap::analysis::gap::{GapParams, DEFAULT_CELL_M};
use sigap::analysis::run;

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
}

/// Origin of the synthetic squares, in ESRI:54034 metres (near Bandung).
const X0: f64 = 11_978_000.0;
const Y0: f64 = -763_000.0;

/// A region, kecamatan 32.73.01 and three 1 km × 1 km kelurahan side by side along x:
/// 1001 at [0, 1000], 1002 at [1000, 2000], 1003 at [2000, 3000] (metres from X0, Y0).
async fn fixture(pool: &Pool) {
    let client = pool.get().await.expect("client");
    client
        .batch_execute(&format!(
            "INSERT INTO region (code, name, geom) VALUES ('32.73', 'Kota Uji',
                 ST_Multi(ST_Transform(ST_MakeEnvelope({x0} - 500, {y0} - 500, {x0} + 3500, {y0} + 1500, 54034), 4326)));
             INSERT INTO kecamatan (code, name, region_code, geom) VALUES ('32.73.01', 'Satu', '32.73',
                 ST_Multi(ST_Transform(ST_MakeEnvelope({x0}, {y0}, {x0} + 3000, {y0} + 1000, 54034), 4326)));
             INSERT INTO kelurahan (code, name, kecamatan_code, geom)
             SELECT '32.73.01.' || (1001 + n), 'Kel ' || n, '32.73.01',
                    ST_Multi(ST_Transform(ST_MakeEnvelope({x0} + n * 1000, {y0}, {x0} + (n + 1) * 1000, {y0} + 1000, 54034), 4326))
             FROM generate_series(0, 2) n;
             INSERT INTO indicator (kelurahan_code, year, population, households, low_income_households)
             SELECT code, 2024, 1000, 400, 100 FROM kelurahan;
             INSERT INTO partner (code, name, type) VALUES
                 ('mitra-a', 'Mitra A', 'lsm'), ('mitra-b', 'Mitra B', 'swasta');",
            x0 = X0,
            y0 = Y0
        ))
        .await
        .expect("fixture");
}

async fn program(pool: &Pool, code: &str, partner: &str, ty: &str, from: &str, to: &str) {
    let client = pool.get().await.expect("client");
    client
        .execute(
            "INSERT INTO program (code, name, partner_code, type, start_date, end_date)
             VALUES ($1, $1, $2, $3, $4::text::date, $5::text::date)",
            &[&code, &partner, &ty, &from, &to],
        )
        .await
        .expect("program");
}

/// A rectangle of coverage [x1, x2] × [y1, y2] in metres from the origin.
async fn cover(pool: &Pool, code: &str, program: &str, rect: [f64; 4], from: &str, to: &str) {
    let client = pool.get().await.expect("client");
    client
        .execute(
            "INSERT INTO coverage (code, program_code, geom, valid_from, valid_to)
             VALUES ($1, $2, ST_Multi(ST_Transform(ST_MakeEnvelope($3::float8 + $7::float8, $4::float8 + $8::float8, $5::float8 + $7::float8, $6::float8 + $8::float8, 54034), 4326)),
                     $9::text::date, $10::text::date)",
            &[
                &code, &program, &rect[0], &rect[1], &rect[2], &rect[3], &X0, &Y0, &from, &to,
            ],
        )
        .await
        .expect("coverage");
}

/// The fixture with one program (p1, UKM, all of 2026) covering `rect` through coverage c1.
async fn one_program_covering(rect: [f64; 4]) -> (TestDb, Pool) {
    let db = TestDb::new(false).await;
    let pool = db.pool();
    fixture(&pool).await;
    program(&pool, "p1", "mitra-a", "ukm", "2026-01-01", "2026-12-31").await;
    cover(&pool, "c1", "p1", rect, "2026-01-01", "2026-12-31").await;
    (db, pool)
}

async fn run_at(pool: &Pool, as_of: &str) -> i64 {
    run::run(
        pool,
        &GapParams::defaults(date(as_of), DEFAULT_CELL_M),
        &|_, _| {},
    )
    .await
    .expect("gap run")
    .id
}

async fn fractions(pool: &Pool, run_id: i64) -> Vec<(String, f64)> {
    let client = pool.get().await.expect("client");
    client
        .query(
            "SELECT kelurahan_code, covered_fraction FROM gap_kelurahan WHERE run_id = $1 ORDER BY 1",
            &[&run_id],
        )
        .await
        .expect("fractions")
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

fn assert_close(actual: f64, expected: f64, what: &str) {
    assert!(
        (actual - expected).abs() < 1e-6,
        "{what}: {actual} is not {expected}"
    );
}

#[tokio::test]
async fn half_covered_square_is_fifty_percent() {
    let (_db, pool) = one_program_covering([0.0, 0.0, 500.0, 1000.0]).await;
    let id = run_at(&pool, "2026-06-01").await;
    let f = fractions(&pool, id).await;
    assert_close(f[0].1, 0.5, "1001");
    assert_close(f[1].1, 0.0, "1002");
    let client = pool.get().await.expect("client");
    let row = client
        .query_one(
            "SELECT people_covered, low_income_uncovered, programs, partners FROM gap_kelurahan
             WHERE run_id = $1 AND kelurahan_code = '32.73.01.1001'",
            &[&id],
        )
        .await
        .expect("row");
    assert_close(row.get::<_, f64>(0), 500.0, "people covered");
    assert_close(row.get::<_, f64>(1), 50.0, "low-income uncovered");
    assert_eq!((row.get::<_, i32>(2), row.get::<_, i32>(3)), (1, 1));
}

/// A kelurahan PostGIS cannot measure (here PROJ refuses it: a geometry moved past the pole,
/// valid as planar coordinates, as a corrupt row could be) is named in the run's summary with
/// PostGIS's reason and left out; the run still completes and the others are measured exactly.
#[tokio::test]
async fn a_kelurahan_postgis_cannot_measure_is_named_not_fatal() {
    let (_db, pool) = one_program_covering([0.0, 0.0, 500.0, 1000.0]).await;
    let client = pool.get().await.expect("client");
    client
        .execute(
            "UPDATE kelurahan SET geom = ST_Translate(geom, 0, 100) WHERE code = '32.73.01.1003'",
            &[],
        )
        .await
        .expect("move 1003 past the pole");
    let outcome = run::run(
        &pool,
        &GapParams::defaults(date("2026-06-01"), DEFAULT_CELL_M),
        &|_, _| {},
    )
    .await
    .expect("the run completes");
    let failures = outcome.summary["failures"].as_array().expect("failures");
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert_eq!(failures[0]["kelurahan_code"], "32.73.01.1003");
    let message = failures[0]["message"].as_str().expect("message");
    assert!(message.contains("transform"), "{message}");
    assert_eq!(outcome.summary["kelurahan"], 2);
    let f = fractions(&pool, outcome.id).await;
    assert_eq!(f.len(), 2, "{f:?}");
    assert_close(f[0].1, 0.5, "1001");
    assert_close(f[1].1, 0.0, "1002");
}

#[tokio::test]
async fn overlapping_coverages_do_not_count_twice() {
    let db = TestDb::new(false).await;
    let pool = db.pool();
    fixture(&pool).await;
    program(&pool, "p1", "mitra-a", "ukm", "2026-01-01", "2026-12-31").await;
    program(&pool, "p2", "mitra-b", "ukm", "2026-01-01", "2026-12-31").await;
    // 1001: [0, 600] and [300, 700] → 0.7 of the square, not 0.6 + 0.4.
    cover(
        &pool,
        "c1",
        "p1",
        [0.0, 0.0, 600.0, 1000.0],
        "2026-01-01",
        "2026-12-31",
    )
    .await;
    cover(
        &pool,
        "c2",
        "p2",
        [300.0, 0.0, 700.0, 1000.0],
        "2026-01-01",
        "2026-12-31",
    )
    .await;
    // 1003: the same area twice → 0.25.
    cover(
        &pool,
        "c3",
        "p1",
        [2000.0, 0.0, 2500.0, 500.0],
        "2026-01-01",
        "2026-12-31",
    )
    .await;
    cover(
        &pool,
        "c4",
        "p1",
        [2000.0, 0.0, 2500.0, 500.0],
        "2026-01-01",
        "2026-12-31",
    )
    .await;
    let id = run_at(&pool, "2026-06-01").await;
    let f = fractions(&pool, id).await;
    assert_close(f[0].1, 0.7, "1001");
    assert_close(f[2].1, 0.25, "1003");

    // Two partners running ukm in 1001 overlap on [300, 600] × [0, 1000] = 300 000 m².
    let client = pool.get().await.expect("client");
    let rows = client
        .query(
            "SELECT kelurahan_code, program_type, partner_codes, overlap_m2 FROM gap_overlap
             WHERE run_id = $1 ORDER BY 1",
            &[&id],
        )
        .await
        .expect("overlap");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].get::<_, String>(0), "32.73.01.1001");
    assert_eq!(
        rows[0].get::<_, Vec<String>>(2),
        vec!["mitra-a".to_owned(), "mitra-b".to_owned()]
    );
    assert!((rows[0].get::<_, f64>(3) - 300_000.0).abs() < 1.0);
}

#[tokio::test]
async fn coverage_across_a_border_splits() {
    let (_db, pool) = one_program_covering([800.0, 0.0, 1300.0, 1000.0]).await;
    let id = run_at(&pool, "2026-06-01").await;
    let f = fractions(&pool, id).await;
    assert_close(f[0].1, 0.2, "1001");
    assert_close(f[1].1, 0.3, "1002");
    assert_close(f[2].1, 0.0, "1003");
    // The kecamatan: 0.5 km² of 3 km².
    let client = pool.get().await.expect("client");
    let k: f64 = client
        .query_one(
            "SELECT covered_fraction FROM gap_kecamatan WHERE run_id = $1",
            &[&id],
        )
        .await
        .expect("kecamatan")
        .get(0);
    assert_close(k, 0.5 / 3.0, "kecamatan");
}

#[tokio::test]
async fn programs_outside_their_dates_count_for_nothing() {
    let db = TestDb::new(false).await;
    let pool = db.pool();
    fixture(&pool).await;
    // Program over: its coverage still says 2026, but the program ended in 2025.
    program(&pool, "old", "mitra-a", "ukm", "2025-01-01", "2025-12-31").await;
    cover(
        &pool,
        "c1",
        "old",
        [0.0, 0.0, 1000.0, 1000.0],
        "2025-01-01",
        "2026-12-31",
    )
    .await;
    // Program running, but this coverage's own period is over.
    program(&pool, "now", "mitra-b", "ukm", "2026-01-01", "2026-12-31").await;
    cover(
        &pool,
        "c2",
        "now",
        [1000.0, 0.0, 2000.0, 1000.0],
        "2026-01-01",
        "2026-03-31",
    )
    .await;
    // Not started yet.
    cover(
        &pool,
        "c3",
        "now",
        [2000.0, 0.0, 3000.0, 1000.0],
        "2026-09-01",
        "2026-12-31",
    )
    .await;
    let id = run_at(&pool, "2026-06-01").await;
    for (code, f) in fractions(&pool, id).await {
        assert_close(f, 0.0, &code);
    }
    // The same data on a date where each is active.
    let id = run_at(&pool, "2025-06-01").await;
    assert_close(fractions(&pool, id).await[0].1, 1.0, "1001 in 2025");
    let id = run_at(&pool, "2026-02-01").await;
    assert_close(fractions(&pool, id).await[1].1, 1.0, "1002 in Feb 2026");
}

#[tokio::test]
async fn followup_gap_when_no_mentoring_follows_training() {
    let db = TestDb::new(false).await;
    let pool = db.pool();
    fixture(&pool).await;
    program(
        &pool,
        "latih",
        "mitra-a",
        "pelatihan_kerja",
        "2025-01-01",
        "2025-06-30",
    )
    .await;
    program(
        &pool,
        "damping",
        "mitra-b",
        "pendampingan",
        "2025-09-01",
        "2026-03-31",
    )
    .await;
    // Training over 1001 and 1002; mentoring only reaches 1002, two months after.
    cover(
        &pool,
        "t1",
        "latih",
        [0.0, 0.0, 2000.0, 1000.0],
        "2025-01-01",
        "2025-06-30",
    )
    .await;
    cover(
        &pool,
        "m1",
        "damping",
        [1000.0, 0.0, 2000.0, 1000.0],
        "2025-09-01",
        "2026-03-31",
    )
    .await;
    let id = run_at(&pool, "2026-06-01").await;
    let client = pool.get().await.expect("client");
    let rows = client
        .query(
            "SELECT kelurahan_code, program_code, training_ended, window_closed FROM gap_followup
             WHERE run_id = $1 ORDER BY 1",
            &[&id],
        )
        .await
        .expect("followup");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].get::<_, String>(0), "32.73.01.1001");
    assert_eq!(rows[0].get::<_, NaiveDate>(2), date("2025-06-30"));
    assert_eq!(rows[0].get::<_, NaiveDate>(3), date("2025-12-30"));
    // Before the window closes it is not a gap yet.
    let id = run_at(&pool, "2025-10-01").await;
    let n: i64 = client
        .query_one(
            "SELECT count(*) FROM gap_followup WHERE run_id = $1",
            &[&id],
        )
        .await
        .expect("count")
        .get(0);
    assert_eq!(n, 0);
}

#[tokio::test]
async fn population_weights_spread_people() {
    let (_db, pool) = one_program_covering([0.0, 0.0, 500.0, 1000.0]).await;
    let client = pool.get().await.expect("client");
    // In 1001: weight 1 in the covered half, 3 in the other half → a quarter of people covered.
    client
        .execute(
            "INSERT INTO population_weight (geom, weight) VALUES
               (ST_Transform(ST_SetSRID(ST_MakePoint($1::float8 + 250, $2::float8 + 500), 54034), 4326), 1),
               (ST_Transform(ST_SetSRID(ST_MakePoint($1::float8 + 750, $2::float8 + 500), 54034), 4326), 3)",
            &[&X0, &Y0],
        )
        .await
        .expect("weights");
    let id = run_at(&pool, "2026-06-01").await;
    let row = client
        .query_one(
            "SELECT covered_fraction, people_fraction, people_covered, r.population_weighted
             FROM gap_kelurahan g JOIN gap_run r ON r.id = g.run_id
             WHERE run_id = $1 AND kelurahan_code = '32.73.01.1001'",
            &[&id],
        )
        .await
        .expect("row");
    assert_close(row.get::<_, f64>(0), 0.5, "area");
    assert_close(row.get::<_, f64>(1), 0.25, "people");
    assert_close(row.get::<_, f64>(2), 250.0, "people covered");
    assert!(row.get::<_, bool>(3));
}

#[tokio::test]
async fn cells_find_pockets_and_sum_to_the_area() {
    let (_db, pool) = one_program_covering([0.0, 0.0, 1500.0, 1000.0]).await;
    let client = pool.get().await.expect("client");
    // Demand: only verified-or-later proposals count (two here), not pending or rejected ones.
    client
        .execute(
            "INSERT INTO proposal (tracking_code, geom, category, title, status)
             SELECT 'TEST-' || n, ST_Transform(ST_SetSRID(ST_MakePoint($1::float8 + 100 + n * 10, $2::float8 + 300), 54034), 4326),
                    'jalan', 'Jalan rusak ' || n, s
             FROM unnest(ARRAY['diverifikasi', 'selesai', 'diajukan', 'ditolak']) WITH ORDINALITY AS u(s, n)",
            &[&X0, &Y0],
        )
        .await
        .expect("proposals");
    let id = run_at(&pool, "2026-06-01").await;
    let demand = client
        .query_one(
            "SELECT (SELECT sum(proposals) FROM gap_cell WHERE run_id = $1),
                    (SELECT proposals FROM gap_kelurahan WHERE run_id = $1 AND kelurahan_code = '32.73.01.1001'),
                    (SELECT demand FROM gap_kelurahan WHERE run_id = $1 AND kelurahan_code = '32.73.01.1001')",
            &[&id],
        )
        .await
        .expect("demand");
    assert_eq!(demand.get::<_, i64>(0), 2);
    assert_eq!(demand.get::<_, i32>(1), 2);
    assert_close(
        demand.get::<_, f64>(2),
        1.0,
        "the only demand is the largest",
    );
    let row = client
        .query_one(
            "SELECT sum(land_m2), sum(covered_m2), sum(low_income_households),
                    sum(low_income_uncovered), count(*), bool_and(ST_IsValid(geom))
             FROM gap_cell WHERE run_id = $1",
            &[&id],
        )
        .await
        .expect("cells");
    assert_close(row.get::<_, f64>(0) / 3e6, 1.0, "cells cover the land");
    assert_close(
        row.get::<_, f64>(1) / 1.5e6,
        1.0,
        "cells cover the coverage",
    );
    assert_close(row.get::<_, f64>(2) / 300.0, 1.0, "low-income households");
    assert_close(row.get::<_, f64>(3) / 150.0, 1.0, "low-income uncovered");
    assert!(row.get::<_, i64>(4) > 3);
    assert!(row.get::<_, bool>(5));
    // The hexagons rebuilt for display have the measured cells' size (edge 500 m).
    let area: f64 = client
        .query_one(
            "SELECT max(ST_Area(ST_Transform(geom, 54034))) FROM gap_cell WHERE run_id = $1",
            &[&id],
        )
        .await
        .expect("hex")
        .get(0);
    assert!((area - 1.5 * 3f64.sqrt() * 500.0 * 500.0).abs() < 1.0);
    // A dated run is kept and read by id, but the public views serve only the live run (default
    // parameters, as of the day it was made: tests/suite/gap_live.rs).
    let n: i64 = client
        .query_one(
            "SELECT count(*) FROM gap_cells_latest WHERE run_id = $1",
            &[&id],
        )
        .await
        .expect("view")
        .get(0);
    assert_eq!(n, 0);
}

/// Every stored figure of a run except its id, as text, in a fixed order.
async fn run_fingerprint(pool: &Pool, id: i64) -> Vec<String> {
    let client = pool.get().await.expect("client");
    let mut out = Vec::new();
    for sql in [
        "SELECT to_jsonb(g) - 'run_id' FROM gap_kelurahan g WHERE run_id = $1 ORDER BY kelurahan_code",
        "SELECT to_jsonb(g) - 'run_id' FROM gap_kecamatan g WHERE run_id = $1 ORDER BY kecamatan_code",
        "SELECT to_jsonb(g) - 'run_id' - 'geom' || jsonb_build_object('wkb', encode(ST_AsBinary(geom), 'hex'))
           FROM gap_cell g WHERE run_id = $1 ORDER BY cell_i, cell_j",
        "SELECT to_jsonb(g) - 'run_id' FROM gap_followup g WHERE run_id = $1 ORDER BY 1",
        "SELECT to_jsonb(g) - 'run_id' FROM gap_overlap g WHERE run_id = $1 ORDER BY 1",
        "SELECT summary FROM gap_run WHERE id = $1",
    ] {
        for row in client.query(sql, &[&id]).await.expect("fingerprint") {
            out.push(row.get::<_, Value>(0).to_string());
        }
    }
    out
}

/// A date when the sample has the most coverage active.
async fn busiest_date(pool: &Pool) -> NaiveDate {
    let client = pool.get().await.expect("client");
    client
        .query_one(
            "SELECT d::date FROM coverage c, LATERAL (SELECT c.valid_from AS d) x
             GROUP BY 1 ORDER BY (SELECT count(*) FROM coverage c2 JOIN program p ON p.code = c2.program_code
               WHERE c2.valid_from <= x.d AND c2.valid_to >= x.d AND p.start_date <= x.d AND p.end_date >= x.d) DESC, 1
             LIMIT 1",
            &[],
        )
        .await
        .expect("busiest date")
        .get::<_, NaiveDate>(0)
}

const KEPT_TABLES: [&str; 3] = [
    "gap_kelurahan_shape",
    "gap_kelurahan_land",
    "gap_coverage_piece",
];

/// Rows in each table of what the analysis keeps of shapes (V19).
async fn kept_rows(pool: &Pool) -> Vec<i64> {
    let client = pool.get().await.expect("client");
    let mut out = Vec::new();
    for t in KEPT_TABLES {
        let sql = format!("SELECT count(*) FROM {t}");
        out.push(client.query_one(&sql, &[]).await.expect("count").get(0));
    }
    out
}

/// While `on`, every row written to the kept tables is silently dropped, so a run has to
/// compute the shapes itself (the chunk query's fallback).
async fn swallow_keeping(pool: &Pool, on: bool) {
    let client = pool.get().await.expect("client");
    for t in KEPT_TABLES {
        let sql = if on {
            format!(
                "CREATE TRIGGER swallow BEFORE INSERT OR UPDATE ON {t}
                 FOR EACH ROW EXECUTE FUNCTION swallow_row()"
            )
        } else {
            format!("DROP TRIGGER swallow ON {t}")
        };
        client.batch_execute(&sql).await.expect("trigger");
    }
}

#[tokio::test]
async fn kept_shapes_give_the_runs_computed_ones_give() {
    let db = TestDb::new(true).await;
    let pool = db.pool();
    let as_of = busiest_date(&pool).await.to_string();
    let client = pool.get().await.expect("client");
    client
        .batch_execute(
            "CREATE FUNCTION swallow_row() RETURNS trigger LANGUAGE plpgsql AS
             $$ BEGIN RETURN NULL; END $$",
        )
        .await
        .expect("function");

    // Nothing kept: the run computes every shape itself.
    swallow_keeping(&pool, true).await;
    let computed = run_at(&pool, &as_of).await;
    assert_eq!(kept_rows(&pool).await, vec![0, 0, 0]);
    swallow_keeping(&pool, false).await;

    // Kept by the next run, read by it and by the one after: the same run, field by field.
    let cold = run_at(&pool, &as_of).await;
    let kept = kept_rows(&pool).await;
    let kelurahan: i64 = client
        .query_one("SELECT count(*) FROM kelurahan", &[])
        .await
        .expect("count")
        .get(0);
    assert_eq!(
        kept[..2],
        [kelurahan, kelurahan],
        "shape and land of every kelurahan"
    );
    assert!(kept[2] > 0, "coverage pieces kept");
    let warm = run_at(&pool, &as_of).await;
    let expected = run_fingerprint(&pool, computed).await;
    assert_eq!(
        run_fingerprint(&pool, cold).await,
        expected,
        "cold run differs"
    );
    assert_eq!(
        run_fingerprint(&pool, warm).await,
        expected,
        "warm run differs"
    );

    // What is kept is what a run reads: pieces emptied behind its back (sources unchanged) show.
    client
        .batch_execute("UPDATE gap_coverage_piece SET g = NULL")
        .await
        .expect("tamper");
    let tampered = run_at(&pool, &as_of).await;
    let covered: f64 = client
        .query_one(
            "SELECT sum(covered_fraction) FROM gap_kelurahan WHERE run_id = $1",
            &[&tampered],
        )
        .await
        .expect("covered")
        .get(0);
    assert_eq!(covered, 0.0, "the run read the kept pieces");

    // A reshaped coverage area and a reshaped kelurahan are not matched by what was kept from
    // their old shapes: the next run clips them again and equals a run that computed everything.
    client
        .batch_execute("TRUNCATE gap_coverage_piece")
        .await
        .expect("forget the tampered pieces");
    assert_eq!(
        run_fingerprint(&pool, run_at(&pool, &as_of).await).await,
        expected
    );
    client
        .batch_execute(
            "UPDATE coverage SET geom = ST_Multi(ST_Translate(geom, 0.003, 0.002))
             WHERE id IN (SELECT id FROM coverage ORDER BY id LIMIT 5);
             UPDATE kelurahan SET geom = ST_Multi(ST_Buffer(geom, -0.0005))
             WHERE code = (SELECT min(code) FROM kelurahan);",
        )
        .await
        .expect("reshape");
    let reshaped = run_at(&pool, &as_of).await;
    // Measured on the spot, then kept by that run: nothing kept is out of date now.
    let stale: i64 = client
        .query_one(
            "SELECT (SELECT count(*) FROM gap_kelurahan_shape s JOIN kelurahan k USING (code)
                     WHERE s.src <> k.geom_md5)
                  + (SELECT count(*) FROM gap_coverage_piece p
                     JOIN coverage c ON c.id = p.coverage_id
                     WHERE p.cov_src <> c.geom_md5)",
            &[],
        )
        .await
        .expect("stale")
        .get(0);
    assert_eq!(stale, 0, "the reshaped shapes were kept again");
    client
        .batch_execute("TRUNCATE gap_kelurahan_shape, gap_kelurahan_land, gap_coverage_piece")
        .await
        .expect("forget");
    swallow_keeping(&pool, true).await;
    let recomputed = run_at(&pool, &as_of).await;
    assert_eq!(
        run_fingerprint(&pool, reshaped).await,
        run_fingerprint(&pool, recomputed).await,
        "a run after reshaping differs from one that computed every shape"
    );
}

#[tokio::test]
async fn the_bandung_sample_matches_an_independent_computation() {
    use geo::{Area, BooleanOps, MultiPolygon};

    let db = TestDb::new(true).await;
    let pool = db.pool();
    let as_of = busiest_date(&pool).await;
    let a = run_at(&pool, &as_of.to_string()).await;
    let b = run_at(&pool, &as_of.to_string()).await;
    assert_eq!(
        run_fingerprint(&pool, a).await,
        run_fingerprint(&pool, b).await,
        "two runs with the same inputs differ"
    );

    // The second formulation: decode ESRI:54034 shapes into `geo`, union all active coverage,
    // intersect with each kelurahan.
    let client = pool.get().await.expect("client");
    let to_geo = |json: String| -> MultiPolygon<f64> {
        let g: geojson::Geometry = json.parse().expect("geojson");
        match geo::Geometry::<f64>::try_from(g).expect("geo") {
            geo::Geometry::MultiPolygon(m) => m,
            geo::Geometry::Polygon(p) => MultiPolygon(vec![p]),
            other => panic!("not a polygon: {other:?}"),
        }
    };
    let coverage: Vec<MultiPolygon<f64>> = client
        .query(
            "SELECT ST_AsGeoJSON(ST_Transform(c.geom, 54034), 9) FROM coverage c
             JOIN program p ON p.code = c.program_code
             WHERE c.valid_from <= $1 AND c.valid_to >= $1 AND p.start_date <= $1 AND p.end_date >= $1
             ORDER BY c.id",
            &[&as_of],
        )
        .await
        .expect("coverage")
        .into_iter()
        .map(|r| to_geo(r.get(0)))
        .collect();
    assert!(!coverage.is_empty(), "the sample has active coverage");
    let union = coverage
        .iter()
        .fold(MultiPolygon::<f64>(vec![]), |acc, c| acc.union(c));
    let kelurahan = client
        .query(
            "SELECT code, ST_AsGeoJSON(ST_Transform(geom, 54034), 9) FROM kelurahan ORDER BY code",
            &[],
        )
        .await
        .expect("kelurahan");
    let ours = fractions(&pool, a).await;
    assert_eq!(ours.len(), kelurahan.len());
    let mut some_partly_covered = false;
    for (row, (code, fraction)) in kelurahan.iter().zip(&ours) {
        assert_eq!(&row.get::<_, String>(0), code);
        let k = to_geo(row.get(1));
        let expected = k.intersection(&union).unsigned_area() / k.unsigned_area();
        assert!(
            (fraction - expected).abs() < 1e-6,
            "{code}: PostGIS {fraction}, geo {expected}"
        );
        some_partly_covered |= *fraction > 0.01 && *fraction < 0.99;
    }
    assert!(some_partly_covered, "the sample exercises partial coverage");
}

#[tokio::test]
async fn http_starts_and_reads_runs() {
    let app = spawn_app(false).await;
    fixture(&app.pool).await;
    let (_, planner) = user(&app, "perencana", "planner", None).await;
    let (_, resident) = user(&app, "warga", "resident", None).await;
    // Starting a run is for planners, officials and admins.
    let res = app
        .http
        .post(app.url("/api/analysis/gap"))
        .json(&json!({}))
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 401);
    let res = app
        .http
        .post(app.url("/api/analysis/gap"))
        .bearer_auth(&resident)
        .json(&json!({}))
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 403);
    program(
        &app.pool,
        "p1",
        "mitra-a",
        "ukm",
        "2026-01-01",
        "2026-12-31",
    )
    .await;
    cover(
        &app.pool,
        "c1",
        "p1",
        [0.0, 0.0, 500.0, 1000.0],
        "2026-01-01",
        "2026-12-31",
    )
    .await;

    let res = app
        .http
        .get(app.url("/api/analysis/gap/latest"))
        .send()
        .await
        .expect("latest");
    assert_eq!(res.status(), 404);

    let res = app
        .http
        .post(app.url("/api/analysis/gap"))
        .bearer_auth(&planner)
        .json(&json!({ "as_of": "2026-06-01" }))
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 201);
    let id = res.json::<Value>().await.expect("json")["id"]
        .as_i64()
        .expect("id");

    let run: Value = app
        .http
        .get(app.url(&format!("/api/analysis/gap/{id}")))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(run["id"], id);
    assert_eq!(run["params"]["as_of"], "2026-06-01");
    assert_eq!(run["params"]["cell_m"], 500.0);
    assert_eq!(run["params"]["weights"]["share"], 0.5);
    assert_eq!(run["summary"]["kelurahan"], 3);
    assert!((run["summary"]["covered_pct"].as_f64().expect("pct") - 100.0 / 6.0).abs() < 1e-6);

    // A dated run (as of 2026-06-01, not today) is not what the public map shows.
    let res = app
        .http
        .get(app.url("/api/analysis/gap/latest"))
        .send()
        .await
        .expect("latest");
    assert_eq!(res.status(), 404);

    // A filtered run is stored but is not what the public map shows either.
    let res = app
        .http
        .post(app.url("/api/analysis/gap"))
        .bearer_auth(&planner)
        .json(
            &json!({ "as_of": "2026-06-01", "program_type": "pendampingan",
                       "weights": { "share": 1, "density": 0, "demand": 0, "support": 0 } }),
        )
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 201);
    let other = res.json::<Value>().await.expect("json")["id"]
        .as_i64()
        .expect("id");
    let res = app
        .http
        .get(app.url("/api/analysis/gap/latest"))
        .send()
        .await
        .expect("latest");
    assert_eq!(res.status(), 404);

    let cmp: Value = app
        .http
        .get(app.url(&format!("/api/analysis/gap/compare?a={id}&b={other}")))
        .send()
        .await
        .expect("compare")
        .json()
        .await
        .expect("json");
    let changes = cmp["changes"].as_array().expect("changes");
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0]["kelurahan_code"], "32.73.01.1001");
    assert!((changes[0]["delta"].as_f64().expect("delta") + 0.5).abs() < 1e-9);
}

#[tokio::test]
async fn http_refuses_bad_parameters_in_both_languages() {
    let app = spawn_app(false).await;
    let (_, planner) = user(&app, "perencana", "planner", None).await;
    for (body, field) in [
        (json!({ "as_of": "1 Juni" }), "as_of"),
        (json!({ "program_type": "sulap" }), "program_type"),
        (json!({ "cell_m": 5 }), "cell_m"),
        (json!({ "weights": { "share": -1 } }), "weights"),
        (
            json!({ "weights": { "share": 0, "density": 0 } }),
            "weights",
        ),
    ] {
        for lang in ["id", "en"] {
            let res = app
                .http
                .post(app.url("/api/analysis/gap"))
                .bearer_auth(&planner)
                .header("accept-language", lang)
                .json(&body)
                .send()
                .await
                .expect("post");
            assert_eq!(res.status(), 422, "{body}");
            assert_eq!(
                res.headers()["content-type"],
                "application/problem+json",
                "{body}"
            );
            let problem: Value = res.json().await.expect("problem");
            assert_eq!(problem["errors"][0]["field"], field, "{body}");
            assert!(problem["detail"].as_str().is_some_and(|d| !d.is_empty()));
        }
    }
    let res = app
        .http
        .post(app.url("/api/analysis/gap"))
        .bearer_auth(&planner)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 400);
    let res = app
        .http
        .post(app.url("/api/analysis/gap"))
        .bearer_auth(&planner)
        .json(&json!({ "colour": "red" }))
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 400);
    let res = app
        .http
        .get(app.url("/api/analysis/gap/999999"))
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), 404);
    let res = app
        .http
        .get(app.url("/api/analysis/gap/compare?a=1"))
        .send()
        .await
        .expect("compare");
    assert_eq!(res.status(), 400);
    // Nothing was written by the refused requests.
    assert_eq!(
        common::count(&app.pool, "SELECT count(*) FROM gap_run").await,
        0
    );
}

#[tokio::test]
async fn command_line_runs_and_exports() {
    let (db, _pool) = one_program_covering([0.0, 0.0, 500.0, 1000.0]).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let gpkg = dir.path().join("gap.gpkg");
    let csv = dir.path().join("gap.csv");
    let out = sigap_cli(
        &db,
        &[
            "gap",
            "run",
            "--as-of",
            "2026-06-01",
            "--out",
            gpkg.to_str().expect("path"),
        ],
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("gap run "), "{stdout}");
    let info = common::gdal_tool("ogrinfo", &["-so", "-al", gpkg.to_str().expect("path")]).await;
    let info = String::from_utf8_lossy(&info.stdout);
    assert!(info.contains("Layer name: gap_kelurahan"), "{info}");
    assert!(info.contains("Layer name: gap_cells"), "{info}");
    assert!(info.contains("Feature Count: 3"), "{info}");

    let out = sigap_cli(
        &db,
        &[
            "gap",
            "run",
            "--as-of",
            "2026-06-01",
            "--program-type",
            "ukm",
            "--out",
            csv.to_str().expect("path"),
        ],
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&csv).expect("csv");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let pct = header
        .iter()
        .position(|h| *h == "covered_pct")
        .expect("covered_pct");
    let code = header.iter().position(|h| *h == "code").expect("code");
    assert_eq!(lines.clone().count(), 3);
    let first: Vec<&str> = lines.next().expect("row").split(',').collect();
    // WKT geometry comes first and contains commas; count fields from the end.
    let from_end = |i: usize| first[first.len() - (header.len() - i)];
    assert_eq!(from_end(code), "32.73.01.1001");
    assert!((from_end(pct).parse::<f64>().expect("pct") - 50.0).abs() < 1e-6);

    let out = sigap_cli(
        &db,
        &["gap", "run", "--cell-m", "1", "--as-of", "2026-06-01"],
    )
    .await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cell_m"));
}

#[tokio::test]
async fn population_layer_imports_points_and_polygons() {
    let db = TestDb::new(false).await;
    let pool = db.pool();
    fixture(&pool).await;
    let client = pool.get().await.expect("client");
    // Two features inside the region (a point and a polygon) and a line that must be refused.
    let features: Value = client
        .query_one(
            "SELECT jsonb_build_object('type', 'FeatureCollection', 'features', jsonb_build_array(
               jsonb_build_object('type', 'Feature', 'properties', jsonb_build_object('code', 'rt-1', 'jiwa', 120),
                 'geometry', ST_AsGeoJSON(ST_Transform(ST_SetSRID(ST_MakePoint($1::float8 + 250, $2::float8 + 500), 54034), 4326))::jsonb),
               jsonb_build_object('type', 'Feature', 'properties', jsonb_build_object('code', 'rw-2', 'jiwa', 300),
                 'geometry', ST_AsGeoJSON(ST_Transform(ST_MakeEnvelope($1::float8 + 500, $2::float8, $1::float8 + 1000, $2::float8 + 1000, 54034), 4326))::jsonb),
               jsonb_build_object('type', 'Feature', 'properties', jsonb_build_object('code', 'jalan', 'jiwa', 5),
                 'geometry', ST_AsGeoJSON(ST_Transform(ST_MakeLine(ST_SetSRID(ST_MakePoint($1::float8, $2::float8), 54034),
                                                                   ST_SetSRID(ST_MakePoint($1::float8 + 10, $2::float8), 54034)), 4326))::jsonb)))",
            &[&X0, &Y0],
        )
        .await
        .expect("features")
        .get(0);
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("penduduk.geojson");
    std::fs::write(&file, features.to_string()).expect("write");
    let path = file.to_str().expect("path");
    let out = sigap_cli(
        &db,
        &[
            "import",
            path,
            "--layer",
            "population",
            "--map",
            "weight=jiwa",
        ],
    )
    .await;
    assert!(!out.status.success(), "a line is not a population feature");
    assert!(String::from_utf8_lossy(&out.stdout).contains("wrong geometry type"));
    let out = sigap_cli(
        &db,
        &[
            "import",
            path,
            "--layer",
            "population",
            "--map",
            "weight=jiwa",
            "--skip-invalid",
        ],
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows = client
        .query(
            "SELECT code, GeometryType(geom), weight FROM population_weight ORDER BY code",
            &[],
        )
        .await
        .expect("weights");
    let got: Vec<(String, String, f64)> = rows
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    assert_eq!(
        got,
        vec![
            ("rt-1".to_owned(), "POINT".to_owned(), 120.0),
            ("rw-2".to_owned(), "POLYGON".to_owned(), 300.0)
        ]
    );
}
