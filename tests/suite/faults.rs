//! Database and process faults against a throwaway PostgreSQL cluster of this test's own
//! (`sigapfault1`, port 5441, created and dropped here; the main cluster is never touched):
//!
//! 1. PostgreSQL stopped under a mixed load (tiles, items, submissions, supports): every request
//!    answers 503 problem+json with Retry-After (never a hang: the client gives up after 30 s),
//!    `/readyz` says not ready, `/healthz` stays up; after PostgreSQL starts again SIGAP serves
//!    without a restart, the tile listener reconnects and no tile from before the gap is served.
//! 2. `kill -9` of the real `sigap serve` under a write load: every submission and support
//!    answered 201/200 is in the database, and none is there twice.
//! 3. A rolling restart: SIGTERM to one server while clients retry with their Idempotency-Key
//!    on a second one; the first finishes what it has in flight and exits 0; every submission
//!    ends acknowledged exactly once and stored exactly once.
//!
//! One test function runs the scenarios in turn on one cluster, to keep the file's wall time
//! short. Measured latencies and recovery times are printed (`--nocapture`) for
//! docs/reliability.md; the test asserts outcomes, not timings.

use crate::common;
use crate::common::cluster::{free_port, http, run_ok, Cluster};
use crate::fixture::IN_SCOPE as AT;

use std::collections::{HashMap, HashSet};
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};
use sigap::config::{DbConfig, ServeConfig};
use sigap::AppState;
use tokio_postgres::NoTls;

const CLUSTER: &str = "sigapfault1";
const PORT: u16 = 5441;

fn db_config(dbname: &str) -> DbConfig {
    DbConfig {
        database_url: format!("host=/var/run/postgresql port={PORT} user=postgres dbname={dbname}"),
        pool_size: 8,
    }
}

async fn connect(dbname: &str) -> tokio_postgres::Client {
    let cfg = db_config(dbname).pg_config().expect("config");
    let (client, conn) = cfg.connect(NoTls).await.expect("connect to the cluster");
    tokio::spawn(conn);
    client
}

/// The schema, the fixture areas, 40 residents (`tok-res<i>`) and 60 verified proposals.
async fn prepare(cluster: &Cluster) -> DbConfig {
    let client = cluster.sigap_database().await;
    client
        .execute(
            "WITH u AS (
                 INSERT INTO app_user (username, password_hash, role)
                 SELECT 'res' || g, $1, 'resident' FROM generate_series(1, 40) g
                 RETURNING id, username)
             INSERT INTO api_token (user_id, name, token_hash)
             SELECT id, 'test', sha256(convert_to('tok-' || username, 'UTF8')) FROM u",
            &[&common::password_hash()],
        )
        .await
        .expect("residents");
    client
        .execute(
            "INSERT INTO proposal (tracking_code, geom, category, title, status)
             SELECT 'T-FAULT' || g, ST_SetSRID(ST_MakePoint($1, $2), 4326), 'jalan',
                    'Usulan uji ' || g, 'diverifikasi'
             FROM generate_series(1, 60) g",
            &[&AT.0, &AT.1],
        )
        .await
        .expect("proposals");
    db_config("sigap")
}

async fn scalar(sql: &str) -> i64 {
    connect("sigap")
        .await
        .query_one(sql, &[])
        .await
        .expect(sql)
        .get(0)
}

/// The tile of `layer` holding `AT` at zoom 14.
fn tile_path(layer: &str) -> String {
    crate::common::cluster::tile_path(layer, 14, AT)
}

fn submission(title: &str) -> Value {
    json!({"lon": AT.0, "lat": AT.1, "category": "drainase", "title": title,
           "description": "Uji gangguan basis data", "submitter_name": "Uji"})
}

#[derive(Debug)]
struct Answer {
    route: &'static str,
    status: StatusCode,
    problem_json: bool,
    retry_after: bool,
    elapsed: Duration,
}

