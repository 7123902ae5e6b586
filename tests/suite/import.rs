//! `sigap import`, `sigap migrate` and `sigap sample load`, run as a user runs them, against a
//! real PostGIS.

use crate::common;

use std::path::Path;

use common::{count, gdal_tool, sigap_cli, TestDb};

const REGION: &str = r#"{"type":"FeatureCollection","features":[
 {"type":"Feature","properties":{"code":"32.73","name":"Kota Uji"},
  "geometry":{"type":"Polygon","coordinates":[[[107.5,-7.0],[107.75,-7.0],[107.75,-6.8],[107.5,-6.8],[107.5,-7.0]]]}}]}"#;
const KECAMATAN: &str = r#"{"type":"FeatureCollection","features":[
 {"type":"Feature","properties":{"code":"32.73.01","name":"Kecamatan Uji"},
  "geometry":{"type":"Polygon","coordinates":[[[107.5,-7.0],[107.75,-7.0],[107.75,-6.8],[107.5,-6.8],[107.5,-7.0]]]}}]}"#;

/// Five kelurahan in UTM 48S: a good square, a bowtie, a point, one without geometry, and a
/// second good square.
const KELURAHAN_CSV: &str = "\
code,name,WKT
32.73.01.1001,Baik Satu,\"POLYGON((784000 9234000,785000 9234000,785000 9235000,784000 9235000,784000 9234000))\"
32.73.01.1002,Dasi Kupu,\"POLYGON((786000 9234000,787000 9235000,787000 9234000,786000 9235000,786000 9234000))\"
32.73.01.1003,Cuma Titik,\"POINT(788500 9234500)\"
32.73.01.1004,Tanpa Bentuk,
32.73.01.1005,Baik Dua,\"POLYGON((789000 9234000,790000 9234000,790000 9235000,789000 9235000,789000 9234000))\"
";

async fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    tokio::fs::write(&path, text).await.expect("write fixture");
    path.to_string_lossy().into_owned()
}

