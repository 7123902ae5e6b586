//! Separate limits per kind of work, so a dozen slow requests (large exports, gap runs, budget
//! solves) cannot take every pooled connection from tiles, items, submissions and health checks.
//!
//! Each request is classed by method and path. Slow kinds (exports, analysis) have a small
//! limit of concurrent requests and wait at most [`SLOW_WAIT`] for a place; fast kinds (tiles,
//! items, writes) each have a larger limit and wait at most [`FAST_WAIT`]. A request that finds
//! its kind saturated is answered 503 problem+json with `Retry-After`. Health checks are never
//! limited. Each kind also has its own `statement_timeout` ([`Kind::statement_timeout_ms`]),
//! set on every connection checked out for the request; a query that outlasts it is answered
//! 503 with `Retry-After`. Tiles also plan their prepared statements once
//! ([`Kind::session_settings`]).

use std::sync::Arc;
use std::time::Duration;

use axum::extract::Request;
use axum::http::{header, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::sync::Semaphore;

use crate::error::{ApiError, Msg};
use crate::store::{SessionSettings, SESSION_SETTINGS};

/// Concurrent requests of each slow kind (exports, analysis).
pub const SLOW_LIMIT: usize = 2;
/// How long a slow request waits for a place before 503.
pub const SLOW_WAIT: Duration = Duration::from_millis(500);
/// How long a fast request waits for a place before 503.
pub const FAST_WAIT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Health,
    Tiles,
    Items,
    Writes,
    Exports,
    Analysis,
}

impl Kind {
    pub fn of(method: &Method, path: &str, query: Option<&str>) -> Kind {
        let parts: Vec<&str> = path.trim_end_matches('/').split('/').collect();
        let export = query.is_some_and(|q| {
            q.split('&')
                .any(|p| matches!(p, "f=csv" | "f=gpkg" | "f=shp" | "f=xlsx"))
        });
        match (method, parts.as_slice()) {
            (_, ["", "healthz"] | ["", "readyz"]) => Kind::Health,
            (_, ["", "tiles", ..]) => Kind::Tiles,
            (&Method::POST, ["", "api", "analysis", "gap"])
            | (&Method::POST, ["", "api", "budget", "ranking"])
            | (&Method::POST, ["", "api", "budget", "scenarios", _, "solve"]) => Kind::Analysis,
            (&Method::GET | &Method::HEAD, ["", "ogc", "collections", _, "items"]) if export => {
                Kind::Exports
            }
            (&Method::GET | &Method::HEAD, ["", "api", "budget", "scenarios", ..]) if export => {
                Kind::Exports
            }
            (&Method::GET | &Method::HEAD | &Method::OPTIONS, _) => Kind::Items,
            _ => Kind::Writes,
        }
    }

    /// The `statement_timeout` of this kind of work, in milliseconds.
    pub fn statement_timeout_ms(self) -> u32 {
        match self {
            Kind::Health => 5_000,
            Kind::Tiles => 10_000,
            Kind::Items | Kind::Writes => 30_000,
            Kind::Exports => 120_000,
            Kind::Analysis => 600_000,
        }
    }

    /// The session settings of this kind of work: its statement timeout, and generic plans for
    /// tiles (one prepared statement a layer, run for every tile: a custom plan per tile costs
    /// more than most tiles take to run).
    pub fn session_settings(self) -> SessionSettings {
        SessionSettings {
            statement_timeout_ms: self.statement_timeout_ms(),
            generic_plans: self == Kind::Tiles,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::Health => "health",
            Kind::Tiles => "tiles",
            Kind::Items => "items",
            Kind::Writes => "writes",
            Kind::Exports => "exports",
            Kind::Analysis => "analysis",
        }
    }
}

/// One semaphore per limited kind.
pub struct WorkLimits {
    tiles: Semaphore,
    items: Semaphore,
    writes: Semaphore,
    exports: Semaphore,
    analysis: Semaphore,
}

impl WorkLimits {
    /// Limits for a pool of `pool_size` connections: the slow kinds together hold at most
    /// 2 × [`SLOW_LIMIT`] connections; each fast kind may have twice the pool in flight (they
    /// queue for connections briefly, which is cheap for short queries).
    pub fn new(pool_size: usize, slow_limit: usize) -> Self {
        let fast = (pool_size * 2).max(4);
        Self {
            tiles: Semaphore::new(fast),
            items: Semaphore::new(fast),
            writes: Semaphore::new(fast),
            exports: Semaphore::new(slow_limit),
            analysis: Semaphore::new(slow_limit),
        }
    }

    fn semaphore(&self, kind: Kind) -> Option<(&Semaphore, Duration)> {
        match kind {
            Kind::Health => None,
            Kind::Tiles => Some((&self.tiles, FAST_WAIT)),
            Kind::Items => Some((&self.items, FAST_WAIT)),
            Kind::Writes => Some((&self.writes, FAST_WAIT)),
            Kind::Exports => Some((&self.exports, SLOW_WAIT)),
            Kind::Analysis => Some((&self.analysis, SLOW_WAIT)),
        }
    }
}

