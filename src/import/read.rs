//! Reading a vector file through GDAL: open with the right driver options, reproject every
//! geometry to EPSG:4326 (lon/lat order), and convert the mapped fields to typed JSON values.

use std::collections::HashMap;
use std::path::Path;

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use gdal::spatial_ref::{AxisMappingStrategy, CoordTransform, SpatialRef};
use gdal::vector::{FieldValue, LayerAccess};
use gdal::{Dataset, DatasetOptions, GdalOpenFlags};
use indicatif::ProgressBar;
use serde_json::{Map, Number, Value};

use super::check;
use super::layers::{FieldSpec, FieldType, GeomKind, LayerSpec};
use super::{ImportError, ImportOptions};

/// One source feature, ready for the staging table.
#[derive(Debug)]
pub struct SourceFeature {
    /// 1-based position in the source layer.
    pub index: i32,
    pub fid: Option<i64>,
    /// ISO WKB in EPSG:4326, or `None` when the feature has no geometry.
    pub wkb: Option<Vec<u8>>,
    pub props: Map<String, Value>,
    /// Why the feature's fields cannot load, when they cannot.
    pub reject: Option<String>,
}

/// What was read, and how (the features themselves went to the caller one by one).
pub struct ReadOutcome {
    /// Features read.
    pub read: usize,
    /// The source CRS as understood, e.g. `EPSG:32748`.
    pub source_srs: Option<String>,
    /// Set when the source declared no CRS and EPSG:4326 was assumed.
    pub assumed_srs: bool,
}

// GDAL's CSV driver finds geometry in a WKT column or in lon/lat columns with these names.
const CSV_OPEN_OPTIONS: &[&str] = &[
    "GEOM_POSSIBLE_NAMES=wkt,WKT,geometry,geom,the_geom",
    "X_POSSIBLE_NAMES=lon,Lon,LON,longitude,Longitude,lng,x,X",
    "Y_POSSIBLE_NAMES=lat,Lat,LAT,latitude,Latitude,y,Y",
    "KEEP_GEOM_COLUMNS=NO",
];

fn wgs84() -> Result<SpatialRef, gdal::errors::GdalError> {
    let mut srs = SpatialRef::from_epsg(4326)?;
    srs.set_axis_mapping_strategy(AxisMappingStrategy::TraditionalGisOrder);
    Ok(srs)
}

fn describe_srs(srs: &SpatialRef) -> String {
    match (srs.auth_name(), srs.auth_code()) {
        (Some(name), Ok(code)) => format!("{name}:{code}"),
        _ => srs.name().unwrap_or_else(|| "unnamed CRS".to_owned()),
    }
}

/// Whether a feature has a value in a field. The gdal crate's `field` checks only for NULL; a
/// field the feature leaves *unset* (a GeoJSON feature without that property, where another
/// feature has it) would read as 0 or "".
fn field_is_set(feature: &gdal::vector::Feature, idx: usize) -> bool {
    let Ok(idx) = i32::try_from(idx) else {
        return false;
    };
    // SAFETY: the handle belongs to `feature`, alive for this call; the index comes from the
    // layer's own field list.
    unsafe { gdal_sys::OGR_F_IsFieldSetAndNotNull(feature.c_feature(), idx) != 0 }
}

