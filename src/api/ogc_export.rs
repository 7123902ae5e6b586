//! Exports of `/ogc/collections/{id}/items`: `f=csv` (WKT plus the lon/lat of a point on the
//! surface), `f=gpkg` and `f=shp` (zipped), the last two written through GDAL in a blocking task
//! into a temporary directory. Exports take the same filters as items; without `limit` they
//! hold every matching feature.

use std::io::Write;
use std::path::{Path, PathBuf};

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use gdal::spatial_ref::SpatialRef;
use gdal::vector::{
    Feature, Geometry, LayerAccess, LayerOptions, OGRFieldType, OGRwkbGeometryType,
};
use gdal::{Dataset, DriverManager};
use serde_json::Value;

use super::ogc::ItemsQuery;
use crate::error::{ApiError, ApiResult};
use crate::store::collections::{Collection, GeomKind, PropType};
use crate::store::features::{self, ExportRow};
use crate::store::sources::{self, Source};
use crate::AppState;

/// The export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Export {
    Csv,
    Gpkg,
    Shp,
}

pub async fn export(
    state: &AppState,
    c: &Collection,
    q: &ItemsQuery,
    kind: Export,
) -> ApiResult<Response> {
    let client = super::read_conn(state).await?;
    let rows = features::export_rows(&client, c, &q.selection, q.limit, q.offset).await?;
    let sources = crate::store::sources::for_layers(&**client, c.sources).await?;
    drop(client);
    let (bytes, content_type, ext) = match kind {
        Export::Csv => (
            csv(c, &rows, &sources).into_bytes(),
            "text/csv; charset=utf-8",
            "csv",
        ),
        Export::Gpkg | Export::Shp => {
            let shp = kind == Export::Shp;
            let coll = c.clone();
            let bytes =
                tokio::task::spawn_blocking(move || write_gdal(&coll, &rows, &sources, shp))
                    .await
                    .map_err(ApiError::internal)?
                    .map_err(ApiError::internal)?;
            if shp {
                (bytes, "application/zip", "zip")
            } else {
                (bytes, "application/geopackage+sqlite3", "gpkg")
            }
        }
    };
    let mut res = bytes.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{}.{ext}\"", c.id)) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(res)
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

fn plain(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// CSV with one column per property, then `attribution` when the data has a source to credit
/// (the same on every row, so it stays with any row copied out), then `wkt`, `lon`, `lat`.
pub fn csv(c: &Collection, rows: &[ExportRow], sources: &[Source]) -> String {
    let attribution = sources::joined(sources);
    let mut out = String::new();
    let mut header: Vec<&str> = c.properties.iter().map(|p| p.name).collect();
    if attribution.is_some() {
        header.push("attribution");
    }
    header.extend(["wkt", "lon", "lat"]);
    out.push_str(&header.join(","));
    out.push_str("\r\n");
    for r in rows {
        let mut fields: Vec<String> = c
            .properties
            .iter()
            .map(|p| csv_field(&plain(r.properties.get(p.name))))
            .collect();
        if let Some(a) = &attribution {
            fields.push(csv_field(a));
        }
        fields.push(csv_field(&r.wkt));
        fields.push(format!("{:.7}", r.lon));
        fields.push(format!("{:.7}", r.lat));
        out.push_str(&fields.join(","));
        out.push_str("\r\n");
    }
    out
}

/// Writes a GeoPackage, or a zipped Shapefile, and returns its bytes.
/// The attribution travels in the file: the GeoPackage layer's description (gpkg_contents), and
/// an ATTRIBUTION.txt beside the Shapefile in the zip.
fn write_gdal(
    c: &Collection,
    rows: &[ExportRow],
    sources: &[Source],
    shp: bool,
) -> anyhow::Result<Vec<u8>> {
    let attribution = sources::joined(sources);
    let dir = tempfile::tempdir()?;
    let (driver, path) = if shp {
        ("ESRI Shapefile", dir.path().join(format!("{}.shp", c.id)))
    } else {
        ("GPKG", dir.path().join(format!("{}.gpkg", c.id)))
    };
    {
        let mut ds = DriverManager::get_driver_by_name(driver)?.create_vector_only(&path)?;
        if shp {
            fill(&mut ds, c, rows, None)?;
        } else {
            let mut txn = ds.start_transaction()?;
            fill(&mut txn, c, rows, attribution.as_deref())?;
            txn.commit()?;
        }
    }
    if let (true, Some(a)) = (shp, &attribution) {
        let mut text = format!("Sumber / Source: {a}\r\n");
        for s in sources {
            if let Some(url) = &s.license_url {
                text.push_str(&format!("{}: {url}\r\n", s.license));
            }
        }
        std::fs::write(dir.path().join("ATTRIBUTION.txt"), text)?;
    }
    if shp {
        zip_dir(dir.path())
    } else {
        Ok(std::fs::read(&path)?)
    }
}

fn fill(
    ds: &mut Dataset,
    c: &Collection,
    rows: &[ExportRow],
    description: Option<&str>,
) -> anyhow::Result<()> {
    let srs = SpatialRef::from_epsg(4326)?;
    let description = description.map(|d| format!("DESCRIPTION=Sumber / Source: {d}"));
    let options: Vec<&str> = description.iter().map(String::as_str).collect();
    let layer = ds.create_layer(LayerOptions {
        name: c.id,
        srs: Some(&srs),
        ty: match c.geom_kind {
            GeomKind::Point => OGRwkbGeometryType::wkbPoint,
            GeomKind::Polygon => OGRwkbGeometryType::wkbMultiPolygon,
        },
        options: (!options.is_empty()).then_some(options.as_slice()),
    })?;
    let fields: Vec<(&str, OGRFieldType::Type)> = c
        .properties
        .iter()
        .map(|p| {
            (
                p.name,
                match p.ty {
                    PropType::Int => OGRFieldType::OFTInteger64,
                    PropType::Float => OGRFieldType::OFTReal,
                    _ => OGRFieldType::OFTString,
                },
            )
        })
        .collect();
    layer.create_defn_fields(&fields)?;
    for r in rows {
        let mut f = Feature::new(layer.defn())?;
        f.set_geometry(Geometry::from_wkt(&r.wkt)?)?;
        for (i, p) in c.properties.iter().enumerate() {
            match (p.ty, r.properties.get(p.name)) {
                (_, None) | (_, Some(Value::Null)) => f.set_field_null(i)?,
                (PropType::Int, Some(v)) => match v.as_i64() {
                    Some(n) => f.set_field_integer64(i, n)?,
                    None => f.set_field_null(i)?,
                },
                (PropType::Float, Some(v)) => match v.as_f64() {
                    Some(n) => f.set_field_double(i, n)?,
                    None => f.set_field_null(i)?,
                },
                (_, Some(v)) => f.set_field_string(i, &plain(Some(v)))?,
            }
        }
        f.create(&layer)?;
    }
    Ok(())
}

fn zip_dir(dir: &Path) -> anyhow::Result<Vec<u8>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for path in files {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        zip.start_file(name, opts)?;
        zip.write_all(&std::fs::read(&path)?)?;
    }
    Ok(zip.finish()?.into_inner())
}
