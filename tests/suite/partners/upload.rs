//! Coverage uploaded as a file (`POST /api/coverage/upload`): the preview reports every feature
//! and writes nothing; the confirm writes the good features, pending for a new partner and
//! audited; GeoJSON, zipped Shapefile, GeoPackage and KML all go through the same pipeline; a
//! partner uploads only to its own programs; a scoped planner only inside its area; bad files and
//! oversized bodies are 4xx problem+json.

use super::*;
use reqwest::multipart::{Form, Part};

/// A polygon in the west kelurahan, an area outside the region, a site with a radius in the east,
/// a point without a radius, and a feature naming another program.
fn collection(program: &str) -> Value {
    let f = |props: Value, geometry: Value| json!({"type": "Feature", "properties": props, "geometry": geometry});
    json!({"type": "FeatureCollection", "features": [
        f(json!({"code": "unggah-barat", "note": "pasar"}), square(WEST.0, WEST.1, 0.01)),
        f(json!({"code": "unggah-jakarta"}), square(fixture::OUTSIDE.0, fixture::OUTSIDE.1, 0.01)),
        f(json!({"code": "unggah-titik", "radius_m": 800.0}), json!({"type": "Point", "coordinates": [EAST.0, EAST.1]})),
        f(json!({"code": "unggah-tanpa-radius"}), json!({"type": "Point", "coordinates": [WEST.0, WEST.1]})),
        f(json!({"code": "unggah-lain", "program_code": "bukan-ini"}), square(WEST.0 + 0.02, WEST.1, 0.005)),
        f(json!({"note": "tanpa kode"}), square(WEST.0 - 0.02, WEST.1, 0.005)),
    ], "program": program})
}

impl World {
    async fn upload(
        &self,
        token: Option<&str>,
        program: &str,
        confirm: bool,
        name: &str,
        bytes: Vec<u8>,
    ) -> (u16, Value) {
        let form = Form::new().part("file", Part::bytes(bytes).file_name(name.to_owned()));
        let mut req = self
            .app
            .http
            .post(self.app.url(&format!(
                "/api/coverage/upload?program={program}&confirm={confirm}"
            )))
            .header("Accept-Language", "en")
            .multipart(form);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let res = req.send().await.expect("upload");
        let status = res.status().as_u16();
        let text = res.text().await.expect("body");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }
}

fn rejected(v: &Value) -> Vec<(i64, String)> {
    v["rejected"]
        .as_array()
        .expect("rejected")
        .iter()
        .map(|r| {
            (
                r["index"].as_i64().expect("index"),
                r["reason"].as_str().expect("reason").to_owned(),
            )
        })
        .collect()
}

async fn coverage_codes(w: &World, program: &str) -> Vec<String> {
    let client = w.app.pool.get().await.expect("client");
    client
        .query(
            "SELECT code FROM coverage WHERE program_code = $1 ORDER BY code",
            &[&program],
        )
        .await
        .expect("codes")
        .iter()
        .map(|r| r.get(0))
        .collect()
}

