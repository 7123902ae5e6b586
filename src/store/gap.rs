//! Gap analysis tables: measuring coverage per kelurahan and hexagon cell in PostGIS (chunks of
//! kelurahan over a few connections sharing one snapshot), saving runs and reading them back.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use chrono::{DateTime, NaiveDate, Utc};
use deadpool_postgres::{Object, Pool};
use serde::Serialize;
use serde_json::Value;
use tokio_postgres::Row;

use crate::analysis::gap::{
    AreaResult, CellPiece, CellResult, GapParams, GapResults, KelurahanInput,
};
use crate::domain::ProposalStatus;
use crate::store::gap_rows::{AreaColumns, CellColumns, FollowupColumns, OverlapColumns};
use crate::store::{Context, StoreError};

const ACTIVE_PROGRAMS_SQL: &str = include_str!("../../sql/queries/gap_active_programs.sql");
const CHUNK_SQL: &str = include_str!("../../sql/queries/gap_kelurahan_chunk.sql");
const FOLLOWUP_SQL: &str = include_str!("../../sql/queries/gap_followup.sql");
const KEEP_SHAPE_SQL: &str = include_str!("../../sql/queries/gap_prepare_shape.sql");
const KEEP_LAND_SQL: &str = include_str!("../../sql/queries/gap_prepare_land.sql");
const KEEP_GONE_SQL: &str = include_str!("../../sql/queries/gap_prepare_gone.sql");
const KEEP_PIECES_SQL: &str = include_str!("../../sql/queries/gap_prepare_pieces.sql");
/// Saving a live run notifies this channel with the run's id (api::gap_events listens).
pub const LIVE_CHANNEL: &str = "sigap_gap_live";
const SAVE_RUN_SQL: &str = include_str!("../../sql/queries/gap_save_run.sql");
pub(crate) const SAVE_KELURAHAN_SQL: &str =
    include_str!("../../sql/queries/gap_save_kelurahan.sql");
pub(crate) const SAVE_KECAMATAN_SQL: &str =
    include_str!("../../sql/queries/gap_save_kecamatan.sql");
pub(crate) const SAVE_CELLS_SQL: &str = include_str!("../../sql/queries/gap_save_cells.sql");
pub(crate) const SAVE_FOLLOWUP_SQL: &str = include_str!("../../sql/queries/gap_save_followup.sql");
pub(crate) const SAVE_OVERLAP_SQL: &str = include_str!("../../sql/queries/gap_save_overlap.sql");
/// The analyst's formulation, kept as the benchmark's peer: one union of all active coverage,
/// then one intersection per kelurahan.
pub const NAIVE_FRACTIONS_SQL: &str = include_str!("../../sql/queries/gap_naive_fractions.sql");

/// A training that no pendampingan followed in time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Followup {
    pub kelurahan_code: String,
    pub program_code: String,
    pub program_type: String,
    pub partner_code: String,
    pub training_ended: NaiveDate,
    pub window_closed: NaiveDate,
}

impl Followup {
    /// From a row whose columns are the fields in this order (gap_followup.sql, the gap_followup
    /// table).
    pub(crate) fn from_row(r: &Row) -> Self {
        Followup {
            kelurahan_code: r.get(0),
            program_code: r.get(1),
            program_type: r.get(2),
            partner_code: r.get(3),
            training_ended: r.get(4),
            window_closed: r.get(5),
        }
    }
}

/// Two or more partners running the same program type in one kelurahan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Overlap {
    pub kelurahan_code: String,
    pub program_type: String,
    pub partner_codes: Vec<String>,
    pub overlap_m2: f64,
}

/// Everything PostGIS measured for a run.
#[derive(Debug, Clone, Default)]
pub struct Measured {
    pub kelurahan: Vec<KelurahanInput>,
    pub followup: Vec<Followup>,
    pub overlap: Vec<Overlap>,
    /// Kelurahan that PostGIS could not measure (a GEOS or PROJ error on their geometry): left
    /// out of the results and named in the run's summary instead of aborting the run.
    pub failures: Vec<MeasureFailure>,
    /// Kelurahan whose shapes the measuring computed on the spot instead of reading them from
    /// what is kept (V19): [`keep_unkept`] keeps them once the run is saved.
    pub unkept: Vec<String>,
}

/// One kelurahan the run could not measure, and PostGIS's reason.
#[derive(Debug, Clone, serde::Serialize)]
pub struct MeasureFailure {
    pub kelurahan_code: String,
    pub message: String,
}

/// An error that belongs to the data of the chunk (PostGIS raises GEOS and PROJ failures as
/// internal errors, bad values as class 22), rather than to the connection or the server: the
/// chunk is measured again one kelurahan at a time so that only the culprit is left out.
fn data_error(e: &tokio_postgres::Error) -> Option<String> {
    let db = e.as_db_error()?;
    let code = db.code().code();
    (code == "XX000" || code.starts_with("22")).then(|| db.message().to_owned())
}

