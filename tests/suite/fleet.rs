//! SIGAP as a fleet (issue 16), on loopback: a primary cluster (`sigapfleetp`, port 5451) and a
//! streaming replica made from it with `pg_basebackup` (`sigapfleetr`, port 5452), both created
//! and dropped here (the main cluster is never touched), and two real `sigap serve` processes,
//! A and B, each with `SIGAP_READ_DATABASE_URL` naming the replica. In turn:
//!
//! 1. Both report the replica in `/readyz`.
//! 2. With the replica's replay paused (it lags): a moderator's verification through A is seen
//!    through B by a request carrying A's `SIGAP-LSN`; the same read without it is answered by
//!    the lagging replica (which proves reads really go there).
//! 3. Still lagging: neither process serves the old tile again once it has heard of the change
//!    (both had it cached; neither re-caches it from the replica), and a request carrying the
//!    LSN gets the new tile at once.
//! 4. Anonymous submissions alternating between A and B share one rate limit.
//! 5. The replica stopped: reads keep working on both (from the primary) and `/readyz` says so;
//!    started again: it is used again.
//! 6. The live gap refresher's leader is killed with SIGKILL: the other process takes over, and
//!    the balancer of `deploy/haproxy.cfg` in front of both keeps
//!    answering.
//!
//! One test function runs the scenarios in turn on one pair of clusters, to keep CI time low.
//! Times are printed (`--nocapture`) for docs/operations.md; the test asserts outcomes only.

use crate::common;
use crate::common::cluster::{connect, free_port, http, run_ok, url, Cluster, VERSION};
use crate::common::mvt::{feature_count, ogrinfo_tile, tile_of};
use crate::fixture::IN_SCOPE as AT;

use std::process::Stdio;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};

const PRIMARY: &str = "sigapfleetp";
const REPLICA: &str = "sigapfleetr";
const PRIMARY_PORT: u16 = 5451;
const REPLICA_PORT: u16 = 5452;
/// Anonymous submissions per client per minute, for the whole fleet.
const ANON_PER_MINUTE: u32 = 3;

/// The zoom of the tile checked.
const ZOOM: u32 = 14;

/// The replica: a fresh cluster whose data directory is replaced by a base backup of the
/// primary (`-R` writes the standby settings, `-X stream` brings the WAL along), started.
fn replica_of(primary: &Cluster) -> Cluster {
    let replica = Cluster::create(REPLICA, REPLICA_PORT);
    let data = replica.data_dir();
    // Emptied, not removed: the directory above belongs to root here, so postgres could not
    // create it again.
    for entry in std::fs::read_dir(&data).expect("the replica's data directory") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            std::fs::remove_dir_all(&path).expect("empty the data directory");
        } else {
            std::fs::remove_file(&path).expect("empty the data directory");
        }
    }
    let primary_port = primary.port.to_string();
    run_ok(&[
        "runuser",
        "-u",
        "postgres",
        "--",
        "pg_basebackup",
        "-h",
        "/var/run/postgresql",
        "-p",
        &primary_port,
        "-U",
        "postgres",
        "-D",
        &data,
        "-R",
        "-X",
        "stream",
        "-c",
        "fast",
    ]);
    // Long reads on the replica are not cancelled by the primary's vacuum.
    run_ok(&[
        "pg_conftool",
        VERSION,
        REPLICA,
        "set",
        "hot_standby_feedback",
        "on",
    ]);
    replica.start();
    replica
}

/// The schema, the fixture areas, a moderator (`tok-mod`), 5 verified proposals and 5 new ones
/// at `AT`. Returns the ids of the new ones.
async fn prepare(primary: &Cluster) -> Vec<i64> {
    let client = primary.sigap_database().await;
    client
        .execute(
            "WITH u AS (
                 INSERT INTO app_user (username, password_hash, role)
                 VALUES ('mod', $1, 'moderator') RETURNING id)
             INSERT INTO api_token (user_id, name, token_hash)
             SELECT id, 'test', sha256(convert_to('tok-mod', 'UTF8')) FROM u",
            &[&common::password_hash()],
        )
        .await
        .expect("moderator");
    client
        .query(
            "INSERT INTO proposal (tracking_code, geom, category, title, status)
             SELECT 'T-FLEET' || g, ST_SetSRID(ST_MakePoint($1, $2), 4326), 'jalan',
                    'Usulan armada ' || g, CASE WHEN g <= 5 THEN 'diverifikasi' ELSE 'diajukan' END
             FROM generate_series(1, 10) g
             RETURNING id",
            &[&AT.0, &AT.1],
        )
        .await
        .expect("proposals")
        .iter()
        .map(|r| r.get::<_, i64>(0))
        .skip(5)
        .collect()
}

