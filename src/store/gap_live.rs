//! The live gap run updated in place: reading back every row of the live run (so the refresher
//! knows what it holds), and writing only the rows a refresh changed, with the run's summary and
//! the last change it includes, in one transaction. See docs/gap-analysis.md, "Live".

use deadpool_postgres::Pool;
use serde_json::Value;
use tokio_postgres::Row;

use crate::analysis::gap::{AreaResult, CellResult, GapParams, GapResults};
use crate::analysis::live_delta::{LiveRows, RunDelta};
use crate::store::gap::{
    Followup, Overlap, LIVE_CHANNEL, SAVE_CELLS_SQL, SAVE_FOLLOWUP_SQL, SAVE_KECAMATAN_SQL,
    SAVE_KELURAHAN_SQL, SAVE_OVERLAP_SQL,
};
use crate::store::gap_rows::{AreaColumns, CellColumns, FollowupColumns, OverlapColumns};
use crate::store::{Context, StoreError};

const UPDATE_RUN_SQL: &str = include_str!("../../sql/queries/gap_live_update_run.sql");
const TOUCH_RUN_SQL: &str = include_str!("../../sql/queries/gap_live_touch_run.sql");
const UPDATE_KELURAHAN_SQL: &str = include_str!("../../sql/queries/gap_live_update_kelurahan.sql");
const UPDATE_KECAMATAN_SQL: &str = include_str!("../../sql/queries/gap_live_update_kecamatan.sql");
const UPDATE_CELLS_SQL: &str = include_str!("../../sql/queries/gap_live_update_cells.sql");

const AREA_COLUMNS: &str = "area_m2, covered_m2, covered_fraction, people_fraction, population, \
     households, low_income_households, people_covered, people_uncovered, low_income_covered, \
     low_income_uncovered, programs, partners, proposals, supports, need, demand, gap_score, \
     rank, class";

fn area_result(r: &Row, kecamatan_code: String) -> AreaResult {
    AreaResult {
        code: r.get("code"),
        kecamatan_code,
        area_m2: r.get("area_m2"),
        covered_m2: r.get("covered_m2"),
        covered_fraction: r.get("covered_fraction"),
        people_fraction: r.get("people_fraction"),
        population: r.get("population"),
        households: r.get("households"),
        low_income_households: r.get("low_income_households"),
        people_covered: r.get("people_covered"),
        people_uncovered: r.get("people_uncovered"),
        low_income_covered: r.get("low_income_covered"),
        low_income_uncovered: r.get("low_income_uncovered"),
        programs: r.get("programs"),
        partners: r.get("partners"),
        proposals: r.get::<_, i32>("proposals") as i64,
        supports: r.get("supports"),
        need: r.get("need"),
        demand: r.get("demand"),
        gap_score: r.get("gap_score"),
        rank: r.get("rank"),
        class: r.get("class"),
    }
}

