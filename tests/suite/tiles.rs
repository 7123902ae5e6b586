//! Vector tiles against a real PostGIS with the Bandung sample: tiles decoded by GDAL's MVT
//! driver (layers, fields, feature counts checked against the database), 204/304/ETag, bad
//! addresses, and tiles that are fresh after writes while unrelated cached tiles stay cached.

use crate::common;

use std::time::{Duration, Instant};

use common::mvt::{feature_count, ogrinfo_tile, tile_of};
use common::{count, spawn_app, TestApp};

const PUBLIC: &str = "('diverifikasi','diprioritaskan','dianggarkan','dikerjakan','selesai')";

async fn get_tile(
    app: &TestApp,
    set: &str,
    (z, x, y): (u32, u32, u32),
    etag: Option<&str>,
) -> reqwest::Response {
    let mut req = app
        .http
        .get(app.url(&format!("/tiles/{set}/{z}/{x}/{y}.mvt")));
    if let Some(e) = etag {
        req = req.header("If-None-Match", e);
    }
    req.send().await.expect("tile request")
}

fn header(res: &reqwest::Response, name: &str) -> String {
    res.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

fn layer_section<'a>(info: &'a str, layer: &str) -> &'a str {
    let start = info
        .find(&format!("Layer name: {layer}"))
        .unwrap_or_else(|| panic!("layer {layer} missing in:\n{info}"));
    let rest = &info[start + 1..];
    let end = rest
        .find("Layer name: ")
        .map(|e| e + 1)
        .unwrap_or(rest.len());
    &info[start..start + end]
}

/// A z14 tile over the centre of the sample's proposals.
async fn busy_tile(app: &TestApp) -> (u32, u32, u32) {
    let client = app.pool.get().await.expect("client");
    let row = client
        .query_one(
            &format!(
                "SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Centroid(ST_Collect(geom)) c \
                 FROM proposal WHERE status IN {PUBLIC}) s"
            ),
            &[],
        )
        .await
        .expect("centre");
    tile_of(row.get(0), row.get(1), 13)
}

async fn db_count_in_tile(app: &TestApp, sql_from_where: &str, (z, x, y): (u32, u32, u32)) -> i64 {
    count(
        &app.pool,
        &format!(
            "SELECT count(*) FROM {sql_from_where} AND ST_Transform(geom, 3857) && \
             ST_TileEnvelope({z}, {x}, {y}, margin => 64.0 / 4096) AND \
             ST_Intersects(ST_Transform(geom, 3857), ST_TileEnvelope({z}, {x}, {y}, margin => 64.0 / 4096))"
        ),
    )
    .await
}

#[tokio::test]
async fn combined_tile_decodes_with_every_layer_field_and_count() {
    let app = spawn_app(true).await;
    let t = busy_tile(&app).await;
    let res = get_tile(&app, "sigap", t, None).await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        header(&res, "content-type"),
        "application/vnd.mapbox-vector-tile"
    );
    let bytes = res.bytes().await.expect("bytes");
    let info = ogrinfo_tile(&bytes, t).await;

    for layer in ["kecamatan", "kelurahan", "coverage", "proposals"] {
        assert!(
            info.contains(&format!("Layer name: {layer}")),
            "{layer} missing:\n{info}"
        );
    }
    let proposals = layer_section(&info, "proposals");
    for field in [
        "tracking_code:",
        "category:",
        "status:",
        "title:",
        "kelurahan_code:",
    ] {
        assert!(
            proposals.contains(field),
            "proposals lacks {field}:\n{proposals}"
        );
    }
    assert!(
        !proposals.contains("submitter"),
        "private field in tile:\n{proposals}"
    );
    let kel = layer_section(&info, "kelurahan");
    for field in ["population:", "low_income_households:", "kecamatan_name:"] {
        assert!(kel.contains(field), "kelurahan lacks {field}:\n{kel}");
    }
    let cov = layer_section(&info, "coverage");
    for field in ["program_name:", "partner_type:", "valid_from:"] {
        assert!(cov.contains(field), "coverage lacks {field}:\n{cov}");
    }

    let want_props = db_count_in_tile(&app, &format!("proposal WHERE status IN {PUBLIC}"), t).await;
    assert!(want_props > 0, "the busy tile should hold proposals");
    assert_eq!(feature_count(&info, "proposals"), want_props);
    let want_kel = db_count_in_tile(&app, "kelurahan WHERE true", t).await;
    assert_eq!(feature_count(&info, "kelurahan"), want_kel);
}

