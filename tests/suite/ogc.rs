//! OGC API - Features against a real PostGIS with the Bandung sample, with GDAL's OAPIF driver
//! as the client (ogrinfo, ogr2ogr), plus parameters, CRS, exports, HTML and bad input.

use crate::common;

use common::{count, gdal_tool, spawn_app, TestApp};
use serde_json::Value;

const PUBLIC: &str = "('diverifikasi','diprioritaskan','dianggarkan','dikerjakan','selesai')";

async fn get_json(
    app: &TestApp,
    path: &str,
) -> (reqwest::StatusCode, reqwest::header::HeaderMap, Value) {
    let res = app.http.get(app.url(path)).send().await.expect("request");
    let status = res.status();
    let headers = res.headers().clone();
    let body = res.json().await.unwrap_or(Value::Null);
    (status, headers, body)
}

fn stdout(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "GDAL failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test]
async fn ogrinfo_lists_every_collection() {
    let app = spawn_app(true).await;
    let out = gdal_tool(
        "ogrinfo",
        &["-ro", "-q", &format!("OAPIF:{}/ogc", app.base)],
    )
    .await;
    let text = stdout(&out);
    for id in [
        "kecamatan",
        "kelurahan",
        "coverage",
        "proposals",
        "gap_kelurahan",
        "gap_cells",
        "budget_funded",
        "facilities",
    ] {
        assert!(
            text.lines()
                .any(|l| l.contains(&format!(": {id} ")) || l.ends_with(&format!(": {id}"))),
            "{id} not listed:\n{text}"
        );
    }
}

#[tokio::test]
async fn ogrinfo_summarises_kelurahan_with_count_and_extent() {
    let app = spawn_app(true).await;
    let out = gdal_tool(
        "ogrinfo",
        &[
            "-ro",
            "-so",
            &format!("OAPIF:{}/ogc", app.base),
            "kelurahan",
        ],
    )
    .await;
    let text = stdout(&out);
    assert!(text.contains("Feature Count: 151"), "{text}");
    let client = app.pool.get().await.expect("client");
    let row = client
        .query_one(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) \
             FROM (SELECT ST_Extent(geom) e FROM kelurahan) s",
            &[],
        )
        .await
        .expect("extent");
    let want = format!(
        "Extent: ({:.6}, {:.6}) - ({:.6}, {:.6})",
        row.get::<_, f64>(0),
        row.get::<_, f64>(1),
        row.get::<_, f64>(2),
        row.get::<_, f64>(3)
    );
    assert!(text.contains(&want), "want {want} in:\n{text}");
    for field in ["population:", "low_income_households:", "kecamatan_name:"] {
        assert!(text.contains(field), "{field} missing:\n{text}");
    }
}

#[tokio::test]
async fn ogr2ogr_pages_through_every_published_proposal() {
    let app = spawn_app(true).await;
    // Make sure unpublished proposals exist and must be left out.
    let client = app.pool.get().await.expect("client");
    client
        .execute(
            "INSERT INTO proposal (tracking_code, geom, category, title, status) \
             SELECT 'USL-PEND0' || g, ST_PointOnSurface(geom), 'jalan', 'Belum diverifikasi', 'diajukan' \
             FROM kelurahan, generate_series(1, 3) g ORDER BY code LIMIT 3",
            &[],
        )
        .await
        .expect("pending");
    let dir = tempfile::tempdir().expect("tempdir");
    let out_path = dir.path().join("proposals.geojson");
    let out = gdal_tool(
        "ogr2ogr",
        &[
            "-f",
            "GeoJSON",
            out_path.to_str().expect("path"),
            &format!("OAPIF:{}/ogc", app.base),
            "proposals",
            "-oo",
            "PAGE_SIZE=37",
        ],
    )
    .await;
    stdout(&out);
    let fc: Value = serde_json::from_slice(&std::fs::read(&out_path).expect("read")).expect("json");
    let features = fc["features"].as_array().expect("features");
    let want = count(
        &app.pool,
        &format!("SELECT count(*) FROM proposal WHERE status IN {PUBLIC}"),
    )
    .await;
    assert!(want > 37, "the sample must need several pages");
    assert_eq!(features.len() as i64, want);
    let total = count(&app.pool, "SELECT count(*) FROM proposal").await;
    assert!(total > want, "unpublished proposals exist in the database");
    for f in features {
        let p = &f["properties"];
        let status = p["status"].as_str().expect("status");
        assert!(
            PUBLIC.contains(&format!("'{status}'")),
            "unpublished status {status}"
        );
        assert!(p.get("submitter_id").is_none(), "private field: {p}");
    }
}

