//! Gap analysis benchmark (not a test): one full run against the analyst's one-statement
//! formulation on the same database, in the same process. Prints wall times, the ratio, the
//! largest difference of covered fraction, and peak memory of this process and of the PostgreSQL
//! backends it used. Usage: DATABASE_URL=... bench-gap [--as-of DATE] [--cell-m M]
//! [--naive-timeout-s N] [--runs N]; the hexagon edge defaults to the database's default analysis
//! (V16). The run is made N times (default 2): the first keeps what depends on shapes alone
//! (V19) unless an earlier run did, the later ones read it; the analyst is compared with the last.
//! (bench/gap/run.sh prepares the databases).

use std::time::{Duration, Instant};

use anyhow::Context as _;
use chrono::NaiveDate;
use sigap::analysis::gap::{compute, GapParams};
use sigap::analysis::run;
use sigap::config::DbConfig;
use sigap::store;

/// Peak resident set of a process, MiB, from /proc/<pid>/status (VmHWM).
fn peak_rss_mib(pid: &str) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// CPU time a process has used so far, seconds (utime + stime from /proc/<pid>/stat, 100 Hz).
fn cpu_s(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let mut as_of = NaiveDate::from_ymd_opt(2026, 6, 1).context("date")?;
    let mut naive_timeout_s: u64 = 900;
    let mut cell_m: Option<f64> = None;
    let mut runs: u32 = 2;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--as-of" => as_of = args.next().context("--as-of DATE")?.parse()?,
            "--cell-m" => cell_m = Some(args.next().context("--cell-m METRES")?.parse()?),
            "--naive-timeout-s" => naive_timeout_s = args.next().context("seconds")?.parse()?,
            "--runs" => runs = args.next().context("--runs N")?.parse::<u32>()?.max(1),
            other => anyhow::bail!("unknown argument {other}"),
        }
    }
    let cfg = DbConfig {
        database_url: std::env::var("DATABASE_URL").unwrap_or_else(|_| "dbname=sigap".into()),
        pool_size: 4,
    };
    let pool = store::pool(&cfg)?;
    let default_cell_m = store::gap::default_cell_m(&pool).await?;
    let cell_m = cell_m.unwrap_or(default_cell_m);
    let params = GapParams::defaults(as_of, cell_m);
    let measured_total: u64 = {
        let c = pool.get().await?;
        let row = c
            .query_one(
                "SELECT (SELECT count(*) FROM kelurahan), (SELECT count(*) FROM coverage),
                        (SELECT count(*) FROM proposal)",
                &[],
            )
            .await?;
        println!(
            "data: {} kelurahan, {} coverage areas, {} proposals; as of {as_of}; {cell_m} m hexagons; {} workers",
            row.get::<_, i64>(0),
            row.get::<_, i64>(1),
            row.get::<_, i64>(2),
            run::default_workers(&pool)
        );
        row.get::<_, i64>(0) as u64
    };

    let mut last_s = 0.0;
    let mut sigap_cpu_before = 0.0;
    // The steps of run::run, timed one by one, `runs` times: the first keeps what depends on
    // shapes alone (V19) unless an earlier run did, the next ones read it.
    let mut cpu_before: std::collections::BTreeMap<i32, f64> = Default::default();
    let mut run_id = 0;
    for n in 1..=runs {
        let started = Instant::now();
        let kept_at: std::sync::Mutex<Option<f64>> = std::sync::Mutex::new(None);
        let (changes_through, _) = store::gap::change_mark(&pool).await?;
        let measured = store::gap::measure(
            &pool,
            &params,
            store::gap::Scope::All,
            run::default_workers(&pool),
            &|done, total| {
                // Keeping first counts every kelurahan twice: the first half is the keeping.
                if total > measured_total && done * 2 >= total {
                    if let Ok(mut k) = kept_at.lock() {
                        k.get_or_insert(started.elapsed().as_secs_f64());
                    }
                }
            },
        )
        .await?;
        let measure_s = started.elapsed().as_secs_f64();
        let keep_s = kept_at.lock().ok().and_then(|k| *k).unwrap_or(f64::NAN);
        let results = compute(&params.weights, &measured.kelurahan);
        let summary = run::summarise(&results, &measured);
        let score_s = started.elapsed().as_secs_f64() - measure_s;
        run_id = store::gap::save(
            &pool,
            &params,
            &results,
            &measured,
            &summary,
            changes_through,
            default_cell_m,
        )
        .await?;
        let ours_s = started.elapsed().as_secs_f64();
        last_s = ours_s;
        // What run::run does after saving: keep what was computed on the spot (untimed here,
        // as nobody waits for it; printed).
        let kept = Instant::now();
        store::gap::keep_unkept(
            &pool,
            &params,
            &measured.unkept,
            run::default_workers(&pool),
        )
        .await;
        println!(
            "kept afterwards: the shapes of {} kelurahan computed on the spot, in {:.2} s",
            measured.unkept.len(),
            kept.elapsed().as_secs_f64()
        );
        // When most shapes were not kept yet, the run keeps them all first (the first half of
        // its progress), then measures; otherwise it measures and keeps what it computed.
        let keep = if keep_s.is_nan() || keep_s >= measure_s {
            String::new()
        } else {
            format!(" (of which keeping every shape first {keep_s:.2} s)")
        };
        println!(
            "sigap gap run {n} of {runs}: {ours_s:.2} s (run {run_id}, {} cells): \
             measure {measure_s:.2} s{keep}, score {score_s:.2} s, save {:.2} s",
            summary["cells"],
            ours_s - measure_s - score_s
        );
        let failures = measured.failures.len();
        println!(
            "kelurahan PostGIS could not measure (left out, named in the run's summary): {failures}"
        );
        for f in measured.failures.iter().take(5) {
            println!("  {} {}", f.kelurahan_code, f.message);
        }
        let sigap_rss = peak_rss_mib("self").unwrap_or(f64::NAN);
        let backends: Vec<(i32, f64, f64)> = {
            let c = pool.get().await?;
            c.query(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'sigap' ORDER BY pid",
                &[],
            )
            .await?
            .iter()
            .map(|r| {
                let pid: i32 = r.get(0);
                let p = pid.to_string();
                (
                    pid,
                    peak_rss_mib(&p).unwrap_or(f64::NAN),
                    cpu_s(&p).unwrap_or(f64::NAN),
                )
            })
            .collect()
        };
        println!("peak RSS so far: sigap process {sigap_rss:.0} MiB");
        let mut backend_cpu = 0.0;
        for (pid, mib, cpu) in &backends {
            let used = cpu - cpu_before.get(pid).copied().unwrap_or(0.0);
            backend_cpu += used;
            cpu_before.insert(*pid, *cpu);
            println!(
                "PostgreSQL backend {pid}: peak RSS {mib:.0} MiB (includes shared buffers it touched), CPU in this run {used:.1} s"
            );
        }
        let sigap_cpu = cpu_s("self").unwrap_or(f64::NAN);
        println!(
            "CPU used by run {n}: {backend_cpu:.1} s in PostgreSQL, {:.1} s in sigap; \
             machine load average: {}",
            sigap_cpu - sigap_cpu_before,
            std::fs::read_to_string("/proc/loadavg")
                .unwrap_or_default()
                .trim()
        );
        sigap_cpu_before = sigap_cpu;
    }
    let ours_s = last_s;

    // The analyst's approach on a fresh connection, so its backend's memory is its own.
    let ours: Vec<(String, f64)> = {
        let c = pool.get().await?;
        c.query(
            "SELECT kelurahan_code, covered_fraction FROM gap_kelurahan WHERE run_id = $1 ORDER BY 1",
            &[&run_id],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
    };
    let c = {
        let (client, conn) = cfg.pg_config()?.connect(tokio_postgres::NoTls).await?;
        tokio::spawn(conn);
        client
    };
    c.batch_execute(&format!(
        "SET statement_timeout = '{naive_timeout_s}s'; SET jit = off"
    ))
    .await?;
    let naive_pid: i32 = c.query_one("SELECT pg_backend_pid()", &[]).await?.get(0);
    let started = Instant::now();
    let naive = c
        .query(
            store::gap::NAIVE_FRACTIONS_SQL,
            &[&as_of, &None::<String>, &None::<String>],
        )
        .await;
    let naive_s = started.elapsed().as_secs_f64();
    println!(
        "analyst's backend: peak RSS {:.0} MiB, CPU {:.1} s",
        peak_rss_mib(&naive_pid.to_string()).unwrap_or(f64::NAN),
        cpu_s(&naive_pid.to_string()).unwrap_or(f64::NAN)
    );
    match naive {
        Ok(rows) => {
            let theirs: Vec<(String, f64)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
            anyhow::ensure!(theirs.len() == ours.len(), "row counts differ");
            let mut worst = (0.0_f64, String::new());
            for ((code_a, a), (code_b, b)) in ours.iter().zip(&theirs) {
                anyhow::ensure!(code_a == code_b, "kelurahan differ: {code_a} {code_b}");
                if (a - b).abs() > worst.0 {
                    worst = ((a - b).abs(), code_a.clone());
                }
            }
            println!("analyst's ST_Union + ST_Intersection: {naive_s:.2} s");
            println!(
                "largest covered-fraction difference: {:.2e} ({}) -> {}",
                worst.0,
                worst.1,
                if worst.0 <= 1e-9 {
                    "identical within 1e-9"
                } else {
                    "DIFFERENT"
                }
            );
            println!("ratio (analyst / sigap): {:.1}x", naive_s / ours_s);
            anyhow::ensure!(worst.0 <= 1e-9, "results differ by more than 1e-9");
        }
        Err(e) if e.code() == Some(&tokio_postgres::error::SqlState::QUERY_CANCELED) => {
            println!(
                "analyst's ST_Union + ST_Intersection: cancelled after {:?} (statement_timeout)",
                Duration::from_secs(naive_timeout_s)
            );
            println!("ratio (analyst / sigap): > {:.1}x", naive_s / ours_s);
        }
        Err(e) => return Err(e).context("the analyst's query"),
    }
    Ok(())
}
