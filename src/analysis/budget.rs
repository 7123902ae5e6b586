//! Budget allocation: choose the proposals that maximise total priority within a budget and the
//! rules officials set (kecamatan floors and caps, category caps, must-fund and must-not-fund
//! lists), and say for every unfunded proposal which rule kept it out.
//!
//! The entry point is [`solve`]. It validates the scenario first ([`BudgetError`] names the
//! impossible constraint), then picks a method:
//!
//! - up to [`SolveOptions::exact_limit`] free candidates, an exact 0/1 integer programme
//!   ([`exact`], good_lp + microlp, warm-started with the greedy answer);
//! - beyond it, the documented greedy fallback ([`greedy`]): best priority per rupiah first, then
//!   floor repair.
//!
//! Whatever the method, a final pass adds any unfunded candidate that still fits (so an unfunded
//! proposal is always blocked by at least one rule) and attributes the reasons ([`Reason`]).
//! All money is whole rupiah (`i64`); sums are checked in `i128`.
//!
//! ```
//! use sigap::analysis::budget::{solve, Candidate, Scenario, SolveOptions, Method};
//! let c = |id, kec: &str, cost, priority| Candidate {
//!     id, kecamatan_code: kec.into(), category: "jalan".into(), cost_idr: Some(cost), priority,
//! };
//! let candidates = vec![c(1, "32.73.01", 60, 5.0), c(2, "32.73.01", 50, 4.0), c(3, "32.73.02", 50, 4.0)];
//! let scenario = Scenario { budget_idr: 100, ..Scenario::default() };
//! let known = ["32.73.01".to_string(), "32.73.02".to_string()];
//! let a = solve(&candidates, &scenario, &known, &SolveOptions::default()).unwrap();
//! assert_eq!(a.method, Method::Exact);
//! assert_eq!(a.funded, vec![2, 3]); // 8.0 beats 5.0 + nothing else that fits
//! ```

mod exact;
pub mod export;
pub mod greedy;
pub mod plan;
pub mod score;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::domain::ProposalCategory;

/// The largest amount of money the solver accepts (10^15 IDR). Far above any city budget, and
/// low enough that every amount and every sum of a few thousand of them stays exact in `f64`
/// once scaled for the integer programme.
pub const MAX_IDR: i64 = 1_000_000_000_000_000;

/// One proposal the allocation may fund.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    pub id: i64,
    pub kecamatan_code: String,
    /// A proposal category id (`jalan`, `drainase`, ...).
    pub category: String,
    /// Estimated cost in IDR; `None` when unknown.
    pub cost_idr: Option<i64>,
    /// Priority score (non-negative); the objective is the sum over funded proposals.
    pub priority: f64,
}

/// An amount of money, or a share of the total budget.
///
/// JSON: `{"amount_idr": 500000000}` or `{"share": 0.1}`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Limit {
    AmountIdr(i64),
    /// A fraction of the budget, 0 to 1.
    Share(f64),
}

impl Limit {
    /// The limit as a cap in IDR: a share rounds down, so a cap never allows more than the share.
    pub fn cap_idr(self, budget_idr: i64) -> i64 {
        match self {
            Limit::AmountIdr(a) => a,
            Limit::Share(s) => (s * budget_idr as f64).floor() as i64,
        }
    }

    /// The limit as a floor in IDR: a share rounds up, so meeting the floor meets the share.
    pub fn floor_idr(self, budget_idr: i64) -> i64 {
        match self {
            Limit::AmountIdr(a) => a,
            Limit::Share(s) => (s * budget_idr as f64).ceil() as i64,
        }
    }

    fn check(self, what: &str) -> Result<(), BudgetError> {
        match self {
            Limit::AmountIdr(a) if !(0..=MAX_IDR).contains(&a) => Err(BudgetError::BadLimit {
                what: what.to_owned(),
                detail: format!("amount {a} IDR is not between 0 and {MAX_IDR}"),
            }),
            Limit::Share(s) if !(0.0..=1.0).contains(&s) => Err(BudgetError::BadLimit {
                what: what.to_owned(),
                detail: format!("share {s} is not between 0 and 1"),
            }),
            _ => Ok(()),
        }
    }
}

