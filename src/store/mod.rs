//! The database: the connection pool, migrations, and one module per table family. The only
//! place that speaks SQL.

pub mod audit;
pub mod backup;
pub mod budget;
pub mod collections;
pub mod features;
pub mod follow;
pub mod gap;
pub mod gap_live;
pub mod gap_rows;
pub mod idempotency;
pub mod import;
pub mod migrate;
pub mod partner_coverage;
pub mod partners;
pub mod profile;
pub mod progress;
pub mod proposals;
pub mod quality;
pub mod rate_limit;
pub mod read_routing;
pub mod scale;
pub mod sources;
pub mod tile_cache;
pub mod tiles;
pub mod users;

use std::sync::{Arc, Weak};

use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod, StatementCache};
use tokio_postgres::NoTls;

use crate::config::DbConfig;

/// A failure while talking to PostgreSQL, with what SIGAP was doing at the time.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("could not get a database connection: {0}")]
    Pool(#[from] deadpool_postgres::PoolError),
    #[error("Postgres error while {context}: {source}")]
    Postgres {
        context: &'static str,
        #[source]
        source: tokio_postgres::Error,
    },
    #[error("migration failed: {0}")]
    Migration(#[from] refinery::Error),
    #[error("invalid database configuration: {0}")]
    Config(String),
}

impl StoreError {
    /// True when the database itself is unreachable (answered as 503, not 500).
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Pool(_) => true,
            StoreError::Postgres { source, .. } => {
                // Class 08 (connection exception) and 57P01–57P03 (the server is shutting
                // down, crashed or starting): the query may arrive before the closed socket.
                // 57014: the statement timeout of its kind of work ran out (or it was cancelled).
                source.is_closed()
                    || source.code().is_some_and(|c| {
                        c.code().starts_with("08")
                            || matches!(c.code(), "57P01" | "57P02" | "57P03" | "57014")
                    })
            }
            _ => false,
        }
    }

    /// The SQLSTATE of a database error, if that is what this is.
    pub fn sqlstate(&self) -> Option<&tokio_postgres::error::SqlState> {
        match self {
            StoreError::Postgres { source, .. } => source.code(),
            _ => None,
        }
    }
}

/// Attaches "while …" context to a Postgres result.
pub trait Context<T> {
    fn context(self, context: &'static str) -> Result<T, StoreError>;
}

impl<T> Context<T> for Result<T, tokio_postgres::Error> {
    fn context(self, context: &'static str) -> Result<T, StoreError> {
        self.map_err(|source| StoreError::Postgres { context, source })
    }
}

/// The session settings a kind of work wants on the connections it checks out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SessionSettings {
    /// `statement_timeout` in milliseconds (0: none).
    pub statement_timeout_ms: u32,
    /// `plan_cache_mode = force_generic_plan` instead of `auto`. Tile statements want it: with
    /// `auto` PostgreSQL keeps choosing a custom plan for them and plans every tile again, which
    /// costs more than running an empty or small tile (docs/performance.md).
    pub generic_plans: bool,
}

impl SessionSettings {
    fn sql(self) -> String {
        let mode = if self.generic_plans {
            "force_generic_plan"
        } else {
            "auto"
        };
        format!(
            "SET statement_timeout = {}; SET plan_cache_mode = {mode}",
            self.statement_timeout_ms
        )
    }
}

tokio::task_local! {
    /// The session settings for the work this task does: set per kind of request by the API
    /// (`api::isolation`); connections checked out outside it (the CLI, background tasks) get
    /// the defaults (no timeout, `auto` plans).
    pub static SESSION_SETTINGS: SessionSettings;
}

/// The settings each pooled connection was last given, keyed by the connection's statement
/// cache (one per connection). The `Weak` keeps that address from being reused by a later
/// connection while the entry lives; entries of closed connections go at the next change.
type Applied = Vec<(Weak<StatementCache>, SessionSettings)>;
static APPLIED_SETTINGS: std::sync::Mutex<Applied> = std::sync::Mutex::new(Vec::new());

