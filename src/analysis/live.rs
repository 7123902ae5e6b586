//! The live gap analysis: `sigap serve` keeps the public run ("as of today, default
//! parameters") fresh. Triggers log every write to the analysis' inputs in `gap_change` and
//! notify `sigap_gap_changes` (V11); this task listens, waits a moment for more changes, and
//! recomputes the run, recording the last change it includes. It also recomputes when the date
//! changes (coverage periods are dated) and at start when the run is missing or behind.
//!
//! Incremental: the refresher keeps what it last measured per kelurahan ([`Measurements`]). Each
//! logged change names the kelurahan it can affect (V15), so a refresh re-measures only those,
//! in one snapshot, and reuses the rest; scoring (ranks, classes, kecamatan, cells), which is
//! cheap, runs whole. A change to the boundaries, a new day or a first refresh measures all.
//!
//! In place: the refresher also keeps every row the live run holds ([`LiveRows`]), so an
//! incremental refresh writes only the rows whose figures changed into the same run
//! (`store::gap_live`), in one transaction with the run's summary and `changes_through`. A full
//! refresh saves a new run, as a batch run does, and drops the one it supersedes.
//!
//! One refresher per database: the task holds a session advisory lock on its listening
//! connection; another process that cannot take it keeps trying, and takes over when the holder's
//! connection ends. A failed refresh is logged and retried; it never stops the server.

use std::time::Duration;

use std::collections::BTreeMap;

use chrono::NaiveDate;
use deadpool_postgres::Pool;
use futures::StreamExt;
use tokio_postgres::{AsyncMessage, NoTls};

use crate::analysis::gap::{GapParams, KelurahanInput};
use crate::analysis::live_delta::{self, LiveRows};
use crate::analysis::run;
use crate::store::gap::{self as gap_store, Followup, MeasureFailure, Measured, Overlap, Scope};
use crate::store::gap_live;
use crate::store::StoreError;

const CHANNEL: &str = "sigap_gap_changes";
/// The advisory lock key of the refresher ('sigap_gap_live' hashed once, fixed).
const LOCK_KEY: i64 = 0x5167_6170_4c69_7665;
/// How often the date and the log are looked at without a notification.
const TICK: Duration = Duration::from_secs(30);

/// Starts the refresher (call inside a Tokio runtime).
pub fn spawn(pool: Pool, pg: tokio_postgres::Config, debounce: Duration) {
    tokio::spawn(async move {
        let mut backoff = Duration::from_millis(500);
        loop {
            match refresher(&pool, &pg, debounce).await {
                Ok(()) => tracing::warn!("live gap refresher lost its connection; reconnecting"),
                Err(e) => tracing::warn!(error = %e, "live gap refresher cannot connect"),
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(10));
        }
    });
}

/// The database's today when the public run is missing, older than today, or behind the
/// change log (then it needs recomputing as of that day); None when it is current.
async fn stale(pool: &Pool) -> Result<Option<NaiveDate>, StoreError> {
    let (last_change, today) = gap_store::change_mark(pool).await?;
    let Some(live) = gap_store::latest_default_run(pool).await? else {
        return Ok(Some(today));
    };
    let as_of = live.params["as_of"]
        .as_str()
        .and_then(|d| d.parse::<NaiveDate>().ok());
    let behind = live.changes_through.unwrap_or(0) < last_change;
    Ok((as_of != Some(today) || behind).then_some(today))
}

/// What one kelurahan's measurement gave: its inputs and overlaps, or why PostGIS could not.
type Measurement = Result<(KelurahanInput, Vec<Overlap>), MeasureFailure>;

/// The refresher's memory of the last measurement, per kelurahan, as of one day, with one
/// hexagon size and up to one logged change.
struct Measurements {
    as_of: NaiveDate,
    cell_m: f64,
    through: i64,
    kelurahan: BTreeMap<String, Measurement>,
    /// Follow-up gaps per kelurahan (found apart from the measurement, so also where it failed).
    followup: BTreeMap<String, Vec<Followup>>,
    /// The live run of that day and every row it holds, when known: an incremental refresh then
    /// updates it in place.
    saved: Option<(i64, LiveRows)>,
}

impl Measurements {
    fn new(params: &GapParams, through: i64, measured: Measured) -> Self {
        let mut m = Measurements {
            as_of: params.as_of,
            cell_m: params.cell_m,
            through,
            kelurahan: BTreeMap::new(),
            followup: BTreeMap::new(),
            saved: None,
        };
        m.replace(&[], measured);
        m
    }

