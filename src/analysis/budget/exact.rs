//! The exact method: a 0/1 integer programme, shrunk by Lagrangian variable fixing and then
//! solved by good_lp + microlp.
//!
//! microlp alone does not prove optimality on 5,000 binaries with 60+ rows in useful time (its
//! branch and bound keeps splitting near-ties), so the solver first shrinks the problem without
//! losing optimality:
//!
//! 1. Every row has the proposal's cost as coefficient (budget, kecamatan cap and floor, category
//!    cap), so with multipliers `u >= 0` the Lagrangian bound is
//!    `L(u) = sum_j max(0, r_j) + sum_rows u_row * (±rhs_row)` with reduced priority
//!    `r_j = p_j - c_j * (λ + μ_kec(j) - ν_kec(j) + ρ_cat(j))`. For any feasible selection `x`,
//!    `priority(x) <= L(u)`, and if `x_j` differs from the sign of `r_j`,
//!    `priority(x) <= L(u) - |r_j|`. Subgradient steps (Polyak, target = the incumbent) bring
//!    `L(u)` near the LP bound.
//! 2. With the greedy allocation as incumbent `LB`, every proposal with `L(u) - |r_j| < LB - tol`
//!    is fixed to its Lagrangian choice: any selection that disagrees is worse than the incumbent.
//!    On budget-shaped problems this fixes all but the proposals whose priority per rupiah is
//!    close to the marginal one (the "core", typically a few dozen).
//! 3. The core goes to microlp as a 0/1 programme (rows scaled by 2^-20 so that whole-rupiah
//!    amounts and their sums stay exact in `f64`), warm-started with the incumbent.
//!
//! The best of the core optimum and the incumbent is optimal for the whole problem (to the
//! relative tolerance `tol` = 1e-9 of the objective). Without an incumbent (greedy could not meet
//! the floors) nothing is fixed and microlp gets the whole problem.

use std::time::{Duration, Instant};

use good_lp::{variable, Expression, ProblemVariables, ResolutionError, Solution, SolverModel};
use good_lp::{WithInitialSolution, WithTimeLimit};

use super::{BudgetError, Fix, Prepared};

/// Multiplying whole rupiah by a power of two is exact, and keeps the rows in a range where
/// microlp's absolute tolerances (1e-7) are far below one rupiah (2^-20 ≈ 9.5e-7 per rupiah).
const SCALE: f64 = 1.0 / 1_048_576.0;

/// What the exact method found.
#[derive(Debug, Clone)]
pub(super) struct ExactOutcome {
    pub selected: Vec<bool>,
    pub proven_optimal: bool,
    /// Relative gap when not proven optimal.
    pub gap: Option<f64>,
    /// How many proposals were left to the integer programme after fixing.
    pub core_size: usize,
}

/// One coupling row over the free proposals: `sum c_j x_j <= rhs` (or `>=` for floors).
struct Row {
    members: Vec<usize>,
    rhs: f64,
    /// +1 for `<=` (cap, budget), -1 for `>=` (floor).
    sense: f64,
}

/// The free proposals and the coupling rows with the room left after the must-fund ones.
struct Model {
    free: Vec<usize>,
    /// Cost of each free proposal in units of `unit` IDR (for the Lagrangian only).
    cost: Vec<f64>,
    priority: Vec<f64>,
    rows: Vec<Row>,
    /// Rows each free proposal belongs to.
    rows_of: Vec<Vec<usize>>,
}