#[tokio::test]
async fn single_layer_tile_has_one_layer_and_tilejson_describes_it() {
    let app = spawn_app(true).await;
    let t = busy_tile(&app).await;
    let res = get_tile(&app, "proposals", t, None).await;
    assert_eq!(res.status(), 200);
    let info = ogrinfo_tile(&res.bytes().await.expect("bytes"), t).await;
    assert_eq!(info.matches("Layer name: ").count(), 1, "{info}");
    assert!(info.contains("Layer name: proposals"));

    let tj: serde_json::Value = app
        .http
        .get(app.url("/tiles/sigap.json"))
        .send()
        .await
        .expect("tilejson")
        .json()
        .await
        .expect("json");
    assert_eq!(tj["tilejson"], "3.0.0");
    assert!(tj["tiles"][0]
        .as_str()
        .expect("tiles")
        .starts_with(&format!("{}/tiles/sigap/", app.base)));
    let ids: Vec<&str> = tj["vector_layers"]
        .as_array()
        .expect("layers")
        .iter()
        .filter_map(|l| l["id"].as_str())
        .collect();
    assert_eq!(
        ids,
        [
            "kecamatan",
            "kelurahan",
            "coverage",
            "proposals",
            "gap_kelurahan",
            "gap_cells",
            "budget_funded",
            "facilities"
        ]
    );
    let one: serde_json::Value = app
        .http
        .get(app.url("/tiles/coverage.json"))
        .send()
        .await
        .expect("tilejson")
        .json()
        .await
        .expect("json");
    assert_eq!(one["vector_layers"][0]["fields"]["program_type"], "String");
}

#[tokio::test]
async fn empty_tiles_304_and_bad_addresses() {
    let app = spawn_app(true).await;
    // Far from Bandung: nothing there.
    let res = get_tile(&app, "sigap", (10, 0, 0), None).await;
    assert_eq!(res.status(), 204);

    let t = busy_tile(&app).await;
    let first = get_tile(&app, "kelurahan", t, None).await;
    assert_eq!(first.status(), 200);
    let etag = header(&first, "etag");
    assert!(etag.starts_with('"') && etag.len() > 10, "{etag}");
    assert!(header(&first, "cache-control").contains("must-revalidate"));
    let again = get_tile(&app, "kelurahan", t, Some(&etag)).await;
    assert_eq!(again.status(), 304);
    assert_eq!(header(&again, "etag"), etag);
    let other = get_tile(&app, "kelurahan", t, Some("\"nope\"")).await;
    assert_eq!(other.status(), 200);

    // Malformed addresses are 400, unknown layers 404; all problem+json.
    for (want, path) in [
        (400, "/tiles/sigap/23/0/0.mvt"),
        (400, "/tiles/sigap/2/4/0.mvt"),
        (400, "/tiles/sigap/2/0/4.mvt"),
        (400, "/tiles/sigap/-1/0/0.mvt"),
        (400, "/tiles/sigap/1/0/0%3B%20DROP%20TABLE%20proposal.mvt"),
        (400, "/tiles/sigap/99999999999/0/0.mvt"),
        (400, "/tiles/sigap/a/b/c.mvt"),
        (
            400,
            "/ogc/collections/proposals/tiles/WebMercatorQuad/3/9/0",
        ),
        (404, "/tiles/nothing/1/0/0.mvt"),
        (404, "/tiles/nothing.json"),
        (404, "/tiles/proposal%27--/1/0/0.mvt"),
    ] {
        let res = app.http.get(app.url(path)).send().await.expect("request");
        assert_eq!(res.status(), want, "{path}");
        assert_eq!(
            header(&res, "content-type"),
            "application/problem+json",
            "{path}"
        );
    }
    let n = count(&app.pool, "SELECT count(*) FROM proposal").await;
    assert!(n > 0, "the proposal table is intact");
}