fn applied_settings(conn: &Arc<StatementCache>) -> Option<SessionSettings> {
    let applied = APPLIED_SETTINGS.lock().unwrap_or_else(|e| e.into_inner());
    applied
        .iter()
        .find(|(w, _)| std::ptr::eq(w.as_ptr(), Arc::as_ptr(conn)))
        .map(|(_, s)| *s)
}

fn record_settings(conn: &Arc<StatementCache>, settings: SessionSettings) {
    let mut applied = APPLIED_SETTINGS.lock().unwrap_or_else(|e| e.into_inner());
    applied.retain(|(w, _)| w.strong_count() > 0 && !std::ptr::eq(w.as_ptr(), Arc::as_ptr(conn)));
    applied.push((Arc::downgrade(conn), settings));
}

/// Gives the connection the checking-out task's [`SessionSettings`] (a pooled connection keeps
/// the settings of its previous user otherwise). A new connection is always set; a recycled one
/// only when its last settings differ, so a run of checkouts by the same kind of work (tiles)
/// costs no extra round trip to the server.
fn session_settings_hook(always: bool) -> deadpool_postgres::Hook {
    deadpool_postgres::Hook::async_fn(move |client, _| {
        Box::pin(async move {
            let want = SESSION_SETTINGS.try_with(|s| *s).unwrap_or_default();
            if !always && applied_settings(&client.statement_cache) == Some(want) {
                return Ok(());
            }
            client
                .batch_execute(&want.sql())
                .await
                .map_err(deadpool_postgres::HookError::Backend)?;
            record_settings(&client.statement_cache, want);
            Ok(())
        })
    })
}

/// How long a request waits for a free pooled connection before it is answered 503.
pub const POOL_WAIT: std::time::Duration = std::time::Duration::from_secs(5);
/// How long opening (or checking) a connection may take: a database that is down or cut off
/// answers 503 within this, never a hang.
pub const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// Builds the connection pool. Connections are opened lazily, so this never blocks on the server.
/// Waiting for a connection, opening one and recycling one are all bounded (see [`POOL_WAIT`]
/// and [`CONNECT_TIMEOUT`]); connections found closed (the server restarted) are replaced, so
/// the pool recovers by itself when PostgreSQL comes back.
pub fn pool(cfg: &DbConfig) -> Result<Pool, StoreError> {
    let mut pg = cfg
        .pg_config()
        .map_err(|e| StoreError::Config(e.to_string()))?;
    if pg.get_connect_timeout().is_none() {
        pg.connect_timeout(CONNECT_TIMEOUT);
    }
    let mgr = Manager::from_config(
        pg,
        tokio_postgres::NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Pool::builder(mgr)
        .max_size(cfg.pool_size)
        .runtime(deadpool_postgres::Runtime::Tokio1)
        .wait_timeout(Some(POOL_WAIT))
        .create_timeout(Some(CONNECT_TIMEOUT))
        .recycle_timeout(Some(CONNECT_TIMEOUT))
        .post_create(session_settings_hook(true))
        .post_recycle(session_settings_hook(false))
        .build()
        .map_err(|e| StoreError::Config(e.to_string()))
}

/// Holds a pooled connection while a query runs for a request. If dropped before
/// [`finish`](CancelGuard::finish) (the client went away and axum dropped the handler), the
/// query is cancelled on the server and the connection is taken out of the pool first, so the
/// cancel can never hit the next query run on it.
pub struct CancelGuard {
    client: Option<Object>,
}

impl CancelGuard {
    pub fn new(client: Object) -> Self {
        Self {
            client: Some(client),
        }
    }

    pub fn client(&self) -> Result<&Object, StoreError> {
        self.client
            .as_ref()
            .ok_or_else(|| StoreError::Config("query guard used after finish".into()))
    }

    /// The query completed: return the connection to the pool normally.
    pub fn finish(mut self) {
        self.client.take();
    }
}

impl Drop for CancelGuard {
    fn drop(&mut self) {
        if let Some(obj) = self.client.take() {
            let token = obj.cancel_token();
            let detached = Object::take(obj);
            if let Ok(rt) = tokio::runtime::Handle::try_current() {
                rt.spawn(async move {
                    if let Err(e) = token.cancel_query(NoTls).await {
                        tracing::debug!(error = %e, "cancelling an abandoned query");
                    }
                    drop(detached);
                });
            }
        }
    }
}
