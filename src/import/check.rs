//! Geometry checks on the GDAL side, before a geometry becomes WKB: every way a file can hold a
//! geometry that PostgreSQL would refuse outright (and so stop the whole import) or that would
//! load as nonsense becomes a named per-feature rejection instead.
//!
//! What is checked, in order: no GeometryCollection (mixed types in one feature) and no curve
//! left after GDAL's linearisation; at most `max_vertices` vertices; every coordinate finite (no
//! NaN or Infinity); every polygon ring non-empty, closed and of at least four points; after
//! reprojection, every coordinate a real longitude/latitude. Z and M are dropped (flattened to
//! 2D) after these checks; SIGAP stores 2D geometry only.

use gdal::vector::{Geometry, OGRwkbGeometryType as T};

/// Vertices one feature may have unless the caller says otherwise: about 16 MB of WKB, far
/// above any real kelurahan or province boundary (the largest Indonesian province outline in the
/// national boundary files has a few hundred thousand).
pub const DEFAULT_MAX_VERTICES: usize = 1_000_000;

/// Checks a geometry as read from the source, before reprojection.
pub fn check_source(g: &Geometry, max_vertices: usize) -> Result<(), String> {
    check_kinds(g)?;
    let n = vertex_count(g);
    if n > max_vertices {
        return Err(format!(
            "{n} vertices in one feature, more than the limit of {max_vertices} (simplify it, or raise --max-vertices)"
        ));
    }
    check_parts(g, &mut Vec::new())
}

/// Checks a geometry after reprojection to EPSG:4326 (lon/lat order).
pub fn check_lonlat(g: &Geometry) -> Result<(), String> {
    let mut bad: Option<(f64, f64)> = None;
    visit_points(g, &mut |x, y| {
        if bad.is_none() && !(x.abs() <= 180.0 && y.abs() <= 90.0) {
            bad = Some((x, y));
        }
    });
    match bad {
        Some((x, y)) => Err(format!(
            "coordinate ({x} {y}) is not a longitude/latitude after reprojection to EPSG:4326 (longitude must be within ±180, latitude within ±90): is the source CRS right? (use --srs)"
        )),
        None => Ok(()),
    }
}

fn flat(g: &Geometry) -> T::Type {
    gdal::vector::geometry_type_flatten(g.geometry_type())
}

fn check_kinds(g: &Geometry) -> Result<(), String> {
    match flat(g) {
        T::wkbGeometryCollection => Err(format!(
            "a GeometryCollection ({}) holds several geometries of mixed types in one feature: split it into one feature per part",
            parts_summary(g)
        )),
        T::wkbCircularString
        | T::wkbCompoundCurve
        | T::wkbCurvePolygon
        | T::wkbMultiCurve
        | T::wkbMultiSurface
        | T::wkbCurve
        | T::wkbSurface
        | T::wkbPolyhedralSurface
        | T::wkbTIN
        | T::wkbTriangle => Err(format!(
            "{} is a curved or surface geometry SIGAP cannot store: convert it with `ogr2ogr -nlt CONVERT_TO_LINEAR`",
            g.geometry_name()
        )),
        T::wkbMultiPoint | T::wkbMultiLineString | T::wkbMultiPolygon => {
            for i in 0..g.geometry_count() {
                check_kinds(&g.get_geometry(i))?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

fn parts_summary(g: &Geometry) -> String {
    let names: Vec<String> = (0..g.geometry_count().min(4))
        .map(|i| g.get_geometry(i).geometry_name())
        .collect();
    let more = if g.geometry_count() > 4 { ", …" } else { "" };
    format!("{}{more}", names.join(", "))
}

fn vertex_count(g: &Geometry) -> usize {
    match g.geometry_count() {
        0 => g.point_count(),
        n => (0..n).map(|i| vertex_count(&g.get_geometry(i))).sum(),
    }
}

/// Calls `f(x, y)` for every vertex.
fn visit_points(g: &Geometry, f: &mut impl FnMut(f64, f64)) {
    match g.geometry_count() {
        0 => {
            for i in 0..g.point_count() {
                let (x, y, _) = g.get_point(i as i32);
                f(x, y);
            }
        }
        n => {
            for i in 0..n {
                visit_points(&g.get_geometry(i), f);
            }
        }
    }
}

/// Where in the geometry a problem is, for the message: e.g. "polygon 2, ring 1".
fn place(path: &[(&'static str, usize)]) -> String {
    path.iter()
        .map(|(what, i)| format!("{what} {}", i + 1))
        .collect::<Vec<_>>()
        .join(", ")
}

fn check_parts(g: &Geometry, path: &mut Vec<(&'static str, usize)>) -> Result<(), String> {
    match flat(g) {
        T::wkbPolygon => {
            if g.geometry_count() == 0 && !path.is_empty() {
                return Err(format!("{} is empty", place(path)));
            }
            for r in 0..g.geometry_count() {
                path.push(("ring", r));
                let res = check_ring(&g.get_geometry(r), path);
                path.pop();
                res?;
            }
            Ok(())
        }
        T::wkbMultiPolygon | T::wkbMultiLineString | T::wkbMultiPoint => {
            let what = match flat(g) {
                T::wkbMultiPolygon => "polygon",
                T::wkbMultiLineString => "line",
                _ => "point",
            };
            for i in 0..g.geometry_count() {
                path.push((what, i));
                let res = check_parts(&g.get_geometry(i), path);
                path.pop();
                res?;
            }
            Ok(())
        }
        _ => check_finite(g, path),
    }
}

fn check_finite(g: &Geometry, path: &[(&'static str, usize)]) -> Result<(), String> {
    for i in 0..g.point_count() {
        let (x, y, _) = g.get_point(i as i32);
        if !x.is_finite() || !y.is_finite() {
            let at = if path.is_empty() {
                String::new()
            } else {
                format!(" of {}", place(path))
            };
            return Err(format!(
                "coordinate {} ({x} {y}){at} is not a finite number (NaN or Infinity)",
                i + 1
            ));
        }
    }
    Ok(())
}

fn check_ring(ring: &Geometry, path: &[(&'static str, usize)]) -> Result<(), String> {
    check_finite(ring, path)?;
    let n = ring.point_count();
    if n == 0 {
        return Err(format!("{} is empty (no points)", place(path)));
    }
    if n < 4 {
        return Err(format!(
            "{} has {n} points; a polygon ring needs at least 4 (three corners and the first point again)",
            place(path)
        ));
    }
    let (x0, y0, _) = ring.get_point(0);
    let (xn, yn, _) = ring.get_point(n as i32 - 1);
    if (x0, y0) != (xn, yn) {
        return Err(format!(
            "{} is not closed: it starts at ({x0} {y0}) and ends at ({xn} {yn})",
            place(path)
        ));
    }
    Ok(())
}