fn opt_str<T: std::fmt::Display>(v: Option<T>) -> Option<String> {
    v.map(|v| v.to_string())
}

/// Settings of every transaction of a run (the lead's snapshot, the workers' chunks, the
/// keeping). JIT compiling these queries costs more than it saves: each chunk is a fresh plan
/// run. The run already uses one connection per core, so parallel query workers would only
/// compete. Each chunk is planned for its own arrays: a generic plan (which PostgreSQL may switch
/// to after five runs of a prepared statement) guesses their sizes, and ran the chunk query 1.5×
/// slower and the keeping 10 % slower at national size.
const RUN_SETTINGS: &str = "SET LOCAL jit = off; SET LOCAL max_parallel_workers_per_gather = 0; \
     SET LOCAL plan_cache_mode = force_custom_plan";

async fn begin_with_snapshot(client: &Object, snapshot: &str) -> Result<(), StoreError> {
    // SET TRANSACTION SNAPSHOT takes no bind parameter; the id comes from pg_export_snapshot()
    // and is checked to be hex digits and dashes before it is quoted.
    let safe = !snapshot.is_empty() && snapshot.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-');
    if !safe {
        return Err(StoreError::Config(format!(
            "unexpected snapshot id {snapshot:?}"
        )));
    }
    client
        .batch_execute(&format!(
            "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET TRANSACTION SNAPSHOT '{snapshot}'; \
             {RUN_SETTINGS}"
        ))
        .await
        .context("joining the analysis snapshot")
}

fn kelurahan_input(row: &Row, partner_of: &BTreeMap<String, String>) -> KelurahanInput {
    let ci: Vec<i32> = row.get::<_, Option<Vec<i32>>>("ci").unwrap_or_default();
    let cj: Vec<i32> = row.get::<_, Option<Vec<i32>>>("cj").unwrap_or_default();
    let land: Vec<f64> = row
        .get::<_, Option<Vec<f64>>>("land_m2")
        .unwrap_or_default();
    let covered: Vec<f64> = row
        .get::<_, Option<Vec<f64>>>("cell_covered_m2")
        .unwrap_or_default();
    let proposals: Vec<i32> = row
        .get::<_, Option<Vec<i32>>>("cell_proposals")
        .unwrap_or_default();
    let supports: Vec<i64> = row
        .get::<_, Option<Vec<i64>>>("cell_supports")
        .unwrap_or_default();
    let programs: Vec<String> = row.get("programs");
    let cells = (0..ci.len().min(cj.len()).min(land.len()).min(covered.len()))
        .map(|n| CellPiece {
            i: ci[n],
            j: cj[n],
            land_m2: land[n],
            covered_m2: covered[n],
            proposals: proposals.get(n).copied().unwrap_or(0) as i64,
            supports: supports.get(n).copied().unwrap_or(0),
        })
        .collect();
    KelurahanInput {
        code: row.get("code"),
        kecamatan_code: row.get("kecamatan_code"),
        area_m2: row.get("area_m2"),
        covered_m2: row.get("covered_m2"),
        partners: programs
            .iter()
            .filter_map(|p| partner_of.get(p).cloned())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect(),
        programs,
        weight_total: row.get("w_total"),
        weight_covered: row.get("w_covered"),
        proposals: row.get::<_, i32>("proposals") as i64,
        supports: row.get("supports"),
        population: row.get("population"),
        households: row.get("households"),
        low_income_households: row.get("low_income_households"),
        cells,
    }
}

fn overlaps(row: &Row) -> Vec<Overlap> {
    let code: String = row.get("code");
    let types: Vec<String> = row
        .get::<_, Option<Vec<String>>>("overlap_types")
        .unwrap_or_default();
    let partners: Vec<String> = row
        .get::<_, Option<Vec<String>>>("overlap_partners")
        .unwrap_or_default();
    let m2: Vec<f64> = row
        .get::<_, Option<Vec<f64>>>("overlap_m2")
        .unwrap_or_default();
    types
        .into_iter()
        .zip(partners)
        .zip(m2)
        .map(|((program_type, partners), overlap_m2)| Overlap {
            kelurahan_code: code.clone(),
            program_type,
            partner_codes: partners.split(',').map(str::to_owned).collect(),
            overlap_m2,
        })
        .collect()
}

/// Which kelurahan to measure.
#[derive(Debug, Clone, Copy)]
pub enum Scope<'a> {
    All,
    /// Only these (the live refresh: the kelurahan that logged changes touched).
    Only(&'a [String]),
}

