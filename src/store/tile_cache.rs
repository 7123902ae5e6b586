//! The in-memory tile cache and what keeps it fresh. Tiles are cached by (layer, z, x, y) in a
//! size-bounded moka cache. A dedicated connection LISTENs on `sigap_changes` (sent by the
//! statement triggers of migration V2 on every write path); each change drops only the cached
//! tiles, at every zoom, whose buffered extent meets the old or new extent of the rows changed,
//! in the changed layers and in the combined tileset. While that connection is down the cache is
//! bypassed and emptied, so a tile is never served stale. See docs/layers.md.
//!
//! With read replicas (`store::read_routing`), the listener (on the primary) also records the
//! primary's WAL position when each change arrives: a fence. A tile is rendered on a replica only
//! if that replica has replayed past the fences of every change that touched the tile, else on
//! the primary, so a lagging replica never puts an old tile back into the cache.

use std::sync::{Arc, Weak};
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use moka::future::Cache;
use serde::Deserialize;
use tokio::sync::{watch, RwLock};
use tokio_postgres::{AsyncMessage, NoTls};

use super::collections::Catalog;
use super::read_routing::ReadPools;
use crate::domain::tile::{boxes_intersect, TileCoord};

/// The notification channel of migration V2.
pub const CHANNEL: &str = "sigap_changes";

/// The cache key of the combined tileset (layers use their catalog index).
pub const COMBINED: u16 = u16::MAX;

/// How long a tile request waits for the change listener at start-up before it bypasses the
/// cache. Only the first requests after start ever wait.
const LIVE_WAIT: Duration = Duration::from_secs(3);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TileKey {
    pub layer: u16,
    pub tile: TileCoord,
}

/// A rendered tile and its ETag (a hash of its bytes).
#[derive(Debug, Clone)]
pub struct CachedTile {
    pub bytes: Bytes,
    pub etag: Arc<str>,
}

/// One `sigap_changes` payload.
#[derive(Debug, Clone, Deserialize)]
pub struct Change {
    pub layers: Vec<String>,
    /// `[xmin, ymin, xmax, ymax]` in degrees; `None` means every tile of these layers.
    pub boxes: Option<Vec<[f64; 4]>>,
}

/// The tile cache; `None` inside when SIGAP_TILE_CACHE_MB is 0.
pub struct TileCache {
    cache: Option<Cache<TileKey, CachedTile>>,
    /// True while the change listener is connected; the cache is used only then.
    live: watch::Sender<bool>,
    /// Set once the listener has been live: after that, a lost listener means the database is
    /// in trouble, and requests bypass the cache at once instead of waiting for it.
    was_live: std::sync::atomic::AtomicBool,
    /// Bumped by every change. A tile rendered across a change is served but not cached, so a
    /// render that read the old rows cannot land after the invalidation that should drop it.
    generation: RwLock<u64>,
    /// Catalog indexes of the layers in the combined tileset.
    combined: Vec<usize>,
    catalog: Arc<Catalog>,
    /// The WAL positions of recent changes, for read replicas.
    fences: std::sync::Mutex<Fences>,
}

/// Recent changes with the primary's WAL position when each arrived. Changes every replica has
/// replayed are dropped; past [`MAX_FENCES`] the oldest fold into `floor`, which then applies to
/// every tile (more tiles go to the primary for a moment, never a stale one to the cache).
#[derive(Default)]
struct Fences {
    floor: u64,
    recent: std::collections::VecDeque<Fence>,
}

struct Fence {
    layers: Vec<u16>,
    boxes: Option<Vec<[f64; 4]>>,
    lsn: u64,
}

const MAX_FENCES: usize = 4096;

fn touches(layers: &[u16], boxes: &Option<Vec<[f64; 4]>>, key: &TileKey) -> bool {
    layers.contains(&key.layer)
        && match boxes {
            None => true,
            Some(boxes) => {
                let tile = key.tile.buffered_bounds_deg();
                boxes.iter().any(|b| boxes_intersect(&tile, b))
            }
        }
}