/// Floor and cap of one kecamatan: spending there must lie between them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AreaLimits {
    #[serde(default)]
    pub floor: Option<Limit>,
    #[serde(default)]
    pub cap: Option<Limit>,
}

/// What an official sets for one allocation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// The total budget in IDR.
    pub budget_idr: i64,
    /// Floors and caps by kecamatan code.
    #[serde(default)]
    pub kecamatan: BTreeMap<String, AreaLimits>,
    /// Caps by proposal category id.
    #[serde(default)]
    pub category_caps: BTreeMap<String, Limit>,
    /// Proposal ids that must be funded.
    #[serde(default)]
    pub must_fund: Vec<i64>,
    /// Proposal ids that must not be funded.
    #[serde(default)]
    pub must_not_fund: Vec<i64>,
}

/// How the solver runs.
#[derive(Debug, Clone)]
pub struct SolveOptions {
    /// Up to this many free candidates (not fixed by a list), the exact method runs.
    pub exact_limit: usize,
    /// Wall-clock budget of the exact method. When it runs out the best allocation found so far
    /// is returned as [`Method::ExactTimeLimited`], with its proven optimality gap.
    pub time_limit: Duration,
    /// Force the greedy fallback whatever the size (benchmarks compare the two).
    pub force_greedy: bool,
}

impl Default for SolveOptions {
    fn default() -> Self {
        Self {
            exact_limit: 5_000,
            time_limit: Duration::from_secs(20),
            force_greedy: false,
        }
    }
}

/// Which method produced an allocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// 0/1 integer programme solved to proven optimality.
    Exact,
    /// The integer programme hit its time limit; the best allocation found is returned.
    ExactTimeLimited,
    /// Greedy by priority per rupiah with floor repair (beyond the exact limit).
    Greedy,
}

/// Why a proposal is not funded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// On the must-not-fund list.
    Excluded,
    /// Adding it would push its kecamatan above the kecamatan cap.
    KecamatanCap,
    /// Adding it would push its category above the category cap.
    CategoryCap,
    /// Adding it would push the total above the budget.
    BudgetExhausted,
}

/// An unfunded proposal and the rules that keep it out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unfunded {
    pub id: i64,
    /// The main reason: `excluded`, else the most specific rule it would break, in the order
    /// kecamatan cap, category cap, budget.
    pub reason: Reason,
    /// Every rule adding it to the allocation would break.
    pub blocked_by: Vec<Reason>,
    /// By how much it overshoots the main rule's remaining room, in IDR (0 when excluded).
    pub shortfall_idr: i64,
}

/// Spending of one kecamatan or category against its limits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupTotal {
    pub code: String,
    pub spent_idr: i64,
    pub funded: usize,
    pub candidates: usize,
    pub floor_idr: Option<i64>,
    pub cap_idr: Option<i64>,
}

/// The answer of [`solve`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Allocation {
    pub method: Method,
    /// Upper bound on the relative distance from the optimum: 0 for `exact`, the solver's proven
    /// gap for `exact_time_limited`, `None` for `greedy` (no bound computed).
    pub optimality_gap: Option<f64>,
    /// How many proposals the exact method left to the integer programme after Lagrangian
    /// fixing (`None` for greedy).
    pub exact_core: Option<usize>,
    pub budget_idr: i64,
    pub spent_idr: i64,
    /// Total priority of the funded proposals.
    pub objective: f64,
    /// Funded proposal ids, ascending.
    pub funded: Vec<i64>,
    /// Unfunded proposals, ascending id.
    pub unfunded: Vec<Unfunded>,
    /// Every kecamatan with a candidate or a limit, by code.
    pub kecamatan: Vec<GroupTotal>,
    /// Every category with a candidate or a cap, by id.
    pub category: Vec<GroupTotal>,
    pub elapsed_ms: u64,
}

