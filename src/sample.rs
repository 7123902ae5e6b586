//! The Bandung sample: the layers of sample-layers/, loaded through the same import path a user's
//! own files take.

use std::path::Path;

use deadpool_postgres::Pool;

use crate::import::{import_file, ImportError, ImportOptions, ImportReport, Source};
use crate::store::{Context, StoreError};

/// One sample file: the layer it loads into and its field mapping (`target`, `source`), exactly
/// what a user would pass as `sigap import FILE --layer LAYER --map target=source`.
pub struct SampleFile {
    pub file: &'static str,
    pub layer: &'static str,
    pub map: &'static [(&'static str, &'static str)],
    /// Attribution, licence and licence URL of real data (see sample-layers/PROVENANCE.md).
    pub source: Option<(&'static str, &'static str, &'static str)>,
}

const fn sample(
    file: &'static str,
    layer: &'static str,
    map: &'static [(&'static str, &'static str)],
) -> SampleFile {
    SampleFile {
        file,
        layer,
        map,
        source: None,
    }
}

const fn sourced(
    mut f: SampleFile,
    source: (&'static str, &'static str, &'static str),
) -> SampleFile {
    f.source = Some(source);
    f
}

/// The real boundaries: Kemendagri codes and boundaries from cahyadsn/wilayah_boundaries.
const BOUNDARIES: (&str, &str, &str) = (
    "Batas wilayah: cahyadsn/wilayah_boundaries, kode Kemendagri",
    "MIT",
    "https://github.com/cahyadsn/wilayah_boundaries/blob/master/LICENSE",
);
/// The facilities: OpenStreetMap.
const OSM: (&str, &str, &str) = (
    "© OpenStreetMap contributors",
    "ODbL-1.0",
    "https://www.openstreetmap.org/copyright",
);

/// The sample files in dependency order. The boundaries and facilities keep their upstream field
/// names (see sample-layers/PROVENANCE.md) and are mapped here.
pub const SAMPLE_FILES: &[SampleFile] = &[
    sourced(
        sample(
            "region.geojson",
            "region",
            &[("code", "kode_kota"), ("name", "nama_kota")],
        ),
        BOUNDARIES,
    ),
    sourced(
        sample(
            "kecamatan.geojson",
            "kecamatan",
            &[
                ("code", "kode_kec"),
                ("name", "nama_kec"),
                ("region_code", "kode_kota"),
            ],
        ),
        BOUNDARIES,
    ),
    sourced(
        sample(
            "kelurahan.geojson",
            "kelurahan",
            &[
                ("code", "kode_kel"),
                ("name", "nama_kel"),
                ("kecamatan_code", "kode_kec"),
            ],
        ),
        BOUNDARIES,
    ),
    sample("indicators.csv", "indicator", &[]),
    sourced(
        sample("facilities.geojson", "facility", &[("code", "osm_id")]),
        OSM,
    ),
    sample("partners.csv", "partner", &[]),
    sample("programs.csv", "program", &[]),
    sample("coverage.geojson", "coverage", &[]),
    sample("coverage_rules.csv", "coverage_rule", &[]),
    sample("proposals.geojson", "proposal", &[]),
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
    for f in SAMPLE_FILES {
        let opts = ImportOptions {
            progress,
            map: f
                .map
                .iter()
                .map(|(t, s)| ((*t).to_owned(), (*s).to_owned()))
                .collect(),
            source: f.source.map(|(attribution, license, url)| Source {
                attribution: attribution.to_owned(),
                license: license.to_owned(),
                license_url: Some(url.to_owned()),
            }),
            ..Default::default()
        };
        let report = import_file(pool, &dir.join(f.file), f.layer, &opts)
            .await
            .map_err(|source| SampleError::Import {
                file: f.file.to_owned(),
                source,
            })?;
        if !report.committed {
            return Err(SampleError::Refused {
                file: f.file.to_owned(),
                report: Box::new(report),
            });
        }
        reports.push(report);
    }
    Ok(reports)
}
