//! Liveness and readiness: `/healthz` answers while the process lives, `/readyz` only when the
//! (primary) database is reachable and carries every migration of this build; it also lists the
//! read replicas and whether each is in use.

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
        // Replicas are reported, not required: the primary serves their reads while they are
        // down, so this process can still take traffic.
        Ok(true) => (
            StatusCode::OK,
            Json(json!({
                "status": "ready",
                "schema_version": migrate::latest_version(),
                "replicas": state.reads.status(),
            })),
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