#[tokio::test]
async fn preview_reports_every_feature_and_confirm_writes_the_good_ones_pending() {
    let w = World::new().await;
    w.program(MITRA_A, "latih-a", "mitra-a", "pelatihan_kerja")
        .await;
    let file = serde_json::to_vec(&collection("latih-a")).expect("json");

    let (s, preview) = w
        .upload(MITRA_A, "latih-a", false, "cakupan.geojson", file.clone())
        .await;
    assert_eq!(s, 200, "{preview}");
    assert_eq!(preview["committed"], false, "{preview}");
    assert_eq!(preview["read"], 6, "{preview}");
    assert_eq!(preview["loaded"], 3, "{preview}");
    let r = rejected(&preview);
    assert_eq!(
        r.iter().map(|(i, _)| *i).collect::<Vec<_>>(),
        vec![2, 4, 5],
        "{preview}"
    );
    assert!(r[0].1.contains("outside the region"), "{r:?}");
    assert!(r[1].1.contains("radius_m"), "{r:?}");
    assert!(r[2].1.contains("not the program of this upload"), "{r:?}");
    assert!(
        coverage_codes(&w, "latih-a").await.is_empty(),
        "a preview writes nothing"
    );

    let (s, done) = w
        .upload(MITRA_A, "latih-a", true, "cakupan.geojson", file)
        .await;
    assert_eq!(s, 201, "{done}");
    assert_eq!(done["committed"], true, "{done}");
    assert_eq!(done["loaded"], 3, "{done}");
    assert_eq!(done["approved"], false, "a new partner's rows wait: {done}");
    let codes = coverage_codes(&w, "latih-a").await;
    assert_eq!(codes.len(), 3, "{codes:?}");
    assert!(codes.contains(&"unggah-barat".to_owned()), "{codes:?}");
    assert!(codes.contains(&"unggah-titik".to_owned()), "{codes:?}");
    // The feature without a code got one from the upload.
    assert!(codes.iter().any(|c| c.starts_with("latih-a-")), "{codes:?}");

    // Partner A is new: everything waits for review, invisible to the public.
    let (s, _) = w.get("/api/coverage/unggah-barat", ANON).await;
    assert_eq!(s, 404);
    let (s, v) = w.get("/api/coverage/unggah-titik", MITRA_A).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["properties"]["approved"], false, "{v}");
    assert_eq!(v["properties"]["radius_m"], 800.0, "{v}");
    // Dates come from the program.
    assert_eq!(v["properties"]["valid_from"], "2025-01-01", "{v}");
    // One audit entry per row, by the partner's account.
    let audited = common::count(
        &w.app.pool,
        "SELECT count(*) FROM audit_log WHERE action = 'coverage.create' AND actor_label = 'staf-a'
           AND target_id IN (SELECT code FROM coverage WHERE program_code = 'latih-a')",
    )
    .await;
    assert_eq!(audited, 3);

    // The same file again: every code is now taken, nothing is overwritten.
    let file = serde_json::to_vec(&collection("latih-a")).expect("json");
    let (s, again) = w
        .upload(MITRA_A, "latih-a", false, "cakupan.geojson", file)
        .await;
    assert_eq!(s, 200, "{again}");
    let r = rejected(&again);
    assert!(
        r.iter()
            .any(|(i, why)| *i == 1 && why.contains("taken by another coverage area")),
        "{r:?}"
    );

    // A reviewer approves the program: the uploaded areas become public.
    let (s, v) = w
        .post("/api/programs/latih-a/approve", PLANNER, json!({}))
        .await;
    assert_eq!(s, 200, "{v}");
    let (s, _) = w.get("/api/coverage/unggah-barat", ANON).await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn shapefile_geopackage_and_kml_go_through_the_same_pipeline() {
    let w = World::new().await;
    w.program(PLANNER, "latih-p", "mitra-a", "pelatihan_kerja")
        .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path().join("src.geojson");
    let fc = json!({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": "berkas-1"}, "geometry": square(WEST.0, WEST.1, 0.01)},
        {"type": "Feature", "properties": {"code": "berkas-2"}, "geometry": square(fixture::OUTSIDE.0, fixture::OUTSIDE.1, 0.01)},
    ]});
    std::fs::write(&src, serde_json::to_vec(&fc).expect("json")).expect("write");
    for (driver, name) in [
        ("ESRI Shapefile", "cakupan.shp.zip"),
        ("GPKG", "cakupan.gpkg"),
        ("KML", "cakupan.kml"),
    ] {
        let out = dir.path().join(name);
        let o = gdal_tool(
            "ogr2ogr",
            &[
                "-f",
                driver,
                out.to_str().expect("path"),
                src.to_str().expect("path"),
            ],
        )
        .await;
        assert!(o.status.success(), "{driver}: {o:?}");
        let bytes = std::fs::read(&out).expect("read");
        let (s, v) = w.upload(PLANNER, "latih-p", false, name, bytes).await;
        assert_eq!(s, 200, "{name}: {v}");
        assert_eq!(v["read"], 2, "{name}: {v}");
        assert_eq!(v["loaded"], 1, "{name}: {v}");
        let r = rejected(&v);
        assert_eq!(r.len(), 1, "{name}: {v}");
        assert_eq!(r[0].0, 2, "{name}: {v}");
        assert!(r[0].1.contains("outside the region"), "{name}: {v}");
    }
    // KML names features in "Name", not "code": a committed KML gets generated codes.
    let bytes = std::fs::read(dir.path().join("cakupan.shp.zip")).expect("read");
    let (s, v) = w
        .upload(PLANNER, "latih-p", true, "cakupan.shp.zip", bytes)
        .await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(
        coverage_codes(&w, "latih-p").await,
        vec!["berkas-1".to_owned()]
    );
    // A reviewer's own upload is published at once.
    let (s, v) = w.get("/api/coverage/berkas-1", ANON).await;
    assert_eq!(s, 200, "{v}");
}

