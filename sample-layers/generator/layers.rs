//! The real kelurahan boundaries (sample-layers/kelurahan.geojson, Kemendagri codes), read once so
//! that the fictional layers (coverage, proposals) can be placed inside the kelurahan they name.
//!
//! The boundaries are not cleaned: neighbours overlap in places. Points the generator places must
//! lie in exactly one kelurahan (their own), so [`Layers::only_in`] checks both.

use crate::facts::Facts;
use crate::geom::*;
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;

pub struct Layers {
    pub proj: Proj,
    /// one multipolygon per kelurahan, in facts order
    pub kel: Vec<IMulti>,
}

impl Layers {
    /// True when `p` lies inside kelurahan `k` and inside no other one (not in an overlap).
    pub fn only_in(&self, p: IP, k: usize) -> bool {
        ipoint_in_multi(p, &self.kel[k])
            && self
                .kel
                .iter()
                .enumerate()
                .all(|(j, m)| j == k || !ipoint_in_multi(p, m))
    }
}

fn ring(v: &Value) -> Result<Vec<IP>, String> {
    let pts = v.as_array().ok_or("a ring is not an array")?;
    let mut r: Vec<IP> = pts
        .iter()
        .map(|c| {
            let lon = c[0].as_f64().ok_or("bad longitude")?;
            let lat = c[1].as_f64().ok_or("bad latitude")?;
            Ok(((lon * MICRO).round() as i64, (lat * MICRO).round() as i64))
        })
        .collect::<Result<_, String>>()?;
    if r.len() > 1 && r.first() == r.last() {
        r.pop();
    }
    Ok(r)
}

/// Reads the kelurahan of `path` (fields `kode_kel`, geometry Polygon or MultiPolygon) in the
/// order of the facts; every fact kelurahan must have a boundary.
pub fn load(facts: &Facts, path: &Path) -> Result<Layers, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let doc: Value = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut by_code: HashMap<String, IMulti> = HashMap::new();
    for f in doc["features"].as_array().ok_or("no features")? {
        let code = f["properties"]["kode_kel"]
            .as_str()
            .ok_or("a feature has no kode_kel")?
            .to_owned();
        let g = &f["geometry"];
        let polys: Vec<&Value> = match g["type"].as_str() {
            Some("Polygon") => vec![&g["coordinates"]],
            Some("MultiPolygon") => g["coordinates"]
                .as_array()
                .ok_or("bad MultiPolygon")?
                .iter()
                .collect(),
            other => return Err(format!("{code}: geometry {other:?} is not polygonal")),
        };
        let mut m: IMulti = Vec::new();
        for p in polys {
            let rings = p.as_array().ok_or("bad polygon")?;
            m.push(rings.iter().map(ring).collect::<Result<_, _>>()?);
        }
        orient_multi(&mut m);
        by_code.insert(code, m);
    }
    let kel = facts
        .kelurahan
        .iter()
        .map(|k| {
            by_code
                .remove(&k.code)
                .ok_or_else(|| format!("no boundary for kelurahan {} {}", k.code, k.name))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let n = facts.kelurahan.len() as f64;
    let lon0 = facts.kelurahan.iter().map(|k| k.lon).sum::<f64>() / n;
    let lat0 = facts.kelurahan.iter().map(|k| k.lat).sum::<f64>() / n;
    Ok(Layers {
        proj: Proj::new(lon0, lat0),
        kel,
    })
}
