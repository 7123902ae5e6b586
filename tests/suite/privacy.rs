//! Privacy of small numbers: no public path (OGC items as JSON and HTML, CSV, GeoPackage and
//! Shapefile exports, vector tiles) shows a household count below the threshold for a hexagon
//! cell, nor anything computed from one; staff read the exact figures; the threshold is
//! configurable.

use crate::common;

use serde_json::Value;
use sigap::analysis::gap::{GapParams, DEFAULT_CELL_M};
use sigap::analysis::run;
use sigap::store::gap as gap_store;

use common::mvt::{ogrinfo_tile_features, tile_of};
use common::{gdal_tool, serve_with, TestApp, TestDb};

/// The Bandung sample with today's default (live) gap run, served with `threshold`.
async fn app_with(threshold: u32) -> (TestApp, i64) {
    let db = TestDb::new(true).await;
    let pool = db.pool();
    let (_, today) = gap_store::change_mark(&pool).await.unwrap();
    let id = run::run(
        &pool,
        &GapParams::defaults(today, DEFAULT_CELL_M),
        &|_, _| {},
    )
    .await
    .unwrap()
    .id;
    let app = serve_with(db, |c| c.suppress_below = threshold).await;
    (app, id)
}

/// Exact figures of the run's cells: id → (low-income households, uncovered).
async fn exact(app: &TestApp, run: i64) -> std::collections::HashMap<String, (f64, f64)> {
    let client = app.pool.get().await.unwrap();
    client
        .query(
            "SELECT cell_i || '_' || cell_j, low_income_households, low_income_uncovered
             FROM gap_cell WHERE run_id = $1",
            &[&run],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), (r.get(1), r.get(2))))
        .collect()
}

fn small(v: f64, t: f64) -> bool {
    v > 0.0 && v < t
}

