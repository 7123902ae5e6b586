//! Installable and offline: the web app manifest (Bahasa Indonesia first, icons that really are
//! PNGs of the sizes it states) and the service worker at the site root, revalidated, naming the
//! asset directory the current index.html uses.

use crate::common;

use common::spawn_app;

#[tokio::test(flavor = "multi_thread")]
async fn manifest_and_service_worker_are_served_for_installing() {
    let app = spawn_app(false).await;
    let index = app
        .http
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let manifest_path = index
        .split('"')
        .find(|s| s.starts_with("a/") && s.ends_with("/manifest.webmanifest"))
        .expect("index.html links the manifest")
        .to_owned();
    assert!(index.contains(r#"<link rel="manifest""#));
    let res = app
        .http
        .get(app.url(&format!("/{manifest_path}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/manifest+json");
    let m: serde_json::Value = res.json().await.unwrap();
    assert_eq!(m["name"], "SIGAP");
    assert_eq!(m["lang"], "id");
    assert_eq!(m["scope"], "/");
    assert!(m["theme_color"].as_str().unwrap().starts_with('#'));
    let dir = manifest_path.trim_end_matches("manifest.webmanifest");
    let icons = m["icons"].as_array().unwrap();
    assert!(icons.iter().any(|i| i["sizes"] == "192x192"));
    assert!(icons.iter().any(|i| i["sizes"] == "512x512"));
    for icon in icons {
        let res = app
            .http
            .get(app.url(&format!("/{dir}{}", icon["src"].as_str().unwrap())))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{icon}");
        assert_eq!(res.headers()["content-type"], "image/png");
        let png = image::load_from_memory(&res.bytes().await.unwrap()).expect("a PNG");
        let side = icon["sizes"].as_str().unwrap().split('x').next().unwrap();
        assert_eq!(png.width().to_string(), side);
        assert_eq!(png.height(), png.width());
    }

    let res = app.http.get(app.url("/sw.js")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-cache");
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .contains("javascript"));
    let sw = res.text().await.unwrap();
    // It imports the outbox of the same build as the page, so the two never disagree.
    let asset_dir = manifest_path.trim_end_matches("/manifest.webmanifest");
    assert!(
        sw.contains(&format!("'./{asset_dir}/js/outbox.js'")),
        "sw.js names {asset_dir}"
    );
}

/// MapLibre's worker as a delta against MapLibre's main module (RFC 9842, `dcz`): the main
/// module is offered as a dictionary for the worker's path; a request naming its SHA-256 gets
/// the delta, which zstd decodes with that module into the very worker; any other request gets
/// the worker as before.
#[tokio::test(flavor = "multi_thread")]
async fn maplibre_worker_goes_as_a_delta_against_the_main_module() {
    use base64::Engine;
    use sha2::Digest;
    use std::io::Write;

    let app = spawn_app(false).await;
    let index = app.http.get(app.url("/")).send().await.unwrap();
    let index = index.text().await.unwrap();
    let dir = index
        .split('"')
        .find(|s| s.starts_with("a/") && s.ends_with("/js/main.js"))
        .expect("index.html loads main.js")
        .trim_end_matches("/js/main.js")
        .to_owned();
    let main = app
        .http
        .get(app.url(&format!("/{dir}/vendor/maplibre-gl.mjs")))
        .send()
        .await
        .unwrap();
    assert_eq!(main.status(), 200);
    let offer = main.headers()["use-as-dictionary"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        offer.contains(r#"match="/a/*/vendor/maplibre-gl-worker.mjs""#) && offer.contains("worker"),
        "{offer}"
    );
    let main = main.bytes().await.unwrap();
    let hash = sha2::Sha256::digest(&main);
    let worker_url = app.url(&format!("/{dir}/vendor/maplibre-gl-worker.mjs?v=1"));
    let plain = app.http.get(&worker_url).send().await.unwrap();
    assert!(plain.headers().get("content-encoding").is_none());
    let plain = plain.bytes().await.unwrap();

    // `Available-Dictionary` names a dictionary by its SHA-256, a structured-field byte sequence.
    let offered = |hash: &[u8]| {
        format!(
            ":{}:",
            base64::engine::general_purpose::STANDARD.encode(hash)
        )
    };
    let ask = |hash: Vec<u8>, accept: &'static str| {
        app.http
            .get(&worker_url)
            .header("accept-encoding", accept)
            .header("available-dictionary", offered(&hash))
            .send()
    };
    let res = ask(hash.to_vec(), "gzip, br, zstd, dcb, dcz")
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["content-encoding"],
        "dcz",
        "no delta: the map build writes it only when the zstd command is installed"
    );
    // Never from a shared cache that may ignore `Vary: Available-Dictionary`.
    assert!(res.headers()["cache-control"]
        .to_str()
        .unwrap()
        .starts_with("private"));
    assert!(res.headers()["vary"]
        .to_str()
        .unwrap()
        .contains("available-dictionary"));
    let delta = res.bytes().await.unwrap();
    assert_eq!(delta[..8], [0x5e, 0x2a, 0x4d, 0x18, 0x20, 0x00, 0x00, 0x00]);
    assert_eq!(delta[8..40], hash[..]);
    assert!(
        delta.len() * 10 < plain.len(),
        "a delta of {} bytes for a worker of {}",
        delta.len(),
        plain.len()
    );
    // zstd with the main module as its raw dictionary gives back the worker, byte for byte.
    let mut dict = tempfile::NamedTempFile::new().unwrap();
    dict.write_all(&main).unwrap();
    let mut zstd = std::process::Command::new("zstd")
        .args(["-q", "-d", "-c", "-D"])
        .arg(dict.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("zstd (scripts/setup.sh installs it; the map build makes the delta with it)");
    zstd.stdin.take().unwrap().write_all(&delta[40..]).unwrap();
    let out = zstd.wait_with_output().unwrap();
    assert!(out.status.success());
    assert!(out.stdout == plain[..], "the delta decodes to the worker");

    // Another dictionary (another build's main module), or no `dcz`: the worker as before.
    let res = ask(vec![7; 32], "br, dcz").await.unwrap();
    assert_eq!(res.headers()["content-encoding"], "br");
    assert!(res.headers()["vary"]
        .to_str()
        .unwrap()
        .contains("available-dictionary"));
    let res = ask(hash.to_vec(), "gzip, br").await.unwrap();
    assert_eq!(res.headers()["content-encoding"], "br");
    // `dcz;q=0` refuses the delta.
    let res = ask(hash.to_vec(), "br, dcz;q=0").await.unwrap();
    assert_eq!(res.headers()["content-encoding"], "br");
    // Only reads get it: a POST is not answered with the delta.
    let res = app
        .http
        .post(&worker_url)
        .header("accept-encoding", "br, dcz")
        .header("available-dictionary", offered(&hash))
        .send()
        .await
        .unwrap();
    assert_ne!(
        res.headers().get("content-encoding").map(|v| v.as_bytes()),
        Some(&b"dcz"[..])
    );
}
