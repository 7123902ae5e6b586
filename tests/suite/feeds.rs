//! Atom feeds per proposal, kelurahan and kecamatan, read with a feed library (feed-rs) as a
//! feed reader would: valid Atom, the right entries, nothing private.

use crate::common;

use common::{count, spawn_app, TestApp};

const PUBLIC: &str = "('diverifikasi','diprioritaskan','dianggarkan','dikerjakan','selesai')";

async fn atom(app: &TestApp, path: &str) -> (reqwest::StatusCode, String, String) {
    let res = app.http.get(app.url(path)).send().await.unwrap();
    let status = res.status();
    let ct = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, ct, res.text().await.unwrap())
}

fn parse(body: &str) -> feed_rs::model::Feed {
    let feed = feed_rs::parser::parse(body.as_bytes()).expect("a valid feed");
    assert_eq!(feed.feed_type, feed_rs::model::FeedType::Atom);
    feed
}

#[tokio::test(flavor = "multi_thread")]
async fn area_feeds_list_public_proposal_events_only() {
    let app = spawn_app(true).await;
    let client = app.pool.get().await.unwrap();
    // The kelurahan with the most published proposals.
    let row = client
        .query_one(
            &format!(
                "SELECT kelurahan_code, kecamatan_code FROM proposal WHERE status IN {PUBLIC}
                 GROUP BY 1, 2 ORDER BY count(*) DESC, 1 LIMIT 1"
            ),
            &[],
        )
        .await
        .unwrap();
    let (kel, kec): (String, String) = (row.get(0), row.get(1));
    let (status, ct, body) = atom(&app, &format!("/feeds/kelurahan/{kel}.atom")).await;
    assert_eq!(status, 200);
    assert!(ct.starts_with("application/atom+xml"), "{ct}");
    let feed = parse(&body);
    let expected = count(
        &app.pool,
        &format!(
            "SELECT least(count(*), 50) FROM proposal_event e JOIN proposal p ON p.id = e.proposal_id
             WHERE p.status IN {PUBLIC} AND p.kelurahan_code = '{kel}'"
        ),
    )
    .await;
    assert!(expected > 0);
    assert_eq!(feed.entries.len() as i64, expected);
    assert!(feed.title.unwrap().content.contains(&kel));
    // Newest first, each linking to the map's tracking view of a published proposal.
    let times: Vec<_> = feed.entries.iter().map(|e| e.updated.unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]));
    for e in &feed.entries {
        let href = &e.links[0].href;
        let code = href.rsplit('/').next().unwrap();
        let published = count(
            &app.pool,
            &format!("SELECT count(*) FROM proposal WHERE tracking_code = '{code}' AND status IN {PUBLIC}"),
        )
        .await;
        assert_eq!(published, 1, "{href} is a published proposal");
    }
    // Nothing about submitters.
    assert!(!body.contains("submitter") && !body.contains("phone"));

    // The kecamatan's feed holds the kelurahan's events among its own.
    let (status, _, body) = atom(&app, &format!("/feeds/kecamatan/{kec}.atom")).await;
    assert_eq!(status, 200);
    let kec_feed = parse(&body);
    assert!(kec_feed.entries.len() >= feed.entries.len().min(50));

    // Unknown or mistyped areas are 404 problem+json.
    for path in [
        "/feeds/kelurahan/32.73.99.9999.atom",
        &format!("/feeds/kelurahan/{kec}.atom"),
        &format!("/feeds/kecamatan/{kel}.atom"),
        "/feeds/kelurahan/abc.atom",
        &format!("/feeds/kelurahan/{kel}.rss"),
    ] {
        let (status, ct, _) = atom(&app, path).await;
        assert_eq!(status, 404, "{path}");
        assert_eq!(ct, "application/problem+json");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_proposal_feed_follows_its_status() {
    let app = spawn_app(true).await;
    let (_, moderator) = common::user(&app, "fasilitator", "moderator", None).await;
    let created: serde_json::Value = app
        .http
        .post(app.url("/api/proposals"))
        .json(&serde_json::json!({
            "lon": 107.5858, "lat": -6.8749, "category": "drainase",
            "title": "Saluran tersumbat di gang uji", "description": "Banjir tiap hujan."
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let code = created["tracking_code"].as_str().unwrap().to_owned();
    let id = created["id"].as_i64().unwrap();
    let (status, _, body) = atom(&app, &format!("/feeds/usulan/{code}.atom")).await;
    assert_eq!(status, 200);
    let before = parse(&body).entries.len();
    assert_eq!(before, 1, "submitted");

    let res = app
        .http
        .post(app.url(&format!("/api/proposals/{id}/status")))
        .bearer_auth(&moderator)
        .json(&serde_json::json!({ "to": "diverifikasi", "note": "Sudah dicek di lapangan." }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let (_, _, body) = atom(&app, &format!("/feeds/usulan/{code}.atom")).await;
    let feed = parse(&body);
    assert_eq!(feed.entries.len(), before + 1);
    let newest = &feed.entries[0];
    assert!(newest
        .title
        .as_ref()
        .unwrap()
        .content
        .contains("diverifikasi"));
    assert_eq!(
        newest.summary.as_ref().unwrap().content,
        "Sudah dicek di lapangan."
    );
    let (status, _, _) = atom(&app, "/feeds/usulan/TIDAKADA-123.atom").await;
    assert_eq!(status, 404);
}