#[tokio::test(flavor = "multi_thread")]
async fn small_cell_counts_never_leave_on_public_paths() {
    let (app, run) = app_with(10).await;
    let exact = exact(&app, run).await;
    let withheld: Vec<&String> = exact
        .iter()
        .filter(|(_, (h, u))| small(*h, 10.0) || small(*u, 10.0))
        .map(|(k, _)| k)
        .collect();
    assert!(
        !withheld.is_empty(),
        "the sample has cells with few households"
    );
    assert!(withheld.len() < exact.len(), "and cells with many");

    // OGC items (GeoJSON): withheld cells carry the flag and no count or derived figure.
    let items: Value = app
        .get_json("/ogc/collections/gap_cells/items?limit=10000")
        .await;
    let features = items["features"].as_array().unwrap();
    assert_eq!(features.len(), exact.len());
    for f in features {
        let id = f["id"].as_str().unwrap();
        let p = &f["properties"];
        let (h, u) = exact[id];
        let hidden = small(h, 10.0) || small(u, 10.0);
        assert_eq!(p["households_suppressed"], hidden, "{id}");
        for k in ["low_income_households", "low_income_uncovered"] {
            if let Some(v) = p[k].as_f64() {
                assert!(v == 0.0 || v >= 9.95, "{id}: {k} = {v} is public");
            }
        }
        if hidden {
            for k in ["covered_pct", "need", "gap_score", "rank", "class"] {
                assert!(p[k].is_null(), "{id}: {k} would give the count back");
            }
        } else {
            assert!((p["low_income_households"].as_f64().unwrap() - h).abs() < 0.051);
        }
    }

    // HTML shows "< 10" where JSON has null.
    let html = app
        .get_text("/ogc/collections/gap_cells/items?limit=10000&f=html")
        .await;
    assert!(html.contains("&lt; 10"));

    // CSV: the flag column; no small numbers in the count columns.
    let csv = app
        .get_text("/ogc/collections/gap_cells/items?limit=10000&f=csv")
        .await;
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (hh, un, flag) = (
        col("low_income_households"),
        col("low_income_uncovered"),
        col("households_suppressed"),
    );
    let mut flagged = 0;
    for line in lines {
        let cells: Vec<&str> = line.split(',').collect();
        for i in [hh, un] {
            if let Ok(v) = cells[i].parse::<f64>() {
                assert!(v == 0.0 || v >= 9.95, "CSV shows {v}");
            }
        }
        if cells[flag] == "true" {
            flagged += 1;
        }
    }
    assert_eq!(flagged, withheld.len());

    // GeoPackage and Shapefile, read back with GDAL.
    let dir = tempfile::tempdir().unwrap();
    for (f, file) in [("gpkg", "cells.gpkg"), ("shp", "cells.zip")] {
        let bytes = app
            .http
            .get(app.url(&format!(
                "/ogc/collections/gap_cells/items?limit=10000&f={f}"
            )))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        let path = dir.path().join(file);
        std::fs::write(&path, &bytes).unwrap();
        let src = if f == "shp" {
            format!("/vsizip/{}", path.display())
        } else {
            path.display().to_string()
        };
        // Every count field (the Shapefile's names are cut to 10 characters: `low_income`,
        // `low_inco_1`), feature by feature.
        let out = gdal_tool("ogrinfo", &["-ro", "-al", "-q", &src]).await;
        let text = String::from_utf8_lossy(&out.stdout);
        let mut counts = 0;
        for line in text.lines().map(str::trim) {
            if line.starts_with("low_inco") && line.contains("(Real) = ") {
                counts += 1;
                let v = line.rsplit(" = ").next().unwrap();
                if let Ok(v) = v.parse::<f64>() {
                    assert!(v == 0.0 || v >= 9.95, "{f} shows {line}");
                }
            }
        }
        assert!(counts >= 2 * exact.len(), "{f}: read {counts} count fields");
    }

    // Tiles: decode every cell feature of a busy tile.
    let client = app.pool.get().await.unwrap();
    let (lon, lat): (f64, f64) = {
        let id = withheld[0];
        let r = client
            .query_one(
                "SELECT ST_X(ST_Centroid(geom)), ST_Y(ST_Centroid(geom)) FROM gap_cell
                 WHERE run_id = $1 AND cell_i || '_' || cell_j = $2",
                &[&run, id],
            )
            .await
            .unwrap();
        (r.get(0), r.get(1))
    };
    let t = tile_of(lon, lat, 14);
    let bytes = app
        .get_bytes(&format!("/tiles/gap_cells/{}/{}/{}.mvt", t.0, t.1, t.2))
        .await;
    let info = ogrinfo_tile_features(&bytes, t).await;
    assert!(info.contains("households_suppressed"), "{info}");
    for line in info.lines() {
        let line = line.trim();
        for k in [
            "low_income_households (Real) = ",
            "low_income_uncovered (Real) = ",
        ] {
            if let Some(v) = line.strip_prefix(k) {
                let v: f64 = v.parse().unwrap();
                assert!(v == 0.0 || v >= 9.95, "tile shows {line}");
            }
        }
    }

    // Staff read the exact figures; the public and residents cannot.
    let (_, planner) = common::user(&app, "perencana", "planner", None).await;
    let res = app
        .http
        .get(app.url(&format!("/api/analysis/gap/{run}/cells")))
        .bearer_auth(&planner)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let cells: Value = res.json().await.unwrap();
    // Every withheld cell, to the last bit.
    let staff = cells["features"].as_array().unwrap();
    for id in &withheld {
        let f = staff.iter().find(|f| f["id"] == **id).unwrap();
        let p = &f["properties"];
        assert_eq!(
            (
                p["low_income_households"].as_f64().unwrap(),
                p["low_income_uncovered"].as_f64().unwrap()
            ),
            exact[*id],
            "{id}"
        );
    }
    let res = app
        .http
        .get(app.url(&format!("/api/analysis/gap/{run}/cells")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let (_, resident) = common::user(&app, "warga", "resident", None).await;
    let res = app
        .http
        .get(app.url(&format!("/api/analysis/gap/{run}/cells")))
        .bearer_auth(&resident)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_threshold_is_configurable() {
    // Off: every count public, none flagged.
    let (app, run) = app_with(0).await;
    let exact = exact(&app, run).await;
    let items: Value = app
        .get_json("/ogc/collections/gap_cells/items?limit=10000")
        .await;
    let features = items["features"].as_array().unwrap();
    assert!(features
        .iter()
        .all(|f| f["properties"]["households_suppressed"] == false));
    assert!(features
        .iter()
        .all(|f| f["properties"]["low_income_households"].is_number()));
    // Stricter: 50 withholds more cells than 10 would.
    let (strict, run50) = app_with(50).await;
    let exact50 = self::exact(&strict, run50).await;
    let items: Value = strict
        .get_json("/ogc/collections/gap_cells/items?limit=10000")
        .await;
    let flagged = items["features"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["properties"]["households_suppressed"] == true)
        .count();
    let expected = exact50
        .values()
        .filter(|(h, u)| small(*h, 50.0) || small(*u, 50.0))
        .count();
    assert_eq!(flagged, expected);
    let at10 = exact
        .values()
        .filter(|(h, u)| small(*h, 10.0) || small(*u, 10.0))
        .count();
    assert!(flagged > at10);
}
