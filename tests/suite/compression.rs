//! Light on data: every compressible response is compressed (brotli or gzip, as the client
//! asks), decodes to exactly the uncompressed body, says `Vary: Accept-Encoding`, and carries an
//! ETag of its own encoding that revalidates with 304.

use crate::common;

use std::io::Read;

use common::mvt::tile_of;
use common::spawn_app;

fn brotli(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    brotli::Decompressor::new(bytes, 4096)
        .read_to_end(&mut out)
        .expect("brotli");
    out
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .expect("gzip");
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn json_tiles_html_and_csv_are_compressed_as_asked() {
    let app = spawn_app(true).await;
    let t = tile_of(107.61, -6.91, 13);
    let paths = [
        "/ogc/collections/kelurahan/items?limit=50".to_owned(),
        "/ogc/collections/kelurahan/items?limit=50&f=html".to_owned(),
        "/ogc/collections/kelurahan/items?limit=50&f=csv".to_owned(),
        format!("/tiles/sigap/{}/{}/{}.mvt", t.0, t.1, t.2),
        "/ogc/api".to_owned(),
    ];
    for path in paths {
        let plain = app
            .http
            .get(app.url(&path))
            .header("accept-encoding", "identity")
            .send()
            .await
            .unwrap();
        assert_eq!(plain.status(), 200, "{path}");
        assert!(plain.headers().get("content-encoding").is_none());
        let plain_etag = plain.headers().get("etag").cloned();
        let plain = plain.bytes().await.unwrap();
        for (enc, decode) in [("br", brotli as fn(&[u8]) -> Vec<u8>), ("gzip", gunzip)] {
            let res = app
                .http
                .get(app.url(&path))
                .header("accept-encoding", enc)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 200);
            assert_eq!(res.headers()["content-encoding"], enc, "{path}");
            let vary = res.headers()["vary"].to_str().unwrap().to_ascii_lowercase();
            assert!(vary.contains("accept-encoding"), "{path}: {vary}");
            let etag = res.headers().get("etag").cloned();
            let body = res.bytes().await.unwrap();
            assert!(body.len() < plain.len(), "{path}: {enc} is smaller");
            assert_eq!(
                decode(&body),
                plain.to_vec(),
                "{path}: {enc} decodes to the same body"
            );
            // The ETag names this encoding and revalidates.
            if let (Some(etag), Some(plain_etag)) = (etag, plain_etag.as_ref()) {
                let tag = etag.to_str().unwrap().to_owned();
                assert_ne!(&etag, plain_etag);
                assert!(tag.ends_with(&format!("-{enc}\"")), "{tag}");
                let again = app
                    .http
                    .get(app.url(&path))
                    .header("accept-encoding", enc)
                    .header("if-none-match", &tag)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(again.status(), 304, "{path}");
                assert_eq!(again.headers()["etag"].to_str().unwrap(), tag);
            }
        }
    }
    // Downloads that are archives already are sent as they are.
    let res = app
        .http
        .get(app.url("/ogc/collections/kecamatan/items?f=gpkg"))
        .header("accept-encoding", "br, gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers().get("content-encoding").is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn map_assets_are_precompressed_hashed_and_cached_for_a_year() {
    let app = spawn_app(false).await;
    let res = app.http.get(app.url("/")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["cache-control"],
        "no-cache",
        "index.html is revalidated"
    );
    let index = res.text().await.unwrap();
    // The build names its assets under a content-hashed directory.
    let main = index
        .split('"')
        .find(|s| s.starts_with("a/") && s.ends_with("/js/main.js"))
        .expect("index.html loads a/<hash>/js/main.js")
        .to_owned();
    let on_disk = std::fs::read(common::repo_root().join("map-ui/dist").join(&main)).unwrap();
    for (enc, decode) in [("br", brotli as fn(&[u8]) -> Vec<u8>), ("gzip", gunzip)] {
        let res = app
            .http
            .get(app.url(&format!("/{main}")))
            .header("accept-encoding", enc)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["content-encoding"], enc);
        assert_eq!(
            res.headers()["cache-control"],
            "public, max-age=31536000, immutable"
        );
        assert!(res.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains("javascript"));
        assert_eq!(decode(&res.bytes().await.unwrap()), on_disk);
    }
    // The largest file, MapLibre, travels at a fraction of its size.
    let lib = index
        .split('"')
        .find(|s| s.ends_with("/vendor/maplibre-gl.mjs"))
        .unwrap()
        .to_owned();
    let res = app
        .http
        .get(app.url(&format!("/{lib}")))
        .header("accept-encoding", "br")
        .send()
        .await
        .unwrap();
    let sent = res.bytes().await.unwrap().len();
    let raw = std::fs::metadata(common::repo_root().join("map-ui/dist").join(&lib))
        .unwrap()
        .len() as usize;
    assert!(sent * 3 < raw, "maplibre {raw} B sent as {sent} B");
    // /config.json is revalidated too.
    let res = app.http.get(app.url("/config.json")).send().await.unwrap();
    let cc = res.headers()["cache-control"].to_str().unwrap().to_owned();
    assert!(cc.contains("no-cache") || cc.contains("no-store"), "{cc}");
}
