//! The fleet benchmark's load client (bench/fleet/run.sh): `--concurrency` connections for
//! `--duration` seconds, each request a GET of the next line of `--urls` (a file of paths, taken
//! in turn), spread over the `--base` URLs (comma-separated SIGAP processes, taken in turn).
//! Prints one line: `requests=N errors=E per_s=R` (errors: transport failures and non-2xx/304).

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[tokio::main]
async fn main() {
    let mut bases = vec!["http://127.0.0.1:8080".to_owned()];
    let mut urls_file = String::new();
    let (mut duration, mut concurrency) = (10u64, 16usize);
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let v = it.next().unwrap_or_default();
        match k.as_str() {
            "--base" => bases = v.split(',').map(str::to_owned).collect(),
            "--urls" => urls_file = v,
            "--duration" => duration = v.parse().expect("--duration"),
            "--concurrency" => concurrency = v.parse().expect("--concurrency"),
            other => panic!("unknown argument {other}"),
        }
    }
    let paths: Vec<String> = std::fs::read_to_string(&urls_file)
        .expect("--urls file")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_owned)
        .collect();
    assert!(!paths.is_empty(), "no paths in {urls_file}");
    let (paths, bases) = (Arc::new(paths), Arc::new(bases));
    let next = Arc::new(AtomicUsize::new(0));
    let (done, errors) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .expect("client");
    let started = Instant::now();
    let end = started + Duration::from_secs(duration);
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            let (http, paths, bases, next) =
                (http.clone(), paths.clone(), bases.clone(), next.clone());
            let (done, errors) = (done.clone(), errors.clone());
            tokio::spawn(async move {
                while Instant::now() < end {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let url = format!("{}{}", bases[i % bases.len()], paths[i % paths.len()]);
                    let ok = match http.get(&url).send().await {
                        Ok(r) => {
                            let ok = r.status().is_success() || r.status().as_u16() == 304;
                            ok && r.bytes().await.is_ok()
                        }
                        Err(_) => false,
                    };
                    done.fetch_add(1, Ordering::Relaxed);
                    if !ok {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    for t in tasks {
        let _ = t.await;
    }
    let secs = started.elapsed().as_secs_f64();
    let n = done.load(Ordering::Relaxed);
    println!(
        "requests={n} errors={} per_s={:.1}",
        errors.load(Ordering::Relaxed),
        n as f64 / secs
    );
}