impl TileCache {
    pub fn new(size_mb: u64, catalog: Arc<Catalog>) -> Self {
        let cache = (size_mb > 0).then(|| {
            Cache::builder()
                .max_capacity(size_mb * 1024 * 1024)
                .weigher(|_k: &TileKey, v: &CachedTile| {
                    u32::try_from(v.bytes.len() + 64).unwrap_or(u32::MAX)
                })
                .support_invalidation_closures()
                .build()
        });
        let combined = catalog
            .collections
            .iter()
            .enumerate()
            .filter(|(_, c)| c.in_combined_tiles)
            .map(|(i, _)| i)
            .collect();
        Self {
            cache,
            live: watch::Sender::new(false),
            was_live: std::sync::atomic::AtomicBool::new(false),
            generation: RwLock::new(0),
            combined,
            catalog,
            fences: std::sync::Mutex::new(Fences::default()),
        }
    }

    /// The WAL position a server must have replayed for its rendering of `key` to include every
    /// change this process has heard of.
    pub fn fence(&self, key: &TileKey) -> u64 {
        let Ok(f) = self.fences.lock() else {
            return u64::MAX;
        };
        f.recent
            .iter()
            .filter(|c| touches(&c.layers, &c.boxes, key))
            .map(|c| c.lsn)
            .fold(f.floor, u64::max)
    }

    fn add_fence(&self, fence: Fence, settled: u64) {
        let Ok(mut f) = self.fences.lock() else {
            return;
        };
        while f.recent.front().is_some_and(|c| c.lsn <= settled) {
            f.recent.pop_front();
        }
        if f.recent.len() >= MAX_FENCES {
            let lsn = f.recent.pop_front().map_or(0, |c| c.lsn);
            f.floor = f.floor.max(lsn);
        }
        f.recent.push_back(fence);
    }

    fn raise_floor(&self, lsn: u64) {
        if let Ok(mut f) = self.fences.lock() {
            f.floor = f.floor.max(lsn);
            f.recent.clear();
        }
    }

    pub fn enabled(&self) -> bool {
        self.cache.is_some()
    }

    /// The generation to render under, or `None` when the cache must not be used (off, or the
    /// listener is down).
    pub async fn begin(&self) -> Option<u64> {
        self.cache.as_ref()?;
        let mut rx = self.live.subscribe();
        if !*rx.borrow() {
            if self.was_live.load(std::sync::atomic::Ordering::Relaxed) {
                return None;
            }
            match tokio::time::timeout(LIVE_WAIT, rx.wait_for(|live| *live)).await {
                Ok(Ok(_)) => {}
                _ => return None,
            }
        }
        Some(*self.generation.read().await)
    }

    pub async fn get(&self, key: &TileKey) -> Option<CachedTile> {
        self.cache.as_ref()?.get(key).await
    }

    /// Caches a tile rendered under `generation`, unless a change came in meanwhile.
    pub async fn insert(&self, key: TileKey, tile: CachedTile, generation: u64) {
        let Some(cache) = &self.cache else { return };
        let current = self.generation.read().await;
        if *current == generation && *self.live.borrow() {
            cache.insert(key, tile).await;
        }
    }

    /// Drops every cached tile that `change` can have altered. `fence` is the primary's WAL
    /// position when the change arrived (with read replicas) and the lowest position every
    /// replica has replayed.
    pub async fn apply(&self, change: &Change, fence: Option<(u64, u64)>) {
        let Some(cache) = &self.cache else { return };
        let mut layers: Vec<u16> = change
            .layers
            .iter()
            .filter_map(|l| self.catalog.index(l))
            .filter_map(|i| u16::try_from(i).ok())
            .collect();
        if layers
            .iter()
            .any(|l| self.combined.contains(&usize::from(*l)))
        {
            layers.push(COMBINED);
        }
        if layers.is_empty() {
            return;
        }
        let mut generation = self.generation.write().await;
        *generation += 1;
        let boxes = change.boxes.clone();
        if let Some((lsn, settled)) = fence {
            self.add_fence(
                Fence {
                    layers: layers.clone(),
                    boxes: boxes.clone(),
                    lsn,
                },
                settled,
            );
        }
        let dropped = cache.invalidate_entries_if(move |key, _| touches(&layers, &boxes, key));
        if let Err(e) = dropped {
            // Only fails when closures are unsupported, which the builder enables; be safe.
            tracing::error!(error = %e, "tile invalidation failed; clearing the tile cache");
            cache.invalidate_all();
        }
    }

