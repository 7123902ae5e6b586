//! Bringing vector data in: any format GDAL reads (GeoJSON, GeoPackage, Shapefile, KML, CSV with
//! WKT or lon/lat), reprojected to EPSG:4326, fields mapped, checked feature by feature, and
//! loaded into one layer in a single transaction.
//!
//! By default one rejected feature means nothing loads; `skip_invalid` loads the rest. Invalid
//! polygons are repaired with ST_MakeValid when the repair is still a polygon, and the report says
//! so.

pub mod check;
pub mod export;
pub mod layers;
pub mod partner;
mod read;

use std::fmt;
use std::path::{Path, PathBuf};

use deadpool_postgres::Pool;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

pub use layers::{layer, LayerSpec, LAYERS};

use crate::store::import::{self as staging, LoadError, Staged, StagedRow};
pub use crate::store::quality::{LayerQuality, QualityOptions};
pub use crate::store::sources::Source;
use crate::store::StoreError;

/// A batch sent from the reader to the staging: this many features, or this many bytes of
/// geometry (a few hundred kabupaten outlines), whichever comes first.
const BATCH_ROWS: usize = 2000;
const BATCH_BYTES: usize = 32 << 20;

/// How to import one file.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// Source CRS, e.g. `EPSG:32748`, overriding (or supplying) the file's own.
    pub srs: Option<String>,
    /// `(target, source)` field mappings.
    pub map: Vec<(String, String)>,
    /// Which layer of a multi-layer source (GeoPackage); the first when unset.
    pub source_layer: Option<String>,
    /// Check everything, load nothing.
    pub dry_run: bool,
    /// Load the good features even when some are rejected.
    pub skip_invalid: bool,
    /// Draw progress bars (on a terminal).
    pub progress: bool,
    /// Thresholds of the boundary quality report.
    pub quality: QualityOptions,
    /// Where the data comes from and its licence, recorded for the layer and shown wherever it
    /// is served or exported.
    pub source: Option<Source>,
    /// Most vertices one feature may have; [`check::DEFAULT_MAX_VERTICES`] when unset.
    pub max_vertices: Option<usize>,
}

/// One feature the report names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeatureNote {
    /// 1-based position in the source layer.
    pub index: i32,
    pub fid: Option<i64>,
    pub reason: String,
}

impl fmt::Display for FeatureNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.fid {
            Some(fid) => write!(f, "feature {} (fid {fid}): {}", self.index, self.reason),
            None => write!(f, "feature {}: {}", self.index, self.reason),
        }
    }
}

/// What an import did.
#[derive(Debug, Clone, Default)]
pub struct ImportReport {
    pub layer: &'static str,
    pub read: usize,
    /// Features written (or, on a dry run, that would be written).
    pub loaded: usize,
    pub repaired: Vec<FeatureNote>,
    pub rejected: Vec<FeatureNote>,
    /// True when the transaction committed.
    pub committed: bool,
    pub dry_run: bool,
    pub source_srs: Option<String>,
    pub assumed_srs: bool,
    /// Boundary layers only: overlaps, holes and parts outside the parent (reported, never
    /// refused).
    pub quality: Option<LayerQuality>,
    /// The same findings per feature.
    pub quality_notes: Vec<FeatureNote>,
}

impl ImportReport {
    /// The last line of the report: counts and outcome.
    pub fn summary(&self) -> String {
        let outcome = if self.dry_run {
            "dry run: nothing written"
        } else if self.committed {
            "committed"
        } else {
            "nothing loaded: fix the rejected features, or use --skip-invalid to load the rest"
        };
        format!(
            "{}: read {}, loaded {}, repaired {}, rejected {} ({outcome})",
            self.layer,
            self.read,
            self.loaded,
            self.repaired.len(),
            self.rejected.len()
        )
    }
}

impl fmt::Display for ImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.assumed_srs {
            writeln!(f, "note: the source declares no CRS; EPSG:4326 (lon/lat) was assumed (use --srs to say otherwise)")?;
        }
        for note in &self.repaired {
            writeln!(f, "repaired {note}")?;
        }
        for note in &self.rejected {
            writeln!(f, "rejected {note}")?;
        }
        for note in &self.quality_notes {
            writeln!(f, "note {note}")?;
        }
        if let Some(q) = &self.quality {
            writeln!(f, "{}", q.headline())?;
        }
        f.write_str(&self.summary())
    }
}

