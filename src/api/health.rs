//! Liveness and readiness: `/healthz` answers while the process lives, `/readyz` only when the
//! database is reachable and carries every migration of this build.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::store::migrate;
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
}

async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let client = match state.pool.get().await {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, "readiness: database unreachable");
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "status": "unavailable", "database": "unreachable" })),
            );
        }
    };
    match migrate::is_current(&client).await {
        Ok(true) => (
            StatusCode::OK,
            Json(json!({ "status": "ready", "schema_version": migrate::latest_version() })),
        ),
        Ok(false) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(
                json!({ "status": "unavailable", "database": "not migrated: run `sigap migrate`" }),
            ),
        ),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "status": "unavailable", "database": "error" })),
            )
        }
    }
}