fn model(p: &Prepared, unit: f64) -> Model {
    let free: Vec<usize> = (0..p.items.len())
        .filter(|&i| p.items[i].fix == Fix::Free)
        .collect();
    let fixed = p.totals(&p.fixed_selection());
    let mut rows = Vec::new();
    rows.push(Row {
        members: (0..free.len()).collect(),
        rhs: (i128::from(p.budget) - fixed.total) as f64 / unit,
        sense: 1.0,
    });
    for k in 0..p.kec_codes.len() {
        let members: Vec<usize> = (0..free.len())
            .filter(|&f| p.items[free[f]].kec == k)
            .collect();
        if let Some(cap) = p.kec_cap[k] {
            rows.push(Row {
                members: members.clone(),
                rhs: (i128::from(cap) - fixed.kec[k]) as f64 / unit,
                sense: 1.0,
            });
        }
        let need = i128::from(p.kec_floor[k]) - fixed.kec[k];
        if need > 0 {
            rows.push(Row {
                members,
                rhs: need as f64 / unit,
                sense: -1.0,
            });
        }
    }
    for g in 0..p.cat_codes.len() {
        if let Some(cap) = p.cat_cap[g] {
            rows.push(Row {
                members: (0..free.len())
                    .filter(|&f| p.items[free[f]].cat == g)
                    .collect(),
                rhs: (i128::from(cap) - fixed.cat[g]) as f64 / unit,
                sense: 1.0,
            });
        }
    }
    let mut rows_of = vec![Vec::new(); free.len()];
    for (r, row) in rows.iter().enumerate() {
        for &f in &row.members {
            rows_of[f].push(r);
        }
    }
    Model {
        cost: free
            .iter()
            .map(|&i| p.items[i].cost as f64 / unit)
            .collect(),
        priority: free.iter().map(|&i| p.items[i].priority).collect(),
        free,
        rows,
        rows_of,
    }
}

impl Model {
    /// Reduced priorities and the Lagrangian bound for multipliers `u`.
    fn lagrangian(&self, u: &[f64], reduced: &mut [f64]) -> f64 {
        let mut bound: f64 = self
            .rows
            .iter()
            .zip(u)
            .map(|(row, ui)| ui * row.sense * row.rhs)
            .sum();
        for (f, r) in reduced.iter_mut().enumerate() {
            let price: f64 = self.rows_of[f]
                .iter()
                .map(|&row| u[row] * self.rows[row].sense)
                .sum();
            *r = self.priority[f] - self.cost[f] * price;
            if *r > 0.0 {
                bound += *r;
            }
        }
        bound
    }

    /// Minimises the Lagrangian bound by projected subgradient steps (Polyak step towards
    /// `target`, the incumbent's objective). Returns the best bound and its reduced priorities.
    fn dual(&self, target: f64, deadline: Instant) -> (f64, Vec<f64>) {
        let n = self.free.len();
        let mut u = vec![0.0; self.rows.len()];
        let mut reduced = vec![0.0; n];
        let mut best = self.lagrangian(&u, &mut reduced);
        let mut best_reduced = reduced.clone();
        let mut theta = 2.0;
        let mut stale = 0;
        let tol = 1e-9 * target.abs().max(1.0);
        for _ in 0..5_000 {
            if best - target <= tol || Instant::now() > deadline {
                break;
            }
            let bound = self.lagrangian(&u, &mut reduced);
            if bound < best - tol {
                best = bound;
                best_reduced.copy_from_slice(&reduced);
                stale = 0;
            } else {
                stale += 1;
                if stale >= 25 {
                    theta /= 2.0;
                    stale = 0;
                    if theta < 1e-6 {
                        break;
                    }
                }
            }
            // Subgradient of L at u: sense * (rhs - activity of the Lagrangian choice).
            let mut grad: Vec<f64> = self.rows.iter().map(|r| r.sense * r.rhs).collect();
            for (f, r) in reduced.iter().enumerate() {
                if *r > 0.0 {
                    for &row in &self.rows_of[f] {
                        grad[row] -= self.rows[row].sense * self.cost[f];
                    }
                }
            }
            let norm2: f64 = grad
                .iter()
                .zip(&u)
                // A multiplier at zero whose gradient pushes it below zero stays put.
                .map(|(g, ui)| if *ui <= 0.0 && *g > 0.0 { 0.0 } else { g * g })
                .sum();
            if norm2 <= 0.0 {
                break;
            }
            let step = theta * (bound - target).max(tol) / norm2;
            for (ui, g) in u.iter_mut().zip(&grad) {
                *ui = (*ui - step * g).max(0.0);
            }
        }
        (best, best_reduced)
    }
}

