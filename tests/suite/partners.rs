//! Partners at the table (issue 15) against a real PostGIS: every partner route for every role
//! (anonymous, resident, official, mitra of partner A, mitra of partner B, planner, admin); a
//! partner never reads another's pending entries nor writes another's data; a pending coverage
//! area is off the OGC collection, the tiles and the gap analysis until approved; progress
//! validation in both languages; the audit log; reach against plan; the follow-up list and the
//! follow-up gap with reported mentoring; `sigap user add --role mitra --partner`.

use crate::common;
use crate::fixture;

use chrono::NaiveDate;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use common::{gdal_tool, password_hash, sigap_cli, TestApp, PASSWORD};
use fixture::{scalar, spawn};

mod profile;
mod upload;
use sigap::analysis::gap::GapParams;
use sigap::analysis::run;

/// A square of `half` degrees around a point, as a GeoJSON Polygon.
fn square(lon: f64, lat: f64, half: f64) -> Value {
    json!({"type": "Polygon", "coordinates": [[
        [lon - half, lat - half], [lon + half, lat - half], [lon + half, lat + half],
        [lon - half, lat + half], [lon - half, lat - half]]]})
}

/// Inside kelurahan 32.73.01.1001 of the fixture (and kecamatan 32.73.01).
const WEST: (f64, f64) = fixture::IN_SCOPE;
/// Inside kelurahan 32.73.02.1001.
const EAST: (f64, f64) = fixture::OUT_SCOPE;

struct World {
    app: TestApp,
}

/// Bearer tokens of the accounts every test uses.
const ANON: Option<&str> = None;
const RESIDENT: Option<&str> = Some("tok-warga");
const OFFICIAL: Option<&str> = Some("tok-pejabat");
const MITRA_A: Option<&str> = Some("tok-staf-a");
const MITRA_B: Option<&str> = Some("tok-staf-b");
const PLANNER: Option<&str> = Some("tok-perencana");
const ADMIN: Option<&str> = Some("tok-admin");

impl World {
    /// The fixture region with the tile cache off (so a tile shows the database at once), two
    /// partners made by a planner over the API (so both start untrusted), and the accounts.
    async fn new() -> World {
        let app = spawn(|c| c.tile_cache_mb = 0).await;
        let w = World { app };
        w.account("perencana", "planner", None).await;
        for (code, name, ty) in [
            ("mitra-a", "Yayasan A", "lsm"),
            ("mitra-b", "PT B", "swasta"),
        ] {
            let (s, v) = w
                .call(
                    Method::POST,
                    "/api/partners",
                    PLANNER,
                    Some(json!({"code": code, "name": name, "type": ty,
                                "contact_name": format!("Kontak {name}"),
                                "contact_phone": "0812-0000", "contact_email": "kontak@example.org"})),
                )
                .await;
            assert_eq!(s, 201, "{v}");
            assert_eq!(v["trusted"], false, "{v}");
        }
        w.account("warga", "resident", None).await;
        w.account("pejabat", "official", None).await;
        w.account("staf-a", "mitra", Some("mitra-a")).await;
        w.account("staf-b", "mitra", Some("mitra-b")).await;
        w.account("admin", "admin", None).await;
        w
    }

    async fn account(&self, name: &str, role: &str, partner: Option<&str>) {
        let client = self.app.pool.get().await.expect("client");
        let id: i64 = client
            .query_one(
                "INSERT INTO app_user (username, password_hash, role, partner_code, display_name)
                 VALUES ($1, $2, $3, $4, $1) RETURNING id",
                &[&name, &password_hash(), &role, &partner],
            )
            .await
            .expect("insert user")
            .get(0);
        client
            .execute(
                "INSERT INTO api_token (user_id, name, token_hash)
                 VALUES ($1, 'test', sha256(convert_to($2, 'UTF8')))",
                &[&id, &format!("tok-{name}")],
            )
            .await
            .expect("insert token");
    }

    async fn call_lang(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        lang: &str,
    ) -> (u16, Value) {
        let mut req = self
            .app
            .http
            .request(method, self.app.url(path))
            .header("Accept-Language", lang);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.expect("request");
        let status = res.status().as_u16();
        let text = res.text().await.expect("body");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        self.call_lang(method, path, token, body, "id").await
    }

    async fn get(&self, path: &str, token: Option<&str>) -> (u16, Value) {
        self.call(Method::GET, path, token, None).await
    }

    async fn post(&self, path: &str, token: Option<&str>, body: Value) -> (u16, Value) {
        self.call(Method::POST, path, token, Some(body)).await
    }

    async fn patch(&self, path: &str, token: Option<&str>, body: Value) -> (u16, Value) {
        self.call(Method::PATCH, path, token, Some(body)).await
    }

    /// A program of `partner` written by `token`.
    async fn program(&self, token: Option<&str>, code: &str, partner: &str, ty: &str) -> Value {
        let (s, v) = self
            .post(
                "/api/programs",
                token,
                json!({"code": code, "partner_code": partner, "name": format!("Program {code}"),
                       "type": ty, "start_date": "2025-01-01", "end_date": "2025-12-31",
                       "planned_beneficiaries": 100}),
            )
            .await;
        assert_eq!(s, 201, "{v}");
        v
    }

    async fn coverage(
        &self,
        token: Option<&str>,
        code: &str,
        program: &str,
        at: (f64, f64),
    ) -> Value {
        let (s, v) = self
            .post(
                "/api/coverage",
                token,
                json!({"code": code, "program_code": program, "geometry": square(at.0, at.1, 0.01)}),
            )
            .await;
        assert_eq!(s, 201, "{v}");
        v
    }

    async fn report(&self, token: Option<&str>, body: Value) -> (u16, Value) {
        self.post("/api/progress", token, body).await
    }
}

