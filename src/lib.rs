//! SIGAP: geospatial planning and mapping for community-based poverty alleviation.
//!
//! - [`config`]: one typed configuration from `DATABASE_URL` and `SIGAP_*` variables.
//! - [`error`]: the API error, answered as problem+json in the caller's language.
//! - [`analysis`]: the gap analysis and budget allocation: formulas, solvers, runs.
//! - [`domain`]: area codes and vocabularies; no I/O.
//! - [`store`]: the pool, migrations and all SQL.
//! - [`import`]: GDAL readers and the per-layer import rules.
//! - [`sample`]: loading the Bandung sample layers.
//! - [`accounts`]: creating accounts from the command line.
//! - [`mail`]: the mails to a proposal's email followers and the task that sends them.
//! - [`analysis`]: the gap analysis: formulas, runs and their results.
//! - [`api`]: the HTTP routes; [`app`] builds the router that `sigap serve` and the tests run.

pub mod accounts;
pub mod analysis;
pub mod api;
pub mod config;
pub mod domain;
pub mod error;
pub mod import;
pub mod mail;
pub mod sample;
pub mod store;

use std::sync::Arc;

use deadpool_postgres::Pool;

pub use api::app;

/// What every handler can reach. One shared allocation: every request clones the state several
/// times (each middleware and the handler take a copy), so a clone is one reference count, not
/// one per field.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// The fields of [`AppState`].
pub struct Shared {
    pub pool: Pool,
    pub config: Arc<config::ServeConfig>,
    /// Fleet-wide rate limiters (login, anonymous submissions), kept in PostgreSQL.
    pub limits: Arc<api::auth::Limits>,
    /// The published collections (OGC API Features, tiles, exports).
    pub catalog: Arc<store::collections::Catalog>,
    /// Tile SQL per layer, built once from the catalog.
    pub tile_sql: Arc<store::tiles::TileQueries>,
    /// The tile cache, kept fresh by the change listener started here.
    pub tiles: Arc<store::tile_cache::TileCache>,
    /// Wakes the map's event streams when a new live gap run is saved (listener started here).
    pub gap_events: Arc<api::gap_events::GapEvents>,
    /// Where reads go: the primary (`pool`) or a read replica that is current enough.
    pub reads: Arc<store::read_routing::ReadPools>,
}

impl AppState {
    /// Builds the state and starts the tile change listener on a connection of its own (so
    /// `sigap serve` and the tests both run it). Must be called inside a Tokio runtime.
    pub fn new(pool: Pool, db: &config::DbConfig, config: config::ServeConfig) -> Self {
        let catalog = Arc::new(store::collections::Catalog::new(
            store::collections::builtin(config.suppress_below),
        ));
        let tiles = Arc::new(store::tile_cache::TileCache::new(
            config.tile_cache_mb,
            catalog.clone(),
        ));
        let gap_events = Arc::new(api::gap_events::GapEvents::default());
        let replicas = config
            .read_database_urls
            .iter()
            .filter(|u| !u.trim().is_empty())
            .filter_map(|url| {
                let cfg = config::DbConfig {
                    database_url: url.trim().to_owned(),
                    pool_size: db.pool_size,
                };
                match (cfg.pg_config(), store::pool(&cfg)) {
                    (Ok(pg), Ok(pool)) => Some((store::read_routing::describe(&pg), pool)),
                    (Err(e), _) => {
                        tracing::error!(error = %e, "a SIGAP_READ_DATABASE_URL entry is invalid; skipped");
                        None
                    }
                    (_, Err(e)) => {
                        tracing::error!(error = %e, "a SIGAP_READ_DATABASE_URL entry is invalid; skipped");
                        None
                    }
                }
            })
            .collect();
        let reads = Arc::new(store::read_routing::ReadPools::new(pool.clone(), replicas));
        reads.spawn_health();
        match db.pg_config() {
            Ok(pg) => {
                gap_events.spawn_listener(pg.clone());
                if config.live_gap {
                    analysis::live::spawn(
                        pool.clone(),
                        pg.clone(),
                        std::time::Duration::from_millis(config.live_gap_debounce_ms),
                    );
                }
                store::tile_cache::spawn_listener(pg, &tiles, &reads)
            }
            Err(e) => {
                tracing::error!(error = %e, "tile cache, live gap and its events stay off: bad database configuration")
            }
        }
        // Follower mails: the outbox sender (when SMTP is configured) and the address sweep.
        mail::spawn(pool.clone(), &config);
        let limits = Arc::new(api::auth::Limits::new(&config, pool.clone()));
        Self(Arc::new(Shared {
            pool,
            config: Arc::new(config),
            limits,
            tile_sql: Arc::new(store::tiles::TileQueries::new(&catalog)),
            catalog,
            tiles,
            gap_events,
            reads,
        }))
    }
}
