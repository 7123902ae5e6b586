//! The bad-file corpus (tests/data/bad, one expected rejection per file in expected.tsv): every
//! file is imported with the real `sigap import --skip-invalid`; the bad feature is named with
//! its message and the good one loads. Nothing reaches PostgreSQL unchecked, so no file stops
//! the whole import with a database error.

use crate::common;

use std::path::PathBuf;

use common::{count, gdal_tool, repo_root, sigap_cli, TestDb};

struct Case {
    file: String,
    args: Vec<String>,
    /// `None` when feature 1 loads.
    expected: Option<String>,
}

fn corpus_dir() -> PathBuf {
    repo_root().join("tests/data/bad")
}

fn cases() -> Vec<Case> {
    let table = std::fs::read_to_string(corpus_dir().join("expected.tsv")).expect("expected.tsv");
    table
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .skip(1) // the header
        .map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            assert_eq!(cols.len(), 3, "expected.tsv: three columns in {line:?}");
            Case {
                file: cols[0].to_owned(),
                args: match cols[1] {
                    "-" => vec![],
                    a => a.split(' ').map(str::to_owned).collect(),
                },
                expected: (cols[2] != "-").then(|| cols[2].to_owned()),
            }
        })
        .collect()
}

fn text(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

async fn import(db: &TestDb, file: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["import", file, "--layer", "region"];
    args.extend_from_slice(extra);
    sigap_cli(db, &args).await
}

async fn region_codes(db: &TestDb) -> Vec<String> {
    let client = db.pool().get().await.expect("client");
    client
        .query("SELECT code FROM region ORDER BY code", &[])
        .await
        .expect("codes")
        .iter()
        .map(|r| r.get(0))
        .collect()
}

/// The codes of a corpus file's two features: 31.NN (feature 1) and 32.NN (feature 2).
async fn codes_in(db: &TestDb, file: &str) -> (String, String) {
    let path = corpus_dir().join(file);
    let out = gdal_tool(
        "ogrinfo",
        &[
            "-q",
            "-al",
            "-oo",
            "GEOM_POSSIBLE_NAMES=WKT",
            &path.to_string_lossy(),
        ],
    )
    .await;
    let _ = db;
    let listing = String::from_utf8_lossy(&out.stdout).into_owned();
    let codes: Vec<String> = listing
        .lines()
        .filter_map(|l| l.trim().strip_prefix("code (String) = "))
        .map(str::to_owned)
        .collect();
    assert_eq!(codes.len(), 2, "{file}: two features expected: {listing}");
    (codes[0].clone(), codes[1].clone())
}

#[tokio::test(flavor = "multi_thread")]
async fn every_bad_file_is_named_per_feature_and_the_rest_loads() {
    let db = TestDb::new(false).await;
    let cases = cases();
    assert!(cases.len() >= 12, "the corpus lost files: {}", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let path = corpus_dir().join(&case.file);
        let path = path.to_string_lossy();
        let mut extra: Vec<&str> = case.args.iter().map(String::as_str).collect();
        extra.push("--skip-invalid");
        let out = import(&db, &path, &extra).await;
        let report = text(&out);
        let (bad, good) = codes_in(&db, &case.file).await;
        let codes = region_codes(&db).await;
        let problem = if !out.status.success() {
            Some(format!("exit {:?}", out.status.code()))
        } else if report.contains("Postgres error") {
            Some("a database error reached the user".to_owned())
        } else if !codes.contains(&good) {
            Some(format!("the good feature {good} did not load"))
        } else {
            match &case.expected {
                Some(msg) => {
                    let named = report
                        .lines()
                        .any(|l| l.starts_with("rejected feature 1") && l.ends_with(msg.as_str()));
                    if !named {
                        Some(format!("expected {msg:?}"))
                    } else if codes.contains(&bad) {
                        Some(format!("the rejected feature {bad} loaded"))
                    } else if !report.contains("loaded 1, repaired 0, rejected 1") {
                        Some("the summary is not 1 loaded, 1 rejected".to_owned())
                    } else {
                        None
                    }
                }
                None if !codes.contains(&bad) || !report.contains("loaded 2") => {
                    Some("both features should load".to_owned())
                }
                None => None,
            }
        };
        if let Some(p) = problem {
            failures.push(format!("{}: {p}\n{report}", case.file));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n---\n"));
}

/// The issue's own case: without --skip-invalid, a three-point ring refuses the file with the
/// feature named (exit 2), not a database error, and nothing loads.
#[tokio::test(flavor = "multi_thread")]
async fn three_point_ring_refuses_the_file_by_name_without_skip_invalid() {
    let db = TestDb::new(false).await;
    let path = corpus_dir().join("ring_three_points.geojson");
    let out = import(&db, &path.to_string_lossy(), &[]).await;
    let report = text(&out);
    assert_eq!(out.status.code(), Some(2), "{report}");
    assert!(
        report.contains("ring 1 has 3 points") && report.contains("rejected feature 1"),
        "{report}"
    );
    assert!(report.contains("read 2, loaded 0"), "{report}");
    assert_eq!(count(&db.pool(), "SELECT count(*) FROM region").await, 0);
}

/// Curves in a GeoPackage (CurvePolygon) load linearised into an ordinary polygon.
#[tokio::test(flavor = "multi_thread")]
async fn gpkg_curve_polygon_loads_linearised() {
    let db = TestDb::new(false).await;
    let dir = tempfile::tempdir().unwrap();
    let gpkg = dir.path().join("curve.gpkg").to_string_lossy().into_owned();
    let csv = corpus_dir()
        .join("curve.csv")
        .to_string_lossy()
        .into_owned();
    let out = gdal_tool(
        "ogr2ogr",
        &[
            "-f",
            "GPKG",
            &gpkg,
            &csv,
            "-oo",
            "GEOM_POSSIBLE_NAMES=WKT",
            "-oo",
            "KEEP_GEOM_COLUMNS=NO",
            "-nlt",
            "CURVEPOLYGON",
            "-a_srs",
            "EPSG:4326",
        ],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out));
    let listing = text(&gdal_tool("ogrinfo", &["-q", "-al", &gpkg]).await);
    assert!(listing.contains("CURVEPOLYGON"), "{listing}");

    let out = import(&db, &gpkg, &[]).await;
    let report = text(&out);
    assert!(out.status.success(), "{report}");
    let client = db.pool().get().await.expect("client");
    let row = client
        .query_one(
            "SELECT GeometryType(geom), ST_NPoints(geom) FROM region WHERE code = '31.13'",
            &[],
        )
        .await
        .expect("the curved region");
    let kind: String = row.get(0);
    let points: i32 = row.get(1);
    assert_eq!(kind, "MULTIPOLYGON");
    assert!(points > 5, "a circle linearised into {points} points");
}