/// One round of the mixed load: a tile, items, a submission, a support, readiness, liveness.
async fn mixed_round(http: &reqwest::Client, base: &str, round: usize) -> Vec<Answer> {
    let support_of = 1 + (round % 60);
    let token = format!("tok-res{}", 1 + (round % 40));
    let requests: Vec<(&'static str, reqwest::RequestBuilder)> = vec![
        (
            "tile",
            http.get(format!("{base}{}", tile_path("kelurahan"))),
        ),
        (
            "items",
            http.get(format!("{base}/ogc/collections/kelurahan/items?f=json")),
        ),
        (
            "submission",
            http.post(format!("{base}/api/proposals"))
                .header("Idempotency-Key", format!("mixed-{round}"))
                .json(&submission(&format!("Gangguan ronde {round}"))),
        ),
        (
            "support",
            http.post(format!("{base}/api/proposals/{support_of}/support"))
                .bearer_auth(token),
        ),
        ("readyz", http.get(format!("{base}/readyz"))),
        ("healthz", http.get(format!("{base}/healthz"))),
    ];
    futures::future::join_all(requests.into_iter().map(|(route, req)| async move {
        let t = Instant::now();
        let res = req.send().await.unwrap_or_else(|e| panic!("{route}: {e}"));
        Answer {
            route,
            status: res.status(),
            problem_json: res
                .headers()
                .get("content-type")
                .is_some_and(|v| v.as_bytes() == b"application/problem+json"),
            retry_after: res.headers().contains_key("retry-after"),
            elapsed: t.elapsed(),
        }
    }))
    .await
}

async fn serve_in_process(db: &DbConfig) -> String {
    let pool = sigap::store::pool(db).expect("pool");
    let config = ServeConfig {
        static_dir: common::repo_root().join("map-ui/dist"),
        anon_posts_per_minute: 0,
        ..ServeConfig::default()
    };
    let app = sigap::app(AppState::new(pool, db, config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
        .expect("serve");
    });
    format!("http://{addr}")
}

