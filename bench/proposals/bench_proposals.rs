//! Load client for bench/proposals: sustained anonymous submissions and resident supports
//! against a running SIGAP, with p50/p99 latency, then a count check that every acknowledged
//! write is in the database. The peer, measured in the same run, is the same insert issued
//! straight to PostgreSQL through `sigap::store` (no HTTP), so the ratio shows what the HTTP
//! layer costs. Run through bench/proposals/run.sh, which prepares the database and server.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Parser;
use serde_json::{json, Value};
use sigap::config::DbConfig;
use sigap::store::audit::Actor;
use sigap::store::proposals::{self, NewProposal};

#[derive(Parser)]
struct Args {
    /// Base URL of the running server.
    #[arg(long, default_value = "http://127.0.0.1:18084")]
    base: String,
    /// Seconds of load.
    #[arg(long, default_value_t = 20)]
    duration: u64,
    /// Requests in flight.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Residents with tokens `tok-res<i>`, i = 1..=residents (made by the fixture).
    #[arg(long, default_value_t = 2000)]
    residents: u64,
    /// Seconds of the direct-to-database peer run.
    #[arg(long, default_value_t = 5)]
    peer_duration: u64,
    #[command(flatten)]
    db: DbConfig,
}

#[derive(Default)]
struct Record {
    submit_ms: Vec<f64>,
    support_ms: Vec<f64>,
    submitted_ids: Vec<i64>,
    supported: Vec<(i64, u64)>,
    errors: u64,
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() - 1) as f64 * p).round() as usize]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let pool = sigap::store::pool(&args.db)?;
    let db = pool.get().await?;
    let published: Vec<i64> = db
        .query(
            "SELECT id FROM proposal WHERE status = 'diverifikasi' ORDER BY id",
            &[],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    anyhow::ensure!(
        !published.is_empty(),
        "the fixture made no published proposals"
    );
    let before_proposals: i64 = db
        .query_one("SELECT count(*) FROM proposal", &[])
        .await?
        .get(0);
    let before_supports: i64 = db
        .query_one("SELECT count(*) FROM proposal_support", &[])
        .await?
        .get(0);
    drop(db);

    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency)
        .build()?;
    let next = Arc::new(AtomicU64::new(0));
    let record = Arc::new(Mutex::new(Record::default()));
    let published = Arc::new(published);
    let start = Instant::now();
    let deadline = start + Duration::from_secs(args.duration);
    let mut tasks = Vec::new();
    for _ in 0..args.concurrency {
        let (http, next, record, published, base) = (
            http.clone(),
            next.clone(),
            record.clone(),
            published.clone(),
            args.base.clone(),
        );
        let residents = args.residents;
        tasks.push(tokio::spawn(async move {
            let mut local = Record::default();
            while Instant::now() < deadline {
                let k = next.fetch_add(1, Ordering::Relaxed);
                let t = Instant::now();
                if k % 2 == 0 {
                    // Spread over the fixture region (107.5..107.8, -7.0..-6.8).
                    let lon = 107.5 + (k % 997) as f64 * 0.0003;
                    let lat = -7.0 + (k % 661) as f64 * 0.0003;
                    let res = http
                        .post(format!("{base}/api/proposals"))
                        .json(&json!({"lon": lon, "lat": lat, "category": "jalan",
                                      "title": format!("Beban {k}"), "description": "uji beban"}))
                        .send()
                        .await;
                    match res {
                        Ok(r) if r.status().as_u16() == 201 => {
                            let v: Value = r.json().await.unwrap_or(Value::Null);
                            local.submit_ms.push(t.elapsed().as_secs_f64() * 1000.0);
                            match v["id"].as_i64() {
                                Some(id) => local.submitted_ids.push(id),
                                None => local.errors += 1,
                            }
                        }
                        _ => local.errors += 1,
                    }
                } else {
                    // A distinct (resident, proposal) pair for every support, spread over the proposals.
                    let j = k / 2;
                    let n = published.len() as u64;
                    let proposal = published[(j % n) as usize];
                    let resident = (j / n) % residents + 1;
                    let res = http
                        .post(format!("{base}/api/proposals/{proposal}/support"))
                        .bearer_auth(format!("tok-res{resident}"))
                        .send()
                        .await;
                    match res {
                        Ok(r) if r.status().as_u16() == 200 => {
                            let _ = r.bytes().await;
                            local.support_ms.push(t.elapsed().as_secs_f64() * 1000.0);
                            local.supported.push((proposal, resident));
                        }
                        _ => local.errors += 1,
                    }
                }
            }
            let mut r = record.lock().unwrap_or_else(|e| e.into_inner());
            r.submit_ms.extend(local.submit_ms);
            r.support_ms.extend(local.support_ms);
            r.submitted_ids.extend(local.submitted_ids);
            r.supported.extend(local.supported);
            r.errors += local.errors;
        }));
    }
    for t in tasks {
        t.await?;
    }
    let secs = start.elapsed().as_secs_f64();
    let mut r = std::mem::take(&mut *record.lock().unwrap_or_else(|e| e.into_inner()));
    let (n_sub, n_sup) = (r.submit_ms.len(), r.support_ms.len());
    let writes_per_s = (n_sub + n_sup) as f64 / secs;
    println!("HTTP, {} in flight, {:.1} s", args.concurrency, secs);
    println!(
        "  submissions: {n_sub} acknowledged, {:.0}/s, p50 {:.2} ms, p99 {:.2} ms",
        n_sub as f64 / secs,
        pct(&mut r.submit_ms, 0.50),
        pct(&mut r.submit_ms, 0.99)
    );
    println!(
        "  supports:    {n_sup} acknowledged, {:.0}/s, p50 {:.2} ms, p99 {:.2} ms",
        n_sup as f64 / secs,
        pct(&mut r.support_ms, 0.50),
        pct(&mut r.support_ms, 0.99)
    );
    println!(
        "  writes:      {writes_per_s:.0}/s; failed or refused: {}",
        r.errors
    );

    // Count check: every acknowledged write is in the database, nothing extra, counts exact.
    let db = pool.get().await?;
    let found: i64 = db
        .query_one(
            "SELECT count(*) FROM proposal WHERE id = ANY($1)",
            &[&r.submitted_ids],
        )
        .await?
        .get(0);
    let after_proposals: i64 = db
        .query_one("SELECT count(*) FROM proposal", &[])
        .await?
        .get(0);
    let after_supports: i64 = db
        .query_one("SELECT count(*) FROM proposal_support", &[])
        .await?
        .get(0);
    let counter_sum: i64 = db
        .query_one(
            "SELECT coalesce(sum(support_count), 0)::bigint FROM proposal",
            &[],
        )
        .await?
        .get(0);
    let pairs: HashSet<(i64, u64)> = r.supported.iter().copied().collect();
    let mut all_ok = true;
    let mut check = |name: &str, got: i64, want: i64| {
        let ok = got == want;
        all_ok &= ok;
        println!(
            "  check {name}: {got} (expected {want}) {}",
            if ok { "ok" } else { "LOST" }
        );
    };
    check(
        "acknowledged submissions in the database",
        found,
        n_sub as i64,
    );
    check(
        "new proposal rows",
        after_proposals - before_proposals,
        n_sub as i64,
    );
    check(
        "new support rows",
        after_supports - before_supports,
        pairs.len() as i64,
    );
    check(
        "sum of support_count = support rows",
        counter_sum,
        after_supports,
    );
    drop(db);

    // The peer: the same insert straight to the database, no HTTP, same concurrency.
    let peer_deadline = Instant::now() + Duration::from_secs(args.peer_duration);
    let peer_start = Instant::now();
    let done = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for w in 0..args.concurrency.min(args.db.pool_size) {
        let (pool, done) = (pool.clone(), done.clone());
        tasks.push(tokio::spawn(async move {
            let client = pool.get().await?;
            let mut i = 0u64;
            while Instant::now() < peer_deadline {
                i += 1;
                let new = NewProposal {
                    lon: 107.5 + ((w as u64 * 7919 + i) % 997) as f64 * 0.0003,
                    lat: -7.0 + (i % 661) as f64 * 0.0003,
                    category: "jalan".into(),
                    title: format!("Sebaya {w}-{i}"),
                    description: "uji beban".into(),
                    estimated_cost_idr: None,
                    submitter_id: None,
                    submitter_name: None,
                    submitter_phone: None,
                    photo: None,
                };
                proposals::insert(&client, &new, &Actor::anonymous()).await?;
                done.fetch_add(1, Ordering::Relaxed);
            }
            anyhow::Ok(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    let peer_rate = done.load(Ordering::Relaxed) as f64 / peer_start.elapsed().as_secs_f64();
    println!(
        "peer (store::proposals::insert, no HTTP, {} connections): {peer_rate:.0} submissions/s; HTTP submissions+supports / peer = {:.2}",
        args.concurrency.min(args.db.pool_size),
        writes_per_s / peer_rate
    );
    if !all_ok {
        anyhow::bail!("count check failed: acknowledged writes are missing");
    }
    Ok(())
}
