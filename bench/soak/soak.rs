//! The soak load client (bench/soak/run.sh): `--concurrency` connections for `--duration`
//! seconds, each request picked from a fixed mix (tiles 50 %, OGC items 20 %, submissions 10 %,
//! supports 10 %, readiness 10 %). Prints errors (transport failures and 5xx), p50/p99 per route,
//! and the server's RSS (from /proc/PID/status) at the start and the end.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use serde_json::json;

struct Args {
    base: String,
    duration: u64,
    concurrency: usize,
    pid: Option<u32>,
}

fn args() -> Args {
    let mut a = Args {
        base: "http://127.0.0.1:8080".into(),
        duration: 600,
        concurrency: 64,
        pid: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let v = it.next().unwrap_or_default();
        match k.as_str() {
            "--base" => a.base = v,
            "--duration" => a.duration = v.parse().expect("--duration"),
            "--concurrency" => a.concurrency = v.parse().expect("--concurrency"),
            "--pid" => a.pid = v.parse().ok(),
            "--db" => {}
            other => panic!("unknown argument {other}"),
        }
    }
    a
}

fn rss_kib(pid: Option<u32>) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{}/status", pid?)).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// A zoom-14 tile inside Kota Bandung.
fn tile(rng: &mut impl Rng) -> String {
    let (lon, lat) = (rng.gen_range(107.55..107.73), rng.gen_range(-6.97..-6.84));
    let z = 14u32;
    let n = f64::from(1u32 << z);
    let x = ((lon + 180.0) / 360.0 * n).floor();
    let r: f64 = f64::to_radians(lat);
    let y = ((1.0 - (r.tan() + 1.0 / r.cos()).ln() / std::f64::consts::PI) / 2.0 * n).floor();
    format!("/tiles/sigap/{z}/{x}/{y}.mvt")
}

#[tokio::main]
async fn main() {
    let a = args();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(a.concurrency)
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    // Proposals to support: the verified ones of the sample, read from the public layer.
    let items: serde_json::Value = http
        .get(format!(
            "{}/ogc/collections/proposals/items?f=json&limit=500",
            a.base
        ))
        .send()
        .await
        .expect("proposals")
        .json()
        .await
        .expect("json");
    let proposal_ids: Arc<Vec<i64>> = Arc::new(
        items["features"]
            .as_array()
            .map(|f| f.iter().filter_map(|f| f["id"].as_i64()).collect())
            .unwrap_or_default(),
    );
    assert!(
        !proposal_ids.is_empty(),
        "no published proposals to support"
    );

    let rss_start = rss_kib(a.pid);
    let errors = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(a.duration);
    let tasks: Vec<_> = (0..a.concurrency)
        .map(|t| {
            let (http, base, errors, ids) = (
                http.clone(),
                a.base.clone(),
                errors.clone(),
                proposal_ids.clone(),
            );
            tokio::spawn(async move {
                let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(t as u64);
                let mut lat: BTreeMap<&'static str, Vec<u32>> = BTreeMap::new();
                let mut n = 0u64;
                while Instant::now() < deadline {
                    n += 1;
                    let pick = rng.gen_range(0..10);
                    let (route, req) = match pick {
                        0..=4 => ("tile", http.get(format!("{base}{}", tile(&mut rng)))),
                        5 | 6 => (
                            "items",
                            http.get(format!(
                                "{base}/ogc/collections/kelurahan/items?f=json&limit=20&offset={}",
                                rng.gen_range(0..130)
                            )),
                        ),
                        7 => (
                            "submission",
                            http.post(format!("{base}/api/proposals"))
                                .header("Idempotency-Key", format!("soak-{t}-{n}"))
                                .json(&json!({
                                    "lon": rng.gen_range(107.58..107.70),
                                    "lat": rng.gen_range(-6.95..-6.87),
                                    "category": "drainase",
                                    "title": format!("Uji ketahanan {t}-{n}"),
                                    "description": "Beban uji",
                                })),
                        ),
                        8 => (
                            "support",
                            http.post(format!(
                                "{base}/api/proposals/{}/support",
                                ids[rng.gen_range(0..ids.len())]
                            ))
                            .bearer_auth(format!("tok-soak{}", rng.gen_range(1..=500))),
                        ),
                        _ => ("readyz", http.get(format!("{base}/readyz"))),
                    };
                    let t0 = Instant::now();
                    let ok = match req.send().await {
                        Ok(res) => {
                            let status = res.status();
                            let _ = res.bytes().await;
                            !status.is_server_error()
                        }
                        Err(_) => false,
                    };
                    if !ok {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                    lat.entry(route)
                        .or_default()
                        .push(t0.elapsed().as_micros() as u32);
                }
                lat
            })
        })
        .collect();
    let mut all: BTreeMap<&'static str, Vec<u32>> = BTreeMap::new();
    for t in tasks {
        for (route, mut v) in t.await.expect("task") {
            all.entry(route).or_default().append(&mut v);
        }
    }
    let rss_end = rss_kib(a.pid);
    let total: usize = all.values().map(Vec::len).sum();
    println!(
        "soak: {} s at {} connections, {total} requests ({:.0}/s), errors {}",
        a.duration,
        a.concurrency,
        total as f64 / a.duration as f64,
        errors.load(Ordering::Relaxed)
    );
    println!("| route | requests | p50 ms | p99 ms |\n|---|---|---|---|");
    for (route, v) in &mut all {
        v.sort_unstable();
        let q = |p: f64| f64::from(v[((v.len() - 1) as f64 * p) as usize]) / 1000.0;
        println!("| {route} | {} | {:.1} | {:.1} |", v.len(), q(0.5), q(0.99));
    }
    let mib =
        |k: Option<u64>| k.map_or("?".to_owned(), |k| format!("{:.1} MiB", k as f64 / 1024.0));
    println!("server RSS: start {}, end {}", mib(rss_start), mib(rss_end));
}