#[tokio::test]
async fn items_filter_page_and_link_absolutely() {
    let app = spawn_app(true).await;
    let (status, headers, body) = get_json(
        &app,
        "/ogc/collections/proposals/items?limit=5&category=jalan",
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "application/geo+json");
    assert_eq!(
        headers["content-crs"],
        "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>"
    );
    assert!(body.get("crs").is_none(), "RFC 7946: no crs member");
    let want = count(
        &app.pool,
        &format!("SELECT count(*) FROM proposal WHERE status IN {PUBLIC} AND category = 'jalan'"),
    )
    .await;
    assert_eq!(body["numberMatched"], want);
    assert_eq!(body["numberReturned"], want.min(5));
    for f in body["features"].as_array().expect("features") {
        assert_eq!(f["properties"]["category"], "jalan");
    }
    let links = body["links"].as_array().expect("links");
    for l in links {
        assert!(
            l["href"].as_str().expect("href").starts_with("http://"),
            "{l}"
        );
    }
    if want > 5 {
        let next = links
            .iter()
            .find(|l| l["rel"] == "next")
            .expect("next link");
        let href = next["href"].as_str().expect("href");
        let res = app.http.get(href).send().await.expect("next page");
        let page: Value = res.json().await.expect("json");
        assert!(page["links"]
            .as_array()
            .expect("links")
            .iter()
            .any(|l| l["rel"] == "prev"));
        assert_ne!(page["features"][0]["id"], body["features"][0]["id"]);
    }

    // bbox around one kelurahan: every returned kelurahan intersects it.
    let client = app.pool.get().await.expect("client");
    let row = client
        .query_one(
            "SELECT ST_XMin(geom::box2d), ST_YMin(geom::box2d), ST_XMax(geom::box2d), \
             ST_YMax(geom::box2d) FROM kelurahan ORDER BY code LIMIT 1",
            &[],
        )
        .await
        .expect("bbox");
    let (x0, y0, x1, y1): (f64, f64, f64, f64) = (row.get(0), row.get(1), row.get(2), row.get(3));
    let want = count(
        &app.pool,
        &format!(
            "SELECT count(*) FROM kelurahan WHERE ST_Intersects(geom, ST_MakeEnvelope({x0},{y0},{x1},{y1},4326))"
        ),
    )
    .await;
    let (_, _, body) = get_json(
        &app,
        &format!("/ogc/collections/kelurahan/items?bbox={x0},{y0},{x1},{y1}"),
    )
    .await;
    assert_eq!(body["numberMatched"], want);
    assert!((1..151).contains(&want));
    // The same box in EPSG:4326 axis order (lat, lon) selects the same features.
    let (_, _, body2) = get_json(
        &app,
        &format!(
            "/ogc/collections/kelurahan/items?bbox={y0},{x0},{y1},{x1}&bbox-crs=http://www.opengis.net/def/crs/EPSG/0/4326"
        ),
    )
    .await;
    assert_eq!(body2["numberMatched"], want);

    // Rings counter-clockwise, at most 7 decimals.
    let ring = &body["features"][0]["geometry"]["coordinates"][0][0];
    let pts: Vec<(f64, f64)> = ring
        .as_array()
        .expect("ring")
        .iter()
        .map(|p| (p[0].as_f64().expect("x"), p[1].as_f64().expect("y")))
        .collect();
    let area2: f64 = pts
        .windows(2)
        .map(|w| w[0].0 * w[1].1 - w[1].0 * w[0].1)
        .sum();
    assert!(area2 > 0.0, "exterior ring must be counter-clockwise");
    for p in ring.as_array().expect("ring") {
        for c in p.as_array().expect("pt") {
            let s = c.to_string();
            let decimals = s.split('.').nth(1).map(str::len).unwrap_or(0);
            assert!(decimals <= 7, "{s}");
        }
    }
}