/// Measures the kelurahan of `scope` on `workers` connections that share one snapshot, so the
/// chunks see the same data; `progress(done, total)` is called after each chunk of kelurahan.
///
/// What depends on shapes alone is read from what is kept (V19) where it is current and computed
/// on the spot where not; those kelurahan are listed in `Measured::unkept` for the caller to keep
/// once the run is saved ([`keep_unkept`]), so the next run reads them and no one waits for it.
/// When most of a whole-region run would be computed on the spot (the first run at a hexagon
/// size, after an import), everything is kept first and then read, which costs less than
/// computing it twice; its progress then counts each kelurahan twice, once kept and once
/// measured.
pub async fn measure(
    pool: &Pool,
    params: &GapParams,
    scope: Scope<'_>,
    workers: usize,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> Result<Measured, StoreError> {
    let keep_first = matches!(scope, Scope::All) && mostly_unkept(pool, params.cell_m).await?;
    if keep_first {
        keep_static_parts(pool, params, scope, workers, &|done, total| {
            progress(done, 2 * total)
        })
        .await;
        let measure_progress = |done: u64, total: u64| progress(total + done, 2 * total);
        measure_snapshot(pool, params, scope, workers, &measure_progress).await
    } else {
        measure_snapshot(pool, params, scope, workers, progress).await
    }
}

/// Keeps the shapes of the kelurahan a measurement computed on the spot (`Measured::unkept`, see
/// [`measure`]); best effort, like [`keep_static_parts`].
pub async fn keep_unkept(pool: &Pool, params: &GapParams, unkept: &[String], workers: usize) {
    if !unkept.is_empty() {
        keep_static_parts(pool, params, Scope::Only(unkept), workers, &|_, _| {}).await;
    }
}

/// Whether fewer than half of the kelurahan have their hexagons' land kept at `cell_m`.
async fn mostly_unkept(pool: &Pool, cell_m: f64) -> Result<bool, StoreError> {
    let row = pool
        .get()
        .await?
        .query_one(
            "SELECT (SELECT count(*) FROM gap_kelurahan_land WHERE cell_m = $1) * 2
                    < (SELECT count(*) FROM kelurahan)",
            &[&cell_m],
        )
        .await
        .context("looking at what the gap analysis keeps")?;
    Ok(row.get(0))
}

/// [`measure`] in one exported snapshot.
async fn measure_snapshot(
    pool: &Pool,
    params: &GapParams,
    scope: Scope<'_>,
    workers: usize,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> Result<Measured, StoreError> {
    let lead = pool.get().await?;
    lead.batch_execute(&format!(
        "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; {RUN_SETTINGS}"
    ))
    .await
    .context("starting the analysis snapshot")?;
    let result = measure_in(&lead, pool, params, scope, workers, progress).await;
    // Read-only: ROLLBACK ends the snapshot whatever happened.
    let _ = lead.batch_execute("ROLLBACK").await;
    result
}

async fn measure_in(
    lead: &Object,
    pool: &Pool,
    params: &GapParams,
    scope: Scope<'_>,
    workers: usize,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> Result<Measured, StoreError> {
    let snapshot: String = lead
        .query_one("SELECT pg_export_snapshot()", &[])
        .await
        .context("exporting the analysis snapshot")?
        .get(0);
    let codes = scope_codes(lead, scope).await?;
    // The follow-up list of the same kelurahan (all of them: NULL).
    let only: Option<&[String]> = match scope {
        Scope::All => None,
        Scope::Only(codes) => Some(codes),
    };
    let program_type = opt_str(params.program_type);
    let partner_type = opt_str(params.partner_type);
    let active = lead
        .query(
            ACTIVE_PROGRAMS_SQL,
            &[&params.as_of, &program_type, &partner_type],
        )
        .await
        .context("listing the active programs")?;
    let active_programs: Vec<&str> = active.iter().map(|r| r.get(0)).collect();
    let active_types: Vec<&str> = active.iter().map(|r| r.get(1)).collect();
    let active_partners: Vec<&str> = active.iter().map(|r| r.get(2)).collect();
    let partner_of: BTreeMap<String, String> = active_programs
        .iter()
        .zip(&active_partners)
        .map(|(p, q)| ((*p).to_owned(), (*q).to_owned()))
        .collect();
    let workers = workers.max(1);
    let chunks = chunks_of(&codes, workers);
    let total = codes.len() as u64;
    progress(0, total);

    let statuses: Vec<&str> = ProposalStatus::PUBLIC.to_vec();
    let args = ChunkArgs {
        as_of: params.as_of,
        programs: &active_programs,
        cell_m: params.cell_m,
        statuses: &statuses,
        types: &active_types,
        partners: &active_partners,
    };
    let failures: Mutex<Vec<MeasureFailure>> = Mutex::new(Vec::new());
    let unkept: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    type Part = (usize, Vec<KelurahanInput>, Vec<Overlap>);
    let results: Mutex<Vec<Part>> = Mutex::new(Vec::new());

    let worker = || async {
        let client = pool.get().await?;
        let result = async {
            begin_with_snapshot(&client, &snapshot).await?;
            let stmt = client
                .prepare_cached(CHUNK_SQL)
                .await
                .context("preparing the kelurahan gap query")?;
            loop {
                let n = next.fetch_add(1, Ordering::SeqCst);
                let Some(codes) = chunks.get(n) else { break };
                let (rows, failed) = match measure_chunk(&client, &stmt, codes, &args).await {
                    Ok(measured) => measured,
                    Err(e) => {
                        // Stop the other workers too: the run is lost.
                        next.store(chunks.len(), Ordering::SeqCst);
                        return Err(e);
                    }
                };
                if !failed.is_empty() {
                    if let Ok(mut f) = failures.lock() {
                        f.extend(failed);
                    }
                }
                let computed = rows.iter().filter(|r| !r.get::<_, bool>("kept"));
                if let Ok(mut u) = unkept.lock() {
                    u.extend(computed.map(|r| r.get::<_, String>("code")));
                }
                let inputs: Vec<KelurahanInput> = rows
                    .iter()
                    .map(|r| kelurahan_input(r, &partner_of))
                    .collect();
                let overlaps: Vec<Overlap> = rows.iter().flat_map(overlaps).collect();
                let finished = done.fetch_add(codes.len(), Ordering::SeqCst) + codes.len();
                progress(finished as u64, total);
                if let Ok(mut r) = results.lock() {
                    r.push((n, inputs, overlaps));
                }
            }
            Ok::<(), StoreError>(())
        }
        .await;
        // Read-only: ending with ROLLBACK releases the snapshot whatever happened, so the
        // connection goes back to the pool outside any transaction.
        let _ = client.batch_execute("ROLLBACK").await;
        result
    };

    let lead_queries = async {
        let months = params.followup_months as i32;
        let followup = lead
            .query(
                FOLLOWUP_SQL,
                &[&params.as_of, &months, &partner_type, &only],
            )
            .await
            .context("finding follow-up gaps")?
            .iter()
            .map(Followup::from_row)
            .collect::<Vec<_>>();
        Ok::<_, StoreError>(followup)
    };

    let (worker_results, lead_result) = futures::join!(
        futures::future::join_all((0..workers).map(|_| worker())),
        lead_queries
    );
    for r in worker_results {
        r?;
    }
    let followup = lead_result?;
    let mut parts = results
        .into_inner()
        .map_err(|_| StoreError::Config("a gap analysis worker panicked".to_owned()))?;
    parts.sort_by_key(|(n, _, _)| *n);
    let mut failures = failures
        .into_inner()
        .map_err(|_| StoreError::Config("a gap analysis worker panicked".to_owned()))?;
    failures.sort_by(|a, b| a.kelurahan_code.cmp(&b.kelurahan_code));
    let mut measured = Measured {
        followup,
        failures,
        ..Measured::default()
    };
    for (_, kelurahan, overlap) in parts {
        measured.kelurahan.extend(kelurahan);
        measured.overlap.extend(overlap);
    }
    measured.unkept = unkept
        .into_inner()
        .map_err(|_| StoreError::Config("a gap analysis worker panicked".to_owned()))?;
    measured.unkept.sort();
    Ok(measured)
}

/// The kelurahan codes of `scope`, in code order for the whole region.
async fn scope_codes(client: &Object, scope: Scope<'_>) -> Result<Vec<String>, StoreError> {
    Ok(match scope {
        Scope::All => client
            .query("SELECT code FROM kelurahan ORDER BY code", &[])
            .await
            .context("listing kelurahan")?
            .iter()
            .map(|r| r.get(0))
            .collect(),
        Scope::Only(codes) => codes.to_vec(),
    })
}

/// Chunks of kelurahan for `workers` connections: about 16 per worker, 8 to 256 kelurahan each.
fn chunks_of(codes: &[String], workers: usize) -> Vec<&[String]> {
    let chunk = (codes.len() / (workers.max(1) * 16)).clamp(8, 256);
    codes.chunks(chunk).collect()
}

/// Brings up to date what a run of `params` reads of shapes alone (V19): the metric geometry of
/// the kelurahan of `scope`, the land of each of their hexagons at `params.cell_m`, and the
/// active coverage clipped to them. Each chunk of kelurahan is one transaction on one of
/// `workers` connections; rows already computed from the same shapes are left alone, so on a
/// second run this only checks. Best effort: the measuring computes whatever is not kept (and
/// names any kelurahan PostGIS cannot measure), so a failure here is logged and the rest of the
/// keeping skipped, never the run's.
pub async fn keep_static_parts(
    pool: &Pool,
    params: &GapParams,
    scope: Scope<'_>,
    workers: usize,
    progress: &(dyn Fn(u64, u64) + Sync),
) {
    if let Err(e) = keep_static_parts_in(pool, params, scope, workers, progress).await {
        tracing::warn!(error = %e, "keeping the gap analysis' shapes failed; the run computes them");
    }
}

async fn keep_static_parts_in(
    pool: &Pool,
    params: &GapParams,
    scope: Scope<'_>,
    workers: usize,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> Result<(), StoreError> {
    // One connection for both lists, back in the pool before the workers take theirs.
    let (codes, programs) = {
        let client = pool.get().await?;
        let codes = scope_codes(&client, scope).await?;
        let program_type = opt_str(params.program_type);
        let partner_type = opt_str(params.partner_type);
        let programs: Vec<String> = client
            .query(
                ACTIVE_PROGRAMS_SQL,
                &[&params.as_of, &program_type, &partner_type],
            )
            .await
            .context("listing the active programs")?
            .iter()
            .map(|r| r.get(0))
            .collect();
        (codes, programs)
    };
    let chunks = chunks_of(&codes, workers);
    let total = codes.len() as u64;
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    progress(0, total);
    let worker = || async {
        let client = pool.get().await?;
        loop {
            let n = next.fetch_add(1, Ordering::SeqCst);
            let Some(codes) = chunks.get(n) else { break };
            if let Err(e) = keep_chunk(&client, codes, params, &programs).await {
                let _ = client.batch_execute("ROLLBACK").await;
                let Some(why) = data_error(&e) else {
                    next.store(chunks.len(), Ordering::SeqCst);
                    return Err(e).context("keeping the gap analysis' shapes");
                };
                // One kelurahan PostGIS cannot handle: keep the others, one at a time; the
                // measuring names the culprit.
                tracing::debug!(error = %why, "keeping a chunk failed; keeping its kelurahan one by one");
                for code in codes.iter() {
                    if keep_chunk(&client, std::slice::from_ref(code), params, &programs)
                        .await
                        .is_err()
                    {
                        let _ = client.batch_execute("ROLLBACK").await;
                    }
                }
            }
            let finished = done.fetch_add(codes.len(), Ordering::SeqCst) + codes.len();
            progress(finished as u64, total);
        }
        Ok::<(), StoreError>(())
    };
    for r in futures::future::join_all((0..workers.max(1)).map(|_| worker())).await {
        r?;
    }
    Ok(())
}

/// One chunk's keeping in one transaction (see [`keep_static_parts`]).
async fn keep_chunk(
    client: &Object,
    codes: &[String],
    params: &GapParams,
    programs: &[String],
) -> Result<(), tokio_postgres::Error> {
    client
        .batch_execute(&format!("BEGIN; {RUN_SETTINGS}"))
        .await?;
    let codes = codes.to_vec();
    let shape = client.prepare_cached(KEEP_SHAPE_SQL).await?;
    client.execute(&shape, &[&codes]).await?;
    let land = client.prepare_cached(KEEP_LAND_SQL).await?;
    client.execute(&land, &[&codes, &params.cell_m]).await?;
    let gone = client.prepare_cached(KEEP_GONE_SQL).await?;
    client.execute(&gone, &[&codes]).await?;
    let pieces = client.prepare_cached(KEEP_PIECES_SQL).await?;
    client
        .execute(&pieces, &[&codes, &params.as_of, &programs])
        .await?;
    client.batch_execute("COMMIT").await
}

/// The chunk query's parameters besides the kelurahan codes.
struct ChunkArgs<'a> {
    as_of: NaiveDate,
    programs: &'a [&'a str],
    cell_m: f64,
    statuses: &'a [&'a str],
    types: &'a [&'a str],
    partners: &'a [&'a str],
}