/// A scenario that cannot be solved, naming the constraint at fault.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BudgetError {
    #[error("the budget is negative ({0} IDR)")]
    NegativeBudget(i64),
    #[error("the budget {0} IDR is larger than the accepted maximum {MAX_IDR} IDR")]
    BudgetTooLarge(i64),
    #[error("{what}: {detail}")]
    BadLimit { what: String, detail: String },
    #[error("unknown kecamatan code(s): {}", .0.join(", "))]
    UnknownKecamatan(Vec<String>),
    #[error("unknown category id(s): {}", .0.join(", "))]
    UnknownCategory(Vec<String>),
    #[error("proposal(s) without a positive estimated cost: {} (set a cost or put them on the must-not-fund list)", join_ids(.0))]
    MissingCost(Vec<i64>),
    #[error("proposal(s) with a cost above {MAX_IDR} IDR: {}", join_ids(.0))]
    CostTooLarge(Vec<i64>),
    #[error("proposal(s) with a negative or undefined priority: {}", join_ids(.0))]
    BadPriority(Vec<i64>),
    #[error("must-fund or must-not-fund list names proposal(s) that are not candidates: {}", join_ids(.0))]
    UnknownProposal(Vec<i64>),
    #[error("proposal(s) on both the must-fund and the must-not-fund list: {}", join_ids(.0))]
    ConflictingLists(Vec<i64>),
    #[error(
        "the kecamatan floors add up to {floors_idr} IDR, more than the budget of {budget_idr} IDR"
    )]
    FloorsExceedBudget { floors_idr: i64, budget_idr: i64 },
    #[error("kecamatan {kecamatan}: the cap {cap_idr} IDR is below the floor {floor_idr} IDR")]
    CapBelowFloor {
        kecamatan: String,
        floor_idr: i64,
        cap_idr: i64,
    },
    #[error("kecamatan {kecamatan}: the floor {floor_idr} IDR is more than all its fundable proposals cost together ({available_idr} IDR)")]
    FloorUnreachable {
        kecamatan: String,
        floor_idr: i64,
        available_idr: i64,
    },
    #[error("the must-fund proposals cost {must_fund_idr} IDR, more than the budget of {budget_idr} IDR")]
    MustFundOverBudget { must_fund_idr: i64, budget_idr: i64 },
    #[error("{scope}: the must-fund proposals cost {must_fund_idr} IDR, more than the cap of {cap_idr} IDR")]
    MustFundOverCap {
        scope: String,
        must_fund_idr: i64,
        cap_idr: i64,
    },
    #[error("no selection of proposals meets every floor within the budget and the caps together")]
    Infeasible,
    #[error("the greedy method (used beyond {limit} candidates) could not meet the floors of kecamatan {}; lower those floors or raise the budget or caps", .kecamatan.join(", "))]
    GreedyFloorsUnmet {
        limit: usize,
        kecamatan: Vec<String>,
    },
    #[error("no allocation meeting the floors was found within {0} s (greedy could not meet them either); the floors may be impossible together with the caps and the budget: lower them")]
    NoSolutionInTime(u64),
    #[error("the integer programme solver failed: {0}")]
    Solver(String),
}

fn join_ids(ids: &[i64]) -> String {
    let shown: Vec<String> = ids.iter().take(20).map(|i| i.to_string()).collect();
    if ids.len() > 20 {
        format!("{} and {} more", shown.join(", "), ids.len() - 20)
    } else {
        shown.join(", ")
    }
}

/// The validated problem, with limits resolved to IDR and codes to indices.
#[derive(Debug, Clone)]
pub(crate) struct Prepared {
    pub budget: i64,
    pub items: Vec<Item>,
    pub kec_codes: Vec<String>,
    /// Floor per kecamatan (0 when none).
    pub kec_floor: Vec<i64>,
    pub kec_cap: Vec<Option<i64>>,
    pub cat_codes: Vec<String>,
    pub cat_cap: Vec<Option<i64>>,
}

/// Whether a candidate is decided by a list or left to the solver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fix {
    Free,
    MustFund,
    MustNot,
}

#[derive(Debug, Clone)]
pub(crate) struct Item {
    pub id: i64,
    /// 0 for a must-not-fund proposal without a cost.
    pub cost: i64,
    pub priority: f64,
    pub kec: usize,
    pub cat: usize,
    pub fix: Fix,
}

/// Running totals of a selection.
#[derive(Debug, Clone)]
pub(crate) struct Totals {
    pub total: i128,
    pub kec: Vec<i128>,
    pub cat: Vec<i128>,
}

impl Prepared {
    pub fn totals(&self, selected: &[bool]) -> Totals {
        let mut t = Totals {
            total: 0,
            kec: vec![0; self.kec_codes.len()],
            cat: vec![0; self.cat_codes.len()],
        };
        for (item, _) in self.items.iter().zip(selected).filter(|(_, s)| **s) {
            t.add(item);
        }
        t
    }