/// `skipGeometry=true`: the same features, properties and links, each with `"geometry": null`
/// (valid GeoJSON), a fraction of the bytes; the next page keeps the parameter.
#[tokio::test]
async fn skip_geometry_sends_properties_only() {
    let app = spawn_app(true).await;
    let full_path = "/ogc/collections/kelurahan/items?limit=100";
    let res = app.http.get(app.url(full_path)).send().await.expect("full");
    assert_eq!(res.status(), 200);
    let full_text = res.text().await.expect("full body");
    let full: Value = serde_json::from_str(&full_text).expect("full json");
    let res = app
        .http
        .get(app.url(&format!("{full_path}&skipGeometry=true")))
        .send()
        .await
        .expect("skipped");
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/geo+json");
    let bare_text = res.text().await.expect("bare body");
    let bare: Value = serde_json::from_str(&bare_text).expect("bare json");
    assert_eq!(bare["type"], "FeatureCollection");
    assert_eq!(bare["numberMatched"], 151);
    assert_eq!(bare["numberReturned"], 100);
    let (fs, bs) = (
        full["features"].as_array().expect("features"),
        bare["features"].as_array().expect("features"),
    );
    assert_eq!(fs.len(), bs.len());
    for (f, b) in fs.iter().zip(bs) {
        assert_eq!(b["type"], "Feature");
        assert!(b.as_object().expect("feature").contains_key("geometry"));
        assert!(b["geometry"].is_null(), "{b}");
        assert!(
            f["geometry"]["type"].is_string(),
            "the full page has geometry"
        );
        assert_eq!(f["id"], b["id"]);
        assert_eq!(f["properties"], b["properties"]);
    }
    assert!(
        bare_text.len() * 2 < full_text.len(),
        "properties only: {} bytes against {}",
        bare_text.len(),
        full_text.len()
    );
    let next = bare["links"]
        .as_array()
        .expect("links")
        .iter()
        .find(|l| l["rel"] == "next")
        .and_then(|l| l["href"].as_str())
        .expect("next link");
    assert!(next.contains("skipGeometry=true"), "{next}");
    let page: Value = app
        .http
        .get(next)
        .send()
        .await
        .expect("next")
        .json()
        .await
        .expect("json");
    assert_eq!(page["numberReturned"], 51);
    assert!(page["features"][0]["geometry"].is_null());
    // The HTML alternate drops the JSON-only parameter, so it opens.
    let html = bare["links"]
        .as_array()
        .expect("links")
        .iter()
        .find(|l| l["rel"] == "alternate")
        .and_then(|l| l["href"].as_str())
        .expect("alternate link");
    assert!(!html.contains("skipGeometry"), "{html}");
    let res = app.http.get(html).send().await.expect("alternate");
    assert_eq!(res.status(), reqwest::StatusCode::OK, "{html}");
    // `false` is the default, and the OpenAPI document names the parameter.
    let (_, _, same) = get_json(&app, &format!("{full_path}&skipGeometry=false")).await;
    assert_eq!(same["features"], full["features"]);
    let (_, _, api) = get_json(&app, "/ogc/api").await;
    assert!(api.to_string().contains("skipGeometry"));
}

#[tokio::test]
async fn datetime_and_crs() {
    let app = spawn_app(true).await;
    let want = count(
        &app.pool,
        "SELECT count(*) FROM coverage WHERE valid_to >= '2025-01-01' AND valid_from <= '2025-12-31'",
    )
    .await;
    let (status, _, body) = get_json(
        &app,
        "/ogc/collections/coverage/items?datetime=2025-01-01/2025-12-31&limit=1",
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["numberMatched"], want);
    let open_end = count(
        &app.pool,
        "SELECT count(*) FROM coverage WHERE valid_to >= '2025-01-01'",
    )
    .await;
    let (_, _, body) = get_json(
        &app,
        "/ogc/collections/coverage/items?datetime=2025-01-01/..&limit=1",
    )
    .await;
    assert_eq!(body["numberMatched"], open_end);

    let (_, _, crs84) = get_json(&app, "/ogc/collections/proposals/items?limit=1").await;
    let id = crs84["features"][0]["id"].clone();
    let (status, headers, latlon) = get_json(
        &app,
        &format!(
            "/ogc/collections/proposals/items/{id}?crs=http://www.opengis.net/def/crs/EPSG/0/4326"
        ),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        headers["content-crs"],
        "<http://www.opengis.net/def/crs/EPSG/0/4326>"
    );
    let a = &crs84["features"][0]["geometry"]["coordinates"];
    let b = &latlon["geometry"]["coordinates"];
    assert_eq!(a[0], b[1]);
    assert_eq!(a[1], b[0]);
    let (_, _, utm) = get_json(
        &app,
        &format!(
            "/ogc/collections/proposals/items/{id}?crs=http://www.opengis.net/def/crs/EPSG/0/32748"
        ),
    )
    .await;
    let x = utm["geometry"]["coordinates"][0].as_f64().expect("x");
    assert!((700_000.0..900_000.0).contains(&x), "UTM 48S easting: {x}");

    let (_, _, coll) = get_json(&app, "/ogc/collections/proposals").await;
    assert_eq!(
        coll["storageCrs"],
        "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
    );
    assert_eq!(coll["crs"].as_array().expect("crs").len(), 4);
}

