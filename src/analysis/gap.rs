//! The gap score: from measured coverage, indicators and demand to need, gap, rank and class per
//! kelurahan, hexagon cell and kecamatan. Pure: the geometry is measured in PostGIS
//! (`store::gap`), everything here is arithmetic on its figures. Formulas: docs/gap-analysis.md.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::domain::{PartnerType, ProgramType};

/// Hexagon edge length of a city's default analysis, metres (equal-area ESRI:54034). The
/// deployment's default follows its region (`store::gap::default_cell_m`, V16): this for a city,
/// larger for a province or the country.
pub const DEFAULT_CELL_M: f64 = 500.0;
/// Default follow-up window after a training ends, months.
pub const DEFAULT_FOLLOWUP_MONTHS: u32 = 6;

/// The weights of the gap score, recorded with every run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Weights {
    /// Weight of the low-income share of households (low-income / households) in need.
    pub share: f64,
    /// Weight of the low-income density (households per km²) in need.
    pub density: f64,
    /// How strongly demand raises the gap: gap × (1 + demand_weight × demand), demand in 0..1.
    pub demand: f64,
    /// What one support counts for, against one proposal, in raw demand.
    pub support: f64,
}

impl Default for Weights {
    fn default() -> Self {
        Weights {
            share: 0.5,
            density: 0.5,
            demand: 0.5,
            support: 0.1,
        }
    }
}

impl Weights {
    /// Why these weights cannot be used, if they cannot.
    pub fn check(&self) -> Result<(), &'static str> {
        let all = [self.share, self.density, self.demand, self.support];
        if all.iter().any(|w| !w.is_finite() || *w < 0.0 || *w > 100.0) {
            return Err("every weight must be a number from 0 to 100");
        }
        if self.share + self.density <= 0.0 {
            return Err("weights.share and weights.density cannot both be 0");
        }
        Ok(())
    }
}

/// What a run analyses; stored with it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GapParams {
    pub as_of: NaiveDate,
    pub program_type: Option<ProgramType>,
    pub partner_type: Option<PartnerType>,
    /// Hexagon edge length in metres, equal-area ESRI:54034.
    pub cell_m: f64,
    pub followup_months: u32,
    pub weights: Weights,
}

impl GapParams {
    /// The default analysis on a date, with the deployment's hexagon edge `cell_m`.
    pub fn defaults(as_of: NaiveDate, cell_m: f64) -> Self {
        GapParams {
            as_of,
            program_type: None,
            partner_type: None,
            cell_m,
            followup_months: DEFAULT_FOLLOWUP_MONTHS,
            weights: Weights::default(),
        }
    }

    /// True when only the date differs from the defaults of a deployment whose hexagon edge is
    /// `default_cell_m`: such runs, as of today, feed the public map.
    pub fn is_default(&self, default_cell_m: f64) -> bool {
        *self == GapParams::defaults(self.as_of, default_cell_m)
    }

    /// Why these parameters cannot be used, if they cannot.
    pub fn check(&self) -> Result<(), &'static str> {
        if !(self.cell_m.is_finite() && (50.0..=50_000.0).contains(&self.cell_m)) {
            return Err("cell_m must be from 50 to 50000 metres");
        }
        if !(1..=120).contains(&self.followup_months) {
            return Err("followup_months must be from 1 to 120");
        }
        self.weights.check()
    }
}

/// One hexagon cell's piece inside one kelurahan, as PostGIS measured it.
#[derive(Debug, Clone, PartialEq)]
pub struct CellPiece {
    pub i: i32,
    pub j: i32,
    /// Area of cell ∩ kelurahan, m².
    pub land_m2: f64,
    /// Area of cell ∩ kelurahan ∩ active coverage, m².
    pub covered_m2: f64,
    pub proposals: i64,
    pub supports: i64,
}