/// Measures one chunk inside a savepoint. When PostGIS fails on the data (see [`data_error`]),
/// the chunk is measured again one kelurahan at a time, each in its own savepoint, and the ones
/// that still fail are returned with their reason; any other error ends the run.
async fn measure_chunk(
    client: &Object,
    stmt: &tokio_postgres::Statement,
    codes: &[String],
    args: &ChunkArgs<'_>,
) -> Result<(Vec<Row>, Vec<MeasureFailure>), StoreError> {
    let query = |codes: &[String]| {
        let codes = codes.to_vec();
        async move {
            client
                .query(
                    stmt,
                    &[
                        &codes,
                        &args.as_of,
                        &args.programs,
                        &args.cell_m,
                        &args.statuses,
                        &args.types,
                        &args.partners,
                    ],
                )
                .await
        }
    };
    let savepoint = |sql: &'static str| async move {
        client
            .batch_execute(sql)
            .await
            .context("measuring coverage of a chunk of kelurahan")
    };
    savepoint("SAVEPOINT chunk").await?;
    let first = query(codes).await;
    let why = match first {
        Ok(rows) => {
            savepoint("RELEASE SAVEPOINT chunk").await?;
            return Ok((rows, Vec::new()));
        }
        Err(e) => match data_error(&e) {
            Some(why) => why,
            None => return Err(e).context("measuring coverage of a chunk of kelurahan"),
        },
    };
    savepoint("ROLLBACK TO SAVEPOINT chunk").await?;
    tracing::warn!(
        kelurahan = codes.len(),
        error = %why,
        "a chunk of the gap analysis failed; measuring its kelurahan one by one"
    );
    let mut rows = Vec::new();
    let mut failed = Vec::new();
    for code in codes {
        match query(std::slice::from_ref(code)).await {
            Ok(r) => {
                savepoint("RELEASE SAVEPOINT chunk").await?;
                savepoint("SAVEPOINT chunk").await?;
                rows.extend(r);
            }
            Err(e) => match data_error(&e) {
                Some(message) => {
                    savepoint("ROLLBACK TO SAVEPOINT chunk").await?;
                    tracing::warn!(kelurahan = %code, error = %message, "left out of the gap run");
                    failed.push(MeasureFailure {
                        kelurahan_code: code.clone(),
                        message,
                    });
                }
                None => return Err(e).context("measuring coverage of a kelurahan"),
            },
        }
    }
    savepoint("RELEASE SAVEPOINT chunk").await?;
    Ok((rows, failed))
}