#[tokio::test]
async fn bad_input_gets_problem_json_in_both_languages() {
    let app = spawn_app(true).await;
    let cases = [
        ("/ogc/collections/proposals/items?bbox=1,2,3", 400),
        (
            "/ogc/collections/proposals/items?bbox=107.7,-6.8,107.5,-7.0",
            400,
        ),
        ("/ogc/collections/proposals/items?bbox=a,b,c,d", 400),
        ("/ogc/collections/proposals/items?limit=100000", 400),
        ("/ogc/collections/proposals/items?limit=0", 400),
        ("/ogc/collections/proposals/items?limit=-5", 400),
        ("/ogc/collections/proposals/items?offset=x", 400),
        ("/ogc/collections/proposals/items?crs=EPSG:2000", 400),
        (
            "/ogc/collections/proposals/items?bbox=1,2,3,4&bbox-crs=EPSG:1234",
            400,
        ),
        ("/ogc/collections/proposals/items?datetime=yesterday", 400),
        (
            "/ogc/collections/proposals/items?datetime=2025-02-01/2025-01-01",
            400,
        ),
        ("/ogc/collections/proposals/items?status=diajukan", 400),
        (
            "/ogc/collections/proposals/items?category=jalan'%20OR%201=1--",
            400,
        ),
        (
            "/ogc/collections/proposals/items?kelurahan_code=1;DROP%20TABLE%20proposal",
            400,
        ),
        ("/ogc/collections/proposals/items?submitter_id=1", 400),
        ("/ogc/collections/proposals/items?foo=bar", 400),
        ("/ogc/collections/proposals/items?f=xml", 400),
        ("/ogc/collections/proposals/items?limit=5&limit=6", 400),
        ("/ogc/collections/kelurahan/items?skipGeometry=yes", 400),
        (
            "/ogc/collections/kelurahan/items?skipGeometry=true&f=csv",
            400,
        ),
        (
            "/ogc/collections/kelurahan/items?skipGeometry=true&f=html",
            400,
        ),
        ("/ogc/collections?bbox=1,2,3,4", 400),
        ("/ogc/collections/nothing", 404),
        ("/ogc/collections/nothing/items", 404),
        ("/ogc/collections/proposals/items/999999999", 404),
        ("/ogc/collections/proposals/items/1%20OR%201=1", 404),
        ("/ogc/collections/kelurahan/items/x'--", 404),
    ];
    for (path, code) in cases {
        for (lang, _) in [("en", ()), ("id", ())] {
            let res = app
                .http
                .get(app.url(path))
                .header("Accept-Language", lang)
                .send()
                .await
                .expect("request");
            assert_eq!(res.status().as_u16(), code, "{path}");
            assert_eq!(
                res.headers()["content-type"],
                "application/problem+json",
                "{path}"
            );
            let body: Value = res.json().await.expect("problem");
            assert!(!body["detail"].as_str().unwrap_or("").is_empty(), "{path}");
        }
    }
    // A pending proposal is not reachable by id.
    let client = app.pool.get().await.expect("client");
    let id: i64 = client
        .query_one(
            "INSERT INTO proposal (tracking_code, geom, category, title, status) \
             SELECT 'USL-HIDDEN1', ST_PointOnSurface(geom), 'jalan', 'Belum diverifikasi', 'diajukan' \
             FROM kelurahan ORDER BY code LIMIT 1 RETURNING id",
            &[],
        )
        .await
        .expect("pending")
        .get(0);
    let res = app
        .http
        .get(app.url(&format!("/ogc/collections/proposals/items/{id}")))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 404);
    assert_eq!(
        count(&app.pool, "SELECT count(*) FROM kelurahan").await,
        151
    );
}

