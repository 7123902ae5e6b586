//! SIGAP sample-layer generator (Kota Bandung).
//!
//! Builds plausible, clearly approximate sample layers from the kelurahan and
//! kecamatan facts: boundaries (a power diagram fitted to the area facts inside
//! a generated city outline), indicators, partners, programs, program coverage
//! and citizen proposals. Deterministic for a given seed.
//!
//! ```text
//! cargo run --release --example generate_sample -- \
//!     [--facts sample-layers/facts] [--out sample-layers] [--seed 20261128]
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

use geo::{Contains, Point};
use geom::to_geo_multi;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

struct Args {
    facts: PathBuf,
    out: PathBuf,
    seed: u64,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        facts: PathBuf::from("sample-layers/facts"),
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
            "--out" => a.out = PathBuf::from(val("--out")?),
            "--seed" => {
                a.seed = val("--seed")?
                    .parse()
                    .map_err(|_| "--seed must be an integer".to_string())?
            }
            "-h" | "--help" => {
                println!("usage: generate_sample [--facts DIR] [--out DIR] [--seed N]");
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

    // --- boundaries
    let layers = layers::build(&facts, &mut stream(args.seed, 1), false);
    let st = &layers.stats;
    if !st.invalid.is_empty() {
        return Err(format!("invalid geometries: {}", st.invalid.join(" | ")));
    }
    if !st.all_points_inside {
        let names: Vec<&str> = st
            .points_outside
            .iter()
            .map(|&i| facts.kelurahan[i].name.as_str())
            .collect();
        return Err(format!(
            "fact points outside their kelurahan: {}",
            names.join(", ")
        ));
    }
    let region_code = facts
        .kecamatan
        .first()
        .and_then(|k| k.code.rsplit_once('.').map(|(r, _)| r.to_string()))
        .unwrap_or_else(|| "32.73".into());
    let region = vec![out::feature(
        &[
            ("code", Value::from(region_code.clone())),
            ("name", Value::from("Kota Bandung")),
        ],
        &out::multipolygon(&layers.city),
    )];
    write(&args.out, "region.geojson", &out::collection(&region))?;
    let kec: Vec<String> = facts
        .kecamatan
        .iter()
        .zip(&layers.kec)
        .map(|(k, g)| {
            out::feature(
                &[
                    ("code", Value::from(k.code.clone())),
                    ("name", Value::from(k.name.clone())),
                    ("region_code", Value::from(region_code.clone())),
                ],
                &out::multipolygon(g),
            )
        })
        .collect();
    write(&args.out, "kecamatan.geojson", &out::collection(&kec))?;
    let kel: Vec<String> = facts
        .kelurahan
        .iter()
        .zip(&layers.kel)
        .map(|(k, g)| {
            out::feature(
                &[
                    ("code", Value::from(k.code.clone())),
                    ("name", Value::from(k.name.clone())),
                    ("kecamatan_code", Value::from(k.kecamatan_code.clone())),
                ],
                &out::multipolygon(g),
            )
        })
        .collect();
    write(&args.out, "kelurahan.geojson", &out::collection(&kel))?;

    // --- tables
    let ind = tables::indicators(&facts, &mut stream(args.seed, 2));
    write(
        &args.out,
        "indicators.csv",
        &tables::indicators_csv(&facts, &ind),
    )?;
    write(&args.out, "partners.csv", &tables::partners_csv())?;
    write(&args.out, "programs.csv", &programs::programs_csv())?;

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
    let city = to_geo_multi(&layers.city);
    let mut outside_city = 0;
    let prop_features: Vec<String> = props
        .iter()
        .map(|p| {
            let pt = Point::new(
                p.point.0 as f64 / geom::MICRO,
                p.point.1 as f64 / geom::MICRO,
            );
            if !city.contains(&pt) {
                outside_city += 1;
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
    if outside_city > 0 {
        return Err(format!("{outside_city} proposals fell outside the city"));
    }
    write(
        &args.out,
        "proposals.geojson",
        &out::collection(&prop_features),
    )?;

    // --- summary
    let worst = &facts.kelurahan[st.max_rel_err_at];
    println!(
        "kelurahan areas vs facts: mean |error| {:.2}%, max {:.2}% ({} {:.3} vs {:.3} km²); city {:.2} km² (facts {:.2}); multi-part cells fixed: {}",
        100.0 * st.mean_rel_err,
        100.0 * st.max_rel_err,
        worst.name,
        st.kel_area_km2[st.max_rel_err_at],
        worst.area_km2,
        st.city_area_km2,
        st.fact_area_km2,
        st.multipart_cells
    );
    println!(
        "  (power-diagram fit before snapping: mean {:.2}%, max {:.2}%)",
        100.0 * st.fit_mean_err,
        100.0 * st.fit_max_err
    );
    println!(
        "fact points inside their own kelurahan: {}; all geometries valid: yes; city = {} polygon(s), {} hole(s)",
        if st.all_points_inside { "all" } else { "NO" },
        layers.city.len(),
        layers.city.iter().map(|p| p.len() - 1).sum::<usize>()
    );
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
        "wrote 8 files to {} in {:.1?}",
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