/// The latest live run, if it was made with `params` (the defaults as of today), and every row
/// it holds. Read in one snapshot, so the rows are those of one committed state of the run.
pub async fn load(pool: &Pool, params: &GapParams) -> Result<Option<(i64, LiveRows)>, StoreError> {
    let mut client = pool.get().await?;
    let tx = client
        .build_transaction()
        .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await
        .context("starting to read the live gap run")?;
    let weights = serde_json::to_value(params.weights).unwrap_or(Value::Null);
    let Some(run) = tx
        .query_opt(
            "SELECT id, population_weighted FROM gap_run
             WHERE id = (SELECT max(id) FROM gap_run WHERE live)
               AND as_of = $1 AND cell_m = $2 AND followup_months = $3 AND weights = $4
               AND program_type IS NOT DISTINCT FROM $5 AND partner_type IS NOT DISTINCT FROM $6",
            &[
                &params.as_of,
                &params.cell_m,
                &(params.followup_months as i32),
                &weights,
                &params.program_type.map(|t| t.to_string()),
                &params.partner_type.map(|t| t.to_string()),
            ],
        )
        .await
        .context("finding the live gap run")?
    else {
        return Ok(None);
    };
    let id: i64 = run.get(0);
    let kelurahan = tx
        .query(
            &format!(
                "SELECT kelurahan_code AS code, kecamatan_code, {AREA_COLUMNS}
                 FROM gap_kelurahan WHERE run_id = $1"
            ),
            &[&id],
        )
        .await
        .context("reading the live run's kelurahan")?
        .iter()
        .map(|r| area_result(r, r.get("kecamatan_code")))
        .collect();
    let kecamatan = tx
        .query(
            &format!(
                "SELECT kecamatan_code AS code, {AREA_COLUMNS}
                 FROM gap_kecamatan WHERE run_id = $1"
            ),
            &[&id],
        )
        .await
        .context("reading the live run's kecamatan")?
        .iter()
        .map(|r| area_result(r, r.get("code")))
        .collect();
    let cells = tx
        .query(
            "SELECT cell_i, cell_j, land_m2, covered_m2, covered_fraction, low_income_households,
                    low_income_uncovered, proposals, supports, need, demand, gap_score, rank, class
             FROM gap_cell WHERE run_id = $1",
            &[&id],
        )
        .await
        .context("reading the live run's cells")?
        .iter()
        .map(|r| CellResult {
            i: r.get("cell_i"),
            j: r.get("cell_j"),
            land_m2: r.get("land_m2"),
            covered_m2: r.get("covered_m2"),
            covered_fraction: r.get("covered_fraction"),
            low_income_households: r.get("low_income_households"),
            low_income_uncovered: r.get("low_income_uncovered"),
            proposals: r.get::<_, i32>("proposals") as i64,
            supports: r.get("supports"),
            need: r.get("need"),
            demand: r.get("demand"),
            gap_score: r.get("gap_score"),
            rank: r.get("rank"),
            class: r.get("class"),
        })
        .collect();
    let followup = tx
        .query(
            "SELECT kelurahan_code, program_code, program_type, partner_code, training_ended,
                    window_closed
             FROM gap_followup WHERE run_id = $1",
            &[&id],
        )
        .await
        .context("reading the live run's follow-up gaps")?
        .iter()
        .map(Followup::from_row)
        .collect();
    let overlap = tx
        .query(
            "SELECT kelurahan_code, program_type, partner_codes, overlap_m2
             FROM gap_overlap WHERE run_id = $1",
            &[&id],
        )
        .await
        .context("reading the live run's overlaps")?
        .iter()
        .map(|r| Overlap {
            kelurahan_code: r.get(0),
            program_type: r.get(1),
            partner_codes: r.get(2),
            overlap_m2: r.get(3),
        })
        .collect();
    let results = GapResults {
        kelurahan,
        kecamatan,
        cells,
        population_weighted: run.get(1),
    };
    Ok(Some((id, LiveRows::new(results, followup, overlap))))
}