fn codes(list: &Value, key: &str) -> Vec<String> {
    list[key]
        .as_array()
        .expect("array")
        .iter()
        .map(|p| {
            p.get("code")
                .or_else(|| p.get("id"))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

fn error_field(v: &Value) -> &str {
    v["errors"][0]["field"].as_str().unwrap_or("")
}

// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_partner_never_reads_pending_nor_writes_another_partners_data() {
    let w = World::new().await;
    // Partner A is new: its entries wait for review.
    let p = w
        .program(MITRA_A, "latih-a", "mitra-a", "pelatihan_kerja")
        .await;
    assert_eq!(p["approved"], false);
    let c = w.coverage(MITRA_A, "cakupan-a", "latih-a", WEST).await;
    assert_eq!(c["properties"]["approved"], false);
    let (s, r) = w
        .report(
            MITRA_A,
            json!({"program_code": "latih-a", "kelurahan_code": "32.73.01.1001", "period": "month",
                   "period_start": "2025-03-01", "participants": 12, "participants_women": 7}),
        )
        .await;
    assert_eq!(s, 201, "{r}");
    let report = format!("/api/progress/{}", r["id"]);

    // Reads of pending entries: only partner A's staff and reviewers.
    let readers = [
        (ANON, 404),
        (RESIDENT, 404),
        (OFFICIAL, 404),
        (MITRA_B, 404),
        (MITRA_A, 200),
        (PLANNER, 200),
        (ADMIN, 200),
    ];
    for path in [
        "/api/programs/latih-a",
        "/api/coverage/cakupan-a",
        "/api/programs/latih-a/reach",
        report.as_str(),
    ] {
        for (who, expected) in readers {
            let (s, v) = w.get(path, who).await;
            assert_eq!(s, expected, "GET {path} as {who:?}: {v}");
        }
    }
    for (who, expected) in readers {
        let (_, list) = w.get("/api/programs", who).await;
        assert_eq!(
            codes(&list, "programs").contains(&"latih-a".to_owned()),
            expected == 200,
            "{who:?}"
        );
        let (_, list) = w.get("/api/coverage", who).await;
        let seen = list["features"]
            .as_array()
            .expect("features")
            .iter()
            .any(|f| f["id"] == "cakupan-a");
        assert_eq!(seen, expected == 200, "{who:?}");
        let (_, list) = w.get("/api/progress", who).await;
        assert_eq!(
            !list["reports"].as_array().expect("reports").is_empty(),
            expected == 200,
            "{who:?}"
        );
        // An untrusted partner is listed only to reviewers and its own staff; contacts likewise.
        let (s, partner) = w.get("/api/partners/mitra-a", who).await;
        assert_eq!(s, expected, "{who:?}: {partner}");
    }
    let (_, b_view) = w.get("/api/partners/mitra-b", MITRA_A).await;
    assert_eq!(
        b_view["code"],
        Value::Null,
        "mitra A must not see untrusted partner B"
    );

    // Writes to pending entries of A.
    let writers = [
        (ANON, 401),
        (RESIDENT, 403),
        (OFFICIAL, 403),
        (MITRA_B, 404),
        (MITRA_A, 200),
        (PLANNER, 200),
        (ADMIN, 200),
    ];
    for (who, expected) in writers {
        let (s, v) = w
            .patch(
                "/api/programs/latih-a",
                who,
                json!({"target_group": "Pemuda"}),
            )
            .await;
        assert_eq!(s, expected, "PATCH program as {who:?}: {v}");
        let (s, v) = w
            .patch(
                "/api/coverage/cakupan-a",
                who,
                json!({"valid_to": "2025-11-30"}),
            )
            .await;
        assert_eq!(s, expected, "PATCH coverage as {who:?}: {v}");
        let (s, v) = w.patch(&report, who, json!({"participants": 13})).await;
        assert_eq!(s, expected, "PATCH progress as {who:?}: {v}");
    }
    // B cannot write under A's name, nor add to A's program.
    let (s, _) = w
        .post(
            "/api/programs",
            MITRA_B,
            json!({"code": "palsu", "partner_code": "mitra-a", "name": "Palsu", "type": "ukm",
                   "start_date": "2025-01-01", "end_date": "2025-02-01"}),
        )
        .await;
    assert_eq!(s, 403);
    let (s, v) = w
        .post(
            "/api/coverage",
            MITRA_B,
            json!({"code": "palsu", "program_code": "latih-a", "geometry": square(WEST.0, WEST.1, 0.01)}),
        )
        .await;
    assert_eq!((s, error_field(&v)), (422, "program_code"), "{v}");
    let (s, _) = w
        .patch(
            "/api/partners/mitra-a",
            MITRA_B,
            json!({"name": "Diambil alih"}),
        )
        .await;
    assert_eq!(
        s, 404,
        "an untrusted partner is invisible to other partners"
    );
    let (s, _) = w
        .patch(
            "/api/partners/mitra-a",
            MITRA_A,
            json!({"contact_phone": "0813"}),
        )
        .await;
    assert_eq!(s, 200);

    // Only reviewers approve; approving the program approves its coverage and trusts partner A.
    for (who, expected) in [
        (ANON, 401),
        (RESIDENT, 403),
        (OFFICIAL, 403),
        (MITRA_A, 403),
        (MITRA_B, 403),
    ] {
        let (s, _) = w
            .call(Method::POST, "/api/programs/latih-a/approve", who, None)
            .await;
        assert_eq!(s, expected, "approve as {who:?}");
        let (s, _) = w
            .call(Method::POST, "/api/coverage/cakupan-a/approve", who, None)
            .await;
        assert_eq!(s, expected, "approve coverage as {who:?}");
    }
    let (s, v) = w
        .call(
            Method::POST,
            "/api/coverage/cakupan-a/approve",
            PLANNER,
            None,
        )
        .await;
    assert_eq!(
        s, 409,
        "coverage of a pending program waits for the program: {v}"
    );
    let (s, v) = w
        .call(Method::POST, "/api/programs/latih-a/approve", PLANNER, None)
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["approved"]["program"], true);
    assert_eq!(v["approved"]["coverage"], json!(["cakupan-a"]));
    assert_eq!(v["approved"]["partner_trusted"], true);

    // Approved: public reads, but still only A (and reviewers) write.
    for path in [
        "/api/programs/latih-a",
        "/api/coverage/cakupan-a",
        report.as_str(),
    ] {
        for who in [ANON, RESIDENT, MITRA_B] {
            assert_eq!(w.get(path, who).await.0, 200, "GET {path} as {who:?}");
        }
    }
    // Free-text notes stay with the partner and reviewers.
    let (s, _) = w
        .patch(&report, MITRA_A, json!({"note": "Kelompok ibu-ibu RW 03"}))
        .await;
    assert_eq!(s, 200);
    for (who, visible) in [
        (ANON, false),
        (MITRA_B, false),
        (MITRA_A, true),
        (PLANNER, true),
    ] {
        let (_, r) = w.get(&report, who).await;
        assert_eq!(
            r["note"].is_string(),
            visible,
            "report note as {who:?}: {r}"
        );
    }
    let (_, public_partner) = w.get("/api/partners/mitra-a", ANON).await;
    assert_eq!(public_partner["trusted"], true);
    let (s, _) = w
        .patch(
            "/api/partners/mitra-a",
            MITRA_B,
            json!({"name": "Diambil alih"}),
        )
        .await;
    assert_eq!(s, 403);
    assert!(
        public_partner.get("contact_phone").is_none(),
        "contacts are private: {public_partner}"
    );
    for (who, expected) in [(ANON, 401), (RESIDENT, 403), (MITRA_B, 403), (MITRA_A, 200)] {
        let (s, _) = w
            .patch("/api/programs/latih-a", who, json!({"name": "Nama baru"}))
            .await;
        assert_eq!(s, expected, "PATCH approved program as {who:?}");
        let (s, _) = w.patch(&report, who, json!({"participants": 14})).await;
        assert_eq!(s, expected, "PATCH approved report as {who:?}");
    }
    let (s, _) = w
        .report(
            MITRA_B,
            json!({"program_code": "latih-a", "kelurahan_code": "32.73.01.1001", "period": "month",
                   "period_start": "2025-04-01", "participants": 1}),
        )
        .await;
    assert_eq!(s, 403);
    // Partner A is trusted now: its next program is published at once; B's still waits.
    assert_eq!(
        w.program(MITRA_A, "latih-a2", "mitra-a", "ukm").await["approved"],
        true
    );
    assert_eq!(
        w.program(MITRA_B, "latih-b", "mitra-b", "ukm").await["approved"],
        false
    );
    // Planners create partners; nobody else.
    for (who, expected) in [
        (ANON, 401),
        (RESIDENT, 403),
        (MITRA_A, 403),
        (OFFICIAL, 403),
        (ADMIN, 201),
    ] {
        let (s, _) = w
            .post("/api/partners", who, json!({"code": format!("baru-{expected}-{}", who.unwrap_or("anon").len()), "name": "Baru", "type": "komunitas"}))
            .await;
        assert_eq!(s, expected, "POST /api/partners as {who:?}");
    }
    // Follow-up list: reviewers only.
    for (who, expected) in [
        (ANON, 401),
        (RESIDENT, 403),
        (MITRA_A, 403),
        (OFFICIAL, 403),
        (PLANNER, 200),
        (ADMIN, 200),
    ] {
        assert_eq!(
            w.get("/api/followup", who).await.0,
            expected,
            "followup as {who:?}"
        );
    }

    // Every write above is in the audit log, with its actor.
    for (action, actor) in [
        ("partner.create", "perencana"),
        ("partner.update", "staf-a"),
        ("program.create", "staf-a"),
        ("program.update", "staf-a"),
        ("program.approve", "perencana"),
        ("coverage.create", "staf-a"),
        ("coverage.update", "staf-a"),
        ("coverage.approve", "perencana"),
        ("partner.trust", "perencana"),
        ("progress.create", "staf-a"),
        ("progress.update", "staf-a"),
    ] {
        let n = scalar(
            &w.app,
            &format!("SELECT count(*) FROM audit_log WHERE action = '{action}' AND actor_label = '{actor}'"),
        )
        .await;
        assert!(n >= 1, "no audit entry {action} by {actor}");
    }
    // Refused writes left nothing behind.
    assert_eq!(
        scalar(&w.app, "SELECT count(*) FROM program WHERE code = 'palsu'").await,
        0
    );
    assert_eq!(
        scalar(&w.app, "SELECT count(*) FROM coverage WHERE code = 'palsu'").await,
        0
    );
}

#[tokio::test]
async fn cookie_writes_need_the_csrf_token() {
    let w = World::new().await;
    let http = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let res = http
        .post(w.app.url("/api/auth/login"))
        .json(&json!({"username": "staf-a", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let login: Value = res.json().await.unwrap();
    assert_eq!(login["user"]["role"], "mitra");
    assert_eq!(login["user"]["partner_code"], "mitra-a");
    let csrf = login["csrf_token"].as_str().unwrap().to_owned();
    let body = json!({"code": "dengan-sesi", "name": "Dengan sesi", "type": "ukm",
                      "start_date": "2025-01-01", "end_date": "2025-06-30"});
    let res = http
        .post(w.app.url("/api/programs"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = http
        .post(w.app.url("/api/programs"))
        .header("X-CSRF-Token", csrf)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let v: Value = res.json().await.unwrap();
    assert_eq!(
        v["partner_code"], "mitra-a",
        "a mitra's program defaults to its partner"
    );
}

// ---------------------------------------------------------------------------------------------
// Pending coverage stays off the public layers and the analysis

fn tile_of(lon: f64, lat: f64, z: u32) -> (u32, u32, u32) {
    let n = f64::from(1u32 << z);
    let x = ((lon + 180.0) / 360.0 * n).floor() as u32;
    let lat_r = lat.to_radians();
    let y = ((1.0 - (lat_r.tan() + 1.0 / lat_r.cos()).ln() / std::f64::consts::PI) / 2.0 * n)
        .floor() as u32;
    (z, x, y)
}

/// Features of layer `coverage` in the tile, decoded by GDAL's MVT driver (0 for an empty tile).
async fn coverage_in_tile(app: &TestApp, (z, x, y): (u32, u32, u32)) -> i64 {
    let res = app
        .http
        .get(app.url(&format!("/tiles/coverage/{z}/{x}/{y}.mvt")))
        .send()
        .await
        .expect("tile");
    if res.status() == StatusCode::NO_CONTENT {
        return 0;
    }
    assert_eq!(res.status(), StatusCode::OK);
    let bytes = res.bytes().await.expect("bytes");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(format!("{z}/{x}/{y}.pbf"));
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(&path, &bytes).expect("write");
    let out = gdal_tool(
        "ogrinfo",
        &["-ro", "-so", "-al", path.to_str().expect("path")],
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let info = String::from_utf8_lossy(&out.stdout);
    let section = info
        .split("Layer name: ")
        .find(|s| s.starts_with("coverage"));
    section
        .and_then(|s| s.lines().find_map(|l| l.strip_prefix("Feature Count: ")))
        .map(|n| n.trim().parse().expect("count"))
        .unwrap_or(0)
}

async fn ogc_coverage_codes(w: &World) -> Vec<String> {
    let (s, v) = w
        .get("/ogc/collections/coverage/items?limit=1000", ANON)
        .await;
    assert_eq!(s, 200);
    v["features"]
        .as_array()
        .expect("features")
        .iter()
        .map(|f| {
            f["properties"]["code"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

async fn covered_fraction(app: &TestApp, kelurahan: &str) -> f64 {
    let params = GapParams::defaults(NaiveDate::from_ymd_opt(2025, 6, 1).expect("date"), 2000.0);
    let id = run::run(&app.pool, &params, &|_, _| {})
        .await
        .expect("gap run")
        .id;
    let client = app.pool.get().await.expect("client");
    client
        .query_one(
            "SELECT covered_fraction FROM gap_kelurahan WHERE run_id = $1 AND kelurahan_code = $2",
            &[&id, &kelurahan],
        )
        .await
        .expect("fraction")
        .get(0)
}

#[tokio::test]
async fn pending_coverage_is_off_the_layers_tiles_and_gap_until_approved() {
    let w = World::new().await;
    w.program(MITRA_A, "ukm-a", "mitra-a", "ukm").await;
    w.coverage(MITRA_A, "ukm-a-barat", "ukm-a", WEST).await;
    let tile = tile_of(WEST.0, WEST.1, 12);

    assert!(!ogc_coverage_codes(&w)
        .await
        .contains(&"ukm-a-barat".to_owned()));
    assert_eq!(coverage_in_tile(&w.app, tile).await, 0);
    assert_eq!(covered_fraction(&w.app, "32.73.01.1001").await, 0.0);
    let item = format!(
        "/ogc/collections/coverage/items/{}",
        scalar(&w.app, "SELECT id FROM coverage WHERE code = 'ukm-a-barat'").await
    );
    assert_eq!(
        w.get(&item, ANON).await.0,
        404,
        "a pending item is not served"
    );

    let (s, v) = w
        .call(Method::POST, "/api/programs/ukm-a/approve", ADMIN, None)
        .await;
    assert_eq!(s, 200, "{v}");
    assert!(ogc_coverage_codes(&w)
        .await
        .contains(&"ukm-a-barat".to_owned()));
    assert_eq!(coverage_in_tile(&w.app, tile).await, 1);
    assert_eq!(w.get(&item, ANON).await.0, 200);
    let fraction = covered_fraction(&w.app, "32.73.01.1001").await;
    let expected = scalar(
        &w.app,
        "SELECT round(1e6 * ST_Area(ST_Transform(ST_Intersection(c.geom, k.geom), 54034))
                          / ST_Area(ST_Transform(k.geom, 54034)))::bigint
         FROM coverage c, kelurahan k WHERE c.code = 'ukm-a-barat' AND k.code = '32.73.01.1001'",
    )
    .await as f64
        / 1e6;
    assert!(expected > 0.0);
    assert!(
        (fraction - expected).abs() < 1e-5,
        "{fraction} vs {expected}"
    );

    // A later coverage area of the (now approved) program by trusted partner A is public at once;
    // a coverage area added by a planner to B's pending program waits with its program.
    w.coverage(MITRA_A, "ukm-a-timur", "ukm-a", EAST).await;
    assert!(ogc_coverage_codes(&w)
        .await
        .contains(&"ukm-a-timur".to_owned()));
    w.program(MITRA_B, "ukm-b", "mitra-b", "ukm").await;
    let c = w.coverage(PLANNER, "ukm-b-barat", "ukm-b", WEST).await;
    assert_eq!(c["properties"]["approved"], false);
    assert!(!ogc_coverage_codes(&w)
        .await
        .contains(&"ukm-b-barat".to_owned()));
}

// ---------------------------------------------------------------------------------------------
// Validation

#[tokio::test]
async fn bad_input_is_refused_naming_the_field_in_both_languages() {
    let w = World::new().await;
    w.program(PLANNER, "latih", "mitra-a", "pelatihan_kerja")
        .await;
    let good = json!({"program_code": "latih", "kelurahan_code": "32.73.01.1001", "period": "month",
                      "period_start": "2025-05-01", "participants": 10, "participants_women": 4,
                      "ukm_assisted": 3, "ukm_women_led": 2, "mentoring_sessions": 1});
    let with = |key: &str, value: Value| {
        let mut b = good.clone();
        b[key] = value;
        b
    };
    let (s, v) = w
        .call_lang(
            Method::POST,
            "/api/progress",
            MITRA_A,
            Some(with("participants_women", json!(11))),
            "id",
        )
        .await;
    assert_eq!((s, error_field(&v)), (422, "participants_women"), "{v}");
    assert!(
        v["detail"]
            .as_str()
            .unwrap()
            .contains("tidak boleh melebihi"),
        "{v}"
    );
    let (s, v) = w
        .call_lang(
            Method::POST,
            "/api/progress",
            MITRA_A,
            Some(with("participants_women", json!(11))),
            "en",
        )
        .await;
    assert_eq!((s, error_field(&v)), (422, "participants_women"), "{v}");
    assert!(
        v["detail"].as_str().unwrap().contains("may not exceed"),
        "{v}"
    );

    for (body, field) in [
        (with("ukm_women_led", json!(4)), "ukm_women_led"),
        (with("participants", json!(-1)), "participants"),
        (with("participants", json!("banyak")), "participants"),
        (with("period_start", json!("2025-05-02")), "period_start"),
        (with("period", json!("quarter")), "period_start"),
        (with("period", json!("week")), "period"),
        (with("period_start", json!("2999-01-01")), "period_start"),
        (with("period_start", json!("1 Mei")), "period_start"),
        (with("kelurahan_code", json!("32.73.01")), "kelurahan_code"),
        (
            with("kelurahan_code", json!("32.73.09.9999")),
            "kelurahan_code",
        ),
        (with("nama_peserta", json!(["Siti"])), "nama_peserta"),
        (with("program_code", json!("tidak-ada")), "program_code"),
    ] {
        let (s, v) = w.report(MITRA_A, body.clone()).await;
        assert_eq!((s, error_field(&v)), (422, field), "{body}: {v}");
    }
    assert_eq!(
        scalar(&w.app, "SELECT count(*) FROM progress_report").await,
        0
    );

    // One report per program, kelurahan and period; a quarter overlapping a month is refused.
    assert_eq!(w.report(MITRA_A, good.clone()).await.0, 201);
    let (s, v) = w.report(MITRA_A, good.clone()).await;
    assert_eq!((s, error_field(&v)), (409, "period_start"), "{v}");
    let (s, _) = w
        .report(
            MITRA_A,
            with("period", json!("quarter"))
                .as_object()
                .map(|o| {
                    let mut o = o.clone();
                    o.insert("period_start".into(), json!("2025-04-01"));
                    Value::Object(o)
                })
                .unwrap(),
        )
        .await;
    assert_eq!(s, 409);
    // An edit is checked like a new report.
    let id = scalar(&w.app, "SELECT id FROM progress_report").await;
    let (s, v) = w
        .patch(
            &format!("/api/progress/{id}"),
            MITRA_A,
            json!({"participants": 3}),
        )
        .await;
    assert_eq!((s, error_field(&v)), (422, "participants_women"), "{v}");

    // Programs and partners.
    for (body, field) in [
        (
            json!({"code": "x", "name": "X", "type": "ukm", "start_date": "2025-02-01", "end_date": "2025-01-01"}),
            "end_date",
        ),
        (
            json!({"code": "X Y", "name": "X", "type": "ukm", "start_date": "2025-01-01", "end_date": "2025-02-01"}),
            "code",
        ),
        (
            json!({"code": "x", "name": "X", "type": "sulap", "start_date": "2025-01-01", "end_date": "2025-02-01"}),
            "type",
        ),
        (
            json!({"code": "x", "name": " ", "type": "ukm", "start_date": "2025-01-01", "end_date": "2025-02-01"}),
            "name",
        ),
        (
            json!({"code": "x", "name": "X", "type": "ukm", "start_date": "2025-01-01", "end_date": "2025-02-01", "planned_beneficiaries": -5}),
            "planned_beneficiaries",
        ),
    ] {
        let (s, v) = w.post("/api/programs", MITRA_A, body.clone()).await;
        assert_eq!((s, error_field(&v)), (422, field), "{body}: {v}");
    }
    let (s, v) = w.post("/api/programs", PLANNER, json!({"code": "y", "partner_code": "tidak-ada", "name": "Y", "type": "ukm", "start_date": "2025-01-01", "end_date": "2025-02-01"})).await;
    assert_eq!((s, error_field(&v)), (422, "partner_code"), "{v}");
    let (s, v) = w.post("/api/programs", PLANNER, json!({"code": "latih", "partner_code": "mitra-a", "name": "Y", "type": "ukm", "start_date": "2025-01-01", "end_date": "2025-02-01"})).await;
    assert_eq!((s, error_field(&v)), (409, "code"), "{v}");
    let (s, v) = w
        .post(
            "/api/partners",
            PLANNER,
            json!({"code": "z", "name": "Z", "type": "lsm", "contact_email": "bukan-surel"}),
        )
        .await;
    assert_eq!((s, error_field(&v)), (422, "contact_email"), "{v}");

    // Coverage shapes: checked by PostGIS, repaired when possible, refused with the field named.
    let (s, v) = w
        .post(
            "/api/coverage",
            MITRA_A,
            json!({"code": "dasi", "program_code": "latih", "geometry": {"type": "Polygon", "coordinates": [[
                [107.54, -6.91], [107.56, -6.89], [107.56, -6.91], [107.54, -6.89], [107.54, -6.91]]]}}),
        )
        .await;
    assert_eq!(s, 201, "a bow tie is repaired: {v}");
    assert_eq!(v["repaired"], true);
    assert_eq!(v["geometry"]["type"], "MultiPolygon");
    let (s, v) = w
        .post(
            "/api/coverage",
            MITRA_A,
            json!({"code": "titik", "program_code": "latih",
               "site": {"type": "Point", "coordinates": [WEST.0, WEST.1]}, "radius_m": 750,
               "valid_from": "2025-02-01"}),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["properties"]["valid_from"], "2025-02-01");
    assert_eq!(
        v["properties"]["valid_to"], "2025-12-31",
        "missing dates come from the program"
    );
    let area: f64 = v["properties"]["area_km2"].as_f64().unwrap();
    let circle = std::f64::consts::PI * 0.75 * 0.75;
    assert!(
        (area - circle).abs() / circle < 0.01,
        "{area} km² vs {circle}"
    );
    for (body, field, status) in [
        (
            json!({"geometry": {"type": "LineString", "coordinates": [[107.5, -6.9], [107.6, -6.9]]}}),
            "geometry",
            422,
        ),
        (
            json!({"geometry": {"type": "Polygon", "coordinates": [[[107.5, -6.9], [107.6, -6.9], [107.7, -6.9], [107.5, -6.9]]]}}),
            "geometry",
            422,
        ),
        (
            json!({"geometry": square(106.8, -6.2, 0.01)}),
            "geometry",
            422,
        ),
        (
            json!({"geometry": square(-6.9, 107.55, 0.01)}),
            "geometry",
            422,
        ),
        (
            json!({"geometry": {"type": "Polygon", "coordinates": "bukan"}}),
            "geometry",
            422,
        ),
        (
            json!({"geometry": "POLYGON((0 0,1 0,1 1,0 0))"}),
            "geometry",
            422,
        ),
        (
            json!({"site": {"type": "Point", "coordinates": [WEST.0, WEST.1]}}),
            "radius_m",
            422,
        ),
        (
            json!({"site": {"type": "Point", "coordinates": [WEST.0, WEST.1]}, "radius_m": 60000}),
            "radius_m",
            422,
        ),
        (
            json!({"site": square(WEST.0, WEST.1, 0.01), "radius_m": 100}),
            "site",
            422,
        ),
        (json!({}), "geometry", 422),
        (
            json!({"geometry": square(WEST.0, WEST.1, 0.01), "valid_from": "2025-06-01", "valid_to": "2025-05-01"}),
            "valid_to",
            422,
        ),
        (
            json!({"geometry": square(WEST.0, WEST.1, 0.01), "code": "dasi"}),
            "code",
            409,
        ),
    ] {
        let mut b = json!({"code": "baru", "program_code": "latih"});
        for (k, v) in body.as_object().unwrap() {
            b[k] = v.clone();
        }
        let (s, v) = w.post("/api/coverage", MITRA_A, b.clone()).await;
        assert_eq!((s, error_field(&v)), (status, field), "{b}: {v}");
        assert!(v["detail"].as_str().is_some_and(|d| !d.is_empty()));
    }
    let (s, v) = w
        .patch(
            "/api/coverage/titik",
            MITRA_A,
            json!({"valid_to": "2025-01-01"}),
        )
        .await;
    assert_eq!((s, error_field(&v)), (422, "valid_to"), "{v}");
    let (s, v) = w
        .patch(
            "/api/coverage/titik",
            MITRA_A,
            json!({"valid_from": "2025-03-01", "valid_to": "2025-09-30"}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["properties"]["valid_to"], "2025-09-30");
    assert_eq!(
        scalar(&w.app, "SELECT count(*) FROM coverage WHERE code = 'baru'").await,
        0
    );
}

// ---------------------------------------------------------------------------------------------
// Reach against plan

#[tokio::test]
async fn reach_sums_reports_against_the_plan() {
    let w = World::new().await;
    w.program(PLANNER, "p1", "mitra-a", "ukm").await; // planned 100
    w.program(PLANNER, "p2", "mitra-a", "ukm").await;
    w.patch(
        "/api/programs/p2",
        PLANNER,
        json!({"planned_beneficiaries": 50}),
    )
    .await;
    w.program(PLANNER, "p3", "mitra-a", "ukm").await;
    w.patch(
        "/api/programs/p3",
        PLANNER,
        json!({"planned_beneficiaries": null}),
    )
    .await;
    let reports = [
        (
            "p1",
            "32.73.01.1001",
            "month",
            "2025-01-01",
            30,
            20,
            4,
            3,
            2,
        ),
        ("p1", "32.73.01.1001", "month", "2025-02-01", 10, 5, 0, 0, 1),
        (
            "p1",
            "32.73.02.1001",
            "quarter",
            "2025-04-01",
            25,
            10,
            6,
            1,
            0,
        ),
        (
            "p2",
            "32.73.01.1001",
            "month",
            "2025-01-01",
            10,
            10,
            0,
            0,
            0,
        ),
        ("p3", "32.73.02.1001", "month", "2025-03-01", 7, 0, 0, 0, 0),
    ];
    for (p, k, period, start, n, women, ukm, ukm_w, sessions) in reports {
        let (s, v) = w
            .report(
                MITRA_A,
                json!({"program_code": p, "kelurahan_code": k, "period": period, "period_start": start,
                       "participants": n, "participants_women": women, "ukm_assisted": ukm,
                       "ukm_women_led": ukm_w, "mentoring_sessions": sessions}),
            )
            .await;
        assert_eq!(s, 201, "{v}");
    }
    let sum =
        |pred: &dyn Fn(&str, &str) -> bool, pick: &dyn Fn(i64, i64, i64, i64, i64) -> i64| -> i64 {
            reports
                .iter()
                .filter(|r| pred(r.0, r.1))
                .map(|r| pick(r.4, r.5, r.6, r.7, r.8))
                .sum()
        };
    let (s, r) = w.get("/api/programs/p1/reach", ANON).await;
    assert_eq!(s, 200, "{r}");
    let p1 = sum(&|p, _| p == "p1", &|n, _, _, _, _| n);
    assert_eq!(r["participants"], p1);
    assert_eq!(
        r["participants_women"],
        sum(&|p, _| p == "p1", &|_, w, _, _, _| w)
    );
    assert_eq!(
        r["ukm_women_led"],
        sum(&|p, _| p == "p1", &|_, _, _, u, _| u)
    );
    assert_eq!(
        r["mentoring_sessions"],
        sum(&|p, _| p == "p1", &|_, _, _, _, s| s)
    );
    assert_eq!(r["planned_beneficiaries"], 100);
    assert_eq!(r["reach_ratio"].as_f64().unwrap(), p1 as f64 / 100.0);
    let kel = r["kelurahan"].as_array().unwrap();
    assert_eq!(kel.len(), 2);
    assert_eq!(kel[0]["kelurahan_code"], "32.73.01.1001");
    assert_eq!(
        kel[0]["participants"],
        sum(
            &|p, k| p == "p1" && k == "32.73.01.1001",
            &|n, _, _, _, _| n
        )
    );
    assert_eq!(kel[1]["last_period_end"], "2025-06-30");

    let (s, r) = w.get("/api/partners/mitra-a/reach", PLANNER).await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["participants"], sum(&|_, _| true, &|n, _, _, _, _| n));
    assert_eq!(r["planned_beneficiaries"], 150);
    let planned_reached = sum(&|p, _| p != "p3", &|n, _, _, _, _| n);
    assert_eq!(r["participants_of_planned_programs"], planned_reached);
    assert_eq!(
        r["reach_ratio"].as_f64().unwrap(),
        (planned_reached as f64 / 150.0 * 1e4).round() / 1e4
    );
    assert_eq!(r["programs"].as_array().unwrap().len(), 3);
    let east = r["kelurahan"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kelurahan_code"] == "32.73.02.1001")
        .unwrap();
    assert_eq!(east["programs"], 2);
    assert_eq!(
        east["participants"],
        sum(&|_, k| k == "32.73.02.1001", &|n, _, _, _, _| n)
    );
    // Partner B's pending program's reach is its own business.
    w.program(MITRA_B, "pb", "mitra-b", "ukm").await;
    assert_eq!(w.get("/api/programs/pb/reach", MITRA_A).await.0, 404);
    assert_eq!(w.get("/api/partners/mitra-b/reach", MITRA_A).await.0, 404);
    assert_eq!(w.get("/api/partners/mitra-b/reach", MITRA_B).await.0, 200);
    // The kelurahan panel: programs that reported there, their sums there and their overall reach.
    let (s, panel) = w.get("/api/reach?area=32.73.02.1001", ANON).await;
    assert_eq!(s, 200, "{panel}");
    let progs = panel["programs"].as_array().unwrap();
    assert_eq!(
        codes(
            &json!({"p": progs.iter().map(|p| json!({"code": p["program_code"]})).collect::<Vec<_>>()}),
            "p"
        ),
        ["p1", "p3"]
    );
    assert_eq!(
        progs[0]["in_area"]["participants"],
        sum(
            &|p, k| p == "p1" && k == "32.73.02.1001",
            &|n, _, _, _, _| n
        )
    );
    assert_eq!(progs[0]["participants"], p1);
    let (s, v) = w.get("/api/reach?area=bandung", ANON).await;
    assert_eq!((s, error_field(&v)), (422, "area"), "{v}");
    // By kelurahan, for the map panel.
    let (_, list) = w.get("/api/progress?area=32.73.02.1001", ANON).await;
    assert_eq!(list["reports"].as_array().unwrap().len(), 2);
    assert!(list["reports"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r.get("nama").is_none()));
}

// ---------------------------------------------------------------------------------------------
// Follow-up: reported mentoring decides

async fn followup_rows(app: &TestApp, as_of: &str) -> Vec<(String, String)> {
    let params = GapParams::defaults(
        NaiveDate::parse_from_str(as_of, "%Y-%m-%d").expect("date"),
        3000.0,
    );
    let id = run::run(&app.pool, &params, &|_, _| {})
        .await
        .expect("gap run")
        .id;
    let client = app.pool.get().await.expect("client");
    client
        .query(
            "SELECT kelurahan_code, program_code FROM gap_followup WHERE run_id = $1 ORDER BY 1, 2",
            &[&id],
        )
        .await
        .expect("followup")
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

#[tokio::test]
async fn followup_uses_reported_mentoring_and_lists_the_partner_to_call() {
    let w = World::new().await;
    // Training by A over the western kelurahan, all of 2025 (approved: written by a planner).
    w.program(PLANNER, "latih", "mitra-a", "pelatihan_kerja")
        .await;
    w.coverage(PLANNER, "latih-barat", "latih", WEST).await;
    w.patch(
        "/api/programs/latih",
        PLANNER,
        json!({"end_date": "2025-03-31"}),
    )
    .await;
    w.patch(
        "/api/coverage/latih-barat",
        PLANNER,
        json!({"valid_to": "2025-03-31"}),
    )
    .await;
    // Mentoring coverage by B over the same place, April–December.
    w.program(PLANNER, "damping", "mitra-b", "pendampingan")
        .await;
    w.coverage(PLANNER, "damping-barat", "damping", WEST).await;
    w.patch(
        "/api/coverage/damping-barat",
        PLANNER,
        json!({"valid_from": "2025-04-01"}),
    )
    .await;

    let gap = ("32.73.01.1001".to_owned(), "latih".to_owned());
    // The presence of mentoring coverage is enough while nothing is reported.
    assert!(!followup_rows(&w.app, "2026-01-01").await.contains(&gap));
    let (_, list) = w.get("/api/followup?as_of=2026-01-01", PLANNER).await;
    assert!(
        list["programs"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["program_code"] != "latih"),
        "{list}"
    );

    // B reports its mentoring there: zero sessions. Reports decide: the place is not followed up.
    let zero = json!({"program_code": "damping", "kelurahan_code": "32.73.01.1001", "period": "quarter",
                      "period_start": "2025-04-01", "participants": 0, "mentoring_sessions": 0});
    let (s, v) = w.report(MITRA_B, zero).await;
    assert_eq!(s, 201, "{v}");
    assert!(followup_rows(&w.app, "2026-01-01").await.contains(&gap));
    let (s, list) = w.get("/api/followup?as_of=2026-01-01", PLANNER).await;
    assert_eq!(s, 200, "{list}");
    let entry = list["programs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["program_code"] == "latih")
        .unwrap_or_else(|| panic!("latih missing: {list}"))
        .clone();
    assert_eq!(entry["partner_code"], "mitra-a");
    assert_eq!(entry["contact_name"], "Kontak Yayasan A");
    assert_eq!(entry["contact_phone"], "0812-0000");
    assert_eq!(entry["overdue"], true);
    assert_eq!(entry["window_closes"], "2025-09-30");
    assert_eq!(entry["kelurahan"][0]["kelurahan_code"], "32.73.01.1001");
    // Before the window closes it is listed as a reminder, not overdue; the gap has no row yet.
    let (_, early) = w.get("/api/followup?as_of=2025-05-01", PLANNER).await;
    let early_entry = early["programs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["program_code"] == "latih")
        .cloned();
    assert_eq!(
        early_entry.map(|e| e["overdue"].clone()),
        Some(json!(false)),
        "{early}"
    );
    assert!(!followup_rows(&w.app, "2025-05-01").await.contains(&gap));

    // A reports mentoring sessions it held itself in July: followed up, whoever held them.
    let (s, v) = w
        .report(
            MITRA_A,
            json!({"program_code": "latih", "kelurahan_code": "32.73.01.1001", "period": "month",
                   "period_start": "2025-07-01", "participants": 0, "mentoring_sessions": 2}),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    assert!(!followup_rows(&w.app, "2026-01-01").await.contains(&gap));
    let (_, list) = w.get("/api/followup?as_of=2026-01-01", PLANNER).await;
    assert!(
        list["programs"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["program_code"] != "latih"),
        "{list}"
    );
    // With a one-month window, July is too late.
    let (_, list) = w
        .get("/api/followup?as_of=2026-01-01&months=1", PLANNER)
        .await;
    assert!(
        list["programs"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["program_code"] == "latih"),
        "{list}"
    );
    let (s, v) = w.get("/api/followup?months=0", PLANNER).await;
    assert_eq!((s, error_field(&v)), (422, "months"), "{v}");
    let (s, v) = w.get("/api/followup?as_of=kemarin", PLANNER).await;
    assert_eq!((s, error_field(&v)), (422, "as_of"), "{v}");
}

#[tokio::test]
async fn command_line_adds_partner_staff() {
    let w = World::new().await;
    let out = sigap_cli(
        &w.app.db,
        &[
            "user",
            "add",
            "--role",
            "mitra",
            "--partner",
            "mitra-a",
            "staf-cli",
        ],
    )
    .await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("role mitra") && stdout.contains("partner mitra-a"),
        "{stdout}"
    );
    assert!(stdout.contains("one-time password"), "{stdout}");
    assert_eq!(
        scalar(&w.app, "SELECT count(*) FROM app_user WHERE username = 'staf-cli' AND partner_code = 'mitra-a'").await,
        1
    );
    for (args, needle) in [
        (vec!["--role", "mitra", "staf-tanpa"], "--partner"),
        (
            vec!["--role", "planner", "--partner", "mitra-a", "staf-salah"],
            "--partner",
        ),
        (
            vec!["--role", "mitra", "--partner", "tidak-ada", "staf-hilang"],
            "tidak-ada",
        ),
    ] {
        let mut all = vec!["user", "add"];
        all.extend(args);
        let out = sigap_cli(&w.app.db, &all).await;
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{all:?} should fail");
        assert!(stderr.contains(needle), "{all:?}: {stderr}");
    }
    assert_eq!(
        scalar(
            &w.app,
            "SELECT count(*) FROM app_user WHERE username LIKE 'staf-%' AND partner_code IS NULL"
        )
        .await,
        0
    );
    // The admin route makes partner staff too, and refuses a partner on other roles.
    let (s, v) = w
        .post(
            "/api/users",
            ADMIN,
            json!({"username": "staf-web", "role": "mitra", "partner_code": "mitra-b"}),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["user"]["partner_code"], "mitra-b");
    let (s, v) = w
        .post(
            "/api/users",
            ADMIN,
            json!({"username": "staf-web2", "role": "mitra"}),
        )
        .await;
    assert_eq!((s, error_field(&v)), (422, "partner_code"), "{v}");
    let id = v["user"]["id"].as_i64().unwrap_or(0);
    assert_eq!(id, 0);
    // Changing a mitra's role drops its partner; making an account mitra needs one.
    let staff_id = scalar(
        &w.app,
        "SELECT id FROM app_user WHERE username = 'staf-web'",
    )
    .await;
    let (s, v) = w
        .call(
            Method::PUT,
            &format!("/api/users/{staff_id}/role"),
            ADMIN,
            Some(json!({"role": "planner"})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["user"]["partner_code"], Value::Null);
    let (s, v) = w
        .call(
            Method::PUT,
            &format!("/api/users/{staff_id}/role"),
            ADMIN,
            Some(json!({"role": "mitra"})),
        )
        .await;
    assert_eq!((s, error_field(&v)), (422, "partner_code"), "{v}");
}

#[tokio::test]
async fn a_scoped_planner_reviews_only_inside_its_area() {
    let w = World::new().await;
    let client = w.app.pool.get().await.expect("client");
    let id: i64 = client
        .query_one(
            "INSERT INTO app_user (username, password_hash, role, area_code)
             VALUES ('perencana-timur', $1, 'planner', '32.73.02') RETURNING id",
            &[&password_hash()],
        )
        .await
        .expect("user")
        .get(0);
    client
        .execute(
            "INSERT INTO api_token (user_id, name, token_hash)
             VALUES ($1, 'test', sha256(convert_to('tok-timur', 'UTF8')))",
            &[&id],
        )
        .await
        .expect("token");
    let east_planner = Some("tok-timur");
    w.program(MITRA_A, "dua-sisi", "mitra-a", "ukm").await;
    w.coverage(MITRA_A, "sisi-barat", "dua-sisi", WEST).await;
    w.coverage(MITRA_A, "sisi-timur", "dua-sisi", EAST).await;
    let (s, v) = w
        .call(
            Method::POST,
            "/api/programs/dua-sisi/approve",
            east_planner,
            None,
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["approved"]["coverage"], json!(["sisi-timur"]));
    let (_, west) = w.get("/api/coverage/sisi-barat", PLANNER).await;
    assert_eq!(west["properties"]["approved"], false);
    for (method, path, body) in [
        (Method::POST, "/api/coverage/sisi-barat/approve", None),
        (
            Method::PATCH,
            "/api/coverage/sisi-barat",
            Some(json!({"note": "di luar"})),
        ),
    ] {
        let (s, v) = w.call(method, path, east_planner, body).await;
        assert_eq!(s, 403, "{path}: {v}");
    }
    let (s, _) = w
        .post(
            "/api/coverage",
            east_planner,
            json!({"code": "barat-lagi", "program_code": "dua-sisi", "geometry": square(WEST.0, WEST.1, 0.01)}),
        )
        .await;
    assert_eq!(s, 403);
    let report = |k: &str| {
        json!({"program_code": "dua-sisi", "kelurahan_code": k, "period": "month",
               "period_start": "2025-02-01", "participants": 5})
    };
    assert_eq!(w.report(east_planner, report("32.73.01.1001")).await.0, 403);
    assert_eq!(w.report(east_planner, report("32.73.02.1001")).await.0, 201);
    // The unscoped planner approves the rest.
    let (s, _) = w
        .call(
            Method::POST,
            "/api/coverage/sisi-barat/approve",
            PLANNER,
            None,
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(
        scalar(
            &w.app,
            "SELECT count(*) FROM coverage WHERE approved_at IS NULL"
        )
        .await,
        0
    );
}
