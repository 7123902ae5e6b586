//! SIGAP: geospatial planning and mapping for community-based poverty alleviation.
//!
//! - [`config`]: one typed configuration from `DATABASE_URL` and `SIGAP_*` variables.
//! - [`error`]: the API error, answered as problem+json in the caller's language.
//! - [`domain`]: area codes and vocabularies; no I/O.
//! - [`store`]: the pool, migrations and all SQL.
//! - [`import`]: GDAL readers and the per-layer import rules.
//! - [`sample`]: loading the Bandung sample layers.
//! - [`accounts`]: creating accounts from the command line.
//! - [`api`]: the HTTP routes; [`app`] builds the router that `sigap serve` and the tests run.

pub mod accounts;
pub mod api;
pub mod config;
pub mod domain;
pub mod error;
pub mod import;
pub mod sample;
pub mod store;

use std::sync::Arc;

use deadpool_postgres::Pool;

pub use api::app;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub pool: Pool,
    pub config: Arc<config::ServeConfig>,
    /// In-memory rate limiters (login, anonymous submissions).
    pub limits: Arc<api::auth::Limits>,
}

impl AppState {
    pub fn new(pool: Pool, config: config::ServeConfig) -> Self {
        let limits = Arc::new(api::auth::Limits::new(&config));
        Self {
            pool,
            config: Arc::new(config),
            limits,
        }
    }
}