    /// Empties the cache and marks it live or not.
    async fn reset(&self, live: bool) {
        let mut generation = self.generation.write().await;
        *generation += 1;
        if let Some(cache) = &self.cache {
            cache.invalidate_all();
        }
        self.live.send_replace(live);
        if live {
            self.was_live
                .store(true, std::sync::atomic::Ordering::Relaxed);
        }
    }
}

/// Starts the change listener for `cache` on a connection of its own. It reconnects when the
/// connection drops (emptying the cache, since changes may have been missed) and stops when the
/// cache is gone. Must be called inside a Tokio runtime.
pub fn spawn_listener(pg: tokio_postgres::Config, cache: &Arc<TileCache>, reads: &Arc<ReadPools>) {
    if !cache.enabled() {
        return;
    }
    let weak = Arc::downgrade(cache);
    let reads = reads.clone();
    tokio::spawn(async move {
        let mut backoff = Duration::from_millis(200);
        loop {
            match listen(&pg, &weak, &reads).await {
                Ok(Stop::CacheGone) => return,
                Ok(Stop::Lost) => {
                    tracing::warn!("tile change listener lost its connection; reconnecting");
                    // It was live: start the next outage's backoff from the beginning.
                    backoff = Duration::from_millis(200);
                }
                Err(e) => tracing::warn!(error = %e, "tile change listener cannot connect"),
            }
            let Some(cache) = weak.upgrade() else { return };
            cache.reset(false).await;
            drop(cache);
            tokio::time::sleep(backoff).await;
            // At most 2 s between attempts, so the cache is back soon after PostgreSQL is.
            backoff = (backoff * 2).min(Duration::from_secs(2));
        }
    });
}

enum Stop {
    Lost,
    CacheGone,
}

/// The primary's WAL position: every change notified so far committed at or before it.
const POSITION_SQL: &str = "SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::int8";

async fn position(client: &tokio_postgres::Client) -> Result<u64, tokio_postgres::Error> {
    let lsn: i64 = client.query_one(POSITION_SQL, &[]).await?.get(0);
    Ok(u64::try_from(lsn).unwrap_or(0))
}

async fn listen(
    pg: &tokio_postgres::Config,
    weak: &Weak<TileCache>,
    reads: &ReadPools,
) -> Result<Stop, tokio_postgres::Error> {
    let (client, mut conn) = pg.connect(NoTls).await?;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let driver = tokio::spawn(async move {
        let mut messages = futures::stream::poll_fn(move |cx| conn.poll_message(cx));
        while let Some(message) = messages.next().await {
            match message {
                Ok(AsyncMessage::Notification(n)) => {
                    if tx.send(n.payload().to_owned()).is_err() {
                        return;
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "tile change listener connection failed");
                    return;
                }
            }
        }
    });
    client.batch_execute(&format!("LISTEN {CHANNEL}")).await?;
    // Changes may have been missed while not listening: no replica behind this point renders a
    // tile for the cache.
    let start = if reads.has_replicas() {
        Some(position(&client).await?)
    } else {
        None
    };
    match weak.upgrade() {
        Some(cache) => {
            if let Some(lsn) = start {
                cache.raise_floor(lsn);
            }
            cache.reset(true).await
        }
        None => return Ok(Stop::CacheGone),
    }
    tracing::info!("tile change listener is live");
    while let Some(first) = rx.recv().await {
        let Some(cache) = weak.upgrade() else {
            driver.abort();
            return Ok(Stop::CacheGone);
        };
        let mut payloads = vec![first];
        while let Ok(more) = rx.try_recv() {
            payloads.push(more);
        }
        // One position for the batch: read after all of them arrived, so at or past every one.
        let fence = if reads.has_replicas() {
            Some((position(&client).await?, reads.settled_lsn()))
        } else {
            None
        };
        for payload in payloads {
            match serde_json::from_str::<Change>(&payload) {
                Ok(change) => cache.apply(&change, fence).await,
                Err(e) => {
                    tracing::warn!(error = %e, payload, "unreadable change notification; clearing the tile cache");
                    if let Some((lsn, _)) = fence {
                        cache.raise_floor(lsn);
                    }
                    cache.reset(true).await;
                }
            }
        }
    }
    drop(client);
    Ok(Stop::Lost)
}