    /// Replaces the measurements of `codes` (and of any kelurahan `measured` holds) with
    /// `measured`; a code it does not hold is dropped.
    fn replace(&mut self, codes: &[String], measured: Measured) {
        for code in codes {
            self.kelurahan.remove(code);
            self.followup.remove(code);
        }
        let mut overlaps: BTreeMap<String, Vec<Overlap>> = BTreeMap::new();
        for o in measured.overlap {
            overlaps
                .entry(o.kelurahan_code.clone())
                .or_default()
                .push(o);
        }
        for f in measured.followup {
            self.followup
                .entry(f.kelurahan_code.clone())
                .or_default()
                .push(f);
        }
        for k in measured.kelurahan {
            let o = overlaps.remove(&k.code).unwrap_or_default();
            self.kelurahan.insert(k.code.clone(), Ok((k, o)));
        }
        for f in measured.failures {
            self.kelurahan.insert(f.kelurahan_code.clone(), Err(f));
        }
    }

    /// All kelurahan in code order (as a batch run measures them and lists follow-up gaps).
    fn assemble(&self) -> Measured {
        let mut measured = Measured {
            followup: self.followup.values().flatten().cloned().collect(),
            ..Measured::default()
        };
        for m in self.kelurahan.values() {
            match m {
                Ok((k, o)) => {
                    measured.kelurahan.push(k.clone());
                    measured.overlap.extend(o.iter().cloned());
                }
                Err(f) => measured.failures.push(f.clone()),
            }
        }
        measured
    }
}

/// Recomputes the public run as of `today`, re-measuring only what changed since `memory` was
/// taken when it can; returns the run's id and how many kelurahan were measured.
async fn refresh(
    pool: &Pool,
    today: NaiveDate,
    memory: &mut Option<Measurements>,
) -> Result<(i64, usize), StoreError> {
    let started = std::time::Instant::now();
    let (through, _) = gap_store::change_mark(pool).await?;
    let params = GapParams::defaults(today, gap_store::default_cell_m(pool).await?);
    let workers = run::default_workers(pool);
    let changed = match memory.as_ref() {
        Some(m) if m.as_of == today && m.cell_m == params.cell_m => {
            gap_store::changed_kelurahan(pool, m.through, through).await?
        }
        _ => None,
    };
    // The kelurahan whose shapes were computed on the spot: kept once the run is written.
    let unkept;
    let (m, measured, remeasured) = match (memory.as_mut(), changed) {
        (Some(m), Some(codes)) => {
            let mut part =
                gap_store::measure(pool, &params, Scope::Only(&codes), workers, &|_, _| {}).await?;
            unkept = std::mem::take(&mut part.unkept);
            m.replace(&codes, part);
            m.through = through;
            let measured = m.assemble();
            (m, measured, codes.len())
        }
        _ => {
            let mut all =
                gap_store::measure(pool, &params, Scope::All, workers, &|_, _| {}).await?;
            unkept = std::mem::take(&mut all.unkept);
            let n = all.kelurahan.len() + all.failures.len();
            let m = memory.insert(Measurements::new(&params, through, all));
            let measured = m.assemble();
            (m, measured, n)
        }
    };
    let measured_at = started.elapsed();
    let (results, summary) = run::score(&params, &measured);
    let rows = LiveRows::new(results, measured.followup.clone(), measured.overlap.clone());
    let scored_at = started.elapsed();
    // `saved` is only kept across incremental refreshes of one day (a full one starts afresh).
    let mut id = None;
    if let Some((live, saved)) = m.saved.take() {
        let delta = live_delta::diff(&saved, &rows);
        let diffed_at = started.elapsed();
        let weighted = rows.results.population_weighted;
        match gap_live::update(pool, live, &delta, weighted, &summary, through).await {
            Ok(true) => {
                tracing::debug!(
                    run = live,
                    rows = delta.len(),
                    measure_ms = measured_at.as_millis() as u64,
                    score_ms = (scored_at - measured_at).as_millis() as u64,
                    diff_ms = (diffed_at - scored_at).as_millis() as u64,
                    write_ms = (started.elapsed() - diffed_at).as_millis() as u64,
                    "live gap run updated in place"
                );
                id = Some(live);
            }
            Ok(false) => {}
            Err(e) => {
                // Rolled back: the run still holds `saved`.
                m.saved = Some((live, saved));
                return Err(e);
            }
        }
    }
    let id = match id {
        Some(id) => id,
        None => {
            let r = &rows.results;
            // `params` are the defaults, with the size read at the start of this refresh.
            let default_cell_m = params.cell_m;
            let id = gap_store::save(
                pool,
                &params,
                r,
                &measured,
                &summary,
                through,
                default_cell_m,
            )
            .await?;
            gap_store::prune_superseded_live_runs(pool, id).await?;
            id
        }
    };
    m.saved = Some((id, rows));
    gap_store::keep_unkept(pool, &params, &unkept, workers).await;
    Ok((id, remeasured))
}

