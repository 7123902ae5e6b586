//! `sigap sample scale`: a synthetic city of any size for benchmarks and the gap analysis:
//! villages tiling a region, kecamatan, indicators, partners, programs, coverage and clustered
//! proposals, all generated inside PostgreSQL by sql/queries/scale_generate.sql in one
//! transaction (INSERT … SELECT generate_series, no round trips per row).

use deadpool_postgres::Pool;

use super::{Context, StoreError};

/// What to generate.
#[derive(Debug, Clone, Copy)]
pub struct ScaleOptions {
    pub villages: i32,
    pub proposals: i32,
    pub coverage: i32,
    pub seed: i64,
    /// Delete the existing areas, programs, coverage and proposals first.
    pub replace: bool,
}

/// Why generation did not run.
#[derive(Debug, thiserror::Error)]
pub enum ScaleError {
    #[error("the database already holds {0} kelurahan; pass --replace to delete them (and every proposal, program and coverage area) first")]
    NotEmpty(i64),
    #[error("{0}")]
    Range(&'static str),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Row counts after generation.
#[derive(Debug)]
pub struct ScaleReport {
    pub kecamatan: i64,
    pub kelurahan: i64,
    pub coverage: i64,
    pub proposals: i64,
    pub public_proposals: i64,
}

const GENERATE: &str = include_str!("../../sql/queries/scale_generate.sql");

/// Generates the synthetic city (see the module docs).
pub async fn generate(pool: &Pool, opts: ScaleOptions) -> Result<ScaleReport, ScaleError> {
    if !(1..=200_000).contains(&opts.villages) {
        return Err(ScaleError::Range("--villages must be 1–200000"));
    }
    if !(0..=5_000_000).contains(&opts.proposals) {
        return Err(ScaleError::Range("--proposals must be 0–5000000"));
    }
    if !(0..=1_000_000).contains(&opts.coverage) {
        return Err(ScaleError::Range("--coverage must be 0–1000000"));
    }
    let mut client = pool.get().await.map_err(StoreError::from)?;
    let tx = client
        .transaction()
        .await
        .context("starting the scale transaction")?;
    let existing: i64 = tx
        .query_one("SELECT count(*) FROM kelurahan", &[])
        .await
        .context("counting kelurahan")?
        .get(0);
    if existing > 0 {
        if !opts.replace {
            return Err(ScaleError::NotEmpty(existing));
        }
        tx.batch_execute(
            "DELETE FROM proposal_event; DELETE FROM proposal; DELETE FROM coverage; \
             DELETE FROM program; DELETE FROM partner; DELETE FROM indicator; \
             UPDATE app_user SET home_kelurahan_code = NULL WHERE home_kelurahan_code IS NOT NULL; \
             DELETE FROM kelurahan; DELETE FROM kecamatan; DELETE FROM region;",
        )
        .await
        .context("deleting the existing layers")?;
    }
    tx.execute(
        "CREATE TEMPORARY TABLE scale_params ON COMMIT DROP AS \
         SELECT $1::int AS villages, $2::int AS proposals, $3::int AS coverage",
        &[&opts.villages, &opts.proposals, &opts.coverage],
    )
    .await
    .context("storing the scale parameters")?;
    // The seed is an integer parsed by clap, written as a literal so the random function stays
    // an inlinable constant expression.
    tx.batch_execute(&GENERATE.replace("$SEED", &opts.seed.to_string()))
        .await
        .context("generating the synthetic city")?;
    let row = tx
        .query_one(
            "SELECT (SELECT count(*) FROM kecamatan), (SELECT count(*) FROM kelurahan), \
                    (SELECT count(*) FROM coverage), (SELECT count(*) FROM proposal), \
                    (SELECT count(*) FROM proposal WHERE status = ANY($1))",
            &[&crate::domain::ProposalStatus::PUBLIC],
        )
        .await
        .context("counting the generated rows")?;
    tx.commit().await.context("committing the synthetic city")?;
    Ok(ScaleReport {
        kecamatan: row.get(0),
        kelurahan: row.get(1),
        coverage: row.get(2),
        proposals: row.get(3),
        public_proposals: row.get(4),
    })
}