/// Reads `t` until the cache no longer answers with the copy it held (the change listener
/// dropped it), or fails after a generous deadline.
async fn until_dropped(app: &TestApp, set: &str, t: (u32, u32, u32)) -> reqwest::Response {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let res = get_tile(app, set, t, None).await;
        if header(&res, "x-cache") != "hit" {
            return res;
        }
        assert!(
            Instant::now() < deadline,
            "cached tile {t:?} was never invalidated after the write"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn writes_invalidate_only_the_tiles_they_touch() {
    let app = spawn_app(true).await;
    let client = app.pool.get().await.expect("client");
    // A point inside a kelurahan, and a tile far from it that still has content.
    let row = client
        .query_one(
            "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM kelurahan \
             ORDER BY code LIMIT 1) s",
            &[],
        )
        .await
        .expect("point");
    let (lon, lat): (f64, f64) = (row.get(0), row.get(1));
    let here = tile_of(lon, lat, 15);
    let far_row = client
        .query_one(
            "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM kelurahan \
             ORDER BY code DESC LIMIT 1) s",
            &[],
        )
        .await
        .expect("far point");
    let far = tile_of(far_row.get(0), far_row.get(1), 15);
    assert_ne!(here, far);

    for set in ["proposals", "sigap"] {
        assert_eq!(
            header(&get_tile(&app, set, here, None).await, "x-cache"),
            "miss"
        );
        assert_eq!(
            header(&get_tile(&app, set, here, None).await, "x-cache"),
            "hit"
        );
    }
    let far_first = get_tile(&app, "sigap", far, None).await;
    let far_etag = header(&far_first, "etag");
    assert_eq!(
        header(&get_tile(&app, "sigap", far, None).await, "x-cache"),
        "hit"
    );
    let before = get_tile(&app, "proposals", here, None).await;
    let before_count = if before.status() == 204 {
        0
    } else {
        feature_count(
            &ogrinfo_tile(&before.bytes().await.expect("b"), here).await,
            "proposals",
        )
    };

    // A pending proposal: not public, so the tile is redrawn but does not show it.
    let id: i64 = client
        .query_one(
            "INSERT INTO proposal (tracking_code, geom, category, title, status) \
             VALUES ('USL-TILE01', ST_SetSRID(ST_MakePoint($1, $2), 4326), 'jalan', \
                     'Jalan rusak dekat pasar', 'diajukan') RETURNING id",
            &[&lon, &lat],
        )
        .await
        .expect("insert")
        .get(0);
    let res = until_dropped(&app, "proposals", here).await;
    let n = if res.status() == 204 {
        0
    } else {
        feature_count(
            &ogrinfo_tile(&res.bytes().await.expect("b"), here).await,
            "proposals",
        )
    };
    assert_eq!(n, before_count, "a pending proposal must not be published");

    // Verified: the next read after the change shows it, in the layer and the combined set.
    client
        .execute(
            "UPDATE proposal SET status = 'diverifikasi' WHERE id = $1",
            &[&id],
        )
        .await
        .expect("verify");
    let res = until_dropped(&app, "proposals", here).await;
    assert_eq!(res.status(), 200);
    let info = ogrinfo_tile(&res.bytes().await.expect("b"), here).await;
    assert_eq!(feature_count(&info, "proposals"), before_count + 1);
    let combined = until_dropped(&app, "sigap", here).await;
    let info = ogrinfo_tile(&combined.bytes().await.expect("b"), here).await;
    assert_eq!(feature_count(&info, "proposals"), before_count + 1);

    // The far tile was never touched: still cached, same ETag.
    let far_again = get_tile(&app, "sigap", far, None).await;
    assert_eq!(header(&far_again, "x-cache"), "hit");
    assert_eq!(header(&far_again, "etag"), far_etag);
}

#[tokio::test]
async fn losing_the_change_listener_empties_the_cache() {
    let app = spawn_app(true).await;
    let t = busy_tile(&app).await;
    get_tile(&app, "kelurahan", t, None).await;
    assert_eq!(
        header(&get_tile(&app, "kelurahan", t, None).await, "x-cache"),
        "hit"
    );
    let client = app.pool.get().await.expect("client");
    let killed: i64 = client
        .query_one(
            "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND query ILIKE 'LISTEN sigap_changes%') s",
            &[],
        )
        .await
        .expect("terminate")
        .get(0);
    assert_eq!(killed, 1, "exactly one listener connection");
    // Dropped with the connection: the next read is rendered afresh (it may be cached again
    // once the listener is back).
    until_dropped(&app, "kelurahan", t).await;
}

#[tokio::test]
async fn a_new_gap_run_replaces_the_cached_gap_layers() {
    let app = spawn_app(true).await;
    let t = busy_tile(&app).await;
    let before = get_tile(&app, "sigap", t, None).await;
    assert_eq!(before.status(), 200);
    let info = ogrinfo_tile(&before.bytes().await.expect("bytes"), t).await;
    assert!(
        !info.contains("Layer name: gap_kelurahan"),
        "no run yet:\n{info}"
    );

    // As of today with the default parameters: a live run, which the public layers show.
    let out = common::sigap_cli(&app.db, &["gap", "run"]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The run's notification reaches the listener asynchronously: wait until the cached copy is
    // dropped, then the fresh tile carries the new layers.
    let res = until_dropped(&app, "sigap", t).await;
    let info = ogrinfo_tile(&res.bytes().await.expect("bytes"), t).await;
    assert!(info.contains("Layer name: gap_kelurahan"), "{info}");
    assert!(info.contains("Layer name: gap_cells"), "{info}");
    let gap = layer_section(&info, "gap_kelurahan");
    for field in ["gap_score:", "covered_pct:", "need:", "demand:", "class:"] {
        assert!(gap.contains(field), "gap_kelurahan lacks {field}:\n{gap}");
    }
    let items: serde_json::Value = app
        .http
        .get(app.url("/ogc/collections/gap_kelurahan/items?limit=1"))
        .send()
        .await
        .expect("items")
        .json()
        .await
        .expect("json");
    assert_eq!(items["numberMatched"], 151);
}

#[tokio::test]
async fn pending_proposals_stay_off_public_layers_until_verified() {
    let app = spawn_app(true).await;
    let (_, moderator) = common::user(&app, "fasilitator", "moderator", None).await;
    // The point of a sample kelurahan (inside it by construction).
    let (lon, lat) = (107.5858, -6.8749);
    let created: serde_json::Value = app
        .http
        .post(app.url("/api/proposals"))
        .json(&serde_json::json!({
            "lon": lon, "lat": lat, "category": "drainase",
            "title": "Saluran tersumbat dekat pasar", "description": "Air meluap saat hujan."
        }))
        .send()
        .await
        .expect("submit")
        .json()
        .await
        .expect("json");
    let id = created["id"].as_i64().expect("id");
    let t = tile_of(lon, lat, 16);
    // ogrinfo summarises the tile: count the proposals layer's features.
    let in_tile = |info: &str| {
        if info.contains("Layer name: proposals") {
            feature_count(info, "proposals")
        } else {
            0
        }
    };
    // Whether /ogc lists the proposal among the features near it.
    let in_items = |url: String| {
        let http = app.http.clone();
        async move {
            let v: serde_json::Value = http
                .get(&url)
                .send()
                .await
                .expect("items")
                .json()
                .await
                .expect("json");
            v["features"]
                .as_array()
                .is_some_and(|f| f.iter().any(|f| f["id"].as_i64() == Some(id)))
        }
    };
    let bbox = format!(
        "{},{},{},{}",
        lon - 0.001,
        lat - 0.001,
        lon + 0.001,
        lat + 0.001
    );
    let items_url = app.url(&format!(
        "/ogc/collections/proposals/items?bbox={bbox}&limit=1000"
    ));

    let res = get_tile(&app, "sigap", t, None).await;
    let before = if res.status() == 200 {
        ogrinfo_tile(&res.bytes().await.expect("bytes"), t).await
    } else {
        String::new()
    };
    let public_here =
        db_count_in_tile(&app, &format!("proposal WHERE status IN {PUBLIC}"), t).await;
    assert_eq!(
        in_tile(&before),
        public_here,
        "a pending proposal is in the public tile"
    );
    assert!(
        !in_items(items_url.clone()).await,
        "a pending proposal is in /ogc"
    );
    let one = app
        .http
        .get(app.url(&format!("/ogc/collections/proposals/items/{id}")))
        .send()
        .await
        .expect("item");
    assert_eq!(one.status(), 404);

    let res = app
        .http
        .post(app.url(&format!("/api/proposals/{id}/status")))
        .bearer_auth(&moderator)
        .json(&serde_json::json!({ "to": "diverifikasi", "note": "sudah dicek di lapangan" }))
        .send()
        .await
        .expect("verify");
    assert_eq!(
        res.status(),
        200,
        "{}",
        res.text().await.unwrap_or_default()
    );

    let res = until_dropped(&app, "sigap", t).await;
    let after = ogrinfo_tile(&res.bytes().await.expect("bytes"), t).await;
    assert_eq!(
        in_tile(&after),
        public_here + 1,
        "the verified proposal is missing from the tile:\n{after}"
    );
    assert!(
        in_items(items_url).await,
        "the verified proposal is missing from /ogc"
    );
}