/// Finds a priority-maximising selection. `warm` is a feasible selection (the greedy one), used
/// as incumbent for fixing and as microlp's starting point.
pub(super) fn select(
    p: &Prepared,
    time_limit: Duration,
    warm: Option<&[bool]>,
) -> Result<ExactOutcome, BudgetError> {
    let started = Instant::now();
    let deadline = started + time_limit;
    let unit = (p.budget.max(1)) as f64;
    let m = model(p, unit);
    let n = m.free.len();
    let objective = |sel: &[bool]| -> f64 {
        p.items
            .iter()
            .zip(sel)
            .filter(|(_, s)| **s)
            .map(|(i, _)| i.priority)
            .sum()
    };
    let fixed_obj = objective(&p.fixed_selection());

    // Without an incumbent nothing can be fixed: microlp gets the whole problem.
    let Some(warm) = warm else {
        let base = p.fixed_selection();
        let all: Vec<usize> = (0..n).collect();
        return match solve_core(p, &m, &all, &base, None, time_limit) {
            Ok((selected, proven, bound)) => {
                let got = objective(&selected);
                let gap = (!proven)
                    .then(|| bound.map(|b| b + fixed_obj))
                    .flatten()
                    .filter(|ub| *ub > 0.0)
                    .map(|ub| ((ub - got) / ub).max(0.0));
                Ok(ExactOutcome {
                    selected,
                    proven_optimal: proven,
                    gap,
                    core_size: n,
                })
            }
            Err(CoreError::Infeasible) => Err(BudgetError::Infeasible),
            Err(CoreError::NoSolution) => Err(BudgetError::NoSolutionInTime(time_limit.as_secs())),
            Err(CoreError::Other(e)) => Err(BudgetError::Solver(e)),
        };
    };

    // Rounds: fix against the incumbent, solve the core for a slice of the time; a better
    // incumbent found in a round fixes more in the next (the bound stays valid), so the core
    // shrinks until microlp proves it. The last round gets all the time left.
    let mut best = warm.to_vec();
    let mut upper = f64::INFINITY;
    let mut reduced = Vec::new();
    let mut last_core = n;
    let mut solver_upper = f64::INFINITY;
    const ROUNDS: u32 = 4;
    for round in 0..ROUNDS {
        let lb = objective(&best) - fixed_obj;
        let dual_deadline = Instant::now() + deadline.saturating_duration_since(Instant::now()) / 8;
        let (bound, r) = m.dual(lb, dual_deadline);
        if bound < upper {
            upper = bound;
            reduced = r;
        }
        let tol = 1e-9 * lb.abs().max(1.0);
        let fixed: Vec<Option<bool>> = reduced
            .iter()
            .map(|r| (upper - r.abs() < lb - tol).then_some(*r > 0.0))
            .collect();
        let core: Vec<usize> = (0..n).filter(|&f| fixed[f].is_none()).collect();
        last_core = core.len();
        let mut base = p.fixed_selection();
        for (f, fix) in fixed.iter().enumerate() {
            if *fix == Some(true) {
                base[m.free[f]] = true;
            }
        }
        let left = deadline.saturating_duration_since(Instant::now());
        let slice = if round + 1 == ROUNDS {
            left
        } else {
            left / (ROUNDS - round)
        };
        match solve_core(p, &m, &core, &base, Some(&best), slice) {
            Ok((selected, proven, bound)) => {
                if objective(&selected) > objective(&best) {
                    best = selected;
                }
                if proven {
                    return Ok(ExactOutcome {
                        selected: best,
                        proven_optimal: true,
                        gap: None,
                        core_size: last_core,
                    });
                }
                solver_upper = bound.map_or(f64::INFINITY, |b| b + objective(&base));
            }
            // The incumbent agrees with every fixing (a selection that disagrees is worse than
            // it), so a core without a feasible completion means the incumbent is optimal.
            Err(CoreError::Infeasible) => {
                return Ok(ExactOutcome {
                    selected: best,
                    proven_optimal: true,
                    gap: None,
                    core_size: last_core,
                })
            }
            Err(CoreError::NoSolution) => {}
            Err(CoreError::Other(e)) => return Err(BudgetError::Solver(e)),
        }
        if Instant::now() >= deadline {
            break;
        }
    }
    // Both bounds in whole-objective terms: the Lagrangian one covers the free proposals (plus
    // the must-fund ones), the solver's covers the last core (plus everything fixed).
    let ub = (upper + fixed_obj).min(solver_upper);
    let got = objective(&best);
    let gap = (ub.is_finite() && ub > 0.0).then(|| ((ub - got) / ub).max(0.0));
    Ok(ExactOutcome {
        selected: best,
        proven_optimal: false,
        gap,
        core_size: last_core,
    })
}

enum CoreError {
    Infeasible,
    NoSolution,
    Other(String),
}