#[tokio::test]
async fn exports_csv_gpkg_shp_follow_the_filters() {
    let app = spawn_app(true).await;
    let want = count(
        &app.pool,
        "SELECT count(*) FROM kelurahan WHERE kecamatan_code = (SELECT min(code) FROM kecamatan)",
    )
    .await;
    let client = app.pool.get().await.expect("client");
    let kec: String = client
        .query_one("SELECT min(code) FROM kecamatan", &[])
        .await
        .expect("kec")
        .get(0);
    let q = format!("/ogc/collections/kelurahan/items?kecamatan_code={kec}");

    let res = app
        .http
        .get(app.url(&format!("{q}&f=csv")))
        .send()
        .await
        .expect("csv");
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"]
        .to_str()
        .expect("ct")
        .starts_with("text/csv"));
    let text = res.text().await.expect("text");
    let mut lines = text.lines();
    let header = lines.next().expect("header");
    assert!(header.starts_with("code,name,kecamatan_code"));
    assert!(header.ends_with("wkt,lon,lat"));
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len() as i64, want);
    assert!(rows[0].contains("\"MULTIPOLYGON((("), "{}", rows[0]);

    let dir = tempfile::tempdir().expect("tempdir");
    for (f, file) in [("gpkg", "k.gpkg"), ("shp", "k.zip")] {
        let res = app
            .http
            .get(app.url(&format!("{q}&f={f}")))
            .send()
            .await
            .expect(f);
        assert_eq!(res.status(), 200, "{f}");
        let path = dir.path().join(file);
        std::fs::write(&path, res.bytes().await.expect("bytes")).expect("write");
        let source = if f == "shp" {
            format!("/vsizip/{}", path.display())
        } else {
            path.display().to_string()
        };
        let out = gdal_tool("ogrinfo", &["-ro", "-so", "-al", &source]).await;
        let info = stdout(&out);
        assert!(
            info.contains(&format!("Feature Count: {want}")),
            "{f}:\n{info}"
        );
        assert!(
            info.contains("Multi Polygon") || info.contains("Polygon"),
            "{f}:\n{info}"
        );
    }
}

#[tokio::test]
async fn html_pages_and_openapi() {
    let app = spawn_app(true).await;
    let res = app
        .http
        .get(app.url("/ogc/collections"))
        .header("Accept", "text/html")
        .send()
        .await
        .expect("html");
    assert!(res.headers()["content-type"]
        .to_str()
        .expect("ct")
        .starts_with("text/html"));
    let html = res.text().await.expect("text");
    assert!(html.contains("/ogc/collections/kelurahan/items?f=html"));

    // A title with markup is escaped in the items page.
    let client = app.pool.get().await.expect("client");
    client
        .execute(
            "INSERT INTO proposal (tracking_code, geom, category, title, status) \
             SELECT 'USL-HTML01', ST_PointOnSurface(geom), 'jalan', '<script>alert(1)</script>', 'diverifikasi' \
             FROM kelurahan ORDER BY code LIMIT 1",
            &[],
        )
        .await
        .expect("insert");
    let html = app
        .http
        .get(app.url("/ogc/collections/proposals/items?f=html&limit=10000"))
        .send()
        .await
        .expect("html")
        .text()
        .await
        .expect("text");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!html.contains("<script>alert"));

    let (status, headers, api) = get_json(&app, "/ogc/api").await;
    assert_eq!(status, 200);
    assert!(headers["content-type"]
        .to_str()
        .expect("ct")
        .contains("openapi"));
    assert_eq!(api["openapi"], "3.0.3");
    for id in [
        "kecamatan",
        "kelurahan",
        "coverage",
        "proposals",
        "gap_kelurahan",
        "gap_cells",
        "budget_funded",
        "facilities",
    ] {
        let params = api["paths"][format!("/collections/{id}/items")]["get"]["parameters"]
            .as_array()
            .unwrap_or_else(|| panic!("{id} items path"));
        let limit = params.iter().find(|p| p["name"] == "limit").expect("limit");
        assert_eq!(limit["schema"]["maximum"], 10000);
        assert!(api["paths"][format!("/collections/{id}/items/{{featureId}}")].is_object());
    }
    let (_, _, conf) = get_json(&app, "/ogc/conformance").await;
    assert!(conf["conformsTo"]
        .as_array()
        .expect("classes")
        .iter()
        .any(|c| c == "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs"));
}
