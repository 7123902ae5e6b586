//! GeoJSON writing (RFC 7946: lon/lat, no crs, CCW shells / CW holes, 6 decimals).
//! Written by hand (not through serde_json maps) so that member order is fixed
//! whatever serde_json features the build enables.

use crate::geom::{IMulti, IP, MICRO};
use serde_json::Value;

fn c(p: IP) -> String {
    // i64 micro-degrees / 1e6 prints as the shortest decimal, ≤ 6 decimals
    format!(
        "[{},{}]",
        Value::from(p.0 as f64 / MICRO),
        Value::from(p.1 as f64 / MICRO)
    )
}

fn ring(r: &[IP]) -> String {
    let mut v: Vec<String> = r.iter().map(|p| c(*p)).collect();
    v.push(c(r[0]));
    format!("[{}]", v.join(","))
}

pub fn multipolygon(m: &IMulti) -> String {
    let polys: Vec<String> = m
        .iter()
        .map(|p| {
            format!(
                "[{}]",
                p.iter().map(|r| ring(r)).collect::<Vec<_>>().join(",")
            )
        })
        .collect();
    format!(
        "{{\"type\":\"MultiPolygon\",\"coordinates\":[{}]}}",
        polys.join(",")
    )
}

pub fn polygon_or_multi(m: &IMulti) -> String {
    if m.len() == 1 {
        let p = &m[0];
        format!(
            "{{\"type\":\"Polygon\",\"coordinates\":[{}]}}",
            p.iter().map(|r| ring(r)).collect::<Vec<_>>().join(",")
        )
    } else {
        multipolygon(m)
    }
}

pub fn point(p: IP) -> String {
    format!("{{\"type\":\"Point\",\"coordinates\":{}}}", c(p))
}

/// Properties in the given order.
pub fn feature(props: &[(&str, Value)], geometry: &str) -> String {
    let p: Vec<String> = props
        .iter()
        .map(|(k, v)| format!("{}:{}", Value::from(*k), serde_json::to_string(v).unwrap()))
        .collect();
    format!(
        "{{\"type\":\"Feature\",\"properties\":{{{}}},\"geometry\":{}}}",
        p.join(","),
        geometry
    )
}

/// One feature per line, so diffs of regenerated files stay readable.
pub fn collection(features: &[String]) -> String {
    let mut s = String::from("{\"type\":\"FeatureCollection\",\"features\":[\n");
    for (i, f) in features.iter().enumerate() {
        s += f;
        if i + 1 < features.len() {
            s.push(',');
        }
        s.push('\n');
    }
    s += "]}\n";
    s
}
