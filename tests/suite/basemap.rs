//! The self-hosted basemap: a PMTiles v3 archive this test builds from the app's own kelurahan
//! vector tiles (written with the `pmtiles` crate), served at `/basemap/{name}.pmtiles` with range
//! requests (206, 416), validators (ETag/If-None-Match 304, If-Range), HEAD, CORS and refusals of
//! bad names; and `/config.json`, which tells the map which basemap to draw. No request leaves the
//! machine.

use crate::common;

use std::path::{Path, PathBuf};

use common::{serve_with, TestApp, TestDb};
use pmtiles::{PmTilesWriter, TileCoord, TileType};
use serde_json::Value;

/// The z/x/y of the tile holding a lon/lat point.
fn tile_xy(lon: f64, lat: f64, z: u8) -> (u32, u32) {
    let n = f64::from(1u32 << z);
    let x = ((lon + 180.0) / 360.0 * n).floor() as u32;
    let lat_r = lat.to_radians();
    let y = ((1.0 - (lat_r.tan() + 1.0 / lat_r.cos()).ln() / std::f64::consts::PI) / 2.0 * n)
        .floor() as u32;
    (x, y)
}

fn header(res: &reqwest::Response, name: &str) -> String {
    res.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

/// Writes `dir/kelurahan.pmtiles` from the app's kelurahan tiles at zooms 10–12 over the layer's
/// bounds, and returns the archive's bytes and the number of tiles in it.
async fn build_archive(app: &TestApp, dir: &Path) -> (Vec<u8>, usize) {
    let tj: Value = app
        .http
        .get(app.url("/tiles/kelurahan.json"))
        .send()
        .await
        .expect("tilejson")
        .json()
        .await
        .expect("tilejson body");
    let b: Vec<f64> = tj["bounds"]
        .as_array()
        .expect("bounds")
        .iter()
        .map(|v| v.as_f64().expect("number"))
        .collect();
    let (min_z, max_z) = (10u8, 12u8);
    let mut tiles = Vec::new();
    for z in min_z..=max_z {
        let (x0, y0) = tile_xy(b[0], b[3], z);
        let (x1, y1) = tile_xy(b[2], b[1], z);
        for x in x0..=x1 {
            for y in y0..=y1 {
                let res = app
                    .http
                    .get(app.url(&format!("/tiles/kelurahan/{z}/{x}/{y}.mvt")))
                    .send()
                    .await
                    .expect("tile");
                if res.status() == 200 {
                    let bytes = res.bytes().await.expect("tile body");
                    tiles.push((TileCoord::new(z, x, y).expect("coord"), bytes));
                }
            }
        }
    }
    assert!(
        !tiles.is_empty(),
        "the kelurahan layer has tiles over its bounds"
    );
    let path = dir.join("kelurahan.pmtiles");
    let file = std::fs::File::create(&path).expect("create archive");
    let mut writer = PmTilesWriter::new(TileType::Mvt)
        .min_zoom(min_z)
        .max_zoom(max_z)
        .bounds(b[0] as f32, b[1] as f32, b[2] as f32, b[3] as f32)
        .center((b[0] + b[2]) as f32 / 2.0, (b[1] + b[3]) as f32 / 2.0)
        .center_zoom(11)
        .metadata(r#"{"vector_layers":[{"id":"kelurahan","fields":{"code":"String"}}]}"#)
        .create(file)
        .expect("writer");
    for (coord, bytes) in &tiles {
        writer.add_tile(*coord, bytes).expect("add tile");
    }
    writer.finalize().expect("finalize");
    (std::fs::read(&path).expect("read archive"), tiles.len())
}

struct Fixture {
    app: TestApp,
    dir: tempfile::TempDir,
    bytes: Vec<u8>,
}

impl Fixture {
    fn url(&self) -> String {
        self.app.url("/basemap/kelurahan.pmtiles")
    }
    fn path(&self) -> PathBuf {
        self.dir.path().join("kelurahan.pmtiles")
    }
    async fn get(&self, headers: &[(&str, &str)]) -> reqwest::Response {
        let mut req = self.app.http.get(self.url());
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req.send().await.expect("archive request")
    }
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let basemap_dir = dir.path().to_owned();
    let app = serve_with(TestDb::new(true).await, |c| {
        c.basemap_dir = Some(basemap_dir);
        c.basemap_tiles = "pmtiles://kelurahan".into();
    })
    .await;
    let (bytes, _) = build_archive(&app, dir.path()).await;
    Fixture { app, dir, bytes }
}

fn le_u64(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

#[tokio::test]
async fn the_whole_archive_and_its_head() {
    let f = fixture().await;
    let len = f.bytes.len();
    // A PMTiles v3 archive: magic, version, and a root directory inside the file.
    assert_eq!(&f.bytes[..7], b"PMTiles");
    assert_eq!(f.bytes[7], 3);
    let (root_offset, root_len) = (le_u64(&f.bytes, 8), le_u64(&f.bytes, 16));
    assert!(root_offset >= 127 && root_offset + root_len <= len as u64);
    assert_eq!(f.bytes[99], 1, "tile type: MVT");

    let res = f.get(&[]).await;
    assert_eq!(res.status(), 200);
    assert_eq!(header(&res, "content-type"), "application/vnd.pmtiles");
    assert_eq!(header(&res, "accept-ranges"), "bytes");
    assert_eq!(header(&res, "content-length"), len.to_string());
    let etag = header(&res, "etag");
    assert!(
        etag.starts_with('"') && etag.ends_with('"'),
        "a strong ETag: {etag}"
    );
    assert!(!header(&res, "last-modified").is_empty());
    assert_eq!(
        res.bytes().await.expect("body").as_ref(),
        f.bytes.as_slice()
    );

    let head = f.app.http.head(f.url()).send().await.expect("head");
    assert_eq!(head.status(), 200);
    assert_eq!(header(&head, "content-length"), len.to_string());
    assert_eq!(header(&head, "etag"), etag);
    assert!(head.bytes().await.expect("head body").is_empty());

    let head = f
        .app
        .http
        .head(f.url())
        .header("Range", "bytes=0-126")
        .send()
        .await
        .expect("head with range");
    assert_eq!(head.status(), 206);
    assert_eq!(header(&head, "content-length"), "127");
    assert_eq!(header(&head, "content-range"), format!("bytes 0-126/{len}"));
}

#[tokio::test]
async fn byte_ranges_answer_206_with_exactly_those_bytes() {
    let f = fixture().await;
    let len = f.bytes.len();
    let (root_offset, root_len) = (le_u64(&f.bytes, 8), le_u64(&f.bytes, 16));
    let root_end = root_offset + root_len - 1;
    let cases: Vec<(String, usize, usize)> = vec![
        // What a PMTiles reader asks first: the header (and more, in one request).
        ("bytes=0-126".into(), 0, 126),
        // The root directory, at the offset the header names.
        (
            format!("bytes={root_offset}-{root_end}"),
            root_offset as usize,
            root_end as usize,
        ),
        // Open-ended, suffix, and an end past the archive (clamped).
        (format!("bytes={}-", len - 10), len - 10, len - 1),
        ("bytes=-7".into(), len - 7, len - 1),
        (format!("bytes=5-{}", len + 1000), 5, len - 1),
        (format!("bytes=-{}", len + 5), 0, len - 1),
        ("bytes=3-3".into(), 3, 3),
    ];
    for (range, start, end) in cases {
        let res = f.get(&[("Range", &range)]).await;
        assert_eq!(res.status(), 206, "{range}");
        assert_eq!(
            header(&res, "content-range"),
            format!("bytes {start}-{end}/{len}"),
            "{range}"
        );
        assert_eq!(
            header(&res, "content-length"),
            (end - start + 1).to_string()
        );
        assert_eq!(
            res.bytes().await.expect("body").as_ref(),
            &f.bytes[start..=end],
            "{range}"
        );
    }
}

#[tokio::test]
async fn ranges_outside_the_archive_answer_416_and_odd_ones_the_whole_archive() {
    let f = fixture().await;
    let len = f.bytes.len();
    for range in [
        format!("bytes={len}-"),
        format!("bytes={}-{}", len + 10, len + 20),
        "bytes=-0".into(),
    ] {
        let res = f.get(&[("Range", &range), ("Accept-Language", "en")]).await;
        assert_eq!(res.status(), 416, "{range}");
        assert_eq!(header(&res, "content-range"), format!("bytes */{len}"));
        assert_eq!(header(&res, "content-type"), "application/problem+json");
        let body: Value = res.json().await.expect("problem");
        assert!(
            body["detail"]
                .as_str()
                .expect("detail")
                .contains(&len.to_string()),
            "{body}"
        );
    }
    // Invalid syntax is ignored (RFC 9110), and several ranges get the whole archive.
    for range in ["bytes=9-2", "pages=0-1", "bytes=x-", "bytes=0-1,4-5"] {
        let res = f.get(&[("Range", range)]).await;
        assert_eq!(res.status(), 200, "{range}");
        assert_eq!(res.bytes().await.expect("body").len(), len, "{range}");
    }
}

#[tokio::test]
async fn validators_revalidate_and_guard_ranges() {
    let f = fixture().await;
    let len = f.bytes.len();
    let first = f.get(&[]).await;
    let etag = header(&first, "etag");
    let modified = header(&first, "last-modified");

    let res = f.get(&[("If-None-Match", &etag)]).await;
    assert_eq!(res.status(), 304);
    assert_eq!(header(&res, "etag"), etag);
    assert!(res.bytes().await.expect("body").is_empty());
    let res = f
        .get(&[("If-None-Match", &format!("\"other\", W/{etag}"))])
        .await;
    assert_eq!(res.status(), 304, "a list and a weak form match too");
    assert_eq!(f.get(&[("If-None-Match", "\"other\"")]).await.status(), 200);
    assert_eq!(
        f.get(&[("If-Modified-Since", &modified)]).await.status(),
        304
    );

    // If-Range: the current validator gets the range, any other the whole (new) archive.
    let res = f.get(&[("Range", "bytes=0-9"), ("If-Range", &etag)]).await;
    assert_eq!(res.status(), 206);
    let res = f
        .get(&[("Range", "bytes=0-9"), ("If-Range", "\"stale\"")])
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.bytes().await.expect("body").len(), len);

    // The operator replaces the archive: the old ETag no longer matches.
    let mut bigger = f.bytes.clone();
    bigger.extend_from_slice(&[0; 16]);
    std::fs::write(f.path(), &bigger).expect("replace archive");
    let res = f.get(&[("If-None-Match", &etag)]).await;
    assert_eq!(res.status(), 200);
    assert_ne!(header(&res, "etag"), etag);
    assert_eq!(res.bytes().await.expect("body").len(), bigger.len());
    let res = f.get(&[("Range", "bytes=0-9"), ("If-Range", &etag)]).await;
    assert_eq!(
        res.status(),
        200,
        "a range of the old archive is not served"
    );
}

#[tokio::test]
async fn bad_and_unknown_names_are_refused() {
    let f = fixture().await;
    // A file one level up that a traversal would reach.
    let outside = f.dir.path().join("secret");
    std::fs::create_dir_all(&outside).expect("mkdir");
    std::fs::write(outside.join("secret.pmtiles"), b"not for you").expect("write");
    let cases = [
        ("/basemap/nothing.pmtiles", 404),
        ("/basemap/kelurahan.mbtiles", 404),
        ("/basemap/kelurahan", 404),
        ("/basemap/secret/secret.pmtiles", 404),
        ("/basemap/..%2Fsecret%2Fsecret.pmtiles", 404),
        ("/basemap/%2E%2E.pmtiles", 400),
        ("/basemap/a.b.pmtiles", 400),
        ("/basemap/a%20b.pmtiles", 400),
        ("/basemap/.pmtiles", 400),
    ];
    for (path, status) in cases {
        let res = f
            .app
            .http
            .get(f.app.url(path))
            .header("Accept-Language", "en")
            .send()
            .await
            .expect("request");
        assert_eq!(res.status(), status, "{path}");
        assert_eq!(
            header(&res, "content-type"),
            "application/problem+json",
            "{path}"
        );
        let body: Value = res.json().await.expect("problem");
        assert!(!body["detail"].as_str().unwrap_or("").is_empty(), "{path}");
    }
    let res = f
        .app
        .http
        .get(f.app.url("/basemap/nothing.pmtiles"))
        .send()
        .await
        .expect("request");
    let body: Value = res.json().await.expect("problem");
    assert!(
        body["detail"]
            .as_str()
            .expect("detail")
            .contains("SIGAP_BASEMAP_DIR"),
        "Indonesian by default, naming where archives go: {body}"
    );
}

#[tokio::test]
async fn without_a_basemap_dir_nothing_is_served() {
    let app = serve_with(TestDb::new(false).await, |_| {}).await;
    let res = app
        .http
        .get(app.url("/basemap/kelurahan.pmtiles"))
        .header("Accept-Language", "en")
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 404);
    let body: Value = res.json().await.expect("problem");
    assert!(
        body["detail"]
            .as_str()
            .expect("detail")
            .contains("SIGAP_BASEMAP_DIR is not set"),
        "{body}"
    );
}

#[tokio::test]
async fn other_web_maps_may_read_the_archive() {
    let f = fixture().await;
    let res = f
        .get(&[
            ("Origin", "http://elsewhere.example"),
            ("Range", "bytes=0-9"),
        ])
        .await;
    assert_eq!(res.status(), 206);
    assert_eq!(header(&res, "access-control-allow-origin"), "*");
    let exposed = header(&res, "access-control-expose-headers").to_ascii_lowercase();
    for h in ["content-range", "etag"] {
        assert!(exposed.contains(h), "{h} exposed: {exposed}");
    }
    let pre = f
        .app
        .http
        .request(reqwest::Method::OPTIONS, f.url())
        .header("Origin", "http://elsewhere.example")
        .header("Access-Control-Request-Method", "GET")
        .header("Access-Control-Request-Headers", "range,if-none-match")
        .send()
        .await
        .expect("preflight");
    assert!(pre.status().is_success(), "{}", pre.status());
    let allowed = header(&pre, "access-control-allow-headers").to_ascii_lowercase();
    assert!(allowed.contains("range"), "{allowed}");
}

#[tokio::test]
async fn the_map_is_told_which_basemap_to_draw() {
    let config = |app: &TestApp| {
        let url = app.url("/config.json");
        let http = app.http.clone();
        async move {
            let res = http.get(url).send().await.expect("config");
            assert_eq!(res.status(), 200);
            assert_eq!(header(&res, "cache-control"), "no-cache");
            res.json::<Value>().await.expect("json")
        }
    };
    let f = fixture().await;
    let cfg = config(&f.app).await;
    assert_eq!(cfg["basemap"]["type"], "pmtiles");
    assert_eq!(cfg["basemap"]["url"], "/basemap/kelurahan.pmtiles");
    assert!(cfg["basemap"]["attribution"]
        .as_str()
        .expect("attribution")
        .contains("OpenStreetMap"));

    // The default: OpenStreetMap's raster tiles, credited.
    let app = serve_with(TestDb::new(false).await, |_| {}).await;
    let cfg = config(&app).await;
    assert_eq!(cfg["basemap"]["type"], "raster");
    assert_eq!(
        cfg["basemap"]["tiles"],
        sigap::config::DEFAULT_BASEMAP_TILES
    );
    assert_eq!(
        cfg["basemap"]["attribution"],
        sigap::config::DEFAULT_BASEMAP_ATTRIBUTION
    );

    let app = serve_with(TestDb::new(false).await, |c| {
        c.basemap_tiles = "none".into();
    })
    .await;
    assert!(config(&app).await["basemap"].is_null());
}
