//! Read routing over PostgreSQL streaming replicas (`SIGAP_READ_DATABASE_URL`): the primary pool
//! takes every write and every read that must see one; reads that may lag (tiles, OGC items,
//! exports, analysis reads) go to a healthy replica that has replayed far enough, else to the
//! primary.
//!
//! "Far enough" is a WAL position (LSN, as a byte offset). A client that wrote carries the LSN
//! of its write (see `api::read_routing`); the tile cache asks for the LSN of the last change
//! that touched a tile (`store::tile_cache`). A health loop polls each replica's replay position
//! every [`HEALTH_EVERY`]; a replica that does not answer is skipped until it does again, so its
//! reads fail over to the primary within seconds and come back by themselves.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::{Object, Pool};
use serde::Serialize;

use super::{Context, StoreError};

/// How often each replica's health and replay position are checked.
pub const HEALTH_EVERY: Duration = Duration::from_secs(1);
/// How long a health check may take before the replica counts as down.
const HEALTH_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a read that must see a write waits for a replica to replay it before it goes to the
/// primary instead.
pub const CATCH_UP_WAIT: Duration = Duration::from_millis(300);
const CATCH_UP_POLL: Duration = Duration::from_millis(20);

/// The WAL position a server has: the replay position on a standby, the write position on a
/// primary (when a "replica" URL names a primary, it is simply always current).
const POSITION_SQL: &str = "SELECT (CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn()
                                    ELSE pg_current_wal_lsn() END - '0/0'::pg_lsn)::int8";
/// The primary's WAL insert position: at least the end of every transaction committed so far.
const PRIMARY_POSITION_SQL: &str = "SELECT (pg_current_wal_insert_lsn() - '0/0'::pg_lsn)::int8";

tokio::task_local! {
    /// The LSN the current request must see (0: none), set by the API from the client's
    /// `SIGAP-LSN` header or cookie.
    pub static READ_AFTER_LSN: u64;
}

/// The LSN the running request must see, 0 outside a request or when it carries none.
pub fn read_after() -> u64 {
    READ_AFTER_LSN.try_with(|l| *l).unwrap_or(0)
}

/// PostgreSQL's text form of an LSN (`16/B374D848`).
pub fn format_lsn(lsn: u64) -> String {
    format!("{:X}/{:X}", lsn >> 32, lsn & 0xFFFF_FFFF)
}

/// Parses PostgreSQL's text form of an LSN; `None` for anything else.
pub fn parse_lsn(text: &str) -> Option<u64> {
    let (hi, lo) = text.trim().split_once('/')?;
    if hi.is_empty() || lo.is_empty() || hi.len() > 8 || lo.len() > 8 {
        return None;
    }
    let hi = u64::from_str_radix(hi, 16).ok()?;
    let lo = u64::from_str_radix(lo, 16).ok()?;
    Some((hi << 32) | lo)
}

struct Replica {
    /// Host and port, for logs and `/readyz` (never the password).
    name: String,
    pool: Pool,
    healthy: AtomicBool,
    /// The last replay position seen; only grows while the replica stays the same server.
    replay_lsn: AtomicU64,
}

/// One replica as `/readyz` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ReplicaStatus {
    pub name: String,
    pub healthy: bool,
    /// The replay position last seen, in PostgreSQL's text form.
    pub replay_lsn: String,
}

/// Where a read ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Primary,
    /// A replica known to have replayed at least this LSN before the read started.
    Replica {
        lsn: u64,
    },
}

/// The primary pool and the replica pools.
pub struct ReadPools {
    primary: Pool,
    replicas: Vec<Replica>,
    next: AtomicUsize,
}

impl ReadPools {
    /// `replicas` are (name, pool) pairs; none means every read goes to the primary.
    pub fn new(primary: Pool, replicas: Vec<(String, Pool)>) -> Self {
        Self {
            primary,
            replicas: replicas
                .into_iter()
                .map(|(name, pool)| Replica {
                    name,
                    pool,
                    // Unknown until the first health check, which runs at once.
                    healthy: AtomicBool::new(false),
                    replay_lsn: AtomicU64::new(0),
                })
                .collect(),
            next: AtomicUsize::new(0),
        }
    }

    pub fn has_replicas(&self) -> bool {
        !self.replicas.is_empty()
    }

    pub fn primary(&self) -> &Pool {
        &self.primary
    }

    pub fn status(&self) -> Vec<ReplicaStatus> {
        self.replicas
            .iter()
            .map(|r| ReplicaStatus {
                name: r.name.clone(),
                healthy: r.healthy.load(Ordering::Relaxed),
                replay_lsn: format_lsn(r.replay_lsn.load(Ordering::Relaxed)),
            })
            .collect()
    }

    /// The lowest replay position among all replicas (healthy or not): every change at or before
    /// it is on every replica.
    pub fn settled_lsn(&self) -> u64 {
        self.replicas
            .iter()
            .map(|r| r.replay_lsn.load(Ordering::Relaxed))
            .min()
            .unwrap_or(u64::MAX)
    }

    /// The primary's WAL insert position now: a transaction committed before this call is
    /// visible on any server that has replayed it.
    pub async fn primary_lsn(&self) -> Result<u64, StoreError> {
        let client = self.primary.get().await?;
        let row = client
            .query_one(PRIMARY_POSITION_SQL, &[])
            .await
            .context("reading the WAL position")?;
        Ok(u64::try_from(row.get::<_, i64>(0)).unwrap_or(0))
    }

