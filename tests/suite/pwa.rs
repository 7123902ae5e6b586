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