/// One kelurahan's measured figures.
#[derive(Debug, Clone, PartialEq)]
pub struct KelurahanInput {
    pub code: String,
    pub kecamatan_code: String,
    pub area_m2: f64,
    pub covered_m2: f64,
    /// Programs and partners with active coverage of positive area here.
    pub programs: Vec<String>,
    pub partners: Vec<String>,
    /// Population weight inside the kelurahan, and inside its covered part (None: no weights).
    pub weight_total: Option<f64>,
    pub weight_covered: Option<f64>,
    pub proposals: i64,
    pub supports: i64,
    pub population: Option<i64>,
    pub households: Option<i64>,
    pub low_income_households: Option<i64>,
    pub cells: Vec<CellPiece>,
}

impl KelurahanInput {
    /// Share of the area covered, 0..1.
    pub fn covered_fraction(&self) -> f64 {
        fraction(self.covered_m2, self.area_m2)
    }

    /// Share of the people covered: by population weight when the kelurahan has any, else by area.
    pub fn people_fraction(&self) -> f64 {
        match (self.weight_total, self.weight_covered) {
            (Some(total), Some(covered)) if total > 0.0 => fraction(covered, total),
            _ => self.covered_fraction(),
        }
    }

    pub fn population_weighted(&self) -> bool {
        self.weight_total.is_some_and(|t| t > 0.0)
    }
}

fn fraction(part: f64, whole: f64) -> f64 {
    if whole > 0.0 {
        (part / whole).clamp(0.0, 1.0)
    } else {
        0.0
    }
}

/// The result for one area (kelurahan or kecamatan), components shown.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AreaResult {
    pub code: String,
    /// The kecamatan of a kelurahan; the kecamatan itself for a kecamatan.
    pub kecamatan_code: String,
    pub area_m2: f64,
    pub covered_m2: f64,
    pub covered_fraction: f64,
    pub people_fraction: f64,
    pub population: Option<i64>,
    pub households: Option<i64>,
    pub low_income_households: Option<i64>,
    pub people_covered: f64,
    pub people_uncovered: f64,
    pub low_income_covered: f64,
    pub low_income_uncovered: f64,
    pub programs: i32,
    pub partners: i32,
    pub proposals: i64,
    pub supports: i64,
    pub need: f64,
    pub demand: f64,
    pub gap_score: f64,
    pub rank: i32,
    pub class: i16,
}

/// The result for one hexagon cell.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CellResult {
    pub i: i32,
    pub j: i32,
    pub land_m2: f64,
    pub covered_m2: f64,
    pub covered_fraction: f64,
    /// Estimated low-income households in the cell (spread by area from each kelurahan).
    pub low_income_households: f64,
    pub low_income_uncovered: f64,
    pub proposals: i64,
    pub supports: i64,
    pub need: f64,
    pub demand: f64,
    pub gap_score: f64,
    pub rank: i32,
    pub class: i16,
}

/// Every scored figure of a run.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GapResults {
    pub kelurahan: Vec<AreaResult>,
    pub kecamatan: Vec<AreaResult>,
    pub cells: Vec<CellResult>,
    pub population_weighted: bool,
}

/// The raw figures the score is made of, before normalisation.
#[derive(Debug, Clone, Copy)]
struct Raw {
    share: f64,
    density: f64,
    demand: f64,
    people_fraction: f64,
}

/// need = (w_s·share/max share + w_d·density/max density) / (w_s + w_d), in 0..1;
/// demand = raw/max raw, in 0..1; gap = need × (1 − people covered) × (1 + w_demand × demand).
/// Returns (need, demand, gap) per item, in the input order.
fn score(raw: &[Raw], w: &Weights) -> Vec<(f64, f64, f64)> {
    let max = |f: fn(&Raw) -> f64| raw.iter().map(f).fold(0.0_f64, f64::max);
    let (max_share, max_density, max_demand) =
        (max(|r| r.share), max(|r| r.density), max(|r| r.demand));
    let norm = |v: f64, m: f64| if m > 0.0 { v / m } else { 0.0 };
    raw.iter()
        .map(|r| {
            let need = (w.share * norm(r.share, max_share)
                + w.density * norm(r.density, max_density))
                / (w.share + w.density);
            let demand = norm(r.demand, max_demand);
            let gap = need * (1.0 - r.people_fraction) * (1.0 + w.demand * demand);
            (need, demand, gap)
        })
        .collect()
}