/// The last change logged to the analysis' inputs (`gap_change`, V11; 0 when none) and the
/// database's date: what a run about to measure will include, and "today".
pub async fn change_mark(pool: &Pool) -> Result<(i64, NaiveDate), StoreError> {
    let client = pool.get().await?;
    let row = client
        .query_one(
            "SELECT coalesce((SELECT max(id) FROM gap_change), 0), current_date",
            &[],
        )
        .await
        .context("reading the change log of the gap analysis")?;
    Ok((row.get(0), row.get(1)))
}

/// The hexagon edge of the deployment's default analysis (V16): the size set with
/// `sigap gap cell-size`, else the one the kelurahan layer's extent calls for (500 m for a city).
pub async fn default_cell_m(pool: &Pool) -> Result<f64, StoreError> {
    let row = pool
        .get()
        .await?
        .query_one("SELECT gap_default_cell_m()", &[])
        .await
        .context("reading the default hexagon size")?;
    Ok(row.get(0))
}

/// The deployment's own default hexagon edge, or None for the one its region calls for.
pub async fn set_default_cell_m(pool: &Pool, cell_m: Option<f64>) -> Result<(), StoreError> {
    let client = pool.get().await?;
    client
        .execute("UPDATE gap_setting SET cell_m = $1", &[&cell_m])
        .await
        .context("setting the default hexagon size")?;
    Ok(())
}

