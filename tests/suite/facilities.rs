//! The facility layer (OpenStreetMap puskesmas, hospitals, clinics, schools, universities):
//! importable from any GDAL format, served as an OGC collection and a tile layer with its ODbL
//! attribution everywhere, and program coverage drawn from it that follows the facilities.

use crate::common;

use serde_json::Value;

use common::mvt::{feature_count, ogrinfo_tile, tile_of};
use common::{count, gdal_tool, sigap_cli, spawn_app, TestDb};

const OSM: &str = "© OpenStreetMap contributors (ODbL-1.0)";

#[tokio::test(flavor = "multi_thread")]
async fn facilities_are_served_with_their_attribution_everywhere() {
    let app = spawn_app(true).await;
    let total = count(&app.pool, "SELECT count(*) FROM facility").await;
    assert_eq!(total, 765);

    // OGC collection metadata: attribution and a licence link.
    let doc: Value = app.get_json("/ogc/collections/facilities").await;
    assert_eq!(doc["attribution"], OSM);
    assert!(doc["links"]
        .as_array()
        .unwrap()
        .iter()
        .any(|l| l["rel"] == "license" && l["href"] == "https://www.openstreetmap.org/copyright"));
    // The boundaries carry theirs (MIT) and not OSM's.
    let kel: Value = app.get_json("/ogc/collections/kelurahan").await;
    let kel_attr = kel["attribution"].as_str().unwrap();
    assert!(kel_attr.contains("wilayah_boundaries") && kel_attr.contains("(MIT)"));
    assert!(!kel_attr.contains("OpenStreetMap"));

    // A real client: GDAL's OAPIF driver counts every facility.
    let out = gdal_tool(
        "ogrinfo",
        &["-so", &format!("OAPIF:{}", app.url("/ogc")), "facilities"],
    )
    .await;
    let info = String::from_utf8_lossy(&out.stdout);
    assert!(info.contains("Feature Count: 765"), "{info}");

    // Filtered items match the database.
    let items: Value = app
        .get_json("/ogc/collections/facilities/items?category=puskesmas&limit=100")
        .await;
    let puskesmas = count(
        &app.pool,
        "SELECT count(*) FROM facility WHERE category = 'puskesmas'",
    )
    .await;
    assert_eq!(items["numberMatched"], puskesmas);
    // A bad category names the allowed ones.
    let res = app
        .http
        .get(app.url("/ogc/collections/facilities/items?category=masjid"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);

    // TileJSON (what the map's attribution control shows) and a decoded tile.
    let tj: Value = app.get_json("/tiles/facilities.json").await;
    assert_eq!(tj["attribution"], OSM);
    let combined: Value = app.get_json("/tiles/sigap.json").await;
    let attr = combined["attribution"].as_str().unwrap();
    assert!(attr.contains(OSM) && attr.contains("(MIT)"), "{attr}");
    let row = app
        .pool
        .get()
        .await
        .unwrap()
        .query_one(
            "SELECT ST_X(geom), ST_Y(geom) FROM facility WHERE category = 'hospital' ORDER BY id LIMIT 1",
            &[],
        )
        .await
        .unwrap();
    let t = tile_of(row.get(0), row.get(1), 15);
    let bytes = app
        .get_bytes(&format!("/tiles/facilities/{}/{}/{}.mvt", t.0, t.1, t.2))
        .await;
    let info = ogrinfo_tile(&bytes, t).await;
    assert!(feature_count(&info, "facilities") >= 1, "{info}");

    // Exports: CSV column, GeoPackage layer description, ATTRIBUTION.txt in the Shapefile zip.
    let csv = app
        .get_text("/ogc/collections/facilities/items?f=csv&limit=3")
        .await;
    let mut lines = csv.lines();
    assert!(lines.next().unwrap().ends_with(",attribution,wkt,lon,lat"));
    assert!(lines.all(|l| l.contains(OSM)));
    let dir = tempfile::tempdir().unwrap();
    let gpkg = dir.path().join("f.gpkg");
    let bytes = app
        .get_bytes("/ogc/collections/facilities/items?f=gpkg&limit=3")
        .await;
    std::fs::write(&gpkg, &bytes).unwrap();
    let out = gdal_tool("ogrinfo", &["-so", gpkg.to_str().unwrap(), "facilities"]).await;
    assert!(String::from_utf8_lossy(&out.stdout)
        .contains(&format!("DESCRIPTION=Sumber / Source: {OSM}")));
    let zip = app
        .get_bytes("/ogc/collections/facilities/items?f=shp&limit=3")
        .await;
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip.to_vec())).unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(&mut archive.by_name("ATTRIBUTION.txt").unwrap(), &mut text)
        .unwrap();
    assert!(text.contains(OSM) && text.contains("openstreetmap.org/copyright"));
    // HTML items show it too.
    let html = app
        .get_text("/ogc/collections/facilities/items?f=html&limit=2")
        .await;
    assert!(html.contains("OpenStreetMap contributors"));
}