    /// The rules adding `item` to a selection with totals `t` would break, most specific first,
    /// each with its overshoot in IDR.
    pub fn blocked_by(&self, t: &Totals, item: &Item) -> Vec<(Reason, i64)> {
        let mut out = Vec::new();
        let c = i128::from(item.cost);
        if let Some(cap) = self.kec_cap[item.kec] {
            let over = t.kec[item.kec] + c - i128::from(cap);
            if over > 0 {
                out.push((Reason::KecamatanCap, clamp_i64(over)));
            }
        }
        if let Some(cap) = self.cat_cap[item.cat] {
            let over = t.cat[item.cat] + c - i128::from(cap);
            if over > 0 {
                out.push((Reason::CategoryCap, clamp_i64(over)));
            }
        }
        let over = t.total + c - i128::from(self.budget);
        if over > 0 {
            out.push((Reason::BudgetExhausted, clamp_i64(over)));
        }
        out
    }

    pub fn fits(&self, t: &Totals, item: &Item) -> bool {
        self.blocked_by(t, item).is_empty()
    }

    /// Kecamatan indices whose floor the selection does not meet.
    pub fn unmet_floors(&self, t: &Totals) -> Vec<usize> {
        (0..self.kec_codes.len())
            .filter(|&k| t.kec[k] < i128::from(self.kec_floor[k]))
            .collect()
    }

    /// The initial selection: exactly the must-fund proposals.
    pub fn fixed_selection(&self) -> Vec<bool> {
        self.items.iter().map(|i| i.fix == Fix::MustFund).collect()
    }
}

impl Totals {
    pub fn add(&mut self, item: &Item) {
        let c = i128::from(item.cost);
        self.total += c;
        self.kec[item.kec] += c;
        self.cat[item.cat] += c;
    }

    pub fn remove(&mut self, item: &Item) {
        let c = i128::from(item.cost);
        self.total -= c;
        self.kec[item.kec] -= c;
        self.cat[item.cat] -= c;
    }
}

