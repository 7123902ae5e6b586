//! One gap analysis run, end to end: measure in PostGIS, score in Rust, save with its parameters.

use deadpool_postgres::Pool;
use serde::Serialize;
use serde_json::{json, Value};

use crate::analysis::gap::{compute, AreaResult, GapParams, GapResults};
use crate::store::gap::{self as gap_store, Measured, Scope};
use crate::store::StoreError;

/// A saved run and what the command line prints about it.
#[derive(Debug, Clone, Serialize)]
pub struct RunOutcome {
    pub id: i64,
    pub summary: Value,
}

/// How many connections measure at once: one per core, leaving one pool slot free.
pub fn default_workers(pool: &Pool) -> usize {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2);
    cores.min(pool.status().max_size.saturating_sub(1)).max(1)
}

/// Measures, scores and saves one run; `progress(done, total)` follows the kelurahan measured.
pub async fn run(
    pool: &Pool,
    params: &GapParams,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> Result<RunOutcome, StoreError> {
    // Read before measuring: every change up to this one is in what we measure (a later one may
    // be too, and then the next refresh includes it again).
    let (changes_through, _) = gap_store::change_mark(pool).await?;
    let default_cell_m = gap_store::default_cell_m(pool).await?;
    let workers = default_workers(pool);
    let measured = gap_store::measure(pool, params, Scope::All, workers, progress).await?;
    let outcome = score_and_save(pool, params, &measured, changes_through, default_cell_m).await?;
    gap_store::keep_unkept(pool, params, &measured.unkept, workers).await;
    Ok(outcome)
}

/// Scores measured inputs and saves the run, recording the last logged change it includes.
pub async fn score_and_save(
    pool: &Pool,
    params: &GapParams,
    measured: &Measured,
    changes_through: i64,
    default_cell_m: f64,
) -> Result<RunOutcome, StoreError> {
    let (results, summary) = score(params, measured);
    let id = gap_store::save(
        pool,
        params,
        &results,
        measured,
        &summary,
        changes_through,
        default_cell_m,
    )
    .await?;
    Ok(RunOutcome { id, summary })
}

/// Scores measured inputs: the results and the summary a run saves.
pub fn score(params: &GapParams, measured: &Measured) -> (GapResults, Value) {
    let results = compute(&params.weights, &measured.kelurahan);
    let summary = summarise(&results, measured);
    (results, summary)
}

fn top(areas: &[AreaResult], n: usize) -> Vec<Value> {
    let mut v: Vec<&AreaResult> = areas.iter().collect();
    v.sort_by_key(|a| a.rank);
    v.into_iter()
        .take(n)
        .map(|a| {
            json!({
                "code": a.code,
                "gap_score": a.gap_score,
                "covered_pct": a.covered_fraction * 100.0,
                "low_income_uncovered": a.low_income_uncovered.round(),
            })
        })
        .collect()
}

/// The figures a run's summary shows: totals, the overall covered share, the worst places.
pub fn summarise(results: &GapResults, measured: &Measured) -> Value {
    let k = &results.kelurahan;
    // An empty f64 sum is -0.0; adding 0.0 keeps "-0" out of the summary.
    let sum = |f: fn(&AreaResult) -> f64| k.iter().map(f).sum::<f64>() + 0.0;
    let area = sum(|a| a.area_m2);
    let covered = sum(|a| a.covered_m2);
    json!({
        "kelurahan": k.len(),
        "kecamatan": results.kecamatan.len(),
        "cells": results.cells.len(),
        "area_km2": area / 1e6,
        "covered_km2": covered / 1e6,
        "covered_pct": if area > 0.0 { covered / area * 100.0 } else { 0.0 },
        "people_covered": sum(|a| a.people_covered).round(),
        "people_uncovered": sum(|a| a.people_uncovered).round(),
        "low_income_covered": sum(|a| a.low_income_covered).round(),
        "low_income_uncovered": sum(|a| a.low_income_uncovered).round(),
        "kelurahan_uncovered": k.iter().filter(|a| a.covered_m2 <= 0.0).count(),
        "proposals": k.iter().map(|a| a.proposals).sum::<i64>(),
        "supports": k.iter().map(|a| a.supports).sum::<i64>(),
        "followup_gaps": measured.followup.len(),
        "overlaps": measured.overlap.len(),
        "population_weighted": results.population_weighted,
        "top_kelurahan": top(k, 10),
        "top_kecamatan": top(&results.kecamatan, 5),
        // Kelurahan PostGIS could not measure, with its reason: left out, never silently.
        "failures": measured.failures,
    })
}