#[tokio::test]
async fn only_the_partners_staff_and_reviewers_upload_and_bad_files_are_4xx() {
    let w = World::new().await;
    w.program(MITRA_A, "latih-a", "mitra-a", "pelatihan_kerja")
        .await;
    w.program(PLANNER, "latih-b", "mitra-b", "pelatihan_kerja")
        .await;
    let file = || serde_json::to_vec(&collection("latih-a")).expect("json");
    let name = "c.geojson";
    // Pending program of partner A: as if it did not exist for partner B (422 on the program, as
    // for POST /api/coverage), 401 anonymously, 403 for roles that never write.
    for (who, expected) in [
        (ANON, 401),
        (RESIDENT, 403),
        (OFFICIAL, 403),
        (MITRA_B, 422),
        (MITRA_A, 200),
        (PLANNER, 200),
        (ADMIN, 200),
    ] {
        let (s, v) = w.upload(who, "latih-a", false, name, file()).await;
        assert_eq!(s, expected, "{who:?}: {v}");
        if s >= 400 {
            assert!(v["title"].is_string() || v["detail"].is_string(), "{v}");
        }
    }
    // Partner B's approved program: partner A's staff may see it, not write to it.
    let (s, v) = w.upload(MITRA_A, "latih-b", true, name, file()).await;
    assert_eq!(s, 403, "{v}");
    assert!(coverage_codes(&w, "latih-b").await.is_empty());
    // Unknown program, no program.
    let (s, v) = w.upload(MITRA_A, "tidak-ada", false, name, file()).await;
    assert_eq!((s, error_field(&v)), (422, "program"), "{v}");
    let (s, v) = w.upload(MITRA_A, "", false, name, file()).await;
    assert_eq!((s, error_field(&v)), (422, "program"), "{v}");
    // Not a vector file; an unknown kind of file; an empty file.
    let (s, v) = w
        .upload(
            MITRA_A,
            "latih-a",
            false,
            "c.geojson",
            b"bukan geojson".to_vec(),
        )
        .await;
    assert_eq!((s, error_field(&v)), (422, "file"), "{v}");
    let (s, v) = w.upload(MITRA_A, "latih-a", false, "c.xlsx", file()).await;
    assert_eq!((s, error_field(&v)), (422, "file"), "{v}");
    let (s, v) = w
        .upload(MITRA_A, "latih-a", false, "c.kml", Vec::new())
        .await;
    assert_eq!((s, error_field(&v)), (422, "file"), "{v}");
    // Too large: refused before anything is read.
    let big = vec![b' '; sigap_upload_limit() + 1024];
    let (s, v) = w.upload(MITRA_A, "latih-a", false, "c.geojson", big).await;
    assert_eq!(s, 413, "{v}");
    assert!(coverage_codes(&w, "latih-a").await.is_empty());
}

fn sigap_upload_limit() -> usize {
    sigap::config::ServeConfig::default().body_limit_bytes
}

#[tokio::test]
async fn a_scoped_planner_uploads_only_inside_its_area() {
    let w = World::new().await;
    let client = w.app.pool.get().await.expect("client");
    client
        .execute(
            "UPDATE app_user SET area_code = '32.73.02' WHERE username = 'perencana'",
            &[],
        )
        .await
        .expect("scope");
    w.program(ADMIN, "latih-s", "mitra-a", "pelatihan_kerja")
        .await;
    let file = serde_json::to_vec(&collection("latih-s")).expect("json");
    let (s, v) = w.upload(PLANNER, "latih-s", true, "c.geojson", file).await;
    assert_eq!(s, 201, "{v}");
    // Only the site in the east kecamatan is inside the planner's area.
    let r = rejected(&v);
    assert!(
        r.iter()
            .any(|(i, why)| *i == 1 && why.contains("outside your area 32.73.02")),
        "{r:?}"
    );
    assert_eq!(
        coverage_codes(&w, "latih-s").await,
        vec!["unggah-titik".to_owned()]
    );
}
