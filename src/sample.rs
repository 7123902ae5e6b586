//! The Bandung sample: the layers of sample-layers/, loaded through the same import path a user's
//! own files take.

use std::path::Path;

use deadpool_postgres::Pool;

use crate::import::{import_file, ImportError, ImportOptions, ImportReport};
use crate::store::{Context, StoreError};

/// The sample files and the layer each loads into, in dependency order.
pub const SAMPLE_FILES: &[(&str, &str)] = &[
    ("region.geojson", "region"),
    ("kecamatan.geojson", "kecamatan"),
    ("kelurahan.geojson", "kelurahan"),
    ("indicators.csv", "indicator"),
    ("partners.csv", "partner"),
    ("programs.csv", "program"),
    ("coverage.geojson", "coverage"),
    ("proposals.geojson", "proposal"),
];

/// Why the sample did not load.
#[derive(Debug, thiserror::Error)]
pub enum SampleError {
    #[error("{file}: {source}")]
    Import { file: String, source: ImportError },
    #[error("{file} was refused: {report}")]
    Refused {
        file: String,
        report: Box<ImportReport>,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// True when no kelurahan is loaded yet.
pub async fn is_empty(pool: &Pool) -> Result<bool, StoreError> {
    let client = pool.get().await?;
    let n: i64 = client
        .query_one("SELECT count(*) FROM kelurahan", &[])
        .await
        .context("counting kelurahan")?
        .get(0);
    Ok(n == 0)
}

/// Loads every sample layer from `dir`. Loading twice updates the same rows (imports upsert by
/// code), so it is safe to repeat.
pub async fn load(
    pool: &Pool,
    dir: &Path,
    progress: bool,
) -> Result<Vec<ImportReport>, SampleError> {
    let mut reports = Vec::new();
    for (file, layer) in SAMPLE_FILES {
        let opts = ImportOptions {
            progress,
            ..Default::default()
        };
        let report = import_file(pool, &dir.join(file), layer, &opts)
            .await
            .map_err(|source| SampleError::Import {
                file: (*file).to_owned(),
                source,
            })?;
        if !report.committed {
            return Err(SampleError::Refused {
                file: (*file).to_owned(),
                report: Box::new(report),
            });
        }
        reports.push(report);
    }
    Ok(reports)
}
