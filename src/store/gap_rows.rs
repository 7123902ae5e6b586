//! Gap result rows as bind parameters: one array per column, in the order the save and in-place
//! update statements of sql/queries/gap_save_*.sql and gap_live_update_*.sql read them. Shared so
//! that a saved run and a run updated in place write the same figures the same way.

use tokio_postgres::types::ToSql;

use crate::analysis::gap::{AreaResult, CellResult};
use crate::store::gap::{Followup, Overlap};

type Param<'a> = &'a (dyn ToSql + Sync);

/// Per-kelurahan or per-kecamatan rows ($2.. of gap_save_kelurahan/kecamatan.sql).
pub struct AreaColumns<'a> {
    code: Vec<&'a str>,
    kecamatan_code: Vec<&'a str>,
    area_m2: Vec<f64>,
    covered_m2: Vec<f64>,
    covered_fraction: Vec<f64>,
    people_fraction: Vec<f64>,
    population: Vec<Option<i64>>,
    households: Vec<Option<i64>>,
    low_income_households: Vec<Option<i64>>,
    people_covered: Vec<f64>,
    people_uncovered: Vec<f64>,
    low_income_covered: Vec<f64>,
    low_income_uncovered: Vec<f64>,
    programs: Vec<i32>,
    partners: Vec<i32>,
    proposals: Vec<i32>,
    supports: Vec<i64>,
    need: Vec<f64>,
    demand: Vec<f64>,
    gap_score: Vec<f64>,
    rank: Vec<i32>,
    class: Vec<i16>,
}