/// The kelurahan whose measurement the logged changes after `after` up to `through` can have
/// changed (`gap_change.kelurahan`, V15), or None when one of them changed everything.
pub async fn changed_kelurahan(
    pool: &Pool,
    after: i64,
    through: i64,
) -> Result<Option<Vec<String>>, StoreError> {
    let client = pool.get().await?;
    let row = client
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM gap_change WHERE id > $1 AND id <= $2 AND kelurahan IS NULL),
                    ARRAY(SELECT DISTINCT k FROM gap_change, unnest(kelurahan) k
                          WHERE id > $1 AND id <= $2 ORDER BY k)",
            &[&after, &through],
        )
        .await
        .context("reading what the logged changes touched")?;
    let everything: bool = row.get(0);
    Ok((!everything).then(|| row.get(1)))
}

/// Saves a run and all its rows in one transaction; returns its id. `changes_through` is the
/// last logged input change the run includes, and `default_cell_m` the deployment's hexagon edge
/// (both read before measuring, outside this transaction).
pub async fn save(
    pool: &Pool,
    params: &GapParams,
    results: &GapResults,
    measured: &Measured,
    summary: &Value,
    changes_through: i64,
    default_cell_m: f64,
) -> Result<i64, StoreError> {
    let mut client = pool.get().await?;
    let tx = client
        .transaction()
        .await
        .context("starting to save a gap run")?;
    let weights = serde_json::to_value(params.weights).unwrap_or(Value::Null);
    let is_default = params.is_default(default_cell_m);
    let saved = tx
        .query_one(
            SAVE_RUN_SQL,
            &[
                &params.as_of,
                &opt_str(params.program_type),
                &opt_str(params.partner_type),
                &params.cell_m,
                &(params.followup_months as i32),
                &weights,
                &is_default,
                &results.population_weighted,
                summary,
                &changes_through,
            ],
        )
        .await
        .context("saving a gap run")?;
    let id: i64 = saved.get(0);
    if saved.get::<_, bool>(1) {
        // Delivered at commit: every process's map streams hear of the new public run.
        tx.execute(
            "SELECT pg_notify($1, $2)",
            &[&LIVE_CHANNEL, &id.to_string()],
        )
        .await
        .context("announcing the live gap run")?;
    }

    let kelurahan: Vec<&AreaResult> = results.kelurahan.iter().collect();
    let kelurahan = AreaColumns::new(&kelurahan);
    tx.execute(SAVE_KELURAHAN_SQL, &kelurahan.params(&id))
        .await
        .context("saving gap results per kelurahan")?;
    let kecamatan: Vec<&AreaResult> = results.kecamatan.iter().collect();
    let kecamatan = AreaColumns::new(&kecamatan);
    tx.execute(SAVE_KECAMATAN_SQL, &kecamatan.params(&id))
        .await
        .context("saving gap results per kecamatan")?;
    let cells: Vec<&CellResult> = results.cells.iter().collect();
    let cells = CellColumns::new(&cells);
    tx.execute(SAVE_CELLS_SQL, &cells.params(&id, Some(&params.cell_m)))
        .await
        .context("saving gap results per cell")?;
    let followup: Vec<&Followup> = measured.followup.iter().collect();
    tx.execute(
        SAVE_FOLLOWUP_SQL,
        &FollowupColumns::new(&followup).params(&id),
    )
    .await
    .context("saving follow-up gaps")?;
    let overlap: Vec<&Overlap> = measured.overlap.iter().collect();
    tx.execute(SAVE_OVERLAP_SQL, &OverlapColumns::new(&overlap).params(&id))
        .await
        .context("saving overlaps")?;

    tx.commit().await.context("committing a gap run")?;
    Ok(id)
}