/// Writes `delta` into live run `id` with its new summary, and records `changes_through`, in
/// one transaction. Returns false, writing nothing, when `id` is no longer the latest live run
/// (a batch run as of today took its place, or it was deleted): then a new run must be saved.
///
/// The run row's update fires gap_run's statement trigger (V7), which drops the cached tiles of
/// the gap layers at commit, and a notification on [`LIVE_CHANNEL`] tells the map streams.
pub async fn update(
    pool: &Pool,
    id: i64,
    delta: &RunDelta<'_>,
    population_weighted: bool,
    summary: &Value,
    changes_through: i64,
) -> Result<bool, StoreError> {
    let mut client = pool.get().await?;
    let tx = client
        .transaction()
        .await
        .context("starting to update the live gap run")?;
    let params: [&(dyn tokio_postgres::types::ToSql + Sync); 4] =
        [&id, summary, &population_weighted, &changes_through];
    // No row changed: only record the change taken in, which keeps the gap tiles (V20).
    let touched = if delta.is_empty() {
        tx.query_opt(TOUCH_RUN_SQL, &params)
            .await
            .context("recording a change the live gap run took in")?
    } else {
        None
    };
    if touched.is_none() {
        let updated = tx
            .query_opt(UPDATE_RUN_SQL, &params)
            .await
            .context("updating the live gap run")?;
        if updated.is_none() {
            return Ok(false);
        }
    }
    tx.execute(
        "SELECT pg_notify($1, $2)",
        &[&LIVE_CHANNEL, &id.to_string()],
    )
    .await
    .context("announcing the live gap run")?;

    for (d, delete_sql, update_sql, save_sql) in [
        (
            &delta.kelurahan,
            "DELETE FROM gap_kelurahan WHERE run_id = $1 AND kelurahan_code = ANY ($2)",
            UPDATE_KELURAHAN_SQL,
            SAVE_KELURAHAN_SQL,
        ),
        (
            &delta.kecamatan,
            "DELETE FROM gap_kecamatan WHERE run_id = $1 AND kecamatan_code = ANY ($2)",
            UPDATE_KECAMATAN_SQL,
            SAVE_KECAMATAN_SQL,
        ),
    ] {
        let removed = AreaColumns::new(&d.removed);
        if !removed.is_empty() {
            tx.execute(delete_sql, &[&id, removed.codes()])
                .await
                .context("deleting gap results of areas no longer measured")?;
        }
        let changed = AreaColumns::new(&d.changed);
        if !changed.is_empty() {
            tx.execute(update_sql, &changed.params(&id))
                .await
                .context("updating changed gap results per area")?;
        }
        let added = AreaColumns::new(&d.added);
        if !added.is_empty() {
            tx.execute(save_sql, &added.params(&id))
                .await
                .context("adding gap results per area")?;
        }
    }

    let removed = CellColumns::new(&delta.cells.removed);
    if !removed.is_empty() {
        tx.execute(
            "DELETE FROM gap_cell c USING unnest($2::int4[], $3::int4[]) AS u (i, j)
             WHERE c.run_id = $1 AND c.cell_i = u.i AND c.cell_j = u.j",
            &removed.key_params(&id),
        )
        .await
        .context("deleting gap cells no longer measured")?;
    }
    let changed = CellColumns::new(&delta.cells.changed);
    if !changed.is_empty() {
        tx.execute(UPDATE_CELLS_SQL, &changed.params(&id, None))
            .await
            .context("updating changed gap cells")?;
    }
    let added = CellColumns::new(&delta.cells.added);
    if !added.is_empty() {
        let cell_m: f64 = tx
            .query_one("SELECT cell_m FROM gap_run WHERE id = $1", &[&id])
            .await
            .context("reading the live run's hexagon size")?
            .get(0);
        tx.execute(SAVE_CELLS_SQL, &added.params(&id, Some(&cell_m)))
            .await
            .context("adding gap cells")?;
    }

    // Follow-up gaps and overlaps have no figures worth updating field by field: a changed row
    // is deleted and inserted again.
    let f = &delta.followup;
    let gone: Vec<&Followup> = f.removed.iter().chain(&f.changed).copied().collect();
    let gone = FollowupColumns::new(&gone);
    if !gone.is_empty() {
        tx.execute(
            "DELETE FROM gap_followup g USING unnest($2::text[], $3::text[]) AS u (k, p)
             WHERE g.run_id = $1 AND g.kelurahan_code = u.k AND g.program_code = u.p",
            &gone.key_params(&id),
        )
        .await
        .context("deleting follow-up gaps that closed or changed")?;
    }
    let new: Vec<&Followup> = f.added.iter().chain(&f.changed).copied().collect();
    let new = FollowupColumns::new(&new);
    if !new.is_empty() {
        tx.execute(SAVE_FOLLOWUP_SQL, &new.params(&id))
            .await
            .context("adding follow-up gaps")?;
    }
    let o = &delta.overlap;
    let gone: Vec<&Overlap> = o.removed.iter().chain(&o.changed).copied().collect();
    let gone = OverlapColumns::new(&gone);
    if !gone.is_empty() {
        tx.execute(
            "DELETE FROM gap_overlap g USING unnest($2::text[], $3::text[]) AS u (k, t)
             WHERE g.run_id = $1 AND g.kelurahan_code = u.k AND g.program_type = u.t",
            &gone.key_params(&id),
        )
        .await
        .context("deleting overlaps that ended or changed")?;
    }
    let new: Vec<&Overlap> = o.added.iter().chain(&o.changed).copied().collect();
    let new = OverlapColumns::new(&new);
    if !new.is_empty() {
        tx.execute(SAVE_OVERLAP_SQL, &new.params(&id))
            .await
            .context("adding overlaps")?;
    }

    // The log of the changes the run now includes is consumed (as after saving a new run).
    tx.execute("DELETE FROM gap_change WHERE id < $1", &[&changes_through])
        .await
        .context("trimming the gap change log")?;
    tx.commit()
        .await
        .context("committing the live gap run's update")?;
    Ok(true)
}
