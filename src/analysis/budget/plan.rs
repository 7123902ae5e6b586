//! One allocation against the database: read the candidates of an area, score them, solve the
//! scenario, and build the result officials see (funded list, reasons, equity view). Shared by
//! `/api/budget/…` and `sigap budget solve`.

use std::collections::{BTreeMap, HashMap};

use deadpool_postgres::GenericClient;
use serde::{Deserialize, Serialize};

use super::score::{score, Score, ScoreInput, ScoreParams};
use super::{
    equity, solve, Allocation, AreaLimits, BudgetError, Candidate, Equity, Limit, Reason, Scenario,
    SolveOptions,
};
use crate::domain::ProposalCategory;
use crate::store::budget::{self as store, CandidateRow};
use crate::store::StoreError;

/// What an official sets for a scenario (the `params` of a stored scenario, and the file
/// `sigap budget solve` reads).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioParams {
    pub budget_idr: i64,
    #[serde(default)]
    pub kecamatan: BTreeMap<String, AreaLimits>,
    #[serde(default)]
    pub category_caps: BTreeMap<String, Limit>,
    #[serde(default)]
    pub must_fund: Vec<i64>,
    #[serde(default)]
    pub must_not_fund: Vec<i64>,
    /// Treat proposals without an estimated cost as excluded instead of refusing the scenario.
    #[serde(default)]
    pub exclude_uncosted: bool,
    #[serde(default)]
    pub score: ScoreParams,
}

/// Why an evaluation failed.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error(transparent)]
    Budget(#[from] BudgetError),
    #[error("score: {0}")]
    Score(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A candidate with its score and, after a solve, its fate.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Ranked {
    pub id: i64,
    pub tracking_code: String,
    pub title: String,
    pub category: String,
    pub status: String,
    pub kelurahan_code: String,
    pub kecamatan_code: String,
    pub estimated_cost_idr: Option<i64>,
    pub score: Score,
    pub funded: Option<bool>,
    pub reason: Option<Reason>,
    pub blocked_by: Vec<Reason>,
    pub shortfall_idr: Option<i64>,
}

/// The stored result of a solve.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Evaluation {
    /// The gap run the gap components come from.
    pub gap_run_id: Option<i64>,
    pub allocation: Allocation,
    /// Every candidate, funded first, then by score.
    pub proposals: Vec<Ranked>,
    pub equity: Equity,
}

/// Scores the candidates of `area`, best first.
pub async fn ranking<C: GenericClient>(
    client: &C,
    area: Option<&str>,
    params: &ScoreParams,
) -> Result<(Option<i64>, Vec<Ranked>), PlanError> {
    params.check().map_err(PlanError::Score)?;
    let rows = store::candidates(client, area).await?;
    let gap_run_id = rows.first().and_then(|r| r.gap_run_id);
    let mut ranked = scored(&rows, params);
    ranked.sort_by(|a, b| {
        b.score
            .score
            .total_cmp(&a.score.score)
            .then(a.id.cmp(&b.id))
    });
    Ok((gap_run_id, ranked))
}

fn scored(rows: &[CandidateRow], params: &ScoreParams) -> Vec<Ranked> {
    let inputs: Vec<ScoreInput> = rows
        .iter()
        .map(|r| ScoreInput {
            category: ProposalCategory::parse(&r.category).unwrap_or(ProposalCategory::Lainnya),
            cost_idr: r.estimated_cost_idr,
            gap_score: r.gap_score,
            gap_score_max: r.gap_score_max,
            resident_supports: r.resident_supports,
            other_supports: r.other_supports,
            households: r.households,
            area_km2: r.area_km2,
        })
        .collect();
    rows.iter()
        .zip(score(&inputs, params))
        .map(|(r, s)| Ranked {
            id: r.id,
            tracking_code: r.tracking_code.clone(),
            title: r.title.clone(),
            category: r.category.clone(),
            status: r.status.clone(),
            kelurahan_code: r.kelurahan_code.clone(),
            kecamatan_code: r.kecamatan_code.clone(),
            estimated_cost_idr: r.estimated_cost_idr,
            score: s,
            funded: None,
            reason: None,
            blocked_by: Vec::new(),
            shortfall_idr: None,
        })
        .collect()
}

/// Scores, solves and builds the result for a scenario over the candidates of `area`.
pub async fn evaluate<C: GenericClient>(
    client: &C,
    area: Option<&str>,
    params: &ScenarioParams,
    options: &SolveOptions,
) -> Result<Evaluation, PlanError> {
    let (gap_run_id, mut ranked) = ranking(client, area, &params.score).await?;
    let need = store::kecamatan_need(client, area).await?;
    let known: Vec<String> = need.iter().map(|(c, _)| c.clone()).collect();

    let mut must_not_fund = params.must_not_fund.clone();
    if params.exclude_uncosted {
        must_not_fund.extend(
            ranked
                .iter()
                .filter(|r| r.estimated_cost_idr.is_none_or(|c| c <= 0))
                .filter(|r| !params.must_fund.contains(&r.id))
                .map(|r| r.id),
        );
        must_not_fund.sort_unstable();
        must_not_fund.dedup();
    }
    let scenario = Scenario {
        budget_idr: params.budget_idr,
        kecamatan: params.kecamatan.clone(),
        category_caps: params.category_caps.clone(),
        must_fund: params.must_fund.clone(),
        must_not_fund,
    };
    let candidates: Vec<Candidate> = ranked
        .iter()
        .map(|r| Candidate {
            id: r.id,
            kecamatan_code: r.kecamatan_code.clone(),
            category: r.category.clone(),
            cost_idr: r.estimated_cost_idr,
            priority: r.score.score,
        })
        .collect();
    // The solver is CPU-bound (up to its time limit): keep it off the async workers.
    let options = options.clone();
    let allocation =
        tokio::task::spawn_blocking(move || solve(&candidates, &scenario, &known, &options))
            .await
            .map_err(|e| BudgetError::Solver(format!("the solver task failed: {e}")))??;

    let unfunded: HashMap<i64, &super::Unfunded> =
        allocation.unfunded.iter().map(|u| (u.id, u)).collect();
    for r in &mut ranked {
        match unfunded.get(&r.id) {
            Some(u) => {
                r.funded = Some(false);
                r.reason = Some(u.reason);
                r.blocked_by = u.blocked_by.clone();
                r.shortfall_idr = Some(u.shortfall_idr);
            }
            None => r.funded = Some(true),
        }
    }
    // Funded first, each group by score (stable: the ranking order is kept within ties).
    ranked.sort_by_key(|r| r.funded != Some(true));

    let spent: Vec<(String, i64)> = allocation
        .kecamatan
        .iter()
        .map(|k| (k.code.clone(), k.spent_idr))
        .collect();
    let equity = equity(&spent, &need);
    Ok(Evaluation {
        gap_run_id,
        allocation,
        proposals: ranked,
        equity,
    })
}