/// A stored run: its parameters and summary.
#[derive(Debug, Clone, Serialize)]
pub struct RunInfo {
    pub id: i64,
    pub created_at: DateTime<Utc>,
    /// When it last took in a change: the live run is updated in place (`store::gap_live`);
    /// any other run keeps its `created_at`.
    pub refreshed_at: DateTime<Utc>,
    pub params: Value,
    pub is_default: bool,
    /// The public map's run: default parameters, as of the day it was made.
    pub live: bool,
    /// The last logged input change it includes (see `change_mark`).
    pub changes_through: Option<i64>,
    pub population_weighted: bool,
    pub summary: Value,
}

const RUN_COLUMNS: &str = "SELECT id, created_at, refreshed_at, \
     jsonb_build_object('as_of', as_of, 'program_type', program_type, \
        'partner_type', partner_type, 'cell_m', cell_m, 'followup_months', followup_months, \
        'weights', weights) AS params, \
     is_default, live, changes_through, population_weighted, summary FROM gap_run";

fn run_info(row: &Row) -> RunInfo {
    RunInfo {
        id: row.get("id"),
        created_at: row.get("created_at"),
        refreshed_at: row.get("refreshed_at"),
        params: row.get("params"),
        is_default: row.get("is_default"),
        live: row.get("live"),
        changes_through: row.get("changes_through"),
        population_weighted: row.get("population_weighted"),
        summary: row.get("summary"),
    }
}

/// One run by id.
pub async fn get_run(pool: &Pool, id: i64) -> Result<Option<RunInfo>, StoreError> {
    let client = pool.get().await?;
    let row = client
        .query_opt(&format!("{RUN_COLUMNS} WHERE id = $1"), &[&id])
        .await
        .context("reading a gap run")?;
    Ok(row.as_ref().map(run_info))
}

/// The latest live run (what the public map shows): default parameters, as of the day it was
/// made. Dated and filtered runs never take its place.
pub async fn latest_default_run(pool: &Pool) -> Result<Option<RunInfo>, StoreError> {
    let client = pool.get().await?;
    let row = client
        .query_opt(
            &format!("{RUN_COLUMNS} WHERE live ORDER BY id DESC LIMIT 1"),
            &[],
        )
        .await
        .context("reading the latest default gap run")?;
    Ok(row.as_ref().map(run_info))
}

/// After a live refresh: drops the live runs of the same day it supersedes (one live run per day
/// stays, the history the date slider reads) and the change log it has consumed.
pub async fn prune_superseded_live_runs(pool: &Pool, kept: i64) -> Result<(), StoreError> {
    let client = pool.get().await?;
    client
        .execute(
            "DELETE FROM gap_run o USING gap_run n
             WHERE n.id = $1 AND n.live AND o.live AND o.id < n.id AND o.as_of = n.as_of",
            &[&kept],
        )
        .await
        .context("dropping superseded live gap runs")?;
    client
        .execute(
            "DELETE FROM gap_change
             WHERE id < (SELECT changes_through FROM gap_run WHERE id = $1)",
            &[&kept],
        )
        .await
        .context("trimming the gap change log")?;
    Ok(())
}