/// Solves the 0/1 programme over the `core` free proposals, the others staying as in `base`.
/// Returns the full selection, whether optimality was proven, and the solver's bound on the
/// core's objective when it was not.
fn solve_core(
    p: &Prepared,
    m: &Model,
    core: &[usize],
    base: &[bool],
    warm: Option<&[bool]>,
    time_limit: Duration,
) -> Result<(Vec<bool>, bool, Option<f64>), CoreError> {
    let t = p.totals(base);
    if core.is_empty() {
        return if p.unmet_floors(&t).is_empty() && within_caps(p, &t) {
            Ok((base.to_vec(), true, None))
        } else {
            Err(CoreError::Infeasible)
        };
    }
    let mut vars = ProblemVariables::new();
    let xs: Vec<_> = core.iter().map(|_| vars.add(variable().binary())).collect();
    let objective: Expression = core.iter().zip(&xs).map(|(&f, x)| m.priority[f] * *x).sum();
    let cost = |f: usize| p.items[m.free[f]].cost as f64 * SCALE;
    let room = |limit: i64, used: i128| (i128::from(limit) - used) as f64 * SCALE;
    let mut lp = vars
        .maximise(objective)
        .using(good_lp::microlp)
        .with_time_limit(time_limit.as_secs_f64().max(0.1));
    if let Some(w) = warm {
        lp = lp.with_initial_solution(
            core.iter()
                .zip(&xs)
                .map(|(&f, x)| (*x, if w[m.free[f]] { 1.0 } else { 0.0 })),
        );
    }
    let row_over = |pick: &dyn Fn(usize) -> bool| -> (Expression, f64) {
        let mut total = 0.0;
        let expr = core
            .iter()
            .zip(&xs)
            .filter(|(&f, _)| pick(f))
            .map(|(&f, x)| {
                total += cost(f);
                cost(f) * *x
            })
            .sum();
        (expr, total)
    };
    let (e, total) = row_over(&|_| true);
    let r = room(p.budget, t.total);
    if total > r {
        lp = lp.with(e.leq(r));
    }
    for k in 0..p.kec_codes.len() {
        let (e, total) = row_over(&|f| p.items[m.free[f]].kec == k);
        if let Some(cap) = p.kec_cap[k] {
            let r = room(cap, t.kec[k]);
            if total > r {
                lp = lp.with(e.clone().leq(r));
            }
        }
        let need = room(p.kec_floor[k], t.kec[k]);
        if need > 0.0 {
            lp = lp.with(e.geq(need));
        }
    }
    for g in 0..p.cat_codes.len() {
        if let Some(cap) = p.cat_cap[g] {
            let (e, total) = row_over(&|f| p.items[m.free[f]].cat == g);
            let r = room(cap, t.cat[g]);
            if total > r {
                lp = lp.with(e.leq(r));
            }
        }
    }
    let solution = match lp.solve() {
        Ok(s) => s,
        Err(ResolutionError::Infeasible) => return Err(CoreError::Infeasible),
        Err(ResolutionError::Other(_)) => return Err(CoreError::NoSolution),
        Err(e) => return Err(CoreError::Other(e.to_string())),
    };
    let proven = matches!(solution.status(), good_lp::SolutionStatus::Optimal);
    let mut selected = base.to_vec();
    for (&f, x) in core.iter().zip(&xs) {
        if solution.value(*x) > 0.5 {
            selected[m.free[f]] = true;
        }
    }
    let bound = (!proven)
        .then(|| solution.into_inner().stats().best_bound)
        .flatten();
    // The solver's answer is checked in whole rupiah; a violation would be a solver fault.
    let t = p.totals(&selected);
    if !(p.unmet_floors(&t).is_empty() && within_caps(p, &t)) {
        return Err(CoreError::Other(
            "the solver returned an allocation that breaks a constraint".into(),
        ));
    }
    Ok((selected, proven, bound))
}

/// True when totals `t` respect the budget and every cap.
pub(super) fn within_caps(p: &Prepared, t: &super::Totals) -> bool {
    t.total <= i128::from(p.budget)
        && p.kec_cap
            .iter()
            .zip(&t.kec)
            .all(|(c, s)| c.is_none_or(|c| *s <= i128::from(c)))
        && p.cat_cap
            .iter()
            .zip(&t.cat)
            .all(|(c, s)| c.is_none_or(|c| *s <= i128::from(c)))
}
