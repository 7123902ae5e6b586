//! The priority score of a verified proposal, with every component shown beside it.
//!
//! ```text
//! score = 100 × category_weight × (w_gap·gap + w_support·support + w_cost·cost_effectiveness)
//!                                  / (w_gap + w_support + w_cost)
//! ```
//!
//! Each component lies in 0..1:
//! - `gap`: the kelurahan's gap score in the latest gap run, divided by the highest kelurahan
//!   gap score of that run (0 when no run covers the kelurahan).
//! - `support`: weighted supports `s = resident_weight × supports from residents of the same
//!   kelurahan + other supports`, as `ln(1 + s) / ln(1 + s_max)` over the candidates (diminishing
//!   returns, so a mobilised crowd cannot outweigh need).
//! - `cost_effectiveness`: estimated beneficiaries per million IDR, divided by the best
//!   candidate's; 0 when the cost is unknown. Beneficiaries are the households within the
//!   category's reach radius at the kelurahan's household density:
//!   `min(households, households / area_km2 × π r²)`.
//!
//! `category_weight` (default 1) is what officials set per category.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::domain::ProposalCategory;

/// How far a facility of a category is assumed to serve, in metres (the reach radius of the
/// beneficiaries estimate). A street light serves a street; a public facility a neighbourhood.
pub fn reach_radius_m(category: ProposalCategory) -> f64 {
    match category {
        ProposalCategory::Jalan => 500.0,
        ProposalCategory::Drainase => 400.0,
        ProposalCategory::AirBersih => 300.0,
        ProposalCategory::Sanitasi => 200.0,
        ProposalCategory::PeneranganJalan => 150.0,
        ProposalCategory::FasilitasUmum => 750.0,
        ProposalCategory::Lainnya => 250.0,
    }
}

/// The weights of the score; part of a scenario's parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScoreParams {
    pub w_gap: f64,
    pub w_support: f64,
    pub w_cost: f64,
    /// What one support from a resident of the proposal's own kelurahan counts, against 1 for
    /// anyone else's.
    pub resident_weight: f64,
    /// Multiplier per category id (missing: 1).
    pub category_weights: BTreeMap<String, f64>,
}

impl Default for ScoreParams {
    fn default() -> Self {
        ScoreParams {
            w_gap: 0.5,
            w_support: 0.2,
            w_cost: 0.3,
            resident_weight: 2.0,
            category_weights: BTreeMap::new(),
        }
    }
}

impl ScoreParams {
    /// Why these weights cannot be used, if they cannot.
    pub fn check(&self) -> Result<(), String> {
        let w = [
            self.w_gap,
            self.w_support,
            self.w_cost,
            self.resident_weight,
        ];
        if w.iter().any(|x| !x.is_finite() || *x < 0.0 || *x > 100.0) {
            return Err(
                "score weights (w_gap, w_support, w_cost, resident_weight) must be 0 to 100".into(),
            );
        }
        if self.w_gap + self.w_support + self.w_cost <= 0.0 {
            return Err("w_gap, w_support and w_cost cannot all be 0".into());
        }
        for (cat, w) in &self.category_weights {
            if ProposalCategory::parse(cat).is_none() {
                return Err(format!("category_weights: unknown category '{cat}'"));
            }
            if !w.is_finite() || *w < 0.0 || *w > 10.0 {
                return Err(format!("category_weights.{cat} must be 0 to 10"));
            }
        }
        Ok(())
    }
}

/// What the score needs to know about one proposal.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreInput {
    pub category: ProposalCategory,
    pub cost_idr: Option<i64>,
    /// The kelurahan's gap score in the latest gap run, if any.
    pub gap_score: Option<f64>,
    /// The highest kelurahan gap score of that run.
    pub gap_score_max: Option<f64>,
    pub resident_supports: i64,
    pub other_supports: i64,
    pub households: Option<i64>,
    pub area_km2: Option<f64>,
}

/// A score and its parts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Score {
    pub score: f64,
    pub gap: f64,
    pub support: f64,
    /// `None` when the cost is unknown.
    pub cost_effectiveness: Option<f64>,
    pub category_weight: f64,
    pub weighted_supports: f64,
    pub beneficiaries: Option<f64>,
    /// Households per million IDR.
    pub beneficiaries_per_million_idr: Option<f64>,
}

/// Estimated households served (see the module docs).
pub fn beneficiaries(input: &ScoreInput) -> Option<f64> {
    let households = input.households? as f64;
    let area = input.area_km2.filter(|a| *a > 0.0)?;
    let r_km = reach_radius_m(input.category) / 1000.0;
    Some((households / area * std::f64::consts::PI * r_km * r_km).min(households))
}