/// Every hexagon cell of a run with its exact figures, as a GeoJSON FeatureCollection (PostGIS
/// writes it). For staff only: public layers withhold small counts (docs/privacy.md).
pub async fn cells_geojson(pool: &Pool, run_id: i64) -> Result<Option<String>, StoreError> {
    let client = pool.get().await?;
    let row = client
        .query_one(
            "SELECT CASE WHEN EXISTS (SELECT 1 FROM gap_run WHERE id = $1) THEN
                 json_build_object('type', 'FeatureCollection', 'features', coalesce(json_agg(
                     json_build_object('type', 'Feature', 'id', c.cell_i || '_' || c.cell_j,
                         'geometry', ST_AsGeoJSON(c.geom)::json,
                         'properties', to_jsonb(c) - 'geom' - 'run_id')
                     ORDER BY c.cell_i, c.cell_j), '[]'::json))::text END
             FROM gap_cell c WHERE c.run_id = $1",
            &[&run_id],
        )
        .await
        .context("reading a run's cells")?;
    Ok(row.get(0))
}

/// A kelurahan whose coverage differs between two runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    pub kelurahan_code: String,
    pub covered_fraction_a: f64,
    pub covered_fraction_b: f64,
    /// b − a: positive means coverage gained.
    pub delta: f64,
    pub gap_score_a: f64,
    pub gap_score_b: f64,
}

/// Kelurahan that gained or lost covered area between run `a` and run `b` (by more than
/// `min_delta`, as a fraction), largest losses first, then largest gains.
pub async fn compare(
    pool: &Pool,
    a: i64,
    b: i64,
    min_delta: f64,
) -> Result<Vec<Change>, StoreError> {
    let client = pool.get().await?;
    let rows = client
        .query(
            include_str!("../../sql/queries/gap_compare.sql"),
            &[&a, &b, &min_delta],
        )
        .await
        .context("comparing two gap runs")?;
    Ok(rows
        .iter()
        .map(|r| Change {
            kelurahan_code: r.get(0),
            covered_fraction_a: r.get(1),
            covered_fraction_b: r.get(2),
            delta: r.get(3),
            gap_score_a: r.get(4),
            gap_score_b: r.get(5),
        })
        .collect())
}

/// One exported feature: geometry as WKB (EPSG:4326) and properties in column order.
#[derive(Debug, Clone)]
pub struct ExportRow {
    pub wkb: Vec<u8>,
    pub properties: Vec<(String, Value)>,
}

/// The rows of one result table of a run, for export. `table` is one of the three names below.
pub async fn export_rows(
    pool: &Pool,
    run_id: i64,
    table: ExportTable,
) -> Result<Vec<ExportRow>, StoreError> {
    let sql = match table {
        ExportTable::Kelurahan => include_str!("../../sql/queries/gap_export_kelurahan.sql"),
        ExportTable::Kecamatan => include_str!("../../sql/queries/gap_export_kecamatan.sql"),
        ExportTable::Cells => include_str!("../../sql/queries/gap_export_cells.sql"),
    };
    let client = pool.get().await?;
    let rows = client
        .query(sql, &[&run_id])
        .await
        .context("reading gap results for export")?;
    Ok(rows
        .iter()
        .map(|r| {
            let props: Value = r.get("properties");
            let properties = match props {
                Value::Object(m) => m.into_iter().collect(),
                _ => Vec::new(),
            };
            ExportRow {
                wkb: r.get("wkb"),
                properties,
            }
        })
        .collect())
}

/// The result tables a run can be exported from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportTable {
    Kelurahan,
    Kecamatan,
    Cells,
}

impl ExportTable {
    pub fn layer_name(self) -> &'static str {
        match self {
            ExportTable::Kelurahan => "gap_kelurahan",
            ExportTable::Kecamatan => "gap_kecamatan",
            ExportTable::Cells => "gap_cells",
        }
    }
}

/// Per-kelurahan covered fraction by the analyst's one-statement formulation (benchmark peer).
pub async fn naive_fractions(
    pool: &Pool,
    params: &GapParams,
) -> Result<Vec<(String, f64)>, StoreError> {
    let client = pool.get().await?;
    let rows = client
        .query(
            NAIVE_FRACTIONS_SQL,
            &[
                &params.as_of,
                &opt_str(params.program_type),
                &opt_str(params.partner_type),
            ],
        )
        .await
        .context("measuring coverage the analyst's way")?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}