    /// The pool to read from: a healthy replica (taken in turn) that has replayed `min_lsn`,
    /// waiting up to `wait` for one to catch up; otherwise the primary.
    pub async fn pick(&self, min_lsn: u64, wait: Duration) -> (Pool, Source) {
        match self.choose(min_lsn, wait).await {
            Some((i, lsn)) => (self.replicas[i].pool.clone(), Source::Replica { lsn }),
            None => (self.primary.clone(), Source::Primary),
        }
    }

    /// The index and known replay position of the replica to read from, `None` for the primary.
    async fn choose(&self, min_lsn: u64, wait: Duration) -> Option<(usize, u64)> {
        if self.replicas.is_empty() {
            return None;
        }
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let start = self.next.fetch_add(1, Ordering::Relaxed);
            let n = self.replicas.len();
            let mut any_healthy = false;
            for i in 0..n {
                let r = &self.replicas[(start + i) % n];
                if !r.healthy.load(Ordering::Relaxed) {
                    continue;
                }
                any_healthy = true;
                let lsn = r.replay_lsn.load(Ordering::Relaxed);
                if lsn >= min_lsn {
                    return Some(((start + i) % n, lsn));
                }
            }
            if !any_healthy {
                return None;
            }
            // Ask the healthy replicas directly: the loop's figure may be up to a second old.
            for i in 0..n {
                let r = &self.replicas[(start + i) % n];
                if !r.healthy.load(Ordering::Relaxed) {
                    continue;
                }
                if let Ok(Ok(lsn)) =
                    tokio::time::timeout(CATCH_UP_POLL * 5, position(&r.pool)).await
                {
                    r.replay_lsn.fetch_max(lsn, Ordering::Relaxed);
                    if lsn >= min_lsn {
                        return Some(((start + i) % n, lsn));
                    }
                }
            }
            if tokio::time::Instant::now() + CATCH_UP_POLL > deadline {
                return None;
            }
            tokio::time::sleep(CATCH_UP_POLL).await;
        }
    }

    /// A connection to read from (see [`pick`](Self::pick)). A replica that cannot give one is
    /// marked down at once and the read goes to the primary.
    pub async fn conn(&self, min_lsn: u64, wait: Duration) -> Result<(Object, Source), StoreError> {
        let Some((i, lsn)) = self.choose(min_lsn, wait).await else {
            return Ok((self.primary.get().await?, Source::Primary));
        };
        let r = &self.replicas[i];
        match r.pool.get().await {
            Ok(c) => Ok((c, Source::Replica { lsn })),
            Err(e) => {
                if r.healthy.swap(false, Ordering::Relaxed) {
                    tracing::warn!(replica = %r.name, error = %e, "read replica down; reading from the primary");
                }
                Ok((self.primary.get().await?, Source::Primary))
            }
        }
    }

    /// Starts the health loop (inside a Tokio runtime); it ends when the pools are dropped.
    pub fn spawn_health(self: &Arc<Self>) {
        if self.replicas.is_empty() {
            return;
        }
        let weak = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(HEALTH_EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let Some(me) = weak.upgrade() else { return };
                let checks = me.replicas.iter().map(|r| async move {
                    let res = tokio::time::timeout(HEALTH_TIMEOUT, position(&r.pool)).await;
                    (r, res)
                });
                for (r, res) in futures::future::join_all(checks).await {
                    match res {
                        Ok(Ok(lsn)) => {
                            // A rebuilt replica may start lower: take what it says.
                            r.replay_lsn.store(lsn, Ordering::Relaxed);
                            if !r.healthy.swap(true, Ordering::Relaxed) {
                                tracing::info!(replica = %r.name, lsn = %format_lsn(lsn), "read replica in use");
                            }
                        }
                        Ok(Err(e)) => {
                            if r.healthy.swap(false, Ordering::Relaxed) {
                                tracing::warn!(replica = %r.name, error = %e, "read replica down; reading from the primary");
                            } else {
                                tracing::debug!(replica = %r.name, error = %e, "read replica still down");
                            }
                        }
                        Err(_) => {
                            if r.healthy.swap(false, Ordering::Relaxed) {
                                tracing::warn!(replica = %r.name, "read replica not answering; reading from the primary");
                            }
                        }
                    }
                }
            }
        });
    }
}

async fn position(pool: &Pool) -> Result<u64, StoreError> {
    let client = pool.get().await?;
    let row = client
        .query_one(POSITION_SQL, &[])
        .await
        .context("reading a replica's replay position")?;
    Ok(u64::try_from(row.get::<_, Option<i64>>(0).unwrap_or(0)).unwrap_or(0))
}

/// A printable name for a connection string: host and port only.
pub fn describe(cfg: &tokio_postgres::Config) -> String {
    let host = cfg
        .get_hosts()
        .first()
        .map(|h| match h {
            tokio_postgres::config::Host::Tcp(s) => s.clone(),
            #[cfg(unix)]
            tokio_postgres::config::Host::Unix(p) => p.display().to_string(),
        })
        .unwrap_or_default();
    let port = cfg.get_ports().first().copied().unwrap_or(5432);
    format!("{host}:{port}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lsn_text_round_trips() {
        assert_eq!(parse_lsn("16/B374D848"), Some(0x16_B374_D848));
        assert_eq!(format_lsn(0x16_B374_D848), "16/B374D848");
        assert_eq!(parse_lsn("0/0"), Some(0));
        assert_eq!(parse_lsn("x/1"), None);
        assert_eq!(parse_lsn("1"), None);
        assert_eq!(parse_lsn("123456789/0"), None);
    }
}