/// Rank 1 is the largest gap (ties by key), and class 5 the top fifth of ranks, 1 the bottom.
fn rank_and_class<K: Ord>(gaps: &[(f64, K)]) -> Vec<(i32, i16)> {
    let mut order: Vec<usize> = (0..gaps.len()).collect();
    order.sort_by(|&a, &b| {
        gaps[b]
            .0
            .total_cmp(&gaps[a].0)
            .then(gaps[a].1.cmp(&gaps[b].1))
    });
    let n = gaps.len().max(1);
    let mut out = vec![(0, 0); gaps.len()];
    for (pos, idx) in order.into_iter().enumerate() {
        let class = 5 - (pos * 5 / n) as i16;
        out[idx] = (pos as i32 + 1, class);
    }
    out
}

fn per_km2(v: f64, area_m2: f64) -> f64 {
    if area_m2 > 0.0 {
        v / (area_m2 / 1e6)
    } else {
        0.0
    }
}

fn share(low: f64, all: f64) -> f64 {
    if all > 0.0 {
        low / all
    } else {
        0.0
    }
}

/// Scores a run's measured kelurahan (in any order; results come out sorted by code).
pub fn compute(weights: &Weights, input: &[KelurahanInput]) -> GapResults {
    let mut input: Vec<&KelurahanInput> = input.iter().collect();
    input.sort_by(|a, b| a.code.cmp(&b.code));
    let population_weighted = input.iter().any(|k| k.population_weighted());

    let kelurahan = score_areas(
        weights,
        input
            .iter()
            .map(|k| Area {
                code: k.code.clone(),
                kecamatan_code: k.kecamatan_code.clone(),
                area_m2: k.area_m2,
                covered_m2: k.covered_m2,
                people_fraction: k.people_fraction(),
                population: k.population,
                households: k.households,
                low_income_households: k.low_income_households,
                people_covered: k.population.unwrap_or(0) as f64 * k.people_fraction(),
                low_income_covered: k.low_income_households.unwrap_or(0) as f64
                    * k.people_fraction(),
                programs: k.programs.iter().collect(),
                partners: k.partners.iter().collect(),
                proposals: k.proposals,
                supports: k.supports,
            })
            .collect(),
    );

    // Kecamatan: sums of their kelurahan, in code order so floating sums are reproducible.
    let mut kec: BTreeMap<&str, Area> = BTreeMap::new();
    for k in &input {
        let pf = k.people_fraction();
        let a = kec.entry(&k.kecamatan_code).or_insert_with(|| Area {
            code: k.kecamatan_code.clone(),
            kecamatan_code: k.kecamatan_code.clone(),
            area_m2: 0.0,
            covered_m2: 0.0,
            people_fraction: 0.0,
            population: None,
            households: None,
            low_income_households: None,
            people_covered: 0.0,
            low_income_covered: 0.0,
            programs: BTreeSet::new(),
            partners: BTreeSet::new(),
            proposals: 0,
            supports: 0,
        });
        a.area_m2 += k.area_m2;
        a.covered_m2 += k.covered_m2;
        a.population = add_opt(a.population, k.population);
        a.households = add_opt(a.households, k.households);
        a.low_income_households = add_opt(a.low_income_households, k.low_income_households);
        a.people_covered += k.population.unwrap_or(0) as f64 * pf;
        a.low_income_covered += k.low_income_households.unwrap_or(0) as f64 * pf;
        a.programs.extend(k.programs.iter());
        a.partners.extend(k.partners.iter());
        a.proposals += k.proposals;
        a.supports += k.supports;
    }
    let kecamatan = score_areas(
        weights,
        kec.into_values()
            .map(|mut a| {
                a.people_fraction = match a.population {
                    Some(p) if p > 0 => fraction(a.people_covered, p as f64),
                    _ => fraction(a.covered_m2, a.area_m2),
                };
                a
            })
            .collect(),
    );

    GapResults {
        cells: score_cells(weights, &input),
        kelurahan,
        kecamatan,
        population_weighted,
    }
}

fn add_opt(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (None, None) => None,
        (a, b) => Some(a.unwrap_or(0) + b.unwrap_or(0)),
    }
}