fn clamp_i64(v: i128) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// Checks the scenario against the candidates and resolves it into a [`Prepared`] problem.
///
/// `known_kecamatan` is the set of valid kecamatan codes (the region's); every code in the
/// scenario or on a candidate must be one of them.
pub(crate) fn prepare(
    candidates: &[Candidate],
    scenario: &Scenario,
    known_kecamatan: &[String],
) -> Result<Prepared, BudgetError> {
    let budget = scenario.budget_idr;
    if budget < 0 {
        return Err(BudgetError::NegativeBudget(budget));
    }
    if budget > MAX_IDR {
        return Err(BudgetError::BudgetTooLarge(budget));
    }

    let known: BTreeSet<&str> = known_kecamatan.iter().map(String::as_str).collect();
    let unknown: BTreeSet<String> = scenario
        .kecamatan
        .keys()
        .map(String::as_str)
        .chain(candidates.iter().map(|c| c.kecamatan_code.as_str()))
        .filter(|c| !known.contains(c))
        .map(str::to_owned)
        .collect();
    if !unknown.is_empty() {
        return Err(BudgetError::UnknownKecamatan(unknown.into_iter().collect()));
    }
    let unknown: BTreeSet<String> = scenario
        .category_caps
        .keys()
        .map(String::as_str)
        .chain(candidates.iter().map(|c| c.category.as_str()))
        .filter(|c| ProposalCategory::parse(c).is_none())
        .map(str::to_owned)
        .collect();
    if !unknown.is_empty() {
        return Err(BudgetError::UnknownCategory(unknown.into_iter().collect()));
    }

    for (code, lim) in &scenario.kecamatan {
        if let Some(f) = lim.floor {
            f.check(&format!("kecamatan {code} floor"))?;
        }
        if let Some(c) = lim.cap {
            c.check(&format!("kecamatan {code} cap"))?;
        }
    }
    for (code, cap) in &scenario.category_caps {
        cap.check(&format!("category {code} cap"))?;
    }

    // The lists.
    let ids: BTreeSet<i64> = candidates.iter().map(|c| c.id).collect();
    let must: BTreeSet<i64> = scenario.must_fund.iter().copied().collect();
    let must_not: BTreeSet<i64> = scenario.must_not_fund.iter().copied().collect();
    let unknown: Vec<i64> = must
        .iter()
        .chain(&must_not)
        .filter(|id| !ids.contains(id))
        .copied()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if !unknown.is_empty() {
        return Err(BudgetError::UnknownProposal(unknown));
    }
    let both: Vec<i64> = must.intersection(&must_not).copied().collect();
    if !both.is_empty() {
        return Err(BudgetError::ConflictingLists(both));
    }

    // Costs and priorities.
    let mut missing = BTreeSet::new();
    let mut too_large = BTreeSet::new();
    let mut bad_priority = BTreeSet::new();
    for c in candidates {
        let excluded = must_not.contains(&c.id);
        match c.cost_idr {
            Some(v) if v > MAX_IDR => {
                too_large.insert(c.id);
            }
            Some(v) if v > 0 => {}
            _ if excluded => {}
            _ => {
                missing.insert(c.id);
            }
        }
        if !(c.priority.is_finite() && c.priority >= 0.0) {
            bad_priority.insert(c.id);
        }
    }
    if !missing.is_empty() {
        return Err(BudgetError::MissingCost(missing.into_iter().collect()));
    }
    if !too_large.is_empty() {
        return Err(BudgetError::CostTooLarge(too_large.into_iter().collect()));
    }
    if !bad_priority.is_empty() {
        return Err(BudgetError::BadPriority(bad_priority.into_iter().collect()));
    }

    // Index the groups: every kecamatan or category that has a candidate or a limit.
    let kec_codes: Vec<String> = candidates
        .iter()
        .map(|c| c.kecamatan_code.clone())
        .chain(scenario.kecamatan.keys().cloned())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let cat_codes: Vec<String> = candidates
        .iter()
        .map(|c| c.category.clone())
        .chain(scenario.category_caps.keys().cloned())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let kec_index: HashMap<&str, usize> = kec_codes
        .iter()
        .enumerate()
        .map(|(i, c)| (c.as_str(), i))
        .collect();
    let cat_index: HashMap<&str, usize> = cat_codes
        .iter()
        .enumerate()
        .map(|(i, c)| (c.as_str(), i))
        .collect();

    let items: Vec<Item> = candidates
        .iter()
        .map(|c| Item {
            id: c.id,
            cost: c.cost_idr.unwrap_or(0).max(0),
            priority: c.priority,
            kec: kec_index[c.kecamatan_code.as_str()],
            cat: cat_index[c.category.as_str()],
            fix: if must.contains(&c.id) {
                Fix::MustFund
            } else if must_not.contains(&c.id) {
                Fix::MustNot
            } else {
                Fix::Free
            },
        })
        .collect();

    let mut kec_floor = vec![0i64; kec_codes.len()];
    let mut kec_cap = vec![None; kec_codes.len()];
    for (code, lim) in &scenario.kecamatan {
        let k = kec_index[code.as_str()];
        let floor = lim.floor.map(|f| f.floor_idr(budget)).unwrap_or(0);
        let cap = lim.cap.map(|c| c.cap_idr(budget));
        if let Some(cap) = cap {
            if cap < floor {
                return Err(BudgetError::CapBelowFloor {
                    kecamatan: code.clone(),
                    floor_idr: floor,
                    cap_idr: cap,
                });
            }
        }
        kec_floor[k] = floor;
        kec_cap[k] = cap;
    }
    let floors: i128 = kec_floor.iter().map(|f| i128::from(*f)).sum();
    if floors > i128::from(budget) {
        return Err(BudgetError::FloorsExceedBudget {
            floors_idr: clamp_i64(floors),
            budget_idr: budget,
        });
    }
    let mut cat_cap = vec![None; cat_codes.len()];
    for (code, cap) in &scenario.category_caps {
        cat_cap[cat_index[code.as_str()]] = Some(cap.cap_idr(budget));
    }

    let prepared = Prepared {
        budget,
        items,
        kec_codes,
        kec_floor,
        kec_cap,
        cat_codes,
        cat_cap,
    };

    // A floor above what the kecamatan's fundable proposals cost together can never be met.
    let mut available = vec![0i128; prepared.kec_codes.len()];
    for item in prepared.items.iter().filter(|i| i.fix != Fix::MustNot) {
        available[item.kec] += i128::from(item.cost);
    }
    for (k, code) in prepared.kec_codes.iter().enumerate() {
        if i128::from(prepared.kec_floor[k]) > available[k] {
            return Err(BudgetError::FloorUnreachable {
                kecamatan: code.clone(),
                floor_idr: prepared.kec_floor[k],
                available_idr: clamp_i64(available[k]),
            });
        }
    }

    // The must-fund proposals alone must fit.
    let fixed = prepared.totals(&prepared.fixed_selection());
    if fixed.total > i128::from(budget) {
        return Err(BudgetError::MustFundOverBudget {
            must_fund_idr: clamp_i64(fixed.total),
            budget_idr: budget,
        });
    }
    for (k, cap) in prepared.kec_cap.iter().enumerate() {
        if let Some(cap) = *cap {
            if fixed.kec[k] > i128::from(cap) {
                return Err(BudgetError::MustFundOverCap {
                    scope: format!("kecamatan {}", prepared.kec_codes[k]),
                    must_fund_idr: clamp_i64(fixed.kec[k]),
                    cap_idr: cap,
                });
            }
        }
    }
    for (g, cap) in prepared.cat_cap.iter().enumerate() {
        if let Some(cap) = *cap {
            if fixed.cat[g] > i128::from(cap) {
                return Err(BudgetError::MustFundOverCap {
                    scope: format!("category {}", prepared.cat_codes[g]),
                    must_fund_idr: clamp_i64(fixed.cat[g]),
                    cap_idr: cap,
                });
            }
        }
    }
    Ok(prepared)
}

