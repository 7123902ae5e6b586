//! Light on data: every compressible response is compressed (brotli or gzip, as the client
//! asks), decodes to exactly the uncompressed body, says `Vary: Accept-Encoding`, and carries an
//! ETag of its own encoding that revalidates with 304.

mod common;

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