struct Area<'a> {
    code: String,
    kecamatan_code: String,
    area_m2: f64,
    covered_m2: f64,
    people_fraction: f64,
    population: Option<i64>,
    households: Option<i64>,
    low_income_households: Option<i64>,
    people_covered: f64,
    low_income_covered: f64,
    programs: BTreeSet<&'a String>,
    partners: BTreeSet<&'a String>,
    proposals: i64,
    supports: i64,
}

fn score_areas(w: &Weights, areas: Vec<Area<'_>>) -> Vec<AreaResult> {
    let raw: Vec<Raw> = areas
        .iter()
        .map(|a| {
            let low = a.low_income_households.unwrap_or(0) as f64;
            Raw {
                share: share(low, a.households.unwrap_or(0) as f64),
                density: per_km2(low, a.area_m2),
                demand: a.proposals as f64 + w.support * a.supports as f64,
                people_fraction: a.people_fraction,
            }
        })
        .collect();
    let scores = score(&raw, w);
    let ranks = rank_and_class(
        &scores
            .iter()
            .zip(&areas)
            .map(|(s, a)| (s.2, a.code.as_str()))
            .collect::<Vec<_>>(),
    );
    areas
        .into_iter()
        .zip(scores)
        .zip(ranks)
        .map(|((a, (need, demand, gap_score)), (rank, class))| {
            let population = a.population.unwrap_or(0) as f64;
            let low = a.low_income_households.unwrap_or(0) as f64;
            AreaResult {
                covered_fraction: fraction(a.covered_m2, a.area_m2),
                people_fraction: a.people_fraction,
                people_uncovered: (population - a.people_covered).max(0.0),
                low_income_uncovered: (low - a.low_income_covered).max(0.0),
                people_covered: a.people_covered,
                low_income_covered: a.low_income_covered,
                programs: a.programs.len() as i32,
                partners: a.partners.len() as i32,
                code: a.code,
                kecamatan_code: a.kecamatan_code,
                area_m2: a.area_m2,
                covered_m2: a.covered_m2,
                population: a.population,
                households: a.households,
                low_income_households: a.low_income_households,
                proposals: a.proposals,
                supports: a.supports,
                need,
                demand,
                gap_score,
                rank,
                class,
            }
        })
        .collect()
}