/// Solves one scenario: validation, the exact or greedy method, the fill pass and the reasons.
pub fn solve(
    candidates: &[Candidate],
    scenario: &Scenario,
    known_kecamatan: &[String],
    options: &SolveOptions,
) -> Result<Allocation, BudgetError> {
    let started = Instant::now();
    let p = prepare(candidates, scenario, known_kecamatan)?;
    let free = p.items.iter().filter(|i| i.fix == Fix::Free).count();

    let greedy_pick = greedy::select(&p);
    let (mut selected, method, gap, core) = if options.force_greedy || free > options.exact_limit {
        match greedy_pick {
            Ok(sel) => (sel, Method::Greedy, None, None),
            Err(unmet) => {
                return Err(BudgetError::GreedyFloorsUnmet {
                    limit: options.exact_limit,
                    kecamatan: unmet.into_iter().map(|k| p.kec_codes[k].clone()).collect(),
                })
            }
        }
    } else {
        let warm = greedy_pick.ok();
        let out = exact::select(&p, options.time_limit, warm.as_deref())?;
        let core = Some(out.core_size);
        if out.proven_optimal {
            (out.selected, Method::Exact, Some(0.0), core)
        } else {
            (out.selected, Method::ExactTimeLimited, out.gap, core)
        }
    };

    let unfunded = fill_and_attribute(&p, &mut selected);
    let mut allocation = report(&p, &selected, unfunded, method, gap, started);
    allocation.exact_core = core;
    Ok(allocation)
}

/// Adds every unfunded candidate that still fits (best priority per rupiah first), then records,
/// for each one left, the rules that block it.
///
/// After an exact solve only zero-priority proposals (or float-noise ties) can still fit; adding
/// them costs nothing in the objective and guarantees that every unfunded proposal is blocked by
/// at least one rule. One pass suffices: totals only grow, so a proposal blocked when visited
/// stays blocked.
fn fill_and_attribute(p: &Prepared, selected: &mut [bool]) -> Vec<Unfunded> {
    let mut t = p.totals(selected);
    let mut order: Vec<usize> = (0..p.items.len()).filter(|&i| !selected[i]).collect();
    greedy::sort_by_ratio(p, &mut order);
    let mut unfunded = Vec::new();
    for i in order {
        let item = &p.items[i];
        if item.fix == Fix::MustNot {
            unfunded.push(Unfunded {
                id: item.id,
                reason: Reason::Excluded,
                blocked_by: vec![Reason::Excluded],
                shortfall_idr: 0,
            });
            continue;
        }
        let blocked = p.blocked_by(&t, item);
        match blocked.first() {
            None => {
                selected[i] = true;
                t.add(item);
            }
            Some(&(reason, shortfall_idr)) => unfunded.push(Unfunded {
                id: item.id,
                reason,
                blocked_by: blocked.iter().map(|(r, _)| *r).collect(),
                shortfall_idr,
            }),
        }
    }
    unfunded.sort_by_key(|u| u.id);
    unfunded
}