/// Reads every feature of the file's layer and hands each to `emit` as soon as it is read, so a
/// national file is never held whole; `emit` returns false to stop early (the consumer gave
/// up). Advances `bar` per feature. Blocking: call it from `spawn_blocking`.
pub fn read(
    path: &Path,
    spec: &LayerSpec,
    opts: &ImportOptions,
    bar: &ProgressBar,
    emit: &mut dyn FnMut(SourceFeature) -> bool,
) -> Result<ReadOutcome, ImportError> {
    // Curves (GeoPackage CurvePolygon, CompoundCurve …) come out of GDAL already linearised.
    // SAFETY: sets one global flag of GDAL's, read when a feature's geometry is fetched; SIGAP
    // never wants curves anywhere, so setting it process-wide is what every caller wants.
    unsafe { gdal_sys::OGRSetNonLinearGeometriesEnabledFlag(0) };
    let max_vertices = opts.max_vertices.unwrap_or(check::DEFAULT_MAX_VERTICES);
    let is_csv = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    let options = DatasetOptions {
        open_flags: GdalOpenFlags::GDAL_OF_VECTOR | GdalOpenFlags::GDAL_OF_READONLY,
        open_options: is_csv.then_some(CSV_OPEN_OPTIONS),
        ..Default::default()
    };
    // A zipped Shapefile (or any zipped vector file) is read through GDAL's /vsizip/.
    let is_zip = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("zip"));
    let vsi;
    let open_path = if is_zip {
        vsi = std::path::PathBuf::from(format!("/vsizip/{}", path.display()));
        vsi.as_path()
    } else {
        path
    };
    let ds = Dataset::open_ex(open_path, options).map_err(|e| ImportError::Open {
        path: path.display().to_string(),
        reason: e.to_string(),
    })?;
    let mut layer = match &opts.source_layer {
        Some(name) => ds
            .layer_by_name(name)
            .map_err(|_| ImportError::NoSuchSourceLayer {
                name: name.clone(),
                available: ds.layers().map(|l| l.name()).collect::<Vec<_>>().join(", "),
            })?,
        None => ds.layer(0).map_err(|_| ImportError::Open {
            path: path.display().to_string(),
            reason: "the file holds no vector layer".to_owned(),
        })?,
    };

    // Field mapping: target name -> source field index. Explicit --map first, then a field of
    // the same name (case-insensitive).
    let source_fields: Vec<String> = layer.defn().fields().map(|f| f.name()).collect();
    let explicit: HashMap<&str, &str> = opts
        .map
        .iter()
        .map(|(t, s)| (t.as_str(), s.as_str()))
        .collect();
    for target in explicit.keys() {
        if !spec.fields.iter().any(|f| f.name == *target) {
            return Err(ImportError::UnknownTarget {
                layer: spec.name,
                target: (*target).to_owned(),
                known: spec
                    .fields
                    .iter()
                    .map(|f| f.name)
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
    }
    let mut columns: Vec<(&FieldSpec, Option<usize>)> = Vec::new();
    for f in spec.fields {
        let wanted = explicit.get(f.name).copied().unwrap_or(f.name);
        let idx = source_fields
            .iter()
            .position(|s| s.eq_ignore_ascii_case(wanted));
        if idx.is_none() && explicit.contains_key(f.name) {
            return Err(ImportError::UnknownSource {
                column: wanted.to_owned(),
                available: source_fields.join(", "),
            });
        }
        columns.push((f, idx));
    }

    // Reprojection.
    let mut assumed_srs = false;
    let source_srs = match &opts.srs {
        Some(def) => {
            Some(SpatialRef::from_definition(def).map_err(|_| ImportError::BadSrs(def.clone()))?)
        }
        None => layer.spatial_ref(),
    };
    let source_srs = match source_srs {
        Some(s) => Some(s),
        None if spec.geom != GeomKind::None => {
            assumed_srs = true;
            Some(wgs84()?)
        }
        None => None,
    };
    let transform = match &source_srs {
        Some(src) if spec.geom != GeomKind::None => {
            let mut src = src.clone();
            src.set_axis_mapping_strategy(AxisMappingStrategy::TraditionalGisOrder);
            Some(CoordTransform::new(&src, &wgs84()?)?)
        }
        _ => None,
    };

    bar.set_length(layer.try_feature_count().unwrap_or(0));
    bar.set_message("reading");

    let mut read = 0;
    for (i, feature) in layer.features().enumerate() {
        let index = i32::try_from(i + 1).map_err(|_| ImportError::TooMany)?;
        let mut reject = None;
        let geometry = feature
            .geometry()
            .filter(|g| spec.geom != GeomKind::None && !g.is_empty());
        let wkb = match geometry.map(|g| to_wkb(g, transform.as_ref(), max_vertices)) {
            None => None,
            Some(Ok(wkb)) => Some(wkb),
            Some(Err(msg)) => {
                reject = Some(msg);
                None
            }
        };
        let mut props = Map::new();
        let mut problems: Vec<String> = Vec::new();
        let mut unreadable: Vec<&str> = Vec::new();
        for (f, idx) in &columns {
            let raw = match idx {
                Some(idx) if field_is_set(&feature, *idx) => feature.field(*idx)?,
                _ => None,
            };
            match convert(f, raw) {
                Ok(Some(v)) => {
                    props.insert(f.name.to_owned(), v);
                }
                Ok(None) => {}
                Err(msg) => {
                    problems.push(format!("field {}: {msg}", f.name));
                    unreadable.push(f.name);
                }
            }
        }
        if let Some(derive) = spec.derive {
            derive(&mut props);
        }
        for (f, idx) in &columns {
            if f.required && !props.contains_key(f.name) && !unreadable.contains(&f.name) {
                problems.push(match idx {
                    Some(_) => format!("required field {} is missing", f.name),
                    None => format!(
                        "required field {} is missing (the source has no column '{}'; map one with --map {}=COLUMN)",
                        f.name, f.name, f.name
                    ),
                });
            }
        }
        if problems.is_empty() {
            if let Some(check) = spec.row_check {
                if let Err(msg) = check(&props) {
                    problems.push(msg);
                }
            }
        }
        if !problems.is_empty() {
            // A geometry problem found above comes first; field problems follow it.
            if let Some(geom) = reject.take() {
                problems.insert(0, geom);
            }
            reject = Some(problems.join("; "));
        }
        read += 1;
        bar.inc(1);
        let going_on = emit(SourceFeature {
            index,
            fid: feature.fid().and_then(|f| i64::try_from(f).ok()),
            wkb,
            props,
            reject,
        });
        if !going_on {
            break;
        }
    }
    Ok(ReadOutcome {
        read,
        source_srs: source_srs.as_ref().map(describe_srs),
        assumed_srs,
    })
}

/// Checks a source geometry, reprojects it, checks it again and flattens it to 2D ISO WKB; the
/// error names what is wrong with the feature's geometry.
fn to_wkb(
    g: &gdal::vector::Geometry,
    transform: Option<&CoordTransform>,
    max_vertices: usize,
) -> Result<Vec<u8>, String> {
    check::check_source(g, max_vertices)?;
    let mut g = match transform {
        Some(ct) => g
            .transform(ct)
            .map_err(|e| format!("cannot reproject the geometry to EPSG:4326: {e}"))?,
        None => g.clone(),
    };
    check::check_lonlat(&g)?;
    g.flatten_to_2d();
    g.wkb()
        .map_err(|e| format!("GDAL cannot write the geometry as WKB: {e}"))
}

/// Converts one GDAL value to the field's type and checks its limits. `Ok(None)` is an absent
/// value (null, or an empty string).
fn convert(f: &FieldSpec, raw: Option<FieldValue>) -> Result<Option<Value>, String> {
    let Some(raw) = raw else { return Ok(None) };
    let text = match &raw {
        FieldValue::StringValue(s) => Some(s.trim().to_owned()),
        _ => None,
    };
    // GDAL hands text over as bytes; the binding replaces bytes that are not UTF-8 with U+FFFD,
    // which would otherwise load silently as '�'.
    if text.as_deref().is_some_and(|t| t.contains('\u{FFFD}')) {
        return Err(
            "text that is not valid UTF-8 (re-save the file as UTF-8; for a Shapefile, give its encoding in a .cpg file)"
                .to_owned(),
        );
    }
    if text.as_deref() == Some("") {
        return Ok(None);
    }
    let value = match f.ty {
        FieldType::Text => {
            let s = match raw {
                FieldValue::StringValue(s) => s.trim().to_owned(),
                FieldValue::IntegerValue(i) => i.to_string(),
                FieldValue::Integer64Value(i) => i.to_string(),
                FieldValue::RealValue(r) => r.to_string(),
                FieldValue::DateValue(d) => d.to_string(),
                FieldValue::DateTimeValue(d) => d.to_rfc3339(),
                _ => return Err("a list where one value is expected".to_owned()),
            };
            if let Some(allowed) = f.allowed {
                if !allowed.contains(&s.as_str()) {
                    return Err(format!("'{s}' is not one of {}", allowed.join(", ")));
                }
            }
            if let Some((min, max)) = f.len {
                let n = s.chars().count();
                if n < min || n > max {
                    return Err(format!("{n} characters, expected {min} to {max}"));
                }
            }
            if let Some(check) = f.check {
                check(&s)?;
            }
            Value::String(s)
        }
        FieldType::Int => {
            let n = match raw {
                FieldValue::IntegerValue(i) => i64::from(i),
                FieldValue::Integer64Value(i) => i,
                FieldValue::RealValue(r) if r.fract() == 0.0 && r.abs() < 9.0e15 => r as i64,
                FieldValue::StringValue(s) => s
                    .trim()
                    .parse::<i64>()
                    .map_err(|_| format!("'{}' is not a whole number", s.trim()))?,
                other => return Err(format!("{other:?} is not a whole number")),
            };
            if f.min.is_some_and(|min| (n as f64) < min) {
                return Err(format!(
                    "{n} is below the minimum {}",
                    f.min.unwrap_or_default()
                ));
            }
            Value::Number(n.into())
        }
        FieldType::Float => {
            let x = match raw {
                FieldValue::IntegerValue(i) => f64::from(i),
                FieldValue::Integer64Value(i) => i as f64,
                FieldValue::RealValue(r) => r,
                FieldValue::StringValue(s) => s
                    .trim()
                    .parse::<f64>()
                    .map_err(|_| format!("'{}' is not a number", s.trim()))?,
                other => return Err(format!("{other:?} is not a number")),
            };
            if !x.is_finite() {
                return Err("not a finite number".to_owned());
            }
            if f.min.is_some_and(|min| x < min) {
                return Err(format!(
                    "{x} is below the minimum {}",
                    f.min.unwrap_or_default()
                ));
            }
            Value::Number(Number::from_f64(x).ok_or("not a finite number")?)
        }
        FieldType::Date => {
            let d = match raw {
                FieldValue::DateValue(d) => d,
                FieldValue::DateTimeValue(d) => d.date_naive(),
                FieldValue::StringValue(s) => NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
                    .map_err(|_| format!("'{}' is not a date (YYYY-MM-DD)", s.trim()))?,
                other => return Err(format!("{other:?} is not a date")),
            };
            Value::String(d.format("%Y-%m-%d").to_string())
        }
        FieldType::Timestamp => {
            let t: DateTime<Utc> = match raw {
                FieldValue::DateTimeValue(d) => d.with_timezone(&Utc),
                FieldValue::DateValue(d) => d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc(),
                FieldValue::StringValue(s) => {
                    let s = s.trim();
                    DateTime::parse_from_rfc3339(s)
                        .map(|d| d.with_timezone(&Utc))
                        .or_else(|_| {
                            NaiveDate::parse_from_str(s, "%Y-%m-%d")
                                .map(|d| d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
                        })
                        .map_err(|_| format!("'{s}' is not a timestamp (RFC 3339)"))?
                }
                other => return Err(format!("{other:?} is not a timestamp")),
            };
            Value::String(t.to_rfc3339_opts(SecondsFormat::Secs, true))
        }
    };
    Ok(Some(value))
}