/// Cells gather their pieces from every kelurahan they touch; low-income households and
/// households are spread over each kelurahan by area.
fn score_cells(w: &Weights, input: &[&KelurahanInput]) -> Vec<CellResult> {
    #[derive(Default)]
    struct Acc {
        land_m2: f64,
        covered_m2: f64,
        low: f64,
        low_uncovered: f64,
        households: f64,
        proposals: i64,
        supports: i64,
    }
    // `input` is sorted by kelurahan code, so each cell sums its pieces in one fixed order.
    let mut cells: BTreeMap<(i32, i32), Acc> = BTreeMap::new();
    for k in input {
        let low_per_m2 = k.low_income_households.unwrap_or(0) as f64 / k.area_m2.max(1e-9);
        let hh_per_m2 = k.households.unwrap_or(0) as f64 / k.area_m2.max(1e-9);
        for p in &k.cells {
            let c = cells.entry((p.i, p.j)).or_default();
            c.land_m2 += p.land_m2;
            c.covered_m2 += p.covered_m2;
            c.low += low_per_m2 * p.land_m2;
            c.low_uncovered += low_per_m2 * (p.land_m2 - p.covered_m2).max(0.0);
            c.households += hh_per_m2 * p.land_m2;
            c.proposals += p.proposals;
            c.supports += p.supports;
        }
    }
    let raw: Vec<Raw> = cells
        .values()
        .map(|c| Raw {
            share: share(c.low, c.households),
            density: per_km2(c.low, c.land_m2),
            demand: c.proposals as f64 + w.support * c.supports as f64,
            people_fraction: fraction(c.covered_m2, c.land_m2),
        })
        .collect();
    let scores = score(&raw, w);
    let ranks = rank_and_class(
        &scores
            .iter()
            .zip(cells.keys())
            .map(|(s, k)| (s.2, *k))
            .collect::<Vec<_>>(),
    );
    cells
        .into_iter()
        .zip(scores)
        .zip(ranks)
        .map(
            |((((i, j), c), (need, demand, gap_score)), (rank, class))| CellResult {
                i,
                j,
                land_m2: c.land_m2,
                covered_m2: c.covered_m2,
                covered_fraction: fraction(c.covered_m2, c.land_m2),
                low_income_households: c.low,
                low_income_uncovered: c.low_uncovered,
                proposals: c.proposals,
                supports: c.supports,
                need,
                demand,
                gap_score,
                rank,
                class,
            },
        )
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kel(code: &str, area: f64, covered: f64, low: i64, hh: i64) -> KelurahanInput {
        KelurahanInput {
            code: code.into(),
            kecamatan_code: code[..8].into(),
            area_m2: area,
            covered_m2: covered,
            programs: vec![],
            partners: vec![],
            weight_total: None,
            weight_covered: None,
            proposals: 0,
            supports: 0,
            population: Some(1000),
            households: Some(hh),
            low_income_households: Some(low),
            cells: vec![],
        }
    }

    #[test]
    fn gap_is_need_times_uncovered_share() {
        // Same need everywhere (share 0.5, density 100/km²), coverage 0, 0.5 and 1.
        let w = Weights::default();
        let r = compute(
            &w,
            &[
                kel("32.73.01.1001", 1e6, 0.0, 100, 200),
                kel("32.73.01.1002", 1e6, 5e5, 100, 200),
                kel("32.73.01.1003", 1e6, 1e6, 100, 200),
            ],
        );
        let g: Vec<f64> = r.kelurahan.iter().map(|k| k.gap_score).collect();
        assert_eq!(g, vec![1.0, 0.5, 0.0]);
        assert_eq!(r.kelurahan[1].covered_fraction, 0.5);
        assert_eq!(r.kelurahan[1].low_income_uncovered, 50.0);
        assert_eq!(r.kelurahan[1].people_covered, 500.0);
        let ranks: Vec<i32> = r.kelurahan.iter().map(|k| k.rank).collect();
        assert_eq!(ranks, vec![1, 2, 3]);
    }

    #[test]
    fn need_mixes_normalised_share_and_density() {
        let w = Weights {
            share: 1.0,
            density: 3.0,
            demand: 0.0,
            support: 0.0,
        };
        // A: share 0.5 (max), density 100/km² (half the max); B: share 0.25, density 200/km².
        let r = compute(
            &w,
            &[
                kel("32.73.01.1001", 1e6, 0.0, 100, 200),
                kel("32.73.01.1002", 1e6, 0.0, 200, 800),
            ],
        );
        assert_eq!(r.kelurahan[0].need, (1.0 * 1.0 + 3.0 * 0.5) / 4.0);
        assert_eq!(r.kelurahan[1].need, (1.0 * 0.5 + 3.0 * 1.0) / 4.0);
    }

    #[test]
    fn demand_raises_the_gap() {
        let w = Weights {
            demand: 1.0,
            support: 0.5,
            ..Weights::default()
        };
        let mut a = kel("32.73.01.1001", 1e6, 0.0, 100, 200);
        a.proposals = 2;
        a.supports = 4; // raw demand 2 + 0.5 × 4 = 4, the maximum
        let mut b = kel("32.73.01.1002", 1e6, 0.0, 100, 200);
        b.proposals = 1; // raw demand 1
        let r = compute(&w, &[b, a]);
        assert_eq!(r.kelurahan[0].demand, 1.0);
        assert_eq!(r.kelurahan[1].demand, 0.25);
        assert_eq!(r.kelurahan[0].gap_score, 2.0);
        assert_eq!(r.kelurahan[1].gap_score, 1.25);
    }

    #[test]
    fn population_weights_replace_area_share() {
        let mut a = kel("32.73.01.1001", 1e6, 5e5, 100, 200);
        a.weight_total = Some(40.0);
        a.weight_covered = Some(10.0);
        assert_eq!(a.covered_fraction(), 0.5);
        assert_eq!(a.people_fraction(), 0.25);
        let r = compute(&Weights::default(), &[a]);
        assert!(r.population_weighted);
        assert_eq!(r.kelurahan[0].people_covered, 250.0);
        assert_eq!(r.kelurahan[0].low_income_uncovered, 75.0);
    }

    #[test]
    fn kecamatan_sum_their_kelurahan() {
        let mut a = kel("32.73.01.1001", 1e6, 1e6, 100, 200);
        a.programs = vec!["p1".into(), "p2".into()];
        let mut b = kel("32.73.01.1002", 3e6, 0.0, 100, 200);
        b.programs = vec!["p2".into(), "p3".into()];
        let c = kel("32.73.02.1001", 1e6, 0.0, 10, 200);
        let r = compute(&Weights::default(), &[a, b, c]);
        assert_eq!(r.kecamatan.len(), 2);
        let k = &r.kecamatan[0];
        assert_eq!(k.code, "32.73.01");
        assert_eq!(k.area_m2, 4e6);
        assert_eq!(k.covered_fraction, 0.25);
        assert_eq!(k.people_fraction, 0.5); // 1000 of 2000 people
        assert_eq!(k.programs, 3);
        assert_eq!(k.low_income_households, Some(200));
        assert_eq!(k.low_income_uncovered, 100.0);
    }

    #[test]
    fn cells_gather_pieces_and_spread_by_area() {
        let mut a = kel("32.73.01.1001", 1e6, 0.0, 100, 200);
        a.cells = vec![CellPiece {
            i: 0,
            j: 0,
            land_m2: 5e5,
            covered_m2: 2.5e5,
            proposals: 1,
            supports: 0,
        }];
        let mut b = kel("32.73.01.1002", 2e6, 0.0, 400, 800);
        b.cells = vec![
            CellPiece {
                i: 0,
                j: 0,
                land_m2: 5e5,
                covered_m2: 0.0,
                proposals: 0,
                supports: 0,
            },
            CellPiece {
                i: 0,
                j: 1,
                land_m2: 1e6,
                covered_m2: 0.0,
                proposals: 0,
                supports: 0,
            },
        ];
        let r = compute(&Weights::default(), &[a, b]);
        assert_eq!(r.cells.len(), 2);
        let c = &r.cells[0];
        assert_eq!((c.i, c.j), (0, 0));
        assert_eq!(c.land_m2, 1e6);
        assert_eq!(c.covered_fraction, 0.25);
        assert_eq!(c.low_income_households, 50.0 + 100.0);
        assert_eq!(c.low_income_uncovered, 25.0 + 100.0);
        assert_eq!(c.proposals, 1);
    }

    #[test]
    fn classes_are_quintiles_of_rank() {
        let gaps: Vec<(f64, usize)> = (0..10).map(|i| (i as f64, i)).collect();
        let rc = rank_and_class(&gaps);
        assert_eq!(rc[9], (1, 5));
        assert_eq!(rc[8], (2, 5));
        assert_eq!(rc[7], (3, 4));
        assert_eq!(rc[0], (10, 1));
        // Ties go by key.
        let rc = rank_and_class(&[(1.0, "b"), (1.0, "a")]);
        assert_eq!(rc, vec![(2, 3), (1, 5)]);
    }

    #[test]
    fn parameters_are_checked() {
        let d = NaiveDate::from_ymd_opt(2026, 1, 1).expect("date");
        assert!(GapParams::defaults(d, DEFAULT_CELL_M).is_default(DEFAULT_CELL_M));
        assert!(GapParams::defaults(d, 2000.0).is_default(2000.0));
        assert!(!GapParams::defaults(d, 2000.0).is_default(DEFAULT_CELL_M));
        assert!(GapParams::defaults(d, DEFAULT_CELL_M).check().is_ok());
        let mut p = GapParams::defaults(d, DEFAULT_CELL_M);
        p.cell_m = 10.0;
        assert!(p.check().is_err());
        assert!(!p.is_default(DEFAULT_CELL_M));
        p.cell_m = 500.0;
        p.weights.share = 0.0;
        p.weights.density = 0.0;
        assert!(p.check().is_err());
        p.weights.density = f64::NAN;
        assert!(p.check().is_err());
    }
}