fn report(
    p: &Prepared,
    selected: &[bool],
    unfunded: Vec<Unfunded>,
    method: Method,
    optimality_gap: Option<f64>,
    started: Instant,
) -> Allocation {
    let t = p.totals(selected);
    let mut funded: Vec<i64> = p
        .items
        .iter()
        .zip(selected)
        .filter(|(_, s)| **s)
        .map(|(i, _)| i.id)
        .collect();
    funded.sort_unstable();
    let objective = p
        .items
        .iter()
        .zip(selected)
        .filter(|(_, s)| **s)
        .map(|(i, _)| i.priority)
        .sum();
    let group = |codes: &[String],
                 spent: &[i128],
                 floor: &dyn Fn(usize) -> Option<i64>,
                 cap: &dyn Fn(usize) -> Option<i64>,
                 of: &dyn Fn(&Item) -> usize| {
        codes
            .iter()
            .enumerate()
            .map(|(g, code)| GroupTotal {
                code: code.clone(),
                spent_idr: clamp_i64(spent[g]),
                funded: p
                    .items
                    .iter()
                    .zip(selected)
                    .filter(|(i, s)| **s && of(i) == g)
                    .count(),
                candidates: p.items.iter().filter(|i| of(i) == g).count(),
                floor_idr: floor(g),
                cap_idr: cap(g),
            })
            .collect::<Vec<_>>()
    };
    let kecamatan = group(
        &p.kec_codes,
        &t.kec,
        &|k| (p.kec_floor[k] > 0).then_some(p.kec_floor[k]),
        &|k| p.kec_cap[k],
        &|i| i.kec,
    );
    let category = group(&p.cat_codes, &t.cat, &|_| None, &|g| p.cat_cap[g], &|i| {
        i.cat
    });
    Allocation {
        method,
        optimality_gap,
        exact_core: None,
        budget_idr: p.budget,
        spent_idr: clamp_i64(t.total),
        objective,
        funded,
        unfunded,
        kecamatan,
        category,
        elapsed_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    }
}

/// One kecamatan in the equity view.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EquityRow {
    pub code: String,
    pub spent_idr: i64,
    /// Share of the allocated money spent here (0 to 1).
    pub spent_share: f64,
    /// Share of the region's low-income households living here (0 to 1).
    pub need_share: f64,
    /// What a need-proportional split of the spent money would give this kecamatan, in IDR.
    pub need_proportional_idr: i64,
    /// `spent_share - need_share`: positive when the kecamatan gets more than its need share.
    pub difference: f64,
}

/// The equity view: spending by kecamatan against each kecamatan's share of low-income
/// households.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Equity {
    pub rows: Vec<EquityRow>,
    /// Distance from need-proportional: half the sum of `|spent_share - need_share|`, i.e. the
    /// share of the spent money that would have to move between kecamatan to make the split
    /// need-proportional (0 = exactly proportional, 1 = all of it in kecamatan without need).
    pub distance: f64,
}