struct Server {
    name: &'static str,
    child: tokio::process::Child,
    base: String,
}

async fn spawn(name: &'static str) -> Server {
    let port = free_port();
    let log = std::env::temp_dir().join(format!("sigap-fleet-{name}.log"));
    let log = std::fs::File::create(&log).expect("log file");
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_sigap"))
        .arg("serve")
        .env(
            "DATABASE_URL",
            url(PRIMARY_PORT, "sigap", &format!("sigap-{name}")),
        )
        .env(
            "SIGAP_READ_DATABASE_URL",
            url(REPLICA_PORT, "sigap", &format!("sigap-{name}-read")),
        )
        .env("SIGAP_ADDR", format!("127.0.0.1:{port}"))
        .env("SIGAP_ANON_POSTS_PER_MINUTE", ANON_PER_MINUTE.to_string())
        .env("SIGAP_STATIC_DIR", common::repo_root().join("map-ui/dist"))
        .env("SIGAP_LIVE_GAP", "true")
        .env("SIGAP_LOG", "info,sigap::store::read_routing=debug")
        .stdout(Stdio::null())
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .expect("spawn sigap serve");
    Server {
        name,
        child,
        base: format!("http://127.0.0.1:{port}"),
    }
}

/// HAProxy (installed by the test set-up, scripts/setup.sh) with the repository's configuration
/// in front of `servers`.
fn balancer(a: &Server, b: &Server) -> (tokio::process::Child, String) {
    let addr = format!("127.0.0.1:{}", free_port());
    let child = tokio::process::Command::new("haproxy")
        .arg("-db")
        .arg("-f")
        .arg(common::repo_root().join("deploy/haproxy.cfg"))
        .env("SIGAP_LB_BIND", &addr)
        .env("SIGAP_1", a.base.trim_start_matches("http://"))
        .env("SIGAP_2", b.base.trim_start_matches("http://"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn haproxy (apt-get install haproxy)");
    (child, format!("http://{addr}"))
}

/// Polls `check` every 100 ms until it is true; panics after `limit` (a bound on a hang, not a
/// timing assertion).
async fn until<F, Fut>(what: &str, limit: Duration, mut check: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let t = Instant::now();
    while t.elapsed() < limit {
        if check().await {
            return t.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("never happened within {limit:?}: {what}");
}

async fn readyz(http: &reqwest::Client, base: &str) -> Option<Value> {
    let res = http.get(format!("{base}/readyz")).send().await.ok()?;
    (res.status() == StatusCode::OK).then_some(())?;
    res.json().await.ok()
}

async fn replica_healthy(http: &reqwest::Client, base: &str) -> Option<bool> {
    let v = readyz(http, base).await?;
    v["replicas"][0]["healthy"].as_bool()
}

fn tile_url(base: &str) -> String {
    let (z, x, y) = tile_of(AT.0, AT.1, ZOOM);
    format!("{base}/tiles/proposals/{z}/{x}/{y}.mvt")
}

/// The number of proposals in the tile at `AT`, as GDAL decodes it.
async fn tile_count(http: &reqwest::Client, base: &str, lsn: Option<&str>) -> i64 {
    let mut req = http.get(tile_url(base));
    if let Some(lsn) = lsn {
        req = req.header("SIGAP-LSN", lsn);
    }
    let res = req.send().await.expect("tile");
    assert!(res.status().is_success(), "tile: {}", res.status());
    let bytes = res.bytes().await.expect("tile bytes");
    if bytes.is_empty() {
        return 0;
    }
    let info = ogrinfo_tile(&bytes, tile_of(AT.0, AT.1, ZOOM)).await;
    feature_count(&info, "proposals")
}

async fn item_status(
    http: &reqwest::Client,
    base: &str,
    id: i64,
    lsn: Option<&str>,
) -> reqwest::Response {
    let mut req = http.get(format!(
        "{base}/ogc/collections/proposals/items/{id}?f=json"
    ));
    if let Some(lsn) = lsn {
        req = req.header("SIGAP-LSN", lsn);
    }
    req.send().await.expect("item")
}

/// Verifies proposal `id` through `base`; returns the `SIGAP-LSN` it answered.
async fn verify(http: &reqwest::Client, base: &str, id: i64) -> String {
    let res = http
        .post(format!("{base}/api/proposals/{id}/status"))
        .bearer_auth("tok-mod")
        .json(&json!({"to": "diverifikasi", "note": "armada"}))
        .send()
        .await
        .expect("verify");
    assert_eq!(res.status(), StatusCode::OK, "verify {id}");
    let lsn = res
        .headers()
        .get("sigap-lsn")
        .and_then(|v| v.to_str().ok())
        .expect("a write answers its SIGAP-LSN")
        .to_owned();
    let cookie = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|c| c.starts_with(&format!("sigap_lsn={lsn}")));
    assert!(cookie, "the LSN also comes as a cookie");
    lsn
}

async fn replay(paused: bool) {
    let sql = if paused {
        "SELECT pg_wal_replay_pause()"
    } else {
        "SELECT pg_wal_replay_resume()"
    };
    connect(REPLICA_PORT, "sigap")
        .await
        .batch_execute(sql)
        .await
        .expect(sql);
}

/// The application name of the live gap refresher's leader (holder of its advisory lock).
async fn gap_leader() -> Option<String> {
    connect(PRIMARY_PORT, "sigap")
        .await
        .query_opt(
            // The refresher's key (analysis::live) split as PostgreSQL shows a bigint key.
            "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a USING (pid)
             WHERE l.locktype = 'advisory' AND l.granted
               AND l.classid = 1365729648::oid AND l.objid = 1281980005::oid",
            &[],
        )
        .await
        .expect("advisory locks")
        .map(|r| r.get(0))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fleet_keeps_its_promises() {
    let primary = Cluster::started(PRIMARY, PRIMARY_PORT);
    let new_ids = prepare(&primary).await;
    let replica = replica_of(&primary);
    let http = http();
    let mut a = spawn("a").await;
    let mut b = spawn("b").await;

    // 1. Both ready, both see the replica.
    for s in [&a, &b] {
        let t = until(
            &format!("{} ready with the replica in use", s.name),
            Duration::from_secs(60),
            || async { replica_healthy(&http, &s.base).await == Some(true) },
        )
        .await;
        println!("{}: ready with the replica in {t:?}", s.name);
    }
    let lb = balancer(&a, &b);
    until("the balancer answers", Duration::from_secs(30), || async {
        readyz(&http, &lb.1).await.is_some()
    })
    .await;
    // Both have the tile cached (second request a hit) with the 5 verified proposals.
    for s in [&a, &b] {
        for _ in 0..2 {
            assert_eq!(
                tile_count(&http, &s.base, None).await,
                5,
                "{} before",
                s.name
            );
        }
    }

    // 2. Read your write, across processes, while the replica lags.
    replay(true).await;
    let lsn = verify(&http, &a.base, new_ids[0]).await;
    let res = item_status(&http, &b.base, new_ids[0], Some(&lsn)).await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "B sees A's write with the LSN"
    );
    let item: Value = res.json().await.expect("item json");
    assert_eq!(item["properties"]["status"], "diverifikasi");
    // Without it, B reads the paused replica, which has not got the verification.
    let res = item_status(&http, &b.base, new_ids[0], None).await;
    assert_eq!(
        res.status(),
        StatusCode::NOT_FOUND,
        "a read without the LSN goes to the (lagging) replica"
    );

    // 3. No stale tile, while the replica still lags: once a process has heard of the change
    // (and dropped its cached tile), it must not render the tile on the replica, which would
    // serve and cache the old one for good.
    for s in [&a, &b] {
        let t = until(
            &format!("{} serves the new tile", s.name),
            Duration::from_secs(30),
            || async { tile_count(&http, &s.base, None).await == 6 },
        )
        .await;
        println!("{}: new tile without the LSN after {t:?}", s.name);
        // Once new, never old again: neither cached nor rendered from the lagging replica.
        for _ in 0..5 {
            assert_eq!(
                tile_count(&http, &s.base, None).await,
                6,
                "{} stale",
                s.name
            );
        }
    }
    // With the LSN: the new tile at once (the cache is skipped; the lagging replica too).
    for s in [&a, &b] {
        assert_eq!(
            tile_count(&http, &s.base, Some(&lsn)).await,
            6,
            "{}: with the LSN, the new tile at once",
            s.name
        );
    }
    replay(false).await;
    until(
        "the replica catches up",
        Duration::from_secs(30),
        || async { item_status(&http, &b.base, new_ids[0], None).await.status() == StatusCode::OK },
    )
    .await;
    for s in [&a, &b] {
        assert_eq!(
            tile_count(&http, &s.base, None).await,
            6,
            "{} after",
            s.name
        );
    }

    // 4. One rate limit for the fleet: 8 anonymous submissions, alternating A and B, from one
    // client. Per process each would accept 3 (6 in all).
    let mut accepted = 0;
    let mut refused = 0;
    for i in 0..8 {
        let base = if i % 2 == 0 { &a.base } else { &b.base };
        let res = http
            .post(format!("{base}/api/proposals"))
            .json(&json!({"lon": AT.0, "lat": AT.1, "category": "drainase",
                          "title": format!("Armada {i}"), "description": "Uji batas armada",
                          "submitter_name": "Uji"}))
            .send()
            .await
            .expect("submit");
        match res.status() {
            StatusCode::CREATED => accepted += 1,
            StatusCode::TOO_MANY_REQUESTS => refused += 1,
            other => panic!("submission answered {other}"),
        }
    }
    println!("rate limit: {accepted} accepted, {refused} refused");
    assert_eq!(accepted, ANON_PER_MINUTE, "the fleet shares one limit");
    assert_eq!(refused, 8 - ANON_PER_MINUTE);

    // 5. Replica down: reads keep working; back: used again.
    replica.stop("immediate");
    let killed = Instant::now();
    for s in [&a, &b] {
        let t = until(
            &format!("{} reports the replica down", s.name),
            Duration::from_secs(30),
            || async { replica_healthy(&http, &s.base).await == Some(false) },
        )
        .await;
        println!("{}: replica reported down after {t:?}", s.name);
    }
    println!(
        "replica down noticed by both {:?} after the kill",
        killed.elapsed()
    );
    for s in [&a, &b] {
        for _ in 0..5 {
            let res = item_status(&http, &s.base, new_ids[0], None).await;
            assert_eq!(
                res.status(),
                StatusCode::OK,
                "{}: items without the replica",
                s.name
            );
            assert_eq!(
                tile_count(&http, &s.base, None).await,
                6,
                "{}: tiles",
                s.name
            );
            let res = http
                .get(format!("{}/ogc/collections/proposals/items?f=json", s.base))
                .send()
                .await
                .expect("items");
            assert_eq!(res.status(), StatusCode::OK, "{}: item pages", s.name);
        }
    }
    replica.start();
    for s in [&a, &b] {
        let t = until(
            &format!("{} uses the replica again", s.name),
            Duration::from_secs(60),
            || async { replica_healthy(&http, &s.base).await == Some(true) },
        )
        .await;
        println!("{}: replica back in use after {t:?}", s.name);
    }
    // Used again: with replay paused, B answers a read without the LSN from the replica.
    replay(true).await;
    let lsn2 = verify(&http, &a.base, new_ids[1]).await;
    assert_eq!(
        item_status(&http, &b.base, new_ids[1], None).await.status(),
        StatusCode::NOT_FOUND,
        "the replica serves reads again"
    );
    assert_eq!(
        item_status(&http, &b.base, new_ids[1], Some(&lsn2))
            .await
            .status(),
        StatusCode::OK
    );
    replay(false).await;

    // 6. The live gap refresher: one leader; killed, the other takes over.
    let first = until("a live gap leader", Duration::from_secs(60), || async {
        gap_leader().await.is_some()
    })
    .await;
    let leader = gap_leader().await.expect("leader");
    println!("live gap leader {leader} (found after {first:?})");
    let (dead, survivor) = if leader == "sigap-a" {
        (&mut a, "sigap-b")
    } else {
        assert_eq!(leader, "sigap-b", "the leader is one of the two");
        (&mut b, "sigap-a")
    };
    dead.child.start_kill().expect("SIGKILL the leader");
    dead.child.wait().await.expect("leader gone");
    let t = until(
        "the other process takes over",
        Duration::from_secs(60),
        || async { gap_leader().await.as_deref() == Some(survivor) },
    )
    .await;
    println!("take-over by {survivor} after {t:?}");
    // One process gone: the balancer sends everything to the other (a connection refused by the
    // dead one is redispatched), so no request fails.
    for _ in 0..20 {
        let res = http
            .get(format!("{}/ogc/collections/proposals/items?f=json", lb.1))
            .send()
            .await
            .expect("items through the balancer");
        assert_eq!(res.status(), StatusCode::OK, "through the balancer");
    }
    println!("balancer: 20 of 20 reads answered after the kill");

    drop(lb);
    drop(a);
    drop(b);
    drop(replica);
    drop(primary);
}
