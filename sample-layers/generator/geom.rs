//! Geometry helpers: a local metric plane, integer micro-degree polygons, exact
//! point-in-polygon on that grid, and a buffer that survives i_overlay's rare panics.
//!
//! Coordinates:
//! * `P`  = (x, y) metres in a local equirectangular plane (ellipsoidal radii at lat0),
//! * `IP` = (lon, lat) in integer micro-degrees (1e-6°), the output grid.

use geo::{Buffer, Coord, LineString, MultiPolygon, Polygon};

pub type P = (f64, f64);
pub type IP = (i64, i64);
/// A polygon as rings (first = exterior), rings open (first vertex not repeated).
pub type IPoly = Vec<Vec<IP>>;
pub type IMulti = Vec<IPoly>;

pub const MICRO: f64 = 1e6;

#[derive(Clone, Copy, Debug)]
pub struct Proj {
    pub lon0: f64,
    pub lat0: f64,
    kx: f64,
    ky: f64,
}

impl Proj {
    pub fn new(lon0: f64, lat0: f64) -> Self {
        let a = 6_378_137.0_f64;
        let e2 = 0.006_694_379_990_14_f64;
        let s = lat0.to_radians().sin();
        let w = 1.0 - e2 * s * s;
        let n = a / w.sqrt();
        let m = a * (1.0 - e2) / w.powf(1.5);
        let rad = std::f64::consts::PI / 180.0;
        Proj {
            lon0,
            lat0,
            kx: n * lat0.to_radians().cos() * rad,
            ky: m * rad,
        }
    }
    pub fn fwd(&self, lon: f64, lat: f64) -> P {
        ((lon - self.lon0) * self.kx, (lat - self.lat0) * self.ky)
    }
    pub fn inv(&self, p: P) -> (f64, f64) {
        (self.lon0 + p.0 / self.kx, self.lat0 + p.1 / self.ky)
    }
    pub fn fwd_i(&self, q: IP) -> P {
        self.fwd(q.0 as f64 / MICRO, q.1 as f64 / MICRO)
    }
    pub fn inv_i(&self, p: P) -> IP {
        let (lon, lat) = self.inv(p);
        ((lon * MICRO).round() as i64, (lat * MICRO).round() as i64)
    }
}

// ---------------------------------------------------------------- small helpers

/// Twice the signed area, exact.
pub fn iring_area2(r: &[IP]) -> i128 {
    let n = r.len();
    let mut s: i128 = 0;
    for k in 0..n {
        let (a, b) = (r[k], r[(k + 1) % n]);
        s += a.0 as i128 * b.1 as i128 - b.0 as i128 * a.1 as i128;
    }
    s
}

fn cross_i(o: IP, a: IP, b: IP) -> i128 {
    (a.0 - o.0) as i128 * (b.1 - o.1) as i128 - (a.1 - o.1) as i128 * (b.0 - o.0) as i128
}

/// -1 outside, 0 on boundary, 1 inside (exact).
pub fn ipoint_in_ring(p: IP, r: &[IP]) -> i32 {
    let n = r.len();
    let mut inside = false;
    for k in 0..n {
        let (a, b) = (r[k], r[(k + 1) % n]);
        if cross_i(a, b, p) == 0
            && p.0 >= a.0.min(b.0)
            && p.0 <= a.0.max(b.0)
            && p.1 >= a.1.min(b.1)
            && p.1 <= a.1.max(b.1)
        {
            return 0;
        }
        if (a.1 > p.1) != (b.1 > p.1) {
            // x of the crossing compared exactly
            let lhs = (p.0 - a.0) as i128 * (b.1 - a.1) as i128;
            let rhs = (b.0 - a.0) as i128 * (p.1 - a.1) as i128;
            let right = if b.1 > a.1 { lhs < rhs } else { lhs > rhs };
            if right {
                inside = !inside;
            }
        }
    }
    if inside {
        1
    } else {
        -1
    }
}

pub fn to_geo_poly(p: &IPoly) -> Polygon<f64> {
    let ls = |r: &Vec<IP>| {
        let mut v: Vec<Coord<f64>> = r
            .iter()
            .map(|q| Coord {
                x: q.0 as f64 / MICRO,
                y: q.1 as f64 / MICRO,
            })
            .collect();
        if let Some(f) = v.first().copied() {
            v.push(f);
        }
        LineString::new(v)
    };
    Polygon::new(ls(&p[0]), p[1..].iter().map(ls).collect())
}

