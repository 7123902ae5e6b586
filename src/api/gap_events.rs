//! Server-sent events for the live gap run: the map hears of a new or refreshed public run as
//! soon as it is saved, instead of asking every 15 seconds.
//!
//! Saving a live run, or updating it in place (`store::gap_live`), notifies `sigap_gap_live` in
//! its transaction (so after commit, from whichever process of a fleet wrote it). Each process
//! LISTENs on one connection of its own and wakes its subscribers; each subscriber then reads the
//! latest live run and sends it when it differs from the one it sent last, by id or by the last
//! change it includes (an in-place refresh keeps the id). A reconnected listener wakes everyone
//! too, so a run saved while it was away is not missed. `GET /api/analysis/gap/live/events`
//! (`text/event-stream`): a `run` event with `{"id", "created_at", "refreshed_at", "as_of",
//! "changes_through"}` on connect and each time the live run is new or refreshed,
//! a comment every 20 s to keep proxies from closing the connection. Streams hold no database
//! connection while they wait, at most [`MAX_SUBSCRIBERS`] are open per process (then 503), and
//! all end when the server shuts down so the graceful shutdown does not wait for them.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::{Stream, StreamExt};
use serde_json::json;
use tokio::sync::{broadcast, watch, OwnedSemaphorePermit, Semaphore};
use tokio_postgres::{AsyncMessage, NoTls};

use crate::error::{ApiError, ApiResult, Msg};
use crate::store::gap as gap_store;
use crate::AppState;

/// Open event streams per process.
pub const MAX_SUBSCRIBERS: usize = 2_000;

/// The hub of one process: its listener wakes the open streams.
pub struct GapEvents {
    wake: broadcast::Sender<()>,
    closing: watch::Sender<bool>,
    places: Arc<Semaphore>,
}

impl Default for GapEvents {
    fn default() -> Self {
        Self {
            wake: broadcast::Sender::new(16),
            closing: watch::Sender::new(false),
            places: Arc::new(Semaphore::new(MAX_SUBSCRIBERS)),
        }
    }
}

impl GapEvents {
    /// Starts the listener (inside a Tokio runtime); it reconnects with backoff.
    pub fn spawn_listener(self: &Arc<Self>, pg: tokio_postgres::Config) {
        let hub = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut backoff = Duration::from_millis(500);
            loop {
                let Some(strong) = hub.upgrade() else { return };
                match strong.listen(&pg).await {
                    Ok(()) => {
                        tracing::warn!("gap event listener lost its connection; reconnecting")
                    }
                    Err(e) => tracing::warn!(error = %e, "gap event listener cannot connect"),
                }
                drop(strong);
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(10));
            }
        });
    }

    async fn listen(&self, pg: &tokio_postgres::Config) -> Result<(), tokio_postgres::Error> {
        let (client, mut conn) = pg.connect(NoTls).await?;
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<()>();
        let driver = tokio::spawn(async move {
            let mut messages = futures::stream::poll_fn(move |cx| conn.poll_message(cx));
            while let Some(Ok(message)) = messages.next().await {
                if matches!(message, AsyncMessage::Notification(_)) && tx.send(()).is_err() {
                    return;
                }
            }
        });
        client
            .batch_execute(&format!("LISTEN {}", gap_store::LIVE_CHANNEL))
            .await?;
        // Whatever was saved while no one listened: every stream looks again.
        let _ = self.wake.send(());
        while rx.recv().await.is_some() {
            let _ = self.wake.send(());
        }
        driver.abort();
        Ok(())
    }

    /// Ends every open stream (graceful shutdown).
    pub fn close(&self) {
        self.closing.send_replace(true);
    }
}

/// What tells one state of the live run from the next: its id and the last change it includes.
type RunMark = (i64, Option<i64>);

/// The latest live run as the event's JSON, if there is one.
async fn latest(state: &AppState) -> Option<(RunMark, String)> {
    match gap_store::latest_default_run(&state.pool).await {
        Ok(Some(run)) => {
            let data = json!({
                "id": run.id,
                "created_at": run.created_at,
                "refreshed_at": run.refreshed_at,
                "as_of": run.params["as_of"],
                "changes_through": run.changes_through,
            });
            Some(((run.id, run.changes_through), data.to_string()))
        }
        Ok(None) => None,
        Err(e) => {
            tracing::warn!(error = %e, "gap event stream cannot read the live run");
            None
        }
    }
}

struct Subscriber {
    state: AppState,
    wake: broadcast::Receiver<()>,
    closing: watch::Receiver<bool>,
    sent: Option<RunMark>,
    first: bool,
    _place: OwnedSemaphorePermit,
}

impl Subscriber {
    /// The next `run` event: at once for the first, then on a wake-up that brings a new or
    /// refreshed run.
    async fn next(&mut self) -> Option<Event> {
        loop {
            if !std::mem::take(&mut self.first) {
                tokio::select! {
                    woke = self.wake.recv() => match woke {
                        Ok(()) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                        Err(broadcast::error::RecvError::Closed) => return None,
                    },
                    _ = self.closing.wait_for(|c| *c) => return None,
                }
            }
            if *self.closing.borrow() {
                return None;
            }
            if let Some((mark, data)) = latest(&self.state).await {
                if self.sent != Some(mark) {
                    self.sent = Some(mark);
                    return Some(Event::default().event("run").data(data));
                }
            }
        }
    }
}

/// `GET /api/analysis/gap/live/events`: server-sent events; a `run` event `{id, created_at,
/// refreshed_at, as_of, changes_through}` on connect and each time a live run is saved or
/// refreshed in place (by any process of a fleet), a comment every 20 s. At most 2 000 open per
/// process, then 503.
#[utoipa::path(get, path = "/api/analysis/gap/live/events", tag = "analysis",
    responses((status = 200, description = "The event stream", content_type = "text/event-stream")))]
pub async fn stream(
    State(state): State<AppState>,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let hub = state.gap_events.clone();
    let place = hub.places.clone().try_acquire_owned().map_err(|_| {
        ApiError::service_unavailable(Msg::new(
            "Terlalu banyak peta terbuka yang menunggu pembaruan. Muat ulang sebentar lagi.",
            "Too many open maps are waiting for updates. Reload in a moment.",
        ))
    })?;
    let subscriber = Subscriber {
        wake: hub.wake.subscribe(),
        closing: hub.closing.subscribe(),
        state,
        sent: None,
        first: true,
        _place: place,
    };
    let events = futures::stream::unfold(subscriber, |mut s| async move {
        let event = s.next().await?;
        Some((Ok(event), s))
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(20))))
}
