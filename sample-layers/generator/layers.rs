//! Administrative layers: kelurahan cells from the fitted power diagram, snapped
//! onto a shared vertex set, then dissolved exactly into kecamatan and the city.

use crate::facts::Facts;
use crate::geom::*;
use geo::{
    Area, BooleanOps, Contains, Coord, GeodesicArea, LineString, MultiPolygon, Point, Polygon,
    Validation,
};
use rand::Rng;
use std::collections::HashMap;

pub struct Layers {
    pub proj: Proj,
    /// one multipolygon per kelurahan, in facts order
    pub kel: Vec<IMulti>,
    /// one per kecamatan, in facts order
    pub kec: Vec<IMulti>,
    pub city: IMulti,
    pub stats: LayerStats,
}

pub struct LayerStats {
    pub fit_max_err: f64,
    pub fit_mean_err: f64,
    /// geodesic areas of the final (snapped, rounded) kelurahan polygons, km²
    pub kel_area_km2: Vec<f64>,
    pub mean_rel_err: f64,
    pub max_rel_err: f64,
    pub max_rel_err_at: usize,
    pub all_points_inside: bool,
    pub points_outside: Vec<usize>,
    pub invalid: Vec<String>,
    pub multipart_cells: usize,
    pub city_area_km2: f64,
    pub fact_area_km2: f64,
}

fn ring_to_ls(r: &[P]) -> LineString<f64> {
    let mut v: Vec<Coord<f64>> = r.iter().map(|p| Coord { x: p.0, y: p.1 }).collect();
    v.push(v[0]);
    LineString::new(v)
}

pub fn anchor_ip(lon: f64, lat: f64) -> IP {
    ((lon * MICRO).round() as i64, (lat * MICRO).round() as i64)
}

pub fn build<R: Rng>(facts: &Facts, rng: &mut R, log: bool) -> Layers {
    let n = facts.kelurahan.len();
    let lon0 = facts.kelurahan.iter().map(|k| k.lon).sum::<f64>() / n as f64;
    let lat0 = facts.kelurahan.iter().map(|k| k.lat).sum::<f64>() / n as f64;
    let proj = Proj::new(lon0, lat0);
    let anchors: Vec<P> = facts
        .kelurahan
        .iter()
        .map(|k| proj.fwd(k.lon, k.lat))
        .collect();
    let targets: Vec<f64> = facts.kelurahan.iter().map(|k| k.area_km2 * 1e6).collect();

    let part = fit_partition(&anchors, &targets, rng, 5, 15, log);
    let opoly = Polygon::new(ring_to_ls(&part.outline), vec![]);

    // exact cells = convex power cell ∩ outline
    let mut metric: Vec<MultiPolygon<f64>> = (0..n)
        .map(|i| {
            let (cv, _) = part.pd.cell(i);
            Polygon::new(ring_to_ls(&cv), vec![]).intersection(&opoly)
        })
        .collect();

    // a cell crossing a bay of the outline may come out in pieces: keep the
    // piece holding the fact point, give the others to the neighbour they
    // share the most boundary with
    let mut multipart_cells = 0;
    for i in 0..n {
        if metric[i].0.len() <= 1 {
            continue;
        }
        multipart_cells += 1;
        let a = Point::new(anchors[i].0, anchors[i].1);
        let mut parts = std::mem::take(&mut metric[i].0);
        let keep = parts.iter().position(|p| p.contains(&a)).unwrap_or(0);
        let main = parts.remove(keep);
        metric[i] = MultiPolygon::new(vec![main]);
        for frag in parts {
            let grown = buffer_safe(&frag, 2.0);
            let mut best: Option<(f64, usize)> = None;
            for j in 0..n {
                if j == i {
                    continue;
                }
                let shared = grown.intersection(&metric[j]).unsigned_area();
                if shared > 0.0 && best.is_none_or(|b| shared > b.0) {
                    best = Some((shared, j));
                }
            }
            match best {
                Some((_, j)) => metric[j] = metric[j].union(&MultiPolygon::new(vec![frag])),
                None => metric[i].0.push(frag),
            }
        }
    }

    let mut kel: Vec<IMulti> = metric.iter().map(|m| from_metric_multi(m, &proj)).collect();
    snap_all(&mut kel, &proj, 1.0);

    // checks
    let mut invalid = Vec::new();
    let mut points_outside = Vec::new();
    let mut kel_area_km2 = Vec::with_capacity(n);
    for i in 0..n {
        let g = to_geo_multi(&kel[i]);
        if !g.is_valid() {
            invalid.push(format!(
                "{}: {}",
                facts.kelurahan[i].code,
                g.validation_errors()
                    .iter()
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>()
                    .join("; ")
            ));
        }
        let k = &facts.kelurahan[i];
        if !ipoint_in_multi(anchor_ip(k.lon, k.lat), &kel[i]) {
            points_outside.push(i);
        }
        kel_area_km2.push(g.geodesic_area_unsigned() / 1e6);
    }
    let rel: Vec<f64> = (0..n)
        .map(|i| (kel_area_km2[i] - facts.kelurahan[i].area_km2) / facts.kelurahan[i].area_km2)
        .collect();
    let (mut max_rel_err, mut max_rel_err_at) = (0.0, 0);
    for (i, e) in rel.iter().enumerate() {
        if e.abs() > max_rel_err {
            max_rel_err = e.abs();
            max_rel_err_at = i;
        }
    }
    let mean_rel_err = rel.iter().map(|e| e.abs()).sum::<f64>() / n as f64;

    // dissolves
    let kidx = facts.kecamatan_index();
    let mut members: HashMap<usize, Vec<usize>> = HashMap::new();
    for (i, k) in facts.kelurahan.iter().enumerate() {
        members.entry(kidx[&k.kecamatan_code]).or_default().push(i);
    }
    let kec: Vec<IMulti> = (0..facts.kecamatan.len())
        .map(|c| {
            let parts: Vec<&IMulti> = members[&c].iter().map(|&i| &kel[i]).collect();
            dissolve(&parts)
        })
        .collect();
    for (c, m) in kec.iter().enumerate() {
        let g = to_geo_multi(m);
        if !g.is_valid() {
            invalid.push(format!(
                "kecamatan {}: invalid dissolve",
                facts.kecamatan[c].code
            ));
        }
    }
    let city = dissolve(&kel.iter().collect::<Vec<_>>());
    if !to_geo_multi(&city).is_valid() {
        invalid.push("city: invalid dissolve".into());
    }
    let city_area_km2 = to_geo_multi(&city).geodesic_area_unsigned() / 1e6;
    let fact_area_km2 = facts.kelurahan.iter().map(|k| k.area_km2).sum();

    Layers {
        proj,
        kel,
        kec,
        city,
        stats: LayerStats {
            fit_max_err: part.max_err,
            fit_mean_err: part.mean_err,
            kel_area_km2,
            mean_rel_err,
            max_rel_err,
            max_rel_err_at,
            all_points_inside: points_outside.is_empty(),
            points_outside,
            invalid,
            multipart_cells,
            city_area_km2,
            fact_area_km2,
        },
    }
}