/// Computes the equity view from spending and low-income households per kecamatan. Kecamatan
/// present in only one of the two inputs count with zero in the other.
///
/// ```
/// use sigap::analysis::budget::equity;
/// let e = equity(&[("a".into(), 75), ("b".into(), 25)], &[("a".into(), 50), ("b".into(), 50)]);
/// assert!((e.distance - 0.25).abs() < 1e-12);
/// ```
pub fn equity(spent_idr: &[(String, i64)], low_income_households: &[(String, i64)]) -> Equity {
    let mut by_code: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
    for (code, s) in spent_idr {
        by_code.entry(code).or_default().0 += s;
    }
    for (code, h) in low_income_households {
        by_code.entry(code).or_default().1 += h.max(&0);
    }
    let total_spent: i128 = by_code.values().map(|(s, _)| i128::from(*s)).sum();
    let total_need: i128 = by_code.values().map(|(_, h)| i128::from(*h)).sum();
    let share = |v: i64, total: i128| {
        if total > 0 {
            v as f64 / total as f64
        } else {
            0.0
        }
    };
    let rows: Vec<EquityRow> = by_code
        .into_iter()
        .map(|(code, (s, h))| {
            let spent_share = share(s, total_spent);
            let need_share = share(h, total_need);
            EquityRow {
                code: code.to_owned(),
                spent_idr: s,
                spent_share,
                need_share,
                need_proportional_idr: (need_share * total_spent as f64).round() as i64,
                difference: spent_share - need_share,
            }
        })
        .collect();
    let distance = rows.iter().map(|r| r.difference.abs()).sum::<f64>() / 2.0;
    Equity { rows, distance }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(id: i64, kec: &str, cat: &str, cost: Option<i64>) -> Candidate {
        Candidate {
            id,
            kecamatan_code: kec.into(),
            category: cat.into(),
            cost_idr: cost,
            priority: 1.0,
        }
    }

    fn known() -> Vec<String> {
        vec!["32.73.01".into(), "32.73.02".into()]
    }

    #[test]
    fn shares_round_towards_the_rule() {
        assert_eq!(Limit::Share(0.1).cap_idr(1_005), 100);
        assert_eq!(Limit::Share(0.1).floor_idr(1_005), 101);
        assert_eq!(Limit::AmountIdr(7).cap_idr(1_005), 7);
    }

    #[test]
    fn validation_names_the_impossible_constraint() {
        let cands = vec![
            c(1, "32.73.01", "jalan", Some(60)),
            c(2, "32.73.01", "jalan", Some(60)),
            c(3, "32.73.02", "sanitasi", None),
        ];
        let base = Scenario {
            budget_idr: 100,
            must_not_fund: vec![3],
            ..Scenario::default()
        };
        let err = |s: &Scenario| solve(&cands, s, &known(), &SolveOptions::default()).unwrap_err();
        let mut s = base.clone();
        s.category_caps.insert("jalan".into(), Limit::AmountIdr(50));
        s.must_fund = vec![1];
        assert_eq!(
            err(&s),
            BudgetError::MustFundOverCap {
                scope: "category jalan".into(),
                must_fund_idr: 60,
                cap_idr: 50
            }
        );
        let mut s = base.clone();
        s.must_not_fund.clear();
        assert_eq!(err(&s), BudgetError::MissingCost(vec![3]));
        let mut s = base.clone();
        s.must_fund = vec![3];
        assert_eq!(err(&s), BudgetError::ConflictingLists(vec![3]));
        let mut s = base.clone();
        s.kecamatan.insert(
            "32.73.01".into(),
            AreaLimits {
                floor: Some(Limit::AmountIdr(70)),
                cap: Some(Limit::AmountIdr(100)),
            },
        );
        // 60 or 120 can be spent there; 70..=100 cannot.
        assert_eq!(err(&s), BudgetError::Infeasible);
        let options = SolveOptions {
            force_greedy: true,
            ..SolveOptions::default()
        };
        assert!(matches!(
            solve(&cands, &s, &known(), &options),
            Err(BudgetError::GreedyFloorsUnmet { .. })
        ));
    }

    #[test]
    fn reasons_name_the_most_specific_rule() {
        let mut cands = vec![
            c(1, "32.73.01", "jalan", Some(60)),
            c(2, "32.73.01", "jalan", Some(50)),
            c(3, "32.73.02", "sanitasi", Some(10)),
        ];
        cands[1].priority = 1.5; // {2, 3} beats {1, 3}
        let mut s = Scenario {
            budget_idr: 70,
            ..Scenario::default()
        };
        s.kecamatan.insert(
            "32.73.01".into(),
            AreaLimits {
                floor: None,
                cap: Some(Limit::AmountIdr(60)),
            },
        );
        let a = solve(&cands, &s, &known(), &SolveOptions::default()).unwrap();
        assert_eq!(a.funded, vec![2, 3]);
        assert_eq!(
            a.unfunded,
            vec![Unfunded {
                id: 1,
                reason: Reason::KecamatanCap,
                blocked_by: vec![Reason::KecamatanCap, Reason::BudgetExhausted],
                shortfall_idr: 50,
            }]
        );
    }
}
