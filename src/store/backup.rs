//! Backups: `pg_dump` and `pg_restore` in their custom format, run with the connection SIGAP
//! itself uses (DATABASE_URL and its defaults), so `sigap backup FILE` and `sigap restore FILE`
//! need no second set of settings. A restore goes only into an empty database.

use std::path::Path;

use tokio::process::Command;
use tokio_postgres::config::Host;
use tokio_postgres::Client;

use super::{Context, StoreError};
use crate::config::DbConfig;

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{tool} could not run (is the PostgreSQL client installed?): {source}")]
    Spawn {
        tool: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("{tool} failed: {stderr}")]
    Failed { tool: &'static str, stderr: String },
    #[error("the database already holds SIGAP tables ({tables}): restore into a new, empty database (createdb NAME; DATABASE_URL=dbname=NAME sigap restore FILE)")]
    NotEmpty { tables: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The libpq environment of SIGAP's own connection settings.
fn libpq_env(db: &DbConfig) -> Result<Vec<(&'static str, String)>, StoreError> {
    let cfg = db
        .pg_config()
        .map_err(|e| StoreError::Config(e.to_string()))?;
    let mut env = Vec::new();
    if let Some(host) = cfg.get_hosts().first() {
        env.push((
            "PGHOST",
            match host {
                Host::Tcp(h) => h.clone(),
                Host::Unix(p) => p.display().to_string(),
            },
        ));
    }
    if let Some(port) = cfg.get_ports().first() {
        env.push(("PGPORT", port.to_string()));
    }
    if let Some(user) = cfg.get_user() {
        env.push(("PGUSER", user.to_owned()));
    }
    if let Some(db) = cfg.get_dbname() {
        env.push(("PGDATABASE", db.to_owned()));
    }
    if let Some(pw) = cfg.get_password() {
        env.push(("PGPASSWORD", String::from_utf8_lossy(pw).into_owned()));
    }
    Ok(env)
}

async fn run(
    tool: &'static str,
    args: &[&std::ffi::OsStr],
    db: &DbConfig,
) -> Result<(), BackupError> {
    let out = Command::new(tool)
        .args(args)
        .envs(libpq_env(db)?)
        .output()
        .await
        .map_err(|source| BackupError::Spawn { tool, source })?;
    if out.status.success() {
        Ok(())
    } else {
        Err(BackupError::Failed {
            tool,
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        })
    }
}

/// Writes the whole database (schema, data, the PostGIS extension) to `file` in pg_dump's
/// custom format (compressed; restorable table by table with pg_restore).
pub async fn backup(db: &DbConfig, file: &Path) -> Result<(), BackupError> {
    run(
        "pg_dump",
        &[
            "--format=custom".as_ref(),
            "--no-owner".as_ref(),
            "--file".as_ref(),
            file.as_os_str(),
        ],
        db,
    )
    .await
}

/// The tables of the public schema other than PostGIS's own.
async fn user_tables(client: &Client) -> Result<Vec<String>, StoreError> {
    let rows = client
        .query(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
               AND c.relname <> 'spatial_ref_sys'
             ORDER BY 1 LIMIT 5",
            &[],
        )
        .await
        .context("listing the tables of the target database")?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// Restores `file` into the (empty) database of `db`, in one transaction: it loads whole or not
/// at all.
pub async fn restore(db: &DbConfig, client: &Client, file: &Path) -> Result<(), BackupError> {
    let tables = user_tables(client).await?;
    if !tables.is_empty() {
        return Err(BackupError::NotEmpty {
            tables: tables.join(", "),
        });
    }
    // The dump creates the PostGIS extension itself; an empty database may already have it.
    client
        .batch_execute("DROP EXTENSION IF EXISTS postgis")
        .await
        .context("preparing the empty database")?;
    run(
        "pg_restore",
        &[
            "--single-transaction".as_ref(),
            "--exit-on-error".as_ref(),
            "--no-owner".as_ref(),
            "--dbname".as_ref(),
            libpq_dbname(db)?.as_ref(),
            file.as_os_str(),
        ],
        db,
    )
    .await
}

/// pg_restore needs `--dbname` (without it, it prints a script); the environment fills the rest.
fn libpq_dbname(db: &DbConfig) -> Result<String, StoreError> {
    let cfg = db
        .pg_config()
        .map_err(|e| StoreError::Config(e.to_string()))?;
    Ok(cfg.get_dbname().unwrap_or("sigap").to_owned())
}