/// Scores every input; normalisations run over the whole list.
///
/// ```
/// use sigap::analysis::budget::score::{score, ScoreInput, ScoreParams};
/// use sigap::domain::ProposalCategory;
/// let a = ScoreInput { category: ProposalCategory::Jalan, cost_idr: Some(100_000_000),
///     gap_score: Some(1.0), gap_score_max: Some(1.0), resident_supports: 3, other_supports: 1,
///     households: Some(2_000), area_km2: Some(1.0) };
/// let s = score(&[a], &ScoreParams::default());
/// assert!((s[0].score - 100.0).abs() < 1e-9); // best on every component
/// ```
pub fn score(inputs: &[ScoreInput], params: &ScoreParams) -> Vec<Score> {
    let weighted: Vec<f64> = inputs
        .iter()
        .map(|i| params.resident_weight * i.resident_supports as f64 + i.other_supports as f64)
        .collect();
    let max_support = weighted.iter().copied().fold(0.0, f64::max);
    let per_million: Vec<Option<(f64, f64)>> = inputs
        .iter()
        .map(|i| {
            let cost = i.cost_idr.filter(|c| *c > 0)? as f64;
            let b = beneficiaries(i).unwrap_or(0.0);
            Some((b, b / (cost / 1e6)))
        })
        .collect();
    let max_effect = per_million
        .iter()
        .flatten()
        .map(|(_, e)| *e)
        .fold(0.0, f64::max);
    let total_w = params.w_gap + params.w_support + params.w_cost;
    inputs
        .iter()
        .zip(&weighted)
        .zip(&per_million)
        .map(|((i, s), e)| {
            let gap = match (i.gap_score, i.gap_score_max) {
                (Some(g), Some(m)) if m > 0.0 => (g / m).clamp(0.0, 1.0),
                _ => 0.0,
            };
            let support = if max_support > 0.0 {
                (1.0 + s).ln() / (1.0 + max_support).ln()
            } else {
                0.0
            };
            let cost_effectiveness = e.map(|(_, e)| {
                if max_effect > 0.0 {
                    e / max_effect
                } else {
                    0.0
                }
            });
            let category_weight = params
                .category_weights
                .get(i.category.as_str())
                .copied()
                .unwrap_or(1.0);
            let mix = params.w_gap * gap
                + params.w_support * support
                + params.w_cost * cost_effectiveness.unwrap_or(0.0);
            Score {
                score: 100.0 * category_weight * mix / total_w,
                gap,
                support,
                cost_effectiveness,
                category_weight,
                weighted_supports: *s,
                beneficiaries: e.map(|(b, _)| b).or_else(|| beneficiaries(i)),
                beneficiaries_per_million_idr: e.map(|(_, e)| e),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(cost: Option<i64>, resident: i64, other: i64, gap: f64) -> ScoreInput {
        ScoreInput {
            category: ProposalCategory::Sanitasi,
            cost_idr: cost,
            gap_score: Some(gap),
            gap_score_max: Some(2.0),
            resident_supports: resident,
            other_supports: other,
            households: Some(1_000),
            area_km2: Some(2.0),
        }
    }

    #[test]
    fn components_are_normalised_and_shown() {
        let s = score(
            &[
                input(Some(50_000_000), 2, 0, 2.0),
                input(Some(100_000_000), 0, 1, 1.0),
                input(None, 0, 0, 0.0),
            ],
            &ScoreParams::default(),
        );
        // Residents count double: 4 against 1.
        assert_eq!(s[0].weighted_supports, 4.0);
        assert_eq!(s[0].support, 1.0);
        assert!((s[1].support - 2f64.ln() / 5f64.ln()).abs() < 1e-12);
        assert_eq!(s[2].support, 0.0);
        assert_eq!((s[0].gap, s[1].gap, s[2].gap), (1.0, 0.5, 0.0));
        // Same beneficiaries (π·0.2² km² at 500 households/km²), half the cost: twice as effective.
        let b = 500.0 * std::f64::consts::PI * 0.04;
        assert!((s[0].beneficiaries.unwrap() - b).abs() < 1e-9);
        assert_eq!(s[0].cost_effectiveness, Some(1.0));
        assert_eq!(s[1].cost_effectiveness, Some(0.5));
        assert_eq!(s[2].cost_effectiveness, None);
        assert!((s[0].score - 100.0).abs() < 1e-9);
        let expected = 100.0 * (0.5 * 0.5 + 0.2 * s[1].support + 0.3 * 0.5);
        assert!((s[1].score - expected).abs() < 1e-9);
    }

    #[test]
    fn beneficiaries_never_exceed_households_and_weights_are_checked() {
        let mut i = input(Some(1), 0, 0, 0.0);
        i.category = ProposalCategory::FasilitasUmum;
        i.area_km2 = Some(0.5);
        assert_eq!(beneficiaries(&i), Some(1_000.0));
        let mut p = ScoreParams::default();
        p.category_weights.insert("jembatan".into(), 1.0);
        assert!(p.check().is_err());
        let p = ScoreParams {
            w_gap: 0.0,
            w_support: 0.0,
            w_cost: 0.0,
            ..ScoreParams::default()
        };
        assert!(p.check().is_err());
    }
}