fn saturated(kind: Kind) -> Response {
    let (retry, id, en) = match kind {
        Kind::Exports | Kind::Analysis => (
            "10",
            "Terlalu banyak ekspor atau analisis berjalan bersamaan. Coba lagi dalam beberapa detik.",
            "Too many exports or analyses are running at once. Try again in a few seconds.",
        ),
        _ => (
            "2",
            "Server sedang sibuk. Coba lagi sebentar lagi.",
            "The server is busy. Try again shortly.",
        ),
    };
    tracing::warn!(kind = kind.name(), "work limit saturated; answered 503");
    let mut res = ApiError::service_unavailable(Msg::new(id, en))
        .with_extra(serde_json::json!({ "work": kind.name() }))
        .into_response();
    res.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static(retry));
    res
}

/// Middleware: holds a place of the request's kind while it runs.
pub async fn layer(limits: Arc<WorkLimits>, req: Request, next: Next) -> Response {
    let kind = Kind::of(req.method(), req.uri().path(), req.uri().query());
    let settings = kind.session_settings();
    let Some((semaphore, wait)) = limits.semaphore(kind) else {
        return SESSION_SETTINGS.scope(settings, next.run(req)).await;
    };
    // A free permit is taken at once; only a wait arms the timer.
    let permit = match semaphore.try_acquire() {
        Ok(permit) => permit,
        Err(_) => match tokio::time::timeout(wait, semaphore.acquire()).await {
            Ok(Ok(permit)) => permit,
            _ => return saturated(kind),
        },
    };
    let res = SESSION_SETTINGS.scope(settings, next.run(req)).await;
    drop(permit);
    res
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::routing::get;
    use axum::Router;
    use tower::ServiceExt;

    #[test]
    fn classes() {
        let k = |m: Method, p: &str, q: Option<&str>| Kind::of(&m, p, q);
        assert_eq!(k(Method::GET, "/healthz", None), Kind::Health);
        assert_eq!(
            k(Method::GET, "/tiles/kelurahan/1/2/3.mvt", None),
            Kind::Tiles
        );
        assert_eq!(
            k(
                Method::GET,
                "/ogc/collections/kelurahan/items",
                Some("f=json")
            ),
            Kind::Items
        );
        assert_eq!(
            k(
                Method::GET,
                "/ogc/collections/kelurahan/items",
                Some("limit=10000&f=gpkg")
            ),
            Kind::Exports
        );
        assert_eq!(k(Method::POST, "/api/analysis/gap", None), Kind::Analysis);
        assert_eq!(
            k(Method::POST, "/api/budget/scenarios/4/solve", None),
            Kind::Analysis
        );
        assert_eq!(k(Method::POST, "/api/proposals", None), Kind::Writes);
        assert_eq!(k(Method::GET, "/api/proposals/7", None), Kind::Items);
    }

    /// A saturated kind answers 503 with Retry-After at once; other kinds and health pass.
    #[tokio::test]
    async fn a_saturated_kind_answers_503_and_others_still_pass() {
        let gate = Arc::new(tokio::sync::Notify::new());
        let limits = Arc::new(WorkLimits::new(4, 1));
        let g = gate.clone();
        let held = limits.clone();
        let app = Router::new()
            .route(
                "/api/analysis/gap",
                axum::routing::post(move || {
                    let g = g.clone();
                    async move {
                        g.notified().await;
                        "done"
                    }
                }),
            )
            .route("/healthz", get(|| async { "ok" }))
            .route("/api/proposals/1", get(|| async { "item" }))
            .layer(axum::middleware::from_fn(move |req, next| {
                layer(limits.clone(), req, next)
            }));
        let post = || {
            Request::builder()
                .method(Method::POST)
                .uri("/api/analysis/gap")
                .body(Body::empty())
                .unwrap()
        };
        let slow = tokio::spawn(app.clone().oneshot(post()));
        // Let the first request take the only place.
        while held.analysis.available_permits() > 0 {
            tokio::task::yield_now().await;
        }
        let second = app.clone().oneshot(post()).await.unwrap();
        assert_eq!(second.status(), 503);
        assert_eq!(second.headers()[header::RETRY_AFTER], "10");
        assert_eq!(
            second.headers()[header::CONTENT_TYPE],
            "application/problem+json"
        );
        for path in ["/healthz", "/api/proposals/1"] {
            let res = app
                .clone()
                .oneshot(Request::get(path).body(Body::empty()).unwrap())
                .await
                .unwrap();
            assert_eq!(res.status(), 200, "{path}");
        }
        gate.notify_one();
        assert_eq!(slow.await.unwrap().unwrap().status(), 200);
    }
}