/// Polls `/readyz` until it answers 200; returns how long that took.
async fn until_ready(http: &reqwest::Client, base: &str) -> Duration {
    let t = Instant::now();
    for _ in 0..600 {
        if let Ok(res) = http.get(format!("{base}/readyz")).send().await {
            if res.status() == StatusCode::OK {
                return t.elapsed();
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{base} never became ready");
}

async fn outage(cluster: &Cluster, db: &DbConfig) {
    let base = serve_in_process(db).await;
    let http = http();
    until_ready(&http, &base).await;
    let tile = format!("{base}{}", tile_path("kelurahan"));
    for _ in 0..2 {
        http.get(&tile).send().await.expect("warm tile");
    }
    for answer in mixed_round(&http, &base, 0).await {
        assert!(answer.status.is_success(), "before the outage: {answer:?}");
    }
    let acked_before = scalar("SELECT count(*) FROM proposal").await;

    cluster.stop("fast");
    let down = Instant::now();
    let mut answers = Vec::new();
    for round in 1..=10 {
        answers.extend(mixed_round(&http, &base, round).await);
    }
    let outage_load = down.elapsed();
    let mut slowest: HashMap<&str, Duration> = HashMap::new();
    for a in &answers {
        let s = slowest.entry(a.route).or_default();
        *s = (*s).max(a.elapsed);
        match a.route {
            "healthz" => assert_eq!(a.status, StatusCode::OK, "{a:?}"),
            "readyz" => assert_eq!(a.status, StatusCode::SERVICE_UNAVAILABLE, "{a:?}"),
            _ => assert!(
                a.status == StatusCode::SERVICE_UNAVAILABLE && a.problem_json && a.retry_after,
                "during the outage: {a:?}"
            ),
        }
    }

    // Hold the outage a while longer under load, as a real one would last.
    let mut extra_rounds = 0;
    while down.elapsed() < Duration::from_secs(20) {
        // Paced: a few rounds a second, like clients that keep trying, not a tight loop.
        tokio::time::sleep(Duration::from_millis(200)).await;
        extra_rounds += 1;
        for a in mixed_round(&http, &base, 100 + extra_rounds).await {
            let s = slowest.entry(a.route).or_default();
            *s = (*s).max(a.elapsed);
            if a.route != "healthz" {
                assert_eq!(a.status, StatusCode::SERVICE_UNAVAILABLE, "{a:?}");
            }
        }
    }
    cluster.start();
    let recovery = until_ready(&http, &base).await;
    let outage_s = down.elapsed();

    // Written while the listener may still be reconnecting: the tile must show it.
    connect("sigap")
        .await
        .batch_execute(
            "UPDATE kelurahan SET name = 'Nama Sesudah Gangguan' WHERE code = '32.73.01.1001'",
        )
        .await
        .expect("rename");
    let res = http.get(&tile).send().await.expect("tile after");
    assert_eq!(res.status(), StatusCode::OK);
    let body = res.bytes().await.unwrap();
    assert!(
        body.windows(b"Nama Sesudah Gangguan".len())
            .any(|w| w == b"Nama Sesudah Gangguan"),
        "a tile from before the gap was served"
    );
    for answer in mixed_round(&http, &base, 1000).await {
        assert!(answer.status.is_success(), "after the outage: {answer:?}");
    }
    // The listener reconnects: the cache serves hits again.
    let t = Instant::now();
    let mut hit = false;
    for _ in 0..300 {
        let res = http.get(&tile).send().await.expect("tile");
        if res.headers().get("x-cache").is_some_and(|v| v == "hit") {
            hit = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(hit, "the tile cache never came back");
    let listener_back = t.elapsed();
    // Nothing written during the outage; exactly the one submission after it.
    assert_eq!(
        scalar("SELECT count(*) FROM proposal").await,
        acked_before + 1
    );
    eprintln!(
        "FAULT outage: PostgreSQL down {:.1} s; {} requests during it (first 10 rounds in {:.1} s); slowest answer per route {:?}; ready again {:.2} s after start; tile cache live again {:.2} s after that",
        outage_s.as_secs_f64(),
        answers.len() + 6 * extra_rounds,
        outage_load.as_secs_f64(),
        slowest
            .iter()
            .map(|(k, v)| format!("{k} {} ms", v.as_millis()))
            .collect::<Vec<_>>(),
        recovery.as_secs_f64(),
        listener_back.as_secs_f64()
    );
}

struct Server {
    child: tokio::process::Child,
    base: String,
}

async fn spawn_binary(db: &DbConfig) -> Server {
    let port = free_port();
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_sigap"))
        .arg("serve")
        .env("DATABASE_URL", &db.database_url)
        .env("SIGAP_ADDR", format!("127.0.0.1:{port}"))
        .env("SIGAP_ANON_POSTS_PER_MINUTE", "0")
        .env("SIGAP_STATIC_DIR", common::repo_root().join("map-ui/dist"))
        .env("SIGAP_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn sigap serve");
    let base = format!("http://127.0.0.1:{port}");
    until_ready(&http(), &base).await;
    Server { child, base }
}

async fn kill_nine(db: &DbConfig) {
    let mut server = spawn_binary(db).await;
    let acked_posts: Arc<Mutex<Vec<(String, i64)>>> = Arc::default();
    let acked_supports: Arc<Mutex<Vec<(usize, usize)>>> = Arc::default();
    let acks = Arc::new(AtomicUsize::new(0));
    let http = http();
    let tasks: Vec<_> = (0..16usize)
        .map(|t| {
            let (http, base) = (http.clone(), server.base.clone());
            let (posts, supports, acks) =
                (acked_posts.clone(), acked_supports.clone(), acks.clone());
            tokio::spawn(async move {
                for i in 0..1000usize {
                    let title = format!("Kill sembilan {t}-{i}");
                    let res = http
                        .post(format!("{base}/api/proposals"))
                        .header("Idempotency-Key", format!("kill-{t}-{i}"))
                        .json(&submission(&title))
                        .send()
                        .await;
                    let Ok(res) = res else { return };
                    if res.status() == StatusCode::CREATED {
                        let v: Value = match res.json().await {
                            Ok(v) => v,
                            Err(_) => return,
                        };
                        posts
                            .lock()
                            .unwrap()
                            .push((title, v["id"].as_i64().unwrap()));
                        acks.fetch_add(1, Ordering::SeqCst);
                    }
                    // Resident t+1 supports proposal i+1 (each pair once).
                    if i < 60 && t < 40 {
                        let res = http
                            .post(format!("{base}/api/proposals/{}/support", i + 1))
                            .bearer_auth(format!("tok-res{}", t + 1))
                            .send()
                            .await;
                        let Ok(res) = res else { return };
                        if res.status() == StatusCode::OK {
                            supports.lock().unwrap().push((t + 1, i + 1));
                            acks.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                }
            })
        })
        .collect();
    // Kill in the middle of the load, once a fair number of writes were acknowledged.
    while acks.load(Ordering::SeqCst) < 300 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    server.child.start_kill().expect("kill -9");
    let _ = server.child.wait().await;
    for t in tasks {
        t.await.expect("load task");
    }
    let posts = acked_posts.lock().unwrap().clone();
    let supports = acked_supports.lock().unwrap().clone();

    let client = connect("sigap").await;
    let rows = client
        .query(
            "SELECT title, count(*), min(id) FROM proposal WHERE title LIKE 'Kill sembilan %' GROUP BY title",
            &[],
        )
        .await
        .expect("titles");
    let stored: HashMap<String, (i64, i64)> = rows
        .iter()
        .map(|r| (r.get(0), (r.get(1), r.get(2))))
        .collect();
    let doubled = stored.values().filter(|(n, _)| *n > 1).count();
    let lost_posts = posts
        .iter()
        .filter(|(title, id)| stored.get(title).map(|(_, min)| *min) != Some(*id))
        .count();
    let mut lost_supports = 0;
    for (resident, proposal) in &supports {
        let n: i64 = client
            .query_one(
                "SELECT count(*) FROM proposal_support s JOIN app_user u ON u.id = s.user_id
                 WHERE u.username = $1 AND s.proposal_id = $2",
                &[&format!("res{resident}"), &(*proposal as i64)],
            )
            .await
            .expect("support")
            .get(0);
        if n != 1 {
            lost_supports += 1;
        }
    }
    eprintln!(
        "FAULT kill -9: {} submissions and {} supports acknowledged; {} submissions stored in all (unacknowledged ones included); lost {}, doubled {}",
        posts.len(),
        supports.len(),
        stored.len(),
        lost_posts + lost_supports,
        doubled
    );
    assert_eq!(lost_posts, 0, "acknowledged submissions lost");
    assert_eq!(lost_supports, 0, "acknowledged supports lost");
    assert_eq!(doubled, 0, "submissions stored twice");
}

async fn rolling_restart(db: &DbConfig) {
    let mut old = spawn_binary(db).await;
    let new = spawn_binary(db).await;
    let http = http();
    let acks = Arc::new(AtomicUsize::new(0));
    let answers: Arc<Mutex<Vec<(String, i64)>>> = Arc::default();
    let switched = Arc::new(AtomicUsize::new(0));
    let per_task = 40usize;
    let tasks: Vec<_> = (0..8usize)
        .map(|t| {
            let http = http.clone();
            let (old_base, new_base) = (old.base.clone(), new.base.clone());
            let (acks, answers, switched) = (acks.clone(), answers.clone(), switched.clone());
            tokio::spawn(async move {
                let mut base = old_base;
                for i in 0..per_task {
                    let title = format!("Bergulir {t}-{i}");
                    loop {
                        let res = http
                            .post(format!("{base}/api/proposals"))
                            .header("Idempotency-Key", format!("roll-{t}-{i}"))
                            .json(&submission(&title))
                            .send()
                            .await;
                        match res {
                            Ok(res) => {
                                assert_eq!(res.status(), StatusCode::CREATED, "{title}");
                                let v: Value = res.json().await.expect("json");
                                answers
                                    .lock()
                                    .unwrap()
                                    .push((title.clone(), v["id"].as_i64().unwrap()));
                                acks.fetch_add(1, Ordering::SeqCst);
                                break;
                            }
                            // The old server is going away: the same request, same key, to the
                            // new one (what a load balancer or the map's retry does).
                            Err(_) if base != new_base => {
                                base = new_base.clone();
                                switched.fetch_add(1, Ordering::SeqCst);
                            }
                            Err(e) => panic!("the new server failed: {e}"),
                        }
                    }
                }
            })
        })
        .collect();
    while acks.load(Ordering::SeqCst) < 60 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let pid = old.child.id().expect("pid").to_string();
    let t = Instant::now();
    run_ok(&["kill", "-TERM", &pid]);
    let status = tokio::time::timeout(Duration::from_secs(60), old.child.wait())
        .await
        .expect("the old server did not stop")
        .expect("wait");
    let drained = t.elapsed();
    assert!(status.success(), "SIGTERM exit: {status:?}");
    for t in tasks {
        t.await.expect("load task");
    }
    let answers = answers.lock().unwrap().clone();
    assert_eq!(answers.len(), 8 * per_task, "every request answered");
    let client = connect("sigap").await;
    let rows = client
        .query(
            "SELECT title, count(*), min(id) FROM proposal WHERE title LIKE 'Bergulir %' GROUP BY title",
            &[],
        )
        .await
        .expect("titles");
    let stored: HashMap<String, (i64, i64)> = rows
        .iter()
        .map(|r| (r.get(0), (r.get(1), r.get(2))))
        .collect();
    let titles: HashSet<&String> = answers.iter().map(|(t, _)| t).collect();
    assert_eq!(titles.len(), answers.len());
    let lost = answers
        .iter()
        .filter(|(title, id)| stored.get(title).map(|(_, min)| *min) != Some(*id))
        .count();
    let doubled = stored.values().filter(|(n, _)| *n > 1).count();
    eprintln!(
        "FAULT rolling restart: {} submissions, {} retried on the new server after SIGTERM; old server exited 0 after {:.2} s; lost {lost}, doubled {doubled}",
        answers.len(),
        switched.load(Ordering::SeqCst),
        drained.as_secs_f64()
    );
    assert_eq!(lost, 0);
    assert_eq!(doubled, 0);
    drop(new);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn database_outage_kill_nine_and_rolling_restart() {
    let cluster = Cluster::started(CLUSTER, PORT);
    let db = prepare(&cluster).await;
    outage(&cluster, &db).await;
    kill_nine(&db).await;
    rolling_restart(&db).await;
    drop(cluster);
}