pub fn to_geo_multi(m: &IMulti) -> MultiPolygon<f64> {
    MultiPolygon::new(m.iter().map(to_geo_poly).collect())
}

/// Metric-plane version of an integer multipolygon.
pub fn to_metric_multi(m: &IMulti, proj: &Proj) -> MultiPolygon<f64> {
    let ls = |r: &Vec<IP>| {
        let mut v: Vec<Coord<f64>> = r
            .iter()
            .map(|q| {
                let p = proj.fwd_i(*q);
                Coord { x: p.0, y: p.1 }
            })
            .collect();
        if let Some(f) = v.first().copied() {
            v.push(f);
        }
        LineString::new(v)
    };
    MultiPolygon::new(
        m.iter()
            .map(|p| Polygon::new(ls(&p[0]), p[1..].iter().map(ls).collect()))
            .collect(),
    )
}

fn open_ring(ls: &LineString<f64>) -> Vec<P> {
    let mut v: Vec<P> = ls.0.iter().map(|c| (c.x, c.y)).collect();
    if v.len() > 1 && v.first() == v.last() {
        v.pop();
    }
    v
}

/// Metric multipolygon -> integer lon/lat multipolygon, cleaned (duplicates,
/// spikes, degenerate rings removed) and oriented (exterior CCW, holes CW).
pub fn from_metric_multi(m: &MultiPolygon<f64>, proj: &Proj) -> IMulti {
    let mut out = Vec::new();
    for poly in &m.0 {
        let conv = |ls: &LineString<f64>| -> Vec<IP> {
            open_ring(ls).iter().map(|p| proj.inv_i(*p)).collect()
        };
        let ext = clean_ring(conv(poly.exterior()));
        if ext.len() < 3 {
            continue;
        }
        let mut rings = vec![ext];
        for h in poly.interiors() {
            let r = clean_ring(conv(h));
            if r.len() >= 3 {
                rings.push(r);
            }
        }
        out.push(rings);
    }
    orient_multi(&mut out);
    out
}

/// Remove consecutive duplicates and spikes (a, b, a), cyclically.
pub fn clean_ring(mut r: Vec<IP>) -> Vec<IP> {
    loop {
        let n0 = r.len();
        r.dedup();
        while r.len() > 1 && r.first() == r.last() {
            r.pop();
        }
        let n = r.len();
        if n < 3 {
            return Vec::new();
        }
        let mut keep = vec![true; n];
        let mut removed = false;
        for k in 0..n {
            let prev = r[(k + n - 1) % n];
            let next = r[(k + 1) % n];
            if prev == next && !removed {
                keep[k] = false;
                keep[(k + 1) % n] = false;
                removed = true;
            }
        }
        if removed {
            r = r
                .iter()
                .zip(keep)
                .filter(|(_, k)| *k)
                .map(|(p, _)| *p)
                .collect();
        }
        if r.len() == n0 && !removed {
            break;
        }
    }
    if r.len() < 3 || iring_area2(&r) == 0 {
        return Vec::new();
    }
    r
}

pub fn orient_multi(m: &mut IMulti) {
    for poly in m.iter_mut() {
        for (k, r) in poly.iter_mut().enumerate() {
            let a = iring_area2(r);
            if (k == 0 && a < 0) || (k > 0 && a > 0) {
                r.reverse();
            }
        }
    }
}

// ---------------------------------------------------------------- buffering

thread_local! {
    static QUIET_PANIC: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Panic hook that stays quiet while `buffer_safe` probes i_overlay.
pub fn install_panic_hook() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !QUIET_PANIC.with(|q| q.get()) {
            default(info);
        }
    }));
}

/// `Buffer::buffer`, retried with a slightly different distance if i_overlay
/// panics on a degenerate configuration (seen in i_overlay 4.0 offsets).
pub fn buffer_safe<G: Buffer<Scalar = f64>>(g: &G, d: f64) -> MultiPolygon<f64> {
    for k in 0..6 {
        let dd = d * (1.0 + 0.002 * k as f64);
        QUIET_PANIC.with(|q| q.set(true));
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| g.buffer(dd)));
        QUIET_PANIC.with(|q| q.set(false));
        if let Ok(m) = r {
            return m;
        }
    }
    panic!("buffer failed repeatedly (distance {d})");
}

/// Point strictly inside a multipolygon (exact, integer grid).
pub fn ipoint_in_multi(p: IP, m: &IMulti) -> bool {
    m.iter().any(|poly| {
        ipoint_in_ring(p, &poly[0]) == 1 && poly[1..].iter().all(|h| ipoint_in_ring(p, h) == -1)
    })
}
