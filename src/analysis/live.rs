//! The live gap analysis: `sigap serve` keeps the public run ("as of today, default
//! parameters") fresh. Triggers log every write to the analysis' inputs in `gap_change` and
//! notify `sigap_gap_changes` (V11); this task listens, waits a moment for more changes, and
//! recomputes the run, recording the last change it includes. It also recomputes when the date
//! changes (coverage periods are dated) and at start when the run is missing or behind.
//!
//! One refresher per database: the task holds a session advisory lock on its listening
//! connection; another process that cannot take it keeps trying, and takes over when the holder's
//! connection ends. A failed refresh is logged and retried; it never stops the server.

use std::time::Duration;

use chrono::NaiveDate;
use deadpool_postgres::Pool;
use futures::StreamExt;
use tokio_postgres::{AsyncMessage, NoTls};

use crate::analysis::gap::GapParams;
use crate::analysis::run;
use crate::store::gap as gap_store;
use crate::store::StoreError;

const CHANNEL: &str = "sigap_gap_changes";
/// The advisory lock key of the refresher ('sigap_gap_live' hashed once, fixed).
const LOCK_KEY: i64 = 0x5167_6170_4c69_7665;
/// How often the date and the log are looked at without a notification.
const TICK: Duration = Duration::from_secs(30);

/// Starts the refresher (call inside a Tokio runtime).
pub fn spawn(pool: Pool, pg: tokio_postgres::Config, debounce: Duration) {
    tokio::spawn(async move {
        let mut backoff = Duration::from_millis(500);
        loop {
            match refresher(&pool, &pg, debounce).await {
                Ok(()) => tracing::warn!("live gap refresher lost its connection; reconnecting"),
                Err(e) => tracing::warn!(error = %e, "live gap refresher cannot connect"),
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(10));
        }
    });
}

/// The database's today when the public run is missing, older than today, or behind the
/// change log (then it needs recomputing as of that day); None when it is current.
async fn stale(pool: &Pool) -> Result<Option<NaiveDate>, StoreError> {
    let (last_change, today) = gap_store::change_mark(pool).await?;
    let Some(live) = gap_store::latest_default_run(pool).await? else {
        return Ok(Some(today));
    };
    let as_of = live.params["as_of"]
        .as_str()
        .and_then(|d| d.parse::<NaiveDate>().ok());
    let behind = live.changes_through.unwrap_or(0) < last_change;
    Ok((as_of != Some(today) || behind).then_some(today))
}

/// Recomputes the public run as of `today`; returns its id.
async fn refresh(pool: &Pool, today: NaiveDate) -> Result<i64, StoreError> {
    let outcome = run::run(pool, &GapParams::defaults(today), &|_, _| {}).await?;
    gap_store::prune_superseded_live_runs(pool, outcome.id).await?;
    Ok(outcome.id)
}

async fn refresh_if_stale(pool: &Pool) {
    match stale(pool).await {
        Ok(None) => {}
        Ok(Some(today)) => {
            let started = std::time::Instant::now();
            match refresh(pool, today).await {
                Ok(id) => tracing::info!(
                    run = id,
                    ms = started.elapsed().as_millis() as u64,
                    "live gap analysis refreshed"
                ),
                Err(e) => tracing::warn!(error = %e, "live gap refresh failed; will retry"),
            }
        }
        Err(e) => tracing::warn!(error = %e, "cannot tell whether the live gap is current"),
    }
}

async fn refresher(
    pool: &Pool,
    pg: &tokio_postgres::Config,
    debounce: Duration,
) -> Result<(), tokio_postgres::Error> {
    let (client, mut conn) = pg.connect(NoTls).await?;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<()>();
    let driver = tokio::spawn(async move {
        let mut messages = futures::stream::poll_fn(move |cx| conn.poll_message(cx));
        while let Some(message) = messages.next().await {
            match message {
                Ok(AsyncMessage::Notification(_)) => {
                    if tx.send(()).is_err() {
                        return;
                    }
                }
                Ok(_) => {}
                Err(_) => return,
            }
        }
    });
    // Leadership: only the holder of the lock refreshes; the others wait their turn.
    loop {
        let held: bool = client
            .query_one("SELECT pg_try_advisory_lock($1)", &[&LOCK_KEY])
            .await?
            .get(0);
        if held {
            break;
        }
        if driver.is_finished() {
            return Ok(());
        }
        tokio::time::sleep(TICK / 6).await;
    }
    client.batch_execute(&format!("LISTEN {CHANNEL}")).await?;
    tracing::info!("live gap refresher is running");
    refresh_if_stale(pool).await;
    let mut tick = tokio::time::interval(TICK);
    tick.tick().await;
    loop {
        tokio::select! {
            got = rx.recv() => {
                if got.is_none() {
                    break;
                }
                // Let a burst of changes (an import, a moderator's session) settle into one run.
                tokio::time::sleep(debounce).await;
                while rx.try_recv().is_ok() {}
                refresh_if_stale(pool).await;
            }
            _ = tick.tick() => refresh_if_stale(pool).await,
        }
    }
    driver.abort();
    Ok(())
}