async fn ogr2ogr(args: &[&str]) {
    let out = gdal_tool("ogr2ogr", args).await;
    assert!(
        out.status.success(),
        "ogr2ogr failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A test database with the region and one kecamatan, ready for kelurahan.
async fn db_with_parents(dir: &Path) -> TestDb {
    let db = TestDb::new(false).await;
    let region = write(dir, "region.geojson", REGION).await;
    let kec = write(dir, "kecamatan.geojson", KECAMATAN).await;
    for (file, layer) in [(region, "region"), (kec, "kecamatan")] {
        let out = sigap_cli(&db, &["import", &file, "--layer", layer]).await;
        assert!(
            out.status.success(),
            "{layer}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
    db
}

async fn broken_gpkg(dir: &Path) -> String {
    let csv = write(dir, "kelurahan_utm.csv", KELURAHAN_CSV).await;
    let gpkg = dir
        .join("kelurahan_utm.gpkg")
        .to_string_lossy()
        .into_owned();
    ogr2ogr(&[
        "-f",
        "GPKG",
        &gpkg,
        &csv,
        "-a_srs",
        "EPSG:32748",
        "-nlt",
        "GEOMETRY",
        "-nln",
        "kelurahan",
        "-oo",
        "GEOM_POSSIBLE_NAMES=WKT",
        "-oo",
        "KEEP_GEOM_COLUMNS=NO",
    ])
    .await;
    gpkg
}

fn text(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn gpkg_with_bad_features_loads_nothing_and_names_them() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_with_parents(dir.path()).await;
    let gpkg = broken_gpkg(dir.path()).await;

    let out = sigap_cli(&db, &["import", &gpkg, "--layer", "kelurahan"]).await;
    let report = text(&out);
    assert_eq!(out.status.code(), Some(2), "{report}");
    assert!(report.contains("repaired feature 2"), "{report}");
    assert!(report.contains("Self-intersection"), "{report}");
    assert!(
        report.contains("rejected feature 3")
            && report.contains("POINT where a polygon is expected"),
        "{report}"
    );
    assert!(
        report.contains("rejected feature 4") && report.contains("no geometry"),
        "{report}"
    );
    assert!(
        report.contains("read 5, loaded 0, repaired 1, rejected 2"),
        "{report}"
    );
    assert_eq!(count(&db.pool(), "SELECT count(*) FROM kelurahan").await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn skip_invalid_loads_the_good_and_repairs_the_bowtie_as_reported() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_with_parents(dir.path()).await;
    let gpkg = broken_gpkg(dir.path()).await;

    let out = sigap_cli(
        &db,
        &["import", &gpkg, "--layer", "kelurahan", "--skip-invalid"],
    )
    .await;
    let report = text(&out);
    assert!(out.status.success(), "{report}");
    assert!(
        report.contains("read 5, loaded 3, repaired 1, rejected 2"),
        "{report}"
    );
    let pool = db.pool();
    let client = pool.get().await.unwrap();
    let rows = client
        .query(
            "SELECT code, ST_NumGeometries(geom), ST_IsValid(geom),
                    ST_Area(ST_Transform(geom, 32748))
             FROM kelurahan ORDER BY code",
            &[],
        )
        .await
        .unwrap();
    let codes: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    assert_eq!(codes, ["32.73.01.1001", "32.73.01.1002", "32.73.01.1005"]);
    // The bowtie became its two triangles (each half of the 1 km square's area / 2).
    let bowtie = &rows[1];
    assert_eq!(bowtie.get::<_, i32>(1), 2);
    assert!(bowtie.get::<_, bool>(2));
    let area: f64 = bowtie.get(3);
    assert!((area - 500_000.0).abs() < 1.0, "bowtie area {area}");
    // Reprojected from UTM: the good square keeps its 1 km² within a metre.
    let square: f64 = rows[0].get(3);
    assert!((square - 1_000_000.0).abs() < 1.0, "square area {square}");
}

#[tokio::test(flavor = "multi_thread")]
async fn shapefile_in_utm_reports_null_geometry_and_repairs() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_with_parents(dir.path()).await;
    let csv = write(
        dir.path(),
        "kel.csv",
        "code,name,WKT\n\
         32.73.01.1001,Baik,\"POLYGON((784000 9234000,785000 9234000,785000 9235000,784000 9235000,784000 9234000))\"\n\
         32.73.01.1002,Dasi,\"POLYGON((786000 9234000,787000 9235000,787000 9234000,786000 9235000,786000 9234000))\"\n\
         32.73.01.1004,Kosong,\n\
         32.73.01.1001,Kembar,\"POLYGON((789000 9234000,790000 9234000,790000 9235000,789000 9235000,789000 9234000))\"\n",
    )
    .await;
    let shp = dir.path().join("kel.shp").to_string_lossy().into_owned();
    ogr2ogr(&[
        "-f",
        "ESRI Shapefile",
        &shp,
        &csv,
        "-a_srs",
        "EPSG:32748",
        "-nlt",
        "POLYGON",
        "-oo",
        "GEOM_POSSIBLE_NAMES=WKT",
        "-oo",
        "KEEP_GEOM_COLUMNS=NO",
    ])
    .await;
    let out = sigap_cli(&db, &["import", &shp, "--layer", "kelurahan", "--dry-run"]).await;
    let report = text(&out);
    assert!(
        report.contains("rejected feature 3") && report.contains("no geometry"),
        "{report}"
    );
    assert!(
        report.contains("rejected feature 4") && report.contains("duplicate code 32.73.01.1001"),
        "{report}"
    );
    assert!(report.contains("repaired feature 2"), "{report}");
    assert!(report.contains("dry run"), "{report}");
    assert_eq!(count(&db.pool(), "SELECT count(*) FROM kelurahan").await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn csv_with_lon_lat_and_field_mapping() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_with_parents(dir.path()).await;
    let csv = write(
        dir.path(),
        "usulan.csv",
        "kode,kategori,judul,lon,lat,biaya\n\
         USL-AAAAAA,drainase,Saluran tersumbat di RW 05,107.60,-6.90,25000000\n\
         USL-BBBBBB,jalan,Jalan berlubang di gang,107.95,-6.90,\n\
         USL-CCCCCC,kolam,Kategori tidak dikenal,107.61,-6.91,100\n",
    )
    .await;
    let out = sigap_cli(
        &db,
        &[
            "import",
            &csv,
            "--layer",
            "proposal",
            "--map",
            "code=kode",
            "--map",
            "category=kategori",
            "--map",
            "title=judul",
            "--map",
            "estimated_cost_idr=biaya",
            "--skip-invalid",
        ],
    )
    .await;
    let report = text(&out);
    assert!(out.status.success(), "{report}");
    assert!(
        report.contains("rejected feature 2 (fid 2): outside the region (Kota Uji 32.73)"),
        "{report}"
    );
    assert!(
        report.contains("rejected feature 3 (fid 3): field category: 'kolam' is not one of jalan,"),
        "{report}"
    );
    assert!(
        report.contains("EPSG:4326 (lon/lat) was assumed"),
        "{report}"
    );
    let pool = db.pool();
    assert_eq!(count(&pool, "SELECT count(*) FROM proposal WHERE tracking_code = 'USL-AAAAAA' AND estimated_cost_idr = 25000000").await, 1);
    assert_eq!(count(&pool, "SELECT count(*) FROM proposal_event").await, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn import_refuses_before_a_region_exists_and_unknown_mappings() {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::new(false).await;
    let kec = write(dir.path(), "kecamatan.geojson", KECAMATAN).await;
    let out = sigap_cli(&db, &["import", &kec, "--layer", "kecamatan"]).await;
    assert!(!out.status.success());
    assert!(
        text(&out).contains("import the region layer"),
        "{}",
        text(&out)
    );

    let out = sigap_cli(
        &db,
        &["import", &kec, "--layer", "kecamatan", "--map", "nama=name"],
    )
    .await;
    assert!(text(&out).contains("--map names 'nama'"), "{}", text(&out));
    let out = sigap_cli(&db, &["import", &kec, "--layer", "desa"]).await;
    assert!(
        text(&out).contains("unknown layer 'desa'"),
        "{}",
        text(&out)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn second_migrate_is_a_noop_and_an_edited_migration_is_refused() {
    let db = TestDb::new(false).await;
    let dir = tempfile::tempdir().unwrap();
    let src = common::repo_root().join("sql/migrations");
    for entry in std::fs::read_dir(&src).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
    }
    let migrations = dir.path().to_string_lossy().into_owned();

    let out = sigap_cli(&db, &["migrate", "--dir", &migrations]).await;
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("nothing to apply"), "{}", text(&out));
    let tables_before = count(
        &db.pool(),
        "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'",
    )
    .await;

    let out = sigap_cli(&db, &["migrate"]).await;
    assert!(text(&out).contains("nothing to apply"), "{}", text(&out));
    assert_eq!(
        count(
            &db.pool(),
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
        )
        .await,
        tables_before
    );

    let first = dir.path().join("V1__foundation.sql");
    let mut sql = std::fs::read_to_string(&first).unwrap();
    sql.push_str("\nCREATE TABLE sneaky (id int);\n");
    std::fs::write(&first, sql).unwrap();
    let out = sigap_cli(&db, &["migrate", "--dir", &migrations]).await;
    assert!(!out.status.success());
    let msg = text(&out);
    assert!(
        msg.contains("V1__foundation.sql was edited after it was applied"),
        "{msg}"
    );
    assert_eq!(
        count(
            &db.pool(),
            "SELECT count(*) FROM pg_tables WHERE tablename = 'sneaky'"
        )
        .await,
        0
    );
}