#[tokio::test(flavor = "multi_thread")]
async fn coverage_drawn_from_facilities_follows_them() {
    let db = TestDb::new(true).await;
    let pool = db.pool();
    let client = pool.get().await.unwrap();
    // The sample's rule: every puskesmas, 500 m.
    let rows = count(
        &pool,
        "SELECT count(*) FROM coverage WHERE rule_code = 'gizi-puskesmas-2025-puskesmas'",
    )
    .await;
    let puskesmas = count(
        &pool,
        "SELECT count(*) FROM facility WHERE category = 'puskesmas'",
    )
    .await;
    assert_eq!(rows, puskesmas);
    // Each is a real polygon: a 500 m geodesic circle around its facility.
    let bad = count(
        &pool,
        "SELECT count(*) FROM coverage c JOIN facility f ON f.id = c.facility_id
         WHERE abs(ST_Area(c.geom::geography) - pi() * 500 ^ 2) > 0.01 * pi() * 500 ^ 2
            OR NOT ST_Intersects(c.geom, f.geom)",
    )
    .await;
    assert_eq!(bad, 0);

    // A puskesmas moves 1 km east: its coverage moves with it.
    let id: i64 = client
        .query_one(
            "SELECT id FROM facility WHERE category = 'puskesmas' ORDER BY id LIMIT 1",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    client
        .execute(
            "UPDATE facility SET geom = ST_Translate(geom, 0.009, 0) WHERE id = $1",
            &[&id],
        )
        .await
        .unwrap();
    let d: f64 = client
        .query_one(
            "SELECT ST_Distance(ST_Centroid(c.geom)::geography, f.geom::geography)
             FROM coverage c JOIN facility f ON f.id = c.facility_id WHERE f.id = $1",
            &[&id],
        )
        .await
        .unwrap()
        .get(0);
    assert!(d < 5.0, "coverage centre {d} m from the moved puskesmas");

    // Recategorised: its row goes; a new puskesmas imported (GeoPackage): a row comes.
    client
        .execute(
            "UPDATE facility SET category = 'clinic' WHERE id = $1",
            &[&id],
        )
        .await
        .unwrap();
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM coverage WHERE rule_code IS NOT NULL"
        )
        .await,
        puskesmas - 1
    );
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("new.geojson");
    std::fs::write(
        &src,
        r#"{"type":"FeatureCollection","features":[{"type":"Feature",
            "properties":{"osm_id":"node/1","name":"Puskesmas Uji","category":"puskesmas"},
            "geometry":{"type":"Point","coordinates":[107.6100,-6.9200]}}]}"#,
    )
    .unwrap();
    let gpkg = dir.path().join("new.gpkg");
    let out = gdal_tool(
        "ogr2ogr",
        &["-f", "GPKG", gpkg.to_str().unwrap(), src.to_str().unwrap()],
    )
    .await;
    assert!(out.status.success());
    for _ in 0..2 {
        // Twice: the second import updates in place.
        let out = sigap_cli(
            &db,
            &[
                "import",
                gpkg.to_str().unwrap(),
                "--layer",
                "facility",
                "--map",
                "code=osm_id",
                "--attribution",
                "© OpenStreetMap contributors",
                "--license",
                "ODbL-1.0",
            ],
        )
        .await;
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
    assert_eq!(count(&pool, "SELECT count(*) FROM facility").await, 766);
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM coverage WHERE rule_code IS NOT NULL"
        )
        .await,
        puskesmas
    );
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM facility WHERE code = 'node/1' AND kelurahan_code IS NOT NULL"
        )
        .await,
        1
    );
    // Removing the facility removes its coverage; removing the rule removes all of it.
    client
        .execute("DELETE FROM facility WHERE code = 'node/1'", &[])
        .await
        .unwrap();
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM coverage WHERE rule_code IS NOT NULL"
        )
        .await,
        puskesmas - 1
    );
    client
        .execute("DELETE FROM coverage_rule", &[])
        .await
        .unwrap();
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM coverage WHERE rule_code IS NOT NULL"
        )
        .await,
        0
    );
    // A rule with a bad category is a named rejection, not a crash.
    let bad = dir.path().join("rules.csv");
    std::fs::write(
        &bad,
        "code,program_code,facility_category,radius_m\nr1,gizi-puskesmas-2025,masjid,500\n",
    )
    .unwrap();
    let out = sigap_cli(
        &db,
        &["import", bad.to_str().unwrap(), "--layer", "coverage_rule"],
    )
    .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stdout).contains("masjid"));
}
