//! Work isolation against a real PostGIS. A dozen export requests stuck on a locked table
//! cannot starve tiles, items, submissions or health checks. Two exports run (the slow-kind
//! limit), the other ten are answered 503 problem+json with Retry-After, everything else is
//! served meanwhile, and the two finish when the lock goes. And a stuck query ends at its
//! kind's statement timeout.

use crate::fixture;

use reqwest::StatusCode;
use serde_json::json;

use fixture::{spawn, IN_SCOPE};

/// The kecamatan tile holding `at` at zoom `z`.
fn tile_at(at: (f64, f64), z: u32) -> String {
    let n = f64::from(1u32 << z);
    let x = ((at.0 + 180.0) / 360.0 * n).floor();
    let r = at.1.to_radians();
    let y = ((1.0 - (r.tan() + 1.0 / r.cos()).ln() / std::f64::consts::PI) / 2.0 * n).floor();
    format!("/tiles/kecamatan/{z}/{x}/{y}.mvt")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_dozen_stuck_exports_cannot_starve_the_rest() {
    let app = spawn(|c| c.anon_posts_per_minute = 0).await;
    // Make every export of `coverage` wait: an open transaction holds the table exclusively.
    let mut locker = app.pool.get().await.expect("client");
    let lock = locker.transaction().await.expect("begin");
    lock.batch_execute("LOCK TABLE coverage IN ACCESS EXCLUSIVE MODE")
        .await
        .expect("lock");

    let exports: Vec<_> = (0..12)
        .map(|_| {
            let (http, url) = (
                app.http.clone(),
                app.url("/ogc/collections/coverage/items?f=csv"),
            );
            tokio::spawn(async move {
                let res = http.get(url).send().await.expect("export");
                let retry = res.headers().contains_key("retry-after");
                let problem = res
                    .headers()
                    .get("content-type")
                    .is_some_and(|v| v == "application/problem+json");
                (res.status(), retry, problem)
            })
        })
        .collect();

    // Ten are refused without waiting for the lock (within the slow kinds' short wait); the
    // two admitted ones stay blocked until it goes.
    let mut pending = exports;
    for _ in 0..10 {
        // Bounded, so a missing limit fails the test instead of hanging it.
        let (answer, _, rest) = tokio::time::timeout(
            std::time::Duration::from_secs(30),
            futures::future::select_all(pending),
        )
        .await
        .expect("exports beyond the limit were not refused");
        let (status, retry, problem) = answer.expect("export task");
        assert!(
            status == StatusCode::SERVICE_UNAVAILABLE && retry && problem,
            "an export finished while the table is locked: {status}"
        );
        pending = rest;
    }
    assert_eq!(pending.len(), 2, "two exports hold their places");

    // Meanwhile the map's work and health are served.
    let kec = app
        .http
        .get(app.url("/ogc/collections/kecamatan/items?f=json"))
        .send()
        .await
        .unwrap();
    assert_eq!(kec.status(), StatusCode::OK);
    let tile = app
        .http
        .get(app.url(&tile_at(IN_SCOPE, 12)))
        .send()
        .await
        .unwrap();
    assert_eq!(tile.status(), StatusCode::OK);
    let submitted = app
        .http
        .post(app.url("/api/proposals"))
        .json(
            &json!({"lon": IN_SCOPE.0, "lat": IN_SCOPE.1, "category": "drainase",
                      "title": "Selokan mampet saat ekspor", "description": "Uji isolasi"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(submitted.status(), StatusCode::CREATED);
    for path in ["/healthz", "/readyz"] {
        let res = app.http.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{path}");
    }

    lock.commit().await.expect("unlock");
    for e in pending {
        let (status, _, _) = e.await.unwrap();
        assert_eq!(status, StatusCode::OK);
    }
}

/// Each kind has its own statement timeout: a tile whose query is stuck behind a lock is
/// answered 503 with Retry-After once the tiles' timeout (10 s) runs out, not held for as long
/// as the lock lasts.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_stuck_tile_query_ends_at_the_tiles_statement_timeout() {
    let app = spawn(|_| {}).await;
    let mut locker = app.pool.get().await.expect("client");
    let lock = locker.transaction().await.expect("begin");
    lock.batch_execute("LOCK TABLE kecamatan IN ACCESS EXCLUSIVE MODE")
        .await
        .expect("lock");
    let tile = tokio::time::timeout(
        std::time::Duration::from_secs(60),
        app.http.get(app.url(&tile_at(IN_SCOPE, 12))).send(),
    )
    .await
    .expect("the tile request outlived its statement timeout")
    .unwrap();
    assert_eq!(tile.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(tile.headers().contains_key("retry-after"));
    // The lock is still held: the timeout ended the query, not the lock.
    lock.rollback().await.expect("unlock");
    let again = app
        .http
        .get(app.url(&tile_at(IN_SCOPE, 12)))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::OK);
}

/// A recycled connection is SET only when its settings change: whichever kind of work checks a
/// connection out next (tiles, exports, none) still finds its own statement timeout and plan
/// mode on it, and a run of checkouts of one kind keeps them.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_checkout_gets_its_own_kinds_session_settings() {
    use sigap::api::isolation::Kind;
    use sigap::store::SESSION_SETTINGS;
    let app = spawn(|_| {}).await;
    let show = |kind: Option<Kind>| {
        let pool = app.pool.clone();
        async move {
            let get = async {
                let c = pool.get().await.expect("client");
                let row = c
                    .query_one(
                        "SELECT current_setting('statement_timeout'), \
                                current_setting('plan_cache_mode')",
                        &[],
                    )
                    .await
                    .unwrap();
                (row.get::<_, String>(0), row.get::<_, String>(1))
            };
            match kind {
                Some(k) => SESSION_SETTINGS.scope(k.session_settings(), get).await,
                None => get.await,
            }
        }
    };
    let tiles = ("10s", "force_generic_plan");
    for (kind, want) in [
        (Some(Kind::Tiles), tiles),
        (Some(Kind::Tiles), tiles),
        (Some(Kind::Exports), ("2min", "auto")),
        (None, ("0", "auto")),
        (None, ("0", "auto")),
        (Some(Kind::Tiles), tiles),
        (Some(Kind::Items), ("30s", "auto")),
        (Some(Kind::Items), ("30s", "auto")),
    ] {
        // Two held at once make the pool hand out (and create) more than one connection.
        let (a, b) = tokio::join!(show(kind), show(kind));
        let (a, b) = ((a.0.as_str(), a.1.as_str()), (b.0.as_str(), b.1.as_str()));
        assert_eq!((a, b), (want, want), "{kind:?}");
    }
}
