//! Schema migrations: the numbered files of sql/migrations, applied in order by refinery, each
//! recorded with its checksum in `refinery_schema_history`. An applied migration that was edited
//! afterwards stops the run and is named.

use std::path::Path;

use refinery::error::Kind;
use refinery::Runner;
use tokio_postgres::Client;

use super::{Context, StoreError};

mod embedded {
    refinery::embed_migrations!("sql/migrations");
}

/// What a migration run did.
#[derive(Debug, Default)]
pub struct MigrateReport {
    /// File names applied by this run, in order; empty when the schema was already current.
    pub applied: Vec<String>,
}

fn runner(dir: Option<&Path>) -> Result<Runner, StoreError> {
    let runner = match dir {
        Some(dir) => Runner::new(&refinery::load_sql_migrations(dir)?),
        None => embedded::migrations::runner(),
    };
    Ok(runner.set_abort_divergent(true).set_abort_missing(true))
}

/// Applies every pending migration. `dir` reads the files from disk instead of the copies
/// embedded in the binary at build time.
pub async fn run(client: &mut Client, dir: Option<&Path>) -> Result<MigrateReport, MigrateError> {
    let report = runner(dir)?
        .run_async(client)
        .await
        .map_err(MigrateError::from_refinery)?;
    Ok(MigrateReport {
        applied: report
            .applied_migrations()
            .iter()
            .map(|m| format!("V{}__{}.sql", m.version(), m.name()))
            .collect(),
    })
}

/// The highest migration version this build knows.
pub fn latest_version() -> i64 {
    embedded::migrations::runner()
        .get_migrations()
        .iter()
        .map(|m| i64::from(m.version()))
        .max()
        .unwrap_or(0)
}

/// True when the database has every migration of this build applied.
pub async fn is_current(client: &Client) -> Result<bool, StoreError> {
    let exists: bool = client
        .query_one(
            "SELECT to_regclass('refinery_schema_history') IS NOT NULL",
            &[],
        )
        .await
        .context("checking for the migration history")?
        .get(0);
    if !exists {
        return Ok(false);
    }
    let applied: Option<i32> = client
        .query_one("SELECT max(version) FROM refinery_schema_history", &[])
        .await
        .context("reading the migration history")?
        .get(0);
    Ok(applied.map(i64::from) == Some(latest_version()))
}

/// Why a migration run stopped.
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error(
        "migration {file} was edited after it was applied (its checksum no longer matches the one \
         recorded in refinery_schema_history). Applied migrations are never edited: restore the \
         file and add a new migration instead"
    )]
    Edited { file: String },
    #[error(
        "migration {file} is recorded as applied in this database but is missing from this build"
    )]
    Missing { file: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl MigrateError {
    fn from_refinery(e: refinery::Error) -> Self {
        match e.kind() {
            Kind::DivergentVersion(applied, _) => MigrateError::Edited {
                file: format!("V{}__{}.sql", applied.version(), applied.name()),
            },
            Kind::MissingVersion(applied) => MigrateError::Missing {
                file: format!("V{}__{}.sql", applied.version(), applied.name()),
            },
            _ => MigrateError::Store(StoreError::Migration(e)),
        }
    }
}
