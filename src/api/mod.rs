//! The HTTP surface: one module per resource, composed into one router.

mod analysis;
pub mod auth;
mod basemap;
mod budget;
mod compression;
mod etag;
mod feeds;
mod follow;
pub mod gap_events;
mod health;
pub mod idempotency;
pub mod input;
pub mod isolation;
mod ogc;
mod ogc_export;
mod ogc_html;
mod ogc_openapi;
mod open311;
pub mod openapi;
mod proposals;
mod read_routing;
mod revalidate;
mod static_files;
mod tiles;
// Partners at the table (issue 15).
mod coverage;
mod coverage_upload;
mod fields;
mod partners;
mod profile;
mod profile_html;
mod progress;

use axum::extract::DefaultBodyLimit;
use axum::routing::any;
use axum::{middleware, Router};
use tower_http::trace::TraceLayer;

use crate::error;
use crate::AppState;

/// A pooled connection, or 503 when the database cannot be reached.
pub(crate) async fn conn(state: &AppState) -> error::ApiResult<deadpool_postgres::Client> {
    Ok(state
        .pool
        .get()
        .await
        .map_err(crate::store::StoreError::from)?)
}

/// A connection for a read that may lag: a read replica that has replayed the client's own
/// last write (waiting a moment for one), else the primary; 503 when neither can be reached.
pub(crate) async fn read_conn(state: &AppState) -> error::ApiResult<deadpool_postgres::Client> {
    let after = crate::store::read_routing::read_after();
    let wait = if after > 0 {
        crate::store::read_routing::CATCH_UP_WAIT
    } else {
        std::time::Duration::ZERO
    };
    Ok(state.reads.conn(after, wait).await?.0)
}

/// The pool for a read that may lag (see [`read_conn`]), for store functions that take a pool.
pub(crate) async fn read_pool(state: &AppState) -> deadpool_postgres::Pool {
    let after = crate::store::read_routing::read_after();
    let wait = if after > 0 {
        crate::store::read_routing::CATCH_UP_WAIT
    } else {
        std::time::Duration::ZERO
    };
    state.reads.pick(after, wait).await.0
}

/// The whole application router, as `sigap serve` runs it and as the tests drive it.
pub fn app(state: AppState) -> Router {
    let static_dir = state.config.static_dir.clone();
    let dictionary_dir = std::sync::Arc::new(static_dir.clone());
    let body_limit = state.config.body_limit_bytes;
    let work = std::sync::Arc::new(isolation::WorkLimits::new(
        state.pool.status().max_size,
        isolation::SLOW_LIMIT,
    ));
    // Unknown API paths answer problem+json; any other path is the map's (a single-page app).
    let api_not_found = Router::new()
        .route("/api/{*rest}", any(error::not_found_fallback))
        .route("/ogc/{*rest}", any(error::not_found_fallback))
        .route("/open311/{*rest}", any(error::not_found_fallback));
    // `/tiles/{*path}` is the tiles router's own catch-all; it answers unknown shapes with 404.
    Router::new()
        .merge(health::router())
        .merge(ogc::router())
        .merge(tiles::router())
        // Every `/api` route, mounted through its OpenAPI annotation, and /api/openapi.json.
        .merge(openapi::router())
        .merge(open311::router())
        .merge(feeds::router())
        .merge(basemap::router())
        .merge(profile::router())
        .merge(api_not_found)
        .fallback_service(static_files::service(&static_dir))
        .layer(middleware::from_fn(move |req, next| {
            static_files::worker_delta(dictionary_dir.clone(), req, next)
        }))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            idempotency::layer,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            read_routing::layer,
        ))
        .layer(middleware::from_fn(move |req, next| {
            isolation::layer(work.clone(), req, next)
        }))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(middleware::from_fn(revalidate::layer))
        .layer(compression::layer())
        .layer(middleware::from_fn(compression::etag_per_encoding))
        .layer(middleware::from_fn(static_files::cache_policy))
        .layer(middleware::from_fn(error::language))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
