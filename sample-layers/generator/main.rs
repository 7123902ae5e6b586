//! SIGAP sample-layer generator (Kota Bandung).
//!
//! The boundaries in sample-layers/ are real (kelurahan.geojson, kecamatan.geojson and
//! region.geojson, see sample-layers/PROVENANCE.md); this program writes the layers around them:
//! indicators (BPS kecamatan facts spread to kelurahan by area), and the fictional partners,
//! programs, program coverage and citizen proposals, each placed inside the real kelurahan it
//! names. Deterministic for a given seed.
//!
//! ```text
//! cargo run --release --example generate_sample -- [--facts sample-layers/facts] \
//!     [--boundaries sample-layers/kelurahan.geojson] [--out sample-layers] [--seed 20261128]
//! ```
//!
//! Standalone on purpose: uses only geo, serde_json, rand/rand_chacha and
//! chrono (GeoJSON is written by hand so member order and number formatting are
//! fixed); it does not depend on the sigap lib.

// Numeric code over parallel arrays (cells, weights, targets) reads best with
// index loops.
#![allow(clippy::needless_range_loop)]

mod facts;
mod geom;
mod layers;
mod out;
mod programs;
mod proposals;
mod tables;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

struct Args {
    facts: PathBuf,
    boundaries: PathBuf,
    out: PathBuf,
    seed: u64,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        facts: PathBuf::from("sample-layers/facts"),
        boundaries: PathBuf::from("sample-layers/kelurahan.geojson"),
        out: PathBuf::from("sample-layers"),
        seed: 20261128,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let (key, inline) = match k.split_once('=') {
            Some((k, v)) => (k.to_string(), Some(v.to_string())),
            None => (k.clone(), None),
        };
        let mut val = |name: &str| -> Result<String, String> {
            inline
                .clone()
                .or_else(|| it.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match key.as_str() {
            "--facts" => a.facts = PathBuf::from(val("--facts")?),
            "--boundaries" => a.boundaries = PathBuf::from(val("--boundaries")?),
            "--out" => a.out = PathBuf::from(val("--out")?),
            "--seed" => {
                a.seed = val("--seed")?
                    .parse()
                    .map_err(|_| "--seed must be an integer".to_string())?
            }
            "-h" | "--help" => {
                println!("usage: generate_sample [--facts DIR] [--boundaries FILE] [--out DIR] [--seed N]");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(a)
}

/// Independent random streams per part, so that changing one part of the
/// generator does not reshuffle the others.
fn stream(seed: u64, part: u64) -> ChaCha8Rng {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    r.set_stream(part);
    r
}

fn write(dir: &Path, name: &str, content: &str) -> Result<(), String> {
    let p = dir.join(name);
    std::fs::write(&p, content).map_err(|e| format!("{}: {e}", p.display()))
}

fn run(args: &Args) -> Result<(), String> {
    let t0 = std::time::Instant::now();
    let facts = facts::load(&args.facts)?;
    std::fs::create_dir_all(&args.out).map_err(|e| format!("{}: {e}", args.out.display()))?;
    println!(
        "SIGAP sample generator: {} kelurahan, {} kecamatan, seed {}",
        facts.kelurahan.len(),
        facts.kecamatan.len(),
        args.seed
    );

    // --- boundaries: the real ones, read (not written) so the fictional layers fit them
    let layers = layers::load(&facts, &args.boundaries)?;

    // --- tables
    let ind = tables::indicators(&facts);
    write(
        &args.out,
        "indicators.csv",
        &tables::indicators_csv(&facts, &ind),
    )?;
    write(&args.out, "partners.csv", &tables::partners_csv())?;
    write(&args.out, "programs.csv", &programs::programs_csv())?;
    write(
        &args.out,
        "coverage_rules.csv",
        &programs::coverage_rules_csv(),
    )?;

    // --- coverage
    let cov = programs::coverage(&facts, &layers, &mut stream(args.seed, 3));
    let cov_features: Vec<String> = cov
        .iter()
        .map(|c| {
            let (geom, radius) = match &c.geom {
                programs::CovGeom::Area(g) => (out::polygon_or_multi(g), Value::Null),
                programs::CovGeom::Site(p, r) => (out::point(*p), Value::from(*r as i64)),
            };
            out::feature(
                &[
                    ("code", Value::from(c.code.clone())),
                    (
                        "program_code",
                        Value::from(programs::PROGRAMS[c.program].code),
                    ),
                    ("radius_m", radius),
                    ("valid_from", Value::from(c.from.to_string())),
                    ("valid_to", Value::from(c.to.to_string())),
                    ("note", Value::from(c.note.clone())),
                ],
                &geom,
            )
        })
        .collect();
    write(
        &args.out,
        "coverage.geojson",
        &out::collection(&cov_features),
    )?;

    // --- proposals
    let props = proposals::generate(
        &facts,
        &layers,
        &ind.low_income_2017,
        340,
        &mut stream(args.seed, 4),
    );
    let mut misplaced = 0;
    let prop_features: Vec<String> = props
        .iter()
        .map(|p| {
            if !layers.only_in(p.point, p.kel) {
                misplaced += 1;
            }
            out::feature(
                &[
                    ("code", Value::from(p.code.clone())),
                    ("category", Value::from(p.category)),
                    ("title", Value::from(p.title.clone())),
                    ("description", Value::from(p.description.clone())),
                    (
                        "estimated_cost_idr",
                        p.cost.map(Value::from).unwrap_or(Value::Null),
                    ),
                    ("status", Value::from(p.status)),
                    (
                        "created_at",
                        Value::from(p.created_at.format("%Y-%m-%dT%H:%M:%SZ").to_string()),
                    ),
                ],
                &out::point(p.point),
            )
        })
        .collect();
    if misplaced > 0 {
        return Err(format!(
            "{misplaced} proposals are not inside exactly their own kelurahan"
        ));
    }
    write(
        &args.out,
        "proposals.geojson",
        &out::collection(&prop_features),
    )?;

    // --- summary
    let n_pts = cov
        .iter()
        .filter(|c| matches!(c.geom, programs::CovGeom::Site(..)))
        .count();
    println!(
        "partners {}, programs {}, coverage {} ({} areas, {} sites), proposals {} ({} with no cost)",
        tables::PARTNERS.len(),
        programs::PROGRAMS.len(),
        cov.len(),
        cov.len() - n_pts,
        n_pts,
        props.len(),
        props.iter().filter(|p| p.cost.is_none()).count()
    );
    let mut mix: Vec<String> = Vec::new();
    for (s, _, _) in proposals::STATUSES {
        mix.push(format!(
            "{s} {}",
            props.iter().filter(|p| p.status == *s).count()
        ));
    }
    println!("proposal status mix: {}", mix.join(", "));
    let density = ind.low_income_density(&facts);
    let an = programs::analyse(&facts, &cov, &density);
    for l in &an.lines {
        println!("{l}");
    }
    let poor_uncovered: Vec<usize> = an
        .poorest
        .iter()
        .copied()
        .filter(|k| !an.covered.contains(k))
        .collect();
    println!(
        "kelurahan touched by any program: {} of {}; proposals in the uncovered poorest ({}): {}",
        an.covered.len(),
        facts.kelurahan.len(),
        poor_uncovered
            .iter()
            .map(|&k| facts.kelurahan[k].name.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        props
            .iter()
            .filter(|p| poor_uncovered.contains(&p.kel))
            .count()
    );
    println!(
        "wrote 6 files to {} in {:.1?}",
        args.out.display(),
        t0.elapsed()
    );
    Ok(())
}

fn main() -> ExitCode {
    geom::install_panic_hook();
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