/// Fills the memory with a measurement of everything as of today, without saving a run.
async fn prime(pool: &Pool, memory: &mut Option<Measurements>) {
    let started = std::time::Instant::now();
    let primed = async {
        let (through, today) = gap_store::change_mark(pool).await?;
        let params = GapParams::defaults(today, gap_store::default_cell_m(pool).await?);
        let workers = run::default_workers(pool);
        let mut all = gap_store::measure(pool, &params, Scope::All, workers, &|_, _| {}).await?;
        gap_store::keep_unkept(pool, &params, &std::mem::take(&mut all.unkept), workers).await;
        let mut m = Measurements::new(&params, through, all);
        // What the live run holds, so the first change is already written in place.
        m.saved = gap_live::load(pool, &params).await?;
        Ok::<_, StoreError>(m)
    }
    .await;
    match primed {
        Ok(m) => {
            tracing::info!(
                kelurahan = m.kelurahan.len(),
                ms = started.elapsed().as_millis() as u64,
                "live gap refresher measured everything once"
            );
            *memory = Some(m);
        }
        Err(e) => {
            tracing::warn!(error = %e, "live gap refresher could not measure ahead; the next refresh measures all")
        }
    }
}

async fn refresh_if_stale(pool: &Pool, memory: &mut Option<Measurements>) {
    match stale(pool).await {
        Ok(None) => {}
        Ok(Some(today)) => {
            let started = std::time::Instant::now();
            match refresh(pool, today, memory).await {
                Ok((id, measured)) => tracing::info!(
                    run = id,
                    kelurahan_measured = measured,
                    ms = started.elapsed().as_millis() as u64,
                    "live gap analysis refreshed"
                ),
                Err(e) => tracing::warn!(error = %e, "live gap refresh failed; will retry"),
            }
        }
        Err(e) => tracing::warn!(error = %e, "cannot tell whether the live gap is current"),
    }
}

async fn refresher(
    pool: &Pool,
    pg: &tokio_postgres::Config,
    debounce: Duration,
) -> Result<(), tokio_postgres::Error> {
    let (client, mut conn) = pg.connect(NoTls).await?;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<()>();
    let driver = tokio::spawn(async move {
        let mut messages = futures::stream::poll_fn(move |cx| conn.poll_message(cx));
        while let Some(message) = messages.next().await {
            match message {
                Ok(AsyncMessage::Notification(_)) => {
                    if tx.send(()).is_err() {
                        return;
                    }
                }
                Ok(_) => {}
                Err(_) => return,
            }
        }
    });
    // Leadership: only the holder of the lock refreshes; the others wait their turn.
    loop {
        let held: bool = client
            .query_one("SELECT pg_try_advisory_lock($1)", &[&LOCK_KEY])
            .await?
            .get(0);
        if held {
            break;
        }
        if driver.is_finished() {
            return Ok(());
        }
        tokio::time::sleep(TICK / 6).await;
    }
    client.batch_execute(&format!("LISTEN {CHANNEL}")).await?;
    tracing::info!("live gap refresher is running");
    let mut memory = None;
    refresh_if_stale(pool, &mut memory).await;
    if memory.is_none() {
        // The run was current: measure once now, so the first change is already incremental.
        prime(pool, &mut memory).await;
    }
    let mut tick = tokio::time::interval(TICK);
    tick.tick().await;
    loop {
        tokio::select! {
            got = rx.recv() => {
                if got.is_none() {
                    break;
                }
                // Let a burst of changes (an import, a moderator's session) settle into one run.
                tokio::time::sleep(debounce).await;
                while rx.try_recv().is_ok() {}
                refresh_if_stale(pool, &mut memory).await;
            }
            _ = tick.tick() => refresh_if_stale(pool, &mut memory).await,
        }
    }
    driver.abort();
    Ok(())
}