/// Why an import could not run at all (feature-level problems go in the report instead).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("unknown layer '{0}': choose one of region, kecamatan, kelurahan, indicator, partner, program, coverage, proposal, population, facility, coverage_rule")]
    UnknownLayer(String),
    #[error("cannot open {path}: {reason}")]
    Open { path: String, reason: String },
    #[error("the source has no layer '{name}' (it has: {available})")]
    NoSuchSourceLayer { name: String, available: String },
    #[error("--map names '{target}', which layer {layer} does not have (it has: {known})")]
    UnknownTarget {
        layer: &'static str,
        target: String,
        known: String,
    },
    #[error(
        "--map names source field '{column}', which the file does not have (it has: {available})"
    )]
    UnknownSource { column: String, available: String },
    #[error("'{0}' is not a CRS GDAL understands (try EPSG:32748)")]
    BadSrs(String),
    #[error("no region is loaded yet: import the region layer (the kota/kabupaten outline) first")]
    NoRegion,
    #[error("too many features for one import")]
    TooMany,
    #[error("GDAL error: {0}")]
    Gdal(#[from] gdal::errors::GdalError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the reader stopped unexpectedly: {0}")]
    Join(#[from] tokio::task::JoinError),
    #[error("the reader stopped before the end of the file")]
    ReaderStopped,
}

/// Parses `target=source` pairs of `--map`.
pub fn parse_mapping(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((t, src)) if !t.trim().is_empty() && !src.trim().is_empty() => {
            Ok((t.trim().to_owned(), src.trim().to_owned()))
        }
        _ => Err(format!("'{s}' is not target=source")),
    }
}

/// Imports `path` into `layer_name`.
pub async fn import_file(
    pool: &Pool,
    path: &Path,
    layer_name: &str,
    opts: &ImportOptions,
) -> Result<ImportReport, ImportError> {
    let spec = layer(layer_name).ok_or_else(|| ImportError::UnknownLayer(layer_name.to_owned()))?;
    run(pool, path, spec, &spec.rules(), opts, None).await
}

/// Reads, stages, checks and loads one file by `rules` (the layer's own, or a variant such as a
/// partner's upload, whose extra checks and insert take `context`).
pub(crate) async fn run(
    pool: &Pool,
    path: &Path,
    spec: &'static LayerSpec,
    rules: &staging::Rules,
    opts: &ImportOptions,
    context: Option<&serde_json::Value>,
) -> Result<ImportReport, ImportError> {
    let progress = progress_bar(opts.progress);
    // The reader (GDAL, blocking) and the staging (PostgreSQL) run side by side, a bounded
    // channel between them: at most a few batches of features are in memory at any time.
    let (sender, receiver) = tokio::sync::mpsc::channel::<Staged>(2);
    let owned_path: PathBuf = path.to_owned();
    let read_opts = opts.clone();
    let bar = progress.clone();
    let reader = tokio::task::spawn_blocking(move || {
        let mut batch = Vec::new();
        let mut batch_bytes = 0;
        let outcome = read::read(&owned_path, spec, &read_opts, &bar, &mut |f| {
            batch_bytes += f.wkb.as_ref().map_or(0, Vec::len);
            batch.push(StagedRow {
                index: f.index,
                fid: f.fid,
                wkb: f.wkb,
                props: serde_json::Value::Object(f.props),
                reject: f.reject,
            });
            if batch.len() < BATCH_ROWS && batch_bytes < BATCH_BYTES {
                return true;
            }
            batch_bytes = 0;
            sender
                .blocking_send(Staged::Rows(std::mem::take(&mut batch)))
                .is_ok()
        })?;
        // Done only after a complete read: if the reader fails, nothing loads.
        if !batch.is_empty() {
            let _ = sender.blocking_send(Staged::Rows(batch));
        }
        let _ = sender.blocking_send(Staged::Done);
        Ok::<_, ImportError>(outcome)
    });

    let mut client = pool.get().await.map_err(StoreError::from)?;
    let loaded = staging::load(
        &mut client,
        rules,
        receiver,
        staging::LoadOptions {
            dry_run: opts.dry_run,
            skip_invalid: opts.skip_invalid,
            quality: opts.quality,
            source: opts.source.as_ref(),
            context,
        },
        &progress,
    )
    .await;
    let loaded = match loaded {
        Ok(loaded) => loaded,
        Err(e) => {
            // The reader's own error (the file, the mapping) comes first: it says what went
            // wrong, and would stop the import anyway. Otherwise it stops by itself once the
            // channel closes.
            reader.await??;
            return Err(match e {
                LoadError::SourceStopped => ImportError::ReaderStopped,
                LoadError::NoRegion => ImportError::NoRegion,
                LoadError::Store(e) => ImportError::Store(e),
            });
        }
    };
    let outcome = reader.await??;
    let note = |n: staging::Noted| FeatureNote {
        index: n.index,
        fid: n.fid,
        reason: n.reason,
    };
    Ok(ImportReport {
        layer: spec.name,
        read: outcome.read,
        loaded: loaded.loaded,
        repaired: loaded.repaired.into_iter().map(note).collect(),
        rejected: loaded.rejected.into_iter().map(note).collect(),
        quality: loaded.quality,
        quality_notes: loaded.quality_notes.into_iter().map(note).collect(),
        committed: loaded.committed,
        dry_run: opts.dry_run,
        source_srs: outcome.source_srs,
        assumed_srs: outcome.assumed_srs,
    })
}

/// A progress bar on stderr, drawn only when asked and only on a terminal.
pub(crate) fn progress_bar(visible: bool) -> ProgressBar {
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{msg:>10} [{bar:30}] {pos}/{len} ({per_sec}, {elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    if visible {
        // The checks and the quality report can take minutes at national size with the bar
        // full: the ticking clock shows it is still at work.
        bar.enable_steady_tick(std::time::Duration::from_secs(1));
    } else {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    bar
}
