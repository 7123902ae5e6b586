//! Load client of bench/tiles (not a test): fetches every URL of a list with N concurrent
//! workers and prints `tiles/s` plus the status counts, so SIGAP and martin are measured by the
//! same client. Usage: `tile_load FILE CONCURRENCY ROUNDS`.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 4 {
        eprintln!("usage: tile_load URL_FILE CONCURRENCY ROUNDS");
        std::process::exit(2);
    }
    let urls: Vec<String> = std::fs::read_to_string(&args[1])?
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_owned)
        .collect();
    let concurrency: usize = args[2].parse()?;
    let rounds: usize = args[3].parse()?;
    let urls = Arc::new(urls);
    let total = urls.len() * rounds;
    let next = Arc::new(AtomicUsize::new(0));
    let ok = Arc::new(AtomicU64::new(0));
    let empty = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let bytes = Arc::new(AtomicU64::new(0));
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()?;
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (urls, next, ok, empty, failed, bytes, client) = (
            urls.clone(),
            next.clone(),
            ok.clone(),
            empty.clone(),
            failed.clone(),
            bytes.clone(),
            client.clone(),
        );
        workers.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    return;
                }
                match client.get(&urls[i % urls.len()]).send().await {
                    Ok(res) => {
                        let status = res.status().as_u16();
                        let body = res.bytes().await.map(|b| b.len()).unwrap_or(0);
                        bytes.fetch_add(body as u64, Ordering::Relaxed);
                        match status {
                            200 => ok.fetch_add(1, Ordering::Relaxed),
                            204 => empty.fetch_add(1, Ordering::Relaxed),
                            _ => failed.fetch_add(1, Ordering::Relaxed),
                        };
                    }
                    Err(_) => {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }));
    }
    for w in workers {
        w.await?;
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "tiles={total} seconds={secs:.3} tiles_per_s={:.1} ok={} empty={} failed={} mb={:.1}",
        total as f64 / secs,
        ok.load(Ordering::Relaxed),
        empty.load(Ordering::Relaxed),
        failed.load(Ordering::Relaxed),
        bytes.load(Ordering::Relaxed) as f64 / 1e6
    );
    Ok(())
}
