//! bench/budget: 5,000 candidate proposals, caps on all 30 kecamatan (and floors on ten, caps on
//! every category), solved by the exact method; prints the time and the greedy fallback's
//! optimality gap on the same instance.
//!
//! Run: `cargo run --release --example budget [-- N SEED [correlated]]`. With `correlated`,
//! priorities grow with cost (priority ≈ cost in 10 million IDR ± 10 %), the classic hard case
//! for knapsack-type problems: many proposals have nearly the same priority per rupiah.

use std::collections::BTreeMap;
use std::time::Instant;

use rand::{Rng, SeedableRng};
use sigap::analysis::budget::{
    solve, AreaLimits, Candidate, Limit, Method, Scenario, SolveOptions,
};
use sigap::domain::ProposalCategory;

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(5_000);
    let seed: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(2026);
    let correlated = args.next().is_some_and(|a| a == "correlated");
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);

    let kecamatan: Vec<String> = (1..=30).map(|k| format!("32.73.{k:02}")).collect();
    let candidates: Vec<Candidate> = (0..n)
        .map(|i| {
            // Costs from 25 million to 2.5 billion IDR, rounded to thousands as estimates are.
            let cost = rng.gen_range(25_000..2_500_000) * 1_000;
            let priority = if correlated {
                cost as f64 / 1e7 * rng.gen_range(0.9..1.1)
            } else {
                rng.gen_range(0.0..100.0)
            };
            Candidate {
                id: i as i64 + 1,
                kecamatan_code: kecamatan[rng.gen_range(0..30)].clone(),
                category: ProposalCategory::ALL[rng.gen_range(0..ProposalCategory::ALL.len())]
                    .to_owned(),
                cost_idr: Some(cost),
                priority,
            }
        })
        .collect();
    let total: i64 = candidates.iter().filter_map(|c| c.cost_idr).sum();
    let budget_idr = total / 4;
    let mut limits = BTreeMap::new();
    for (k, code) in kecamatan.iter().enumerate() {
        limits.insert(
            code.clone(),
            AreaLimits {
                floor: (k % 3 == 0).then_some(Limit::Share(0.02)),
                cap: Some(Limit::Share(if k % 2 == 0 { 0.04 } else { 0.05 })),
            },
        );
    }
    let category_caps = ProposalCategory::ALL
        .iter()
        .map(|c| (c.to_string(), Limit::Share(0.2)))
        .collect();
    let scenario = Scenario {
        budget_idr,
        kecamatan: limits,
        category_caps,
        must_fund: vec![1, 2, 3],
        must_not_fund: vec![4, 5],
    };

    println!(
        "instance: {n} candidates, 30 kecamatan caps, 10 floors, {} category caps, budget {budget_idr} IDR (a quarter of all costs), seed {seed}, priorities {}",
        ProposalCategory::ALL.len(),
        if correlated { "correlated with cost" } else { "independent of cost" }
    );
    let t = Instant::now();
    let exact = solve(&candidates, &scenario, &kecamatan, &SolveOptions::default());
    let exact_s = t.elapsed().as_secs_f64();
    let exact = match exact {
        Ok(a) => a,
        Err(e) => {
            eprintln!("exact: {e}");
            std::process::exit(1);
        }
    };
    println!(
        "exact : {:>8.3} s  method {:?}  proven gap {:?}  core {:?}  objective {:.4}  funded {}  spent {} IDR",
        exact_s,
        exact.method,
        exact.optimality_gap,
        exact.exact_core,
        exact.objective,
        exact.funded.len(),
        exact.spent_idr
    );
    let t = Instant::now();
    let options = SolveOptions {
        force_greedy: true,
        ..SolveOptions::default()
    };
    let greedy = match solve(&candidates, &scenario, &kecamatan, &options) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("greedy: {e}");
            std::process::exit(1);
        }
    };
    let greedy_s = t.elapsed().as_secs_f64();
    println!(
        "greedy: {:>8.3} s  objective {:.4}  funded {}  spent {} IDR",
        greedy_s,
        greedy.objective,
        greedy.funded.len(),
        greedy.spent_idr
    );
    let gap = (exact.objective - greedy.objective) / exact.objective;
    println!(
        "greedy optimality gap: {:.4} % of the exact objective; exact/greedy time ratio {:.1}",
        gap * 100.0,
        exact_s / greedy_s.max(1e-9)
    );
    if exact.method != Method::Exact || exact_s > 10.0 {
        eprintln!("exact method did not prove optimality within 10 s");
        std::process::exit(2);
    }
}
