//! Writing result layers to files through GDAL: GeoPackage (several layers), GeoJSON and CSV
//! (one layer, geometry as WKT), all in EPSG:4326.

use std::path::Path;

use gdal::spatial_ref::{AxisMappingStrategy, SpatialRef};
use gdal::vector::{
    Feature, Geometry, LayerAccess, LayerOptions, OGRFieldType, OGRwkbGeometryType,
};
use gdal::DriverManager;
use serde_json::Value;

use crate::store::gap::ExportRow;

/// Why a file could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("cannot tell the format of {0}: use a .gpkg, .geojson or .csv name")]
    UnknownFormat(String),
    #[error("GDAL failed while writing {path}: {source}")]
    Gdal {
        path: String,
        #[source]
        source: gdal::errors::GdalError,
    },
}

/// The output formats, by file extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    GeoPackage,
    GeoJson,
    Csv,
}

impl Format {
    pub fn from_path(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "gpkg" => Some(Format::GeoPackage),
            "geojson" | "json" => Some(Format::GeoJson),
            "csv" => Some(Format::Csv),
            _ => None,
        }
    }

    /// Whether one file can hold several layers.
    pub fn multi_layer(self) -> bool {
        self == Format::GeoPackage
    }

    fn driver(self) -> &'static str {
        match self {
            Format::GeoPackage => "GPKG",
            Format::GeoJson => "GeoJSON",
            Format::Csv => "CSV",
        }
    }
}

fn field_type(rows: &[ExportRow], idx: usize) -> OGRFieldType::Type {
    let mut ty = None;
    for r in rows {
        match r.properties.get(idx).map(|(_, v)| v) {
            Some(Value::String(_)) => return OGRFieldType::OFTString,
            Some(Value::Number(n)) if n.is_f64() => ty = Some(OGRFieldType::OFTReal),
            Some(Value::Number(_)) if ty.is_none() => ty = Some(OGRFieldType::OFTInteger64),
            _ => {}
        }
    }
    ty.unwrap_or(OGRFieldType::OFTString)
}

/// Writes `layers` (name, rows) to `path`, replacing the file. Every row of a layer carries the
/// same property names in the same order. Blocking: call it from `spawn_blocking`.
pub fn write(path: &Path, layers: &[(&str, Vec<ExportRow>)]) -> Result<(), ExportError> {
    let shown = path.display().to_string();
    let format =
        Format::from_path(path).ok_or_else(|| ExportError::UnknownFormat(shown.clone()))?;
    let gdal_err = |source| ExportError::Gdal {
        path: shown.clone(),
        source,
    };
    if path.exists() {
        // GDAL refuses to create over an existing file; the caller asked for a fresh one.
        let _ = std::fs::remove_file(path);
    }
    let driver = DriverManager::get_driver_by_name(format.driver()).map_err(gdal_err)?;
    let mut ds = driver.create_vector_only(path).map_err(gdal_err)?;
    let mut srs = SpatialRef::from_epsg(4326).map_err(gdal_err)?;
    srs.set_axis_mapping_strategy(AxisMappingStrategy::TraditionalGisOrder);
    let csv_options: &[&str] = &["GEOMETRY=AS_WKT"];
    for (name, rows) in layers {
        let layer = ds
            .create_layer(LayerOptions {
                name,
                srs: Some(&srs),
                ty: OGRwkbGeometryType::wkbUnknown,
                options: (format == Format::Csv).then_some(csv_options),
            })
            .map_err(gdal_err)?;
        let names: Vec<String> = rows
            .first()
            .map(|r| r.properties.iter().map(|(k, _)| k.clone()).collect())
            .unwrap_or_default();
        let defs: Vec<(&str, OGRFieldType::Type)> = names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.as_str(), field_type(rows, i)))
            .collect();
        layer.create_defn_fields(&defs).map_err(gdal_err)?;
        for row in rows {
            let mut feature = Feature::new(layer.defn()).map_err(gdal_err)?;
            feature
                .set_geometry(Geometry::from_wkb(&row.wkb).map_err(gdal_err)?)
                .map_err(gdal_err)?;
            for (idx, ((_, value), (_, ty))) in row.properties.iter().zip(&defs).enumerate() {
                match (value, *ty) {
                    (Value::Null, _) => feature.set_field_null(idx),
                    (Value::String(s), _) => feature.set_field_string(idx, s),
                    (v, OGRFieldType::OFTReal) => {
                        feature.set_field_double(idx, v.as_f64().unwrap_or(f64::NAN))
                    }
                    (v, OGRFieldType::OFTInteger64) => {
                        feature.set_field_integer64(idx, v.as_i64().unwrap_or(0))
                    }
                    (v, _) => feature.set_field_string(idx, &v.to_string()),
                }
                .map_err(gdal_err)?;
            }
            feature.create(&layer).map_err(gdal_err)?;
        }
    }
    Ok(())
}
