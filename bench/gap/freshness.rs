//! Freshness of the live gap analysis: how long after an edit commits the public run includes it.
//!
//! Runs the refresher of `sigap serve` in this process against DATABASE_URL (a database with the
//! Bandung sample, or `sigap sample scale`), commits N coverage edits one after another, and times
//! each until the live run's `changes_through` reaches the edit's change id. Each edit changes the
//! figures: it ends one coverage area that is active today (yesterday becomes its last day), or
//! gives it back its end date, in turn, so its kelurahan lose or regain that coverage (the area
//! has its end date again afterwards). One more edit comes first and is not timed: the refresher
//! takes it in while it measures everything once at start. The peer, measured in the same run: the
//! full batch run a planner starts by hand (`sigap gap run`), timed after one untimed run that
//! keeps what depends on shapes alone for today's coverage (V19), as a running service has.
//!
//! ```text
//! DATABASE_URL=dbname=sigap_bench_fresh cargo run --release --bin bench-gap-freshness -- [EDITS]
//! ```

use std::time::{Duration, Instant};

use clap::Parser;
use sigap::analysis::gap::GapParams;
use sigap::analysis::{live, run};
use sigap::config::DbConfig;
use sigap::store::gap as gap_store;

#[derive(Parser)]
struct Args {
    #[command(flatten)]
    db: DbConfig,
    /// How many edits to time.
    #[arg(default_value_t = 30)]
    edits: usize,
    /// The refresher's debounce, in milliseconds (as SIGAP_LIVE_GAP_DEBOUNCE_MS).
    #[arg(long, default_value_t = 300)]
    debounce_ms: u64,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    // The refresher's own log (RUST_LOG=sigap=debug shows each refresh's steps).
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let pool = sigap::store::pool(&args.db)?;
    let (_, today) = gap_store::change_mark(&pool).await?;

    // The peer: one full batch run, timed, after an untimed one that keeps what depends on
    // shapes alone (V19) for today's coverage, as a running service has.
    let cell_m = gap_store::default_cell_m(&pool).await?;
    run::run(&pool, &GapParams::defaults(today, cell_m), &|_, _| {}).await?;
    let started = Instant::now();
    run::run(&pool, &GapParams::defaults(today, cell_m), &|_, _| {}).await?;
    let batch_s = started.elapsed().as_secs_f64();

    live::spawn(
        pool.clone(),
        args.db.pg_config()?,
        Duration::from_millis(args.debounce_ms),
    );
    let client = pool.get().await?;
    let area = client
        .query_opt(
            "SELECT id, valid_to FROM coverage
             WHERE rule_code IS NULL AND valid_from < current_date AND valid_to >= current_date
             ORDER BY id LIMIT 1",
            &[],
        )
        .await?
        .ok_or_else(|| anyhow::anyhow!("no coverage area active today to edit"))?;
    let (area_id, valid_to): (i64, chrono::NaiveDate) = (area.get(0), area.get(1));
    let end = |ended: bool| {
        let client = &client;
        async move {
            client
                .execute(
                    "UPDATE coverage SET valid_to = CASE WHEN $2 THEN current_date - 1 ELSE $3 END
                     WHERE id = $1",
                    &[&area_id, &ended, &valid_to],
                )
                .await
        }
    };
    let mut latencies = Vec::new();
    // Edit 0 is the untimed warm-up.
    for i in 0..=args.edits {
        let started = Instant::now();
        end(i % 2 == 0).await?;
        let (change, _) = gap_store::change_mark(&pool).await?;
        loop {
            let run = gap_store::latest_default_run(&pool).await?;
            if run.and_then(|r| r.changes_through).unwrap_or(0) >= change {
                break;
            }
            anyhow::ensure!(
                started.elapsed() < Duration::from_secs(600),
                "edit {i} never reached the live run"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        if i > 0 {
            latencies.push(started.elapsed().as_secs_f64());
        }
    }
    end(false).await?;
    latencies.sort_by(f64::total_cmp);
    let (p50, p99) = (percentile(&latencies, 0.5), percentile(&latencies, 0.99));
    let row = client
        .query_one(
            "SELECT (SELECT count(*) FROM kelurahan), (SELECT count(*) FROM coverage)",
            &[],
        )
        .await?;
    println!(
        "data: {} kelurahan, {} coverage areas; {} edits, debounce {} ms",
        row.get::<_, i64>(0),
        row.get::<_, i64>(1),
        args.edits,
        args.debounce_ms
    );
    println!(
        "edit -> live public run: p50 {:.3} s, p99 {:.3} s, max {:.3} s",
        p50,
        p99,
        latencies.last().copied().unwrap_or(0.0)
    );
    println!(
        "peer, one batch run (sigap gap run): {batch_s:.3} s; p99 freshness / batch run = {:.2}",
        p99 / batch_s
    );
    Ok(())
}