impl<'a> AreaColumns<'a> {
    pub fn new(rows: &[&'a AreaResult]) -> Self {
        let f = |g: fn(&AreaResult) -> f64| -> Vec<f64> { rows.iter().map(|r| g(r)).collect() };
        AreaColumns {
            code: rows.iter().map(|r| r.code.as_str()).collect(),
            kecamatan_code: rows.iter().map(|r| r.kecamatan_code.as_str()).collect(),
            area_m2: f(|r| r.area_m2),
            covered_m2: f(|r| r.covered_m2),
            covered_fraction: f(|r| r.covered_fraction),
            people_fraction: f(|r| r.people_fraction),
            population: rows.iter().map(|r| r.population).collect(),
            households: rows.iter().map(|r| r.households).collect(),
            low_income_households: rows.iter().map(|r| r.low_income_households).collect(),
            people_covered: f(|r| r.people_covered),
            people_uncovered: f(|r| r.people_uncovered),
            low_income_covered: f(|r| r.low_income_covered),
            low_income_uncovered: f(|r| r.low_income_uncovered),
            programs: rows.iter().map(|r| r.programs).collect(),
            partners: rows.iter().map(|r| r.partners).collect(),
            proposals: rows.iter().map(|r| r.proposals as i32).collect(),
            supports: rows.iter().map(|r| r.supports).collect(),
            need: f(|r| r.need),
            demand: f(|r| r.demand),
            gap_score: f(|r| r.gap_score),
            rank: rows.iter().map(|r| r.rank).collect(),
            class: rows.iter().map(|r| r.class).collect(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.code.is_empty()
    }

    /// The codes, for deleting rows by key.
    pub fn codes(&self) -> &Vec<&'a str> {
        &self.code
    }

    /// `$1` = `run_id`, then the 22 column arrays.
    pub fn params<'p>(&'p self, run_id: &'p i64) -> Vec<Param<'p>> {
        vec![
            run_id as Param<'p>,
            &self.code,
            &self.kecamatan_code,
            &self.area_m2,
            &self.covered_m2,
            &self.covered_fraction,
            &self.people_fraction,
            &self.population,
            &self.households,
            &self.low_income_households,
            &self.people_covered,
            &self.people_uncovered,
            &self.low_income_covered,
            &self.low_income_uncovered,
            &self.programs,
            &self.partners,
            &self.proposals,
            &self.supports,
            &self.need,
            &self.demand,
            &self.gap_score,
            &self.rank,
            &self.class,
        ]
    }
}

/// Hexagon cell rows (gap_save_cells.sql from `$3`, gap_live_update_cells.sql from `$2`).
pub struct CellColumns {
    i: Vec<i32>,
    j: Vec<i32>,
    land_m2: Vec<f64>,
    covered_m2: Vec<f64>,
    covered_fraction: Vec<f64>,
    low_income_households: Vec<f64>,
    low_income_uncovered: Vec<f64>,
    proposals: Vec<i32>,
    supports: Vec<i64>,
    need: Vec<f64>,
    demand: Vec<f64>,
    gap_score: Vec<f64>,
    rank: Vec<i32>,
    class: Vec<i16>,
}

impl CellColumns {
    pub fn new(cells: &[&CellResult]) -> Self {
        let f = |g: fn(&CellResult) -> f64| -> Vec<f64> { cells.iter().map(|c| g(c)).collect() };
        CellColumns {
            i: cells.iter().map(|c| c.i).collect(),
            j: cells.iter().map(|c| c.j).collect(),
            land_m2: f(|c| c.land_m2),
            covered_m2: f(|c| c.covered_m2),
            covered_fraction: f(|c| c.covered_fraction),
            low_income_households: f(|c| c.low_income_households),
            low_income_uncovered: f(|c| c.low_income_uncovered),
            proposals: cells.iter().map(|c| c.proposals as i32).collect(),
            supports: cells.iter().map(|c| c.supports).collect(),
            need: f(|c| c.need),
            demand: f(|c| c.demand),
            gap_score: f(|c| c.gap_score),
            rank: cells.iter().map(|c| c.rank).collect(),
            class: cells.iter().map(|c| c.class).collect(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.i.is_empty()
    }

    /// `$1` = `run_id`, then `cell_m` when given (saving builds the shapes), then 14 arrays.
    pub fn params<'p>(&'p self, run_id: &'p i64, cell_m: Option<&'p f64>) -> Vec<Param<'p>> {
        let mut p: Vec<Param<'p>> = vec![run_id];
        if let Some(cell_m) = cell_m {
            p.push(cell_m);
        }
        p.extend([
            &self.i as Param<'p>,
            &self.j,
            &self.land_m2,
            &self.covered_m2,
            &self.covered_fraction,
            &self.low_income_households,
            &self.low_income_uncovered,
            &self.proposals,
            &self.supports,
            &self.need,
            &self.demand,
            &self.gap_score,
            &self.rank,
            &self.class,
        ]);
        p
    }

    /// `$1` = `run_id`, then the grid columns and rows: the keys, for deleting.
    pub fn key_params<'p>(&'p self, run_id: &'p i64) -> Vec<Param<'p>> {
        vec![run_id as Param<'p>, &self.i, &self.j]
    }
}

/// Follow-up gap rows (gap_save_followup.sql).
pub struct FollowupColumns<'a> {
    kelurahan_code: Vec<&'a str>,
    program_code: Vec<&'a str>,
    program_type: Vec<&'a str>,
    partner_code: Vec<&'a str>,
    training_ended: Vec<chrono::NaiveDate>,
    window_closed: Vec<chrono::NaiveDate>,
}

impl<'a> FollowupColumns<'a> {
    pub fn new(rows: &[&'a Followup]) -> Self {
        FollowupColumns {
            kelurahan_code: rows.iter().map(|x| x.kelurahan_code.as_str()).collect(),
            program_code: rows.iter().map(|x| x.program_code.as_str()).collect(),
            program_type: rows.iter().map(|x| x.program_type.as_str()).collect(),
            partner_code: rows.iter().map(|x| x.partner_code.as_str()).collect(),
            training_ended: rows.iter().map(|x| x.training_ended).collect(),
            window_closed: rows.iter().map(|x| x.window_closed).collect(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.kelurahan_code.is_empty()
    }

    pub fn params<'p>(&'p self, run_id: &'p i64) -> Vec<Param<'p>> {
        vec![
            run_id as Param<'p>,
            &self.kelurahan_code,
            &self.program_code,
            &self.program_type,
            &self.partner_code,
            &self.training_ended,
            &self.window_closed,
        ]
    }

    /// `$1` = `run_id`, kelurahan codes, program codes: the keys, for deleting.
    pub fn key_params<'p>(&'p self, run_id: &'p i64) -> Vec<Param<'p>> {
        vec![
            run_id as Param<'p>,
            &self.kelurahan_code,
            &self.program_code,
        ]
    }
}

/// Overlap rows (gap_save_overlap.sql). text[][] cannot be ragged, so partner lists travel
/// joined by commas and are split in SQL.
pub struct OverlapColumns<'a> {
    kelurahan_code: Vec<&'a str>,
    program_type: Vec<&'a str>,
    partner_codes: Vec<String>,
    overlap_m2: Vec<f64>,
}

impl<'a> OverlapColumns<'a> {
    pub fn new(rows: &[&'a Overlap]) -> Self {
        OverlapColumns {
            kelurahan_code: rows.iter().map(|x| x.kelurahan_code.as_str()).collect(),
            program_type: rows.iter().map(|x| x.program_type.as_str()).collect(),
            partner_codes: rows.iter().map(|x| x.partner_codes.join(",")).collect(),
            overlap_m2: rows.iter().map(|x| x.overlap_m2).collect(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.kelurahan_code.is_empty()
    }

    pub fn params<'p>(&'p self, run_id: &'p i64) -> Vec<Param<'p>> {
        vec![
            run_id as Param<'p>,
            &self.kelurahan_code,
            &self.program_type,
            &self.partner_codes,
            &self.overlap_m2,
        ]
    }

    /// `$1` = `run_id`, kelurahan codes, program types: the keys, for deleting.
    pub fn key_params<'p>(&'p self, run_id: &'p i64) -> Vec<Param<'p>> {
        vec![
            run_id as Param<'p>,
            &self.kelurahan_code,
            &self.program_type,
        ]
    }
}
