//! Geometry core: a local metric plane, the city outline, the power diagram
//! partition fitted to the area facts, vertex snapping on a 1e-6 degree grid and
//! an exact edge-cancelling dissolve.
//!
//! Coordinates:
//! * `P`  = (x, y) metres in a local equirectangular plane (ellipsoidal radii at lat0),
//! * `IP` = (lon, lat) in integer micro-degrees (1e-6°), the output grid.

use geo::{Area, Buffer, Coord, LineString, MultiPolygon, Polygon, Simplify};
use rand::Rng;
use std::collections::{HashMap, HashSet};

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

pub fn ring_area(r: &[P]) -> f64 {
    let n = r.len();
    let mut s = 0.0;
    for k in 0..n {
        let (a, b) = (r[k], r[(k + 1) % n]);
        s += a.0 * b.1 - b.0 * a.1;
    }
    s / 2.0
}

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

// ---------------------------------------------------------------- outline

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

fn largest_polygon_no_holes(m: &MultiPolygon<f64>) -> Option<Polygon<f64>> {
    m.0.iter()
        .max_by(|a, b| a.unsigned_area().partial_cmp(&b.unsigned_area()).unwrap())
        .map(|p| Polygon::new(p.exterior().clone(), vec![]))
}

fn poly_from_ring(r: &[P]) -> Polygon<f64> {
    let mut v: Vec<Coord<f64>> = r.iter().map(|p| Coord { x: p.0, y: p.1 }).collect();
    v.push(v[0]);
    Polygon::new(LineString::new(v), vec![])
}

/// Per-disc shape jitter for the outline: (radius factor, a1, phase1, a2, phase2).
pub fn outline_jitter<R: Rng>(n: usize, rng: &mut R) -> Vec<[f64; 5]> {
    (0..n)
        .map(|_| {
            [
                rng.gen_range(0.9..1.15),
                rng.gen_range(0.0..0.14),
                rng.gen_range(0.0..std::f64::consts::TAU),
                rng.gen_range(0.0..0.08),
                rng.gen_range(0.0..std::f64::consts::TAU),
            ]
        })
        .collect()
}

/// City outline: union of irregular discs around the fact points (radius
/// growing with the kelurahan's area fact, so the outline hugs the data),
/// closed (buffer out, then in) to fill the notches between them. The overall
/// disc scale is searched so that the planar area equals `target_m2`;
/// `radius_mult[i]` additionally scales disc i (used to trim or grow the outline
/// next to boundary cells that came out too big or too small).
/// Returns an open CCW ring.
pub fn build_outline(
    sites: &[P],
    areas_m2: &[f64],
    radius_mult: &[f64],
    target_m2: f64,
    jitter: &[[f64; 5]],
) -> Vec<P> {
    let (cx, cy) = (
        sites.iter().map(|p| p.0).sum::<f64>() / sites.len() as f64,
        sites.iter().map(|p| p.1).sum::<f64>() / sites.len() as f64,
    );
    let make = |c: f64| -> Vec<P> {
        let discs: Vec<Polygon<f64>> = (0..sites.len())
            .map(|i| {
                let (p, j) = (sites[i], jitter[i]);
                let r = (c * radius_mult[i] * j[0] * (areas_m2[i] / std::f64::consts::PI).sqrt())
                    .max(250.0);
                let ring: Vec<P> = (0..48)
                    .map(|k| {
                        let t = std::f64::consts::TAU * k as f64 / 48.0;
                        let rr =
                            r * (1.0 + j[1] * (t + j[2]).sin() + j[3] * (2.0 * t + j[4]).sin());
                        (p.0 + rr * t.cos(), p.1 + rr * t.sin())
                    })
                    .collect();
                poly_from_ring(&ring)
            })
            .collect();
        let u = geo::unary_union(&discs);
        let closed = buffer_safe(&u, 700.0);
        let closed = buffer_safe(&largest_polygon_no_holes(&closed).unwrap(), -700.0);
        let p = largest_polygon_no_holes(&closed).unwrap().simplify(3.0);
        let mut r = open_ring(p.exterior());
        if ring_area(&r) < 0.0 {
            r.reverse();
        }
        r
    };
    let (mut lo, mut hi) = (0.3_f64, 3.0_f64);
    let mut best = make(hi);
    for _ in 0..40 {
        let mid = 0.5 * (lo + hi);
        let r = make(mid);
        if ring_area(&r) < target_m2 {
            lo = mid;
        } else {
            hi = mid;
            best = r;
        }
        if hi - lo < 1e-5 {
            break;
        }
    }
    // final exact touch: scale about the centre so the area matches exactly
    let s = (target_m2 / ring_area(&best)).sqrt();
    best.iter()
        .map(|p| (cx + (p.0 - cx) * s, cy + (p.1 - cy) * s))
        .collect()
}

// ---------------------------------------------------------------- power diagram

pub struct Partition {
    pub outline: Vec<P>,
    pub pd: PowerDiagram,
    pub max_err: f64,
    pub mean_err: f64,
}

/// Outline + power diagram fitted together: after each fit, the outline discs
/// of boundary cells are scaled by (target/area)^0.6 (trimming bulges that made
/// a boundary cell too big, growing where it is too small), then refit.
pub fn fit_partition<R: Rng>(
    anchors: &[P],
    targets: &[f64],
    rng: &mut R,
    outer: usize,
    rounds: usize,
    log: bool,
) -> Partition {
    let n = anchors.len();
    let total: f64 = targets.iter().sum();
    let jitter = outline_jitter(n, rng);
    let mut mult = vec![1.0; n];
    let mut best: Option<Partition> = None;
    for k in 0..outer {
        let outline = build_outline(anchors, targets, &mult, total, &jitter);
        let mut pd = PowerDiagram::new(anchors.to_vec(), &outline, 0.4);
        pd.fit(targets, &outline, 15.0, rounds);
        let areas = pd.areas(&outline);
        let rel: Vec<f64> = (0..n)
            .map(|i| (areas[i] - targets[i]) / targets[i])
            .collect();
        let max_err = rel.iter().map(|e| e.abs()).fold(0.0, f64::max);
        let mean_err = rel.iter().map(|e| e.abs()).sum::<f64>() / n as f64;
        if log {
            eprintln!("  outline pass {k}: mean {mean_err:.4} max {max_err:.4}");
        }
        let bnd = pd.boundary_cells(&outline);
        for i in 0..n {
            if bnd[i] {
                mult[i] *= (targets[i] / areas[i].max(1.0)).powf(0.6).clamp(0.75, 1.3);
            }
        }
        let better = best
            .as_ref()
            .is_none_or(|b| max_err + 3.0 * mean_err < b.max_err + 3.0 * b.mean_err);
        if better {
            best = Some(Partition {
                outline,
                pd,
                max_err,
                mean_err,
            });
        }
        if max_err < 0.005 {
            break;
        }
    }
    best.unwrap()
}

/// Clip polygon (with per-edge labels: label[k] is the edge from v[k] to v[k+1])
/// to the half-plane a·x <= b; new edges get `label`.
fn clip_halfplane(v: &[P], lab: &[isize], a: P, b: f64, label: isize) -> (Vec<P>, Vec<isize>) {
    let n = v.len();
    let mut ov = Vec::with_capacity(n + 2);
    let mut ol = Vec::with_capacity(n + 2);
    if n == 0 {
        return (ov, ol);
    }
    let f = |p: P| a.0 * p.0 + a.1 * p.1 - b;
    for k in 0..n {
        let (c, d) = (v[k], v[(k + 1) % n]);
        let (fc, fd) = (f(c), f(d));
        let cin = fc <= 0.0;
        let din = fd <= 0.0;
        if cin {
            ov.push(c);
            ol.push(lab[k]);
            if !din {
                let t = fc / (fc - fd);
                ov.push((c.0 + t * (d.0 - c.0), c.1 + t * (d.1 - c.1)));
                ol.push(label);
            }
        } else if din {
            let t = fc / (fc - fd);
            ov.push((c.0 + t * (d.0 - c.0), c.1 + t * (d.1 - c.1)));
            ol.push(lab[k]);
        }
    }
    (ov, ol)
}

struct CellStat {
    area: f64,
    moment: f64,
    edges: Vec<(usize, f64)>,
    boundary: bool,
}

pub struct PowerDiagram {
    /// generators (move during the fit, Lloyd-style)
    pub sites: Vec<P>,
    /// the fact points, which must stay inside their own cells
    pub anchors: Vec<P>,
    pub weights: Vec<f64>,
    /// how far a generator may move from its anchor: `move_frac` × the distance
    /// to the nearest other anchor. With move_frac <= 0.3 and every anchor
    /// distance >= 8 × clearance, w_i = |f_i - s_i|^2 satisfies every anchor
    /// constraint, so the constraint system stays feasible.
    pub caps: Vec<f64>,
    /// barrier multipliers (i, j, λ) of the anchor constraints after a solve
    mult: Vec<(usize, usize, f64)>,
    bbox: [P; 4],
}

impl PowerDiagram {
    pub fn new(anchors: Vec<P>, outline: &[P], move_frac: f64) -> Self {
        let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
        for p in outline.iter().chain(anchors.iter()) {
            x0 = x0.min(p.0);
            y0 = y0.min(p.1);
            x1 = x1.max(p.0);
            y1 = y1.max(p.1);
        }
        let m = 5000.0;
        let n = anchors.len();
        let caps = (0..n)
            .map(|i| {
                let nn = (0..n)
                    .filter(|&j| j != i)
                    .map(|j| dist2(anchors[i], anchors[j]).sqrt())
                    .fold(f64::MAX, f64::min);
                move_frac * nn
            })
            .collect();
        PowerDiagram {
            caps,
            mult: Vec::new(),
            sites: anchors.clone(),
            anchors,
            weights: vec![0.0; n],
            bbox: [
                (x0 - m, y0 - m),
                (x1 + m, y0 - m),
                (x1 + m, y1 + m),
                (x0 - m, y1 + m),
            ],
        }
    }

    /// Convex power cell of site i (CCW), with each edge labelled by the
    /// neighbouring site that generates it (-1 for the bounding box).
    pub fn cell(&self, i: usize) -> (Vec<P>, Vec<isize>) {
        let pi = self.sites[i];
        let mut v: Vec<P> = self.bbox.iter().map(|q| (q.0 - pi.0, q.1 - pi.1)).collect();
        let mut l = vec![-1isize; 4];
        // nearer sites first: cells shrink fast, later clips are cheap
        let mut order: Vec<usize> = (0..self.sites.len()).filter(|&j| j != i).collect();
        order.sort_by(|&a, &b| {
            let da = dist2(self.sites[a], pi);
            let db = dist2(self.sites[b], pi);
            da.partial_cmp(&db).unwrap().then(a.cmp(&b))
        });
        for j in order {
            let q = (self.sites[j].0 - pi.0, self.sites[j].1 - pi.1);
            let b = 0.5 * (q.0 * q.0 + q.1 * q.1 + self.weights[i] - self.weights[j]);
            if v.iter().all(|p| q.0 * p.0 + q.1 * p.1 <= b) {
                continue;
            }
            let (nv, nl) = clip_halfplane(&v, &l, q, b, j as isize);
            v = nv;
            l = nl;
            if v.is_empty() {
                break;
            }
        }
        (v.into_iter().map(|p| (p.0 + pi.0, p.1 + pi.1)).collect(), l)
    }

    /// Everything about (cell i ∩ outline) in one pass: area, ∫|x - s_i|² dA,
    /// the shared edge lengths with each neighbour, and whether it touches the
    /// outline.
    fn stat(&self, i: usize, outline: &[P]) -> CellStat {
        let (cv, cl) = self.cell(i);
        let n = cv.len();
        let mut v = outline.to_vec();
        let mut l = vec![-1isize; v.len()];
        let o = self.sites[i];
        for k in 0..n {
            let (c, d) = (cv[k], cv[(k + 1) % n]);
            let a = (d.1 - c.1, -(d.0 - c.0));
            let b = a.0 * c.0 + a.1 * c.1;
            let (nv, nl) = clip_halfplane(&v, &l, a, b, cl[k]);
            v = nv;
            l = nl;
            if v.is_empty() {
                return CellStat {
                    area: 0.0,
                    moment: 0.0,
                    edges: vec![],
                    boundary: false,
                };
            }
        }
        let m = v.len();
        let (mut a2, mut mom) = (0.0, 0.0);
        let mut acc: HashMap<usize, f64> = HashMap::new();
        for k in 0..m {
            let p = (v[k].0 - o.0, v[k].1 - o.1);
            let q = (v[(k + 1) % m].0 - o.0, v[(k + 1) % m].1 - o.1);
            let cr = p.0 * q.1 - q.0 * p.1;
            a2 += cr;
            mom +=
                cr * (p.0 * p.0 + p.0 * q.0 + q.0 * q.0 + p.1 * p.1 + p.1 * q.1 + q.1 * q.1) / 12.0;
            if l[k] >= 0 {
                *acc.entry(l[k] as usize).or_insert(0.0) += dist2(v[k], v[(k + 1) % m]).sqrt();
            }
        }
        let area = a2 / 2.0;
        let mut edges: Vec<(usize, f64)> = acc.into_iter().collect();
        edges.sort_by_key(|a| a.0);
        let boundary = l.iter().any(|&x| x < 0);
        CellStat {
            area: area.abs(),
            moment: mom.abs(),
            edges,
            boundary,
        }
    }

    /// Slack of the anchor constraint of pair (i, j): must stay > 0.
    fn slack(&self, w: &[f64], i: usize, j: usize, clearance: f64) -> f64 {
        let f = self.anchors[i];
        w[i] - w[j] - dist2(f, self.sites[i]) + dist2(f, self.sites[j])
            - 2.0 * clearance * dist2(self.sites[i], self.sites[j]).sqrt()
    }

    /// Interior-point Newton: maximise the (concave) semi-discrete transport
    /// dual g(w) = Σ_i ∫_cell_i (|x-s_i|² - w_i) + Σ_i w_i T_i, whose gradient is
    /// T_i - A_i, plus μ Σ log(slack_ij) for the anchor constraints, for a
    /// decreasing μ. The Hessian is (minus) the graph Laplacian with
    /// coefficients L_ij / (2 |s_i - s_j|) plus the barrier Laplacian.
    fn solve_weights(&mut self, targets: &[f64], outline: &[P], clearance: f64) -> f64 {
        let n = self.sites.len();
        let pairs: Vec<(usize, usize)> = (0..n)
            .flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j)))
            .filter(|&(i, j)| dist2(self.anchors[i], self.anchors[j]) < 6000.0 * 6000.0)
            .collect();
        let merit = |pd: &PowerDiagram, w: &[f64], mu: f64, st: &[CellStat]| -> Option<f64> {
            let mut g = 0.0;
            for i in 0..n {
                g += st[i].moment - w[i] * st[i].area + w[i] * targets[i];
            }
            let mut b = 0.0;
            for &(i, j) in &pairs {
                let s = pd.slack(w, i, j, clearance);
                if s <= 0.0 {
                    return None;
                }
                b += s.ln();
            }
            Some(g + mu * b)
        };
        let total: f64 = targets.iter().sum();
        let mut mu = total * 20.0;
        let mut st: Vec<CellStat> = (0..n).map(|i| self.stat(i, outline)).collect();
        for _outer in 0..9 {
            for _inner in 0..25 {
                let w = self.weights.clone();
                let cur = match merit(self, &w, mu, &st) {
                    Some(v) => v,
                    None => return f64::MAX,
                };
                let mut grad: Vec<f64> = (0..n).map(|i| targets[i] - st[i].area).collect();
                let mut h = vec![vec![0.0; n]; n];
                for i in 0..n {
                    for &(j, len) in &st[i].edges {
                        let c = len / (2.0 * dist2(self.sites[i], self.sites[j]).sqrt().max(1.0));
                        h[i][i] += 0.5 * c;
                        h[j][j] += 0.5 * c;
                        h[i][j] -= 0.5 * c;
                        h[j][i] -= 0.5 * c;
                    }
                }
                for &(i, j) in &pairs {
                    let s = self.slack(&w, i, j, clearance);
                    grad[i] += mu / s;
                    grad[j] -= mu / s;
                    let c = mu / (s * s);
                    h[i][i] += c;
                    h[j][j] += c;
                    h[i][j] -= c;
                    h[j][i] -= c;
                }
                let gnorm = grad.iter().map(|g| g * g).sum::<f64>().sqrt();
                if gnorm < 1e-3 * total / n as f64 * 1e-2 {
                    break;
                }
                let mut a: Vec<Vec<f64>> = (1..n).map(|i| h[i][1..].to_vec()).collect();
                let mut b: Vec<f64> = grad[1..].to_vec();
                for (k, row) in a.iter_mut().enumerate() {
                    row[k] += 1e-12;
                }
                if !solve(&mut a, &mut b) {
                    break;
                }
                let mut delta = vec![0.0; n];
                delta[1..].copy_from_slice(&b);
                let slope: f64 = delta.iter().zip(&grad).map(|(d, g)| d * g).sum();
                let mut alpha = 1.0;
                let mut ok = false;
                for _ in 0..30 {
                    let cand: Vec<f64> = (0..n).map(|i| w[i] + alpha * delta[i]).collect();
                    self.weights = cand.clone();
                    if pairs
                        .iter()
                        .all(|&(i, j)| self.slack(&cand, i, j, clearance) > 0.0)
                    {
                        let nst: Vec<CellStat> = (0..n).map(|i| self.stat(i, outline)).collect();
                        if let Some(v) = merit(self, &cand, mu, &nst) {
                            if v >= cur + 1e-4 * alpha * slope {
                                st = nst;
                                ok = true;
                                break;
                            }
                        }
                    }
                    alpha *= 0.5;
                }
                if !ok {
                    self.weights = w;
                    break;
                }
                if alpha * delta.iter().map(|d| d.abs()).fold(0.0, f64::max) < 1e-3 {
                    break;
                }
            }
            mu *= 0.1;
        }
        mu *= 10.0;
        self.mult = pairs
            .iter()
            .map(|&(i, j)| (i, j, mu / self.slack(&self.weights, i, j, clearance)))
            .filter(|m| m.2 > 1e-9)
            .collect();
        (0..n)
            .map(|i| (st[i].area - targets[i]).abs() / targets[i])
            .fold(0.0, f64::max)
    }

    /// Fit: solve the weights; while some cells stay off target because anchor
    /// constraints bind, move the generators along Σ λ_ij ∇slack_ij (which
    /// relaxes the binding constraints; moves capped near the anchors) and
    /// re-solve. Keeps the best state. Returns (rounds, max relative error).
    pub fn fit(
        &mut self,
        targets: &[f64],
        outline: &[P],
        clearance: f64,
        lloyd_rounds: usize,
    ) -> (usize, f64) {
        self.reset_weights();
        let n = self.sites.len();
        let mut err = self.solve_weights(targets, outline, clearance);
        let mut best = (err, self.weights.clone(), self.sites.clone());
        let mut rounds = 0;
        for _ in 0..lloyd_rounds {
            if best.0 < 1e-3 {
                break;
            }
            // move generators so that the binding anchor constraints relax:
            // s += Σ λ_ij ∇_s slack_ij, scaled to at most `step` metres
            let mut dir = vec![(0.0, 0.0); n];
            for &(i, j, lam) in &self.mult {
                let f = self.anchors[i];
                let (si, sj) = (self.sites[i], self.sites[j]);
                let d = dist2(si, sj).sqrt().max(1.0);
                let u = ((sj.0 - si.0) / d, (sj.1 - si.1) / d);
                // ∂slack/∂s_j = 2(s_j - f_i) - 2c u ; ∂slack/∂s_i = 2(f_i - s_i) + 2c u
                dir[j].0 += lam * (2.0 * (sj.0 - f.0) - 2.0 * clearance * u.0);
                dir[j].1 += lam * (2.0 * (sj.1 - f.1) - 2.0 * clearance * u.1);
                dir[i].0 += lam * (2.0 * (f.0 - si.0) + 2.0 * clearance * u.0);
                dir[i].1 += lam * (2.0 * (f.1 - si.1) + 2.0 * clearance * u.1);
            }
            let mx = dir
                .iter()
                .map(|d| (d.0 * d.0 + d.1 * d.1).sqrt())
                .fold(0.0, f64::max);
            if mx <= 0.0 {
                break;
            }
            let step = 80.0;
            for i in 0..n {
                let s = self.sites[i];
                let mut ns = (s.0 + step * dir[i].0 / mx, s.1 + step * dir[i].1 / mx);
                let f = self.anchors[i];
                let d = dist2(ns, f).sqrt();
                if d > self.caps[i] {
                    let k = self.caps[i] / d;
                    ns = (f.0 + (ns.0 - f.0) * k, f.1 + (ns.1 - f.1) * k);
                }
                self.sites[i] = ns;
            }
            self.reset_weights();
            err = self.solve_weights(targets, outline, clearance);
            rounds += 1;
            if err < best.0 {
                best = (err, self.weights.clone(), self.sites.clone());
            }
        }
        self.weights = best.1;
        self.sites = best.2;
        (rounds, best.0)
    }

    /// w_i = |f_i - s_i|²: strictly feasible for the anchor constraints
    /// (generators within the caps, see `caps`).
    fn reset_weights(&mut self) {
        for i in 0..self.sites.len() {
            self.weights[i] = dist2(self.anchors[i], self.sites[i]);
        }
    }

    /// Cells whose clipped polygon has an edge on the outline.
    pub fn boundary_cells(&self, outline: &[P]) -> Vec<bool> {
        (0..self.sites.len())
            .map(|i| self.stat(i, outline).boundary)
            .collect()
    }

    pub fn areas(&self, outline: &[P]) -> Vec<f64> {
        (0..self.sites.len())
            .map(|i| self.stat(i, outline).area)
            .collect()
    }
}

/// Gaussian elimination with partial pivoting; solution left in `b`.
fn solve(a: &mut [Vec<f64>], b: &mut [f64]) -> bool {
    let n = b.len();
    for c in 0..n {
        let p = (c..n)
            .max_by(|&x, &y| a[x][c].abs().partial_cmp(&a[y][c].abs()).unwrap())
            .unwrap();
        if a[p][c].abs() < 1e-15 {
            return false;
        }
        a.swap(c, p);
        b.swap(c, p);
        for r in (c + 1)..n {
            let f = a[r][c] / a[c][c];
            if f == 0.0 {
                continue;
            }
            for k in c..n {
                a[r][k] -= f * a[c][k];
            }
            b[r] -= f * b[c];
        }
    }
    for c in (0..n).rev() {
        let mut s = b[c];
        for k in (c + 1)..n {
            s -= a[c][k] * b[k];
        }
        b[c] = s / a[c][c];
    }
    true
}

pub fn dist2(a: P, b: P) -> f64 {
    (a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)
}

// ---------------------------------------------------------------- snapping

struct Dsu(Vec<usize>);
impl Dsu {
    fn find(&mut self, x: usize) -> usize {
        let mut r = x;
        while self.0[r] != r {
            r = self.0[r];
        }
        let mut y = x;
        while self.0[y] != r {
            let nx = self.0[y];
            self.0[y] = r;
            y = nx;
        }
        r
    }
    fn union(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            // smaller index wins, so the representative is the first seen
            let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
            self.0[hi] = lo;
        }
    }
}

/// Snap all vertices of all polygons onto a common set: vertices closer than
/// `tol_m` become one coordinate (on the 1e-6° grid), and any vertex lying within
/// `tol_m / 2` of another polygon's edge is inserted into that edge, so that
/// neighbours share identical vertex sequences along shared boundaries.
pub fn snap_all(polys: &mut [IMulti], proj: &Proj, tol_m: f64) {
    // 1. cluster
    let mut verts: Vec<IP> = Vec::new();
    for m in polys.iter() {
        for p in m {
            for r in p {
                verts.extend(r.iter().copied());
            }
        }
    }
    let metric: Vec<P> = verts.iter().map(|q| proj.fwd_i(*q)).collect();
    let cell = |p: P| ((p.0 / tol_m).floor() as i64, (p.1 / tol_m).floor() as i64);
    let mut grid: HashMap<(i64, i64), Vec<usize>> = HashMap::new();
    for (k, p) in metric.iter().enumerate() {
        grid.entry(cell(*p)).or_default().push(k);
    }
    let mut dsu = Dsu((0..verts.len()).collect());
    for (k, p) in metric.iter().enumerate() {
        let (cx, cy) = cell(*p);
        for dx in -1..=1 {
            for dy in -1..=1 {
                if let Some(list) = grid.get(&(cx + dx, cy + dy)) {
                    for &o in list {
                        if o > k && dist2(*p, metric[o]) <= tol_m * tol_m {
                            dsu.union(k, o);
                        }
                    }
                }
            }
        }
    }
    let mut map: HashMap<IP, IP> = HashMap::new();
    for k in 0..verts.len() {
        let r = dsu.find(k);
        map.insert(verts[k], verts[r]);
    }
    for m in polys.iter_mut() {
        for p in m.iter_mut() {
            for r in p.iter_mut() {
                for q in r.iter_mut() {
                    *q = map[q];
                }
            }
        }
    }
    clean_all(polys);

    // 2. T-junctions
    let mut uniq: Vec<IP> = {
        let mut s: HashSet<IP> = HashSet::new();
        for m in polys.iter() {
            for p in m {
                for r in p {
                    s.extend(r.iter().copied());
                }
            }
        }
        s.into_iter().collect()
    };
    uniq.sort();
    let um: Vec<P> = uniq.iter().map(|q| proj.fwd_i(*q)).collect();
    let tt = tol_m * 0.5;
    for m in polys.iter_mut() {
        for p in m.iter_mut() {
            for r in p.iter_mut() {
                let n = r.len();
                let mut out = Vec::with_capacity(n);
                for k in 0..n {
                    let (a, b) = (r[k], r[(k + 1) % n]);
                    out.push(a);
                    let (pa, pb) = (proj.fwd_i(a), proj.fwd_i(b));
                    let (minx, maxx) = (pa.0.min(pb.0) - tt, pa.0.max(pb.0) + tt);
                    let (miny, maxy) = (pa.1.min(pb.1) - tt, pa.1.max(pb.1) + tt);
                    let (dx, dy) = (pb.0 - pa.0, pb.1 - pa.1);
                    let l2 = dx * dx + dy * dy;
                    if l2 == 0.0 {
                        continue;
                    }
                    let mut ins: Vec<(f64, IP)> = Vec::new();
                    for (u, pu) in uniq.iter().zip(um.iter()) {
                        if pu.0 < minx || pu.0 > maxx || pu.1 < miny || pu.1 > maxy {
                            continue;
                        }
                        if *u == a || *u == b {
                            continue;
                        }
                        let t = ((pu.0 - pa.0) * dx + (pu.1 - pa.1) * dy) / l2;
                        if t <= 0.0 || t >= 1.0 {
                            continue;
                        }
                        let c = (pa.0 + t * dx, pa.1 + t * dy);
                        if dist2(c, *pu) <= tt * tt {
                            ins.push((t, *u));
                        }
                    }
                    ins.sort_by(|x, y| x.0.partial_cmp(&y.0).unwrap());
                    out.extend(ins.into_iter().map(|(_, u)| u));
                }
                *r = out;
            }
        }
    }
    clean_all(polys);
}

fn clean_all(polys: &mut [IMulti]) {
    for m in polys.iter_mut() {
        let mut nm: IMulti = Vec::new();
        for p in m.drain(..) {
            let mut rings = p.into_iter().map(clean_ring);
            let ext = rings.next().unwrap_or_default();
            if ext.is_empty() {
                continue;
            }
            let mut np = vec![ext];
            np.extend(rings.filter(|r| !r.is_empty()));
            nm.push(np);
        }
        orient_multi(&mut nm);
        *m = nm;
    }
}

// ---------------------------------------------------------------- dissolve

/// Exact dissolve of polygons that share identical vertices along shared edges:
/// opposite directed edges cancel, the rest is chained into rings (taking the
/// sharpest left turn at pinch vertices so rings only touch at points).
pub fn dissolve(parts: &[&IMulti]) -> IMulti {
    let mut edges: HashMap<(IP, IP), i32> = HashMap::new();
    for m in parts {
        for p in m.iter() {
            for r in p {
                let n = r.len();
                for k in 0..n {
                    let (a, b) = (r[k], r[(k + 1) % n]);
                    if let Some(c) = edges.get_mut(&(b, a)) {
                        *c -= 1;
                        if *c == 0 {
                            edges.remove(&(b, a));
                        }
                    } else {
                        *edges.entry((a, b)).or_insert(0) += 1;
                    }
                }
            }
        }
    }
    let mut out_of: HashMap<IP, Vec<IP>> = HashMap::new();
    let mut all: Vec<(IP, IP)> = Vec::new();
    for (&(a, b), &c) in &edges {
        for _ in 0..c {
            out_of.entry(a).or_default().push(b);
            all.push((a, b));
        }
    }
    all.sort();
    let mut used: HashMap<(IP, IP), i32> = HashMap::new();
    let mut rings: Vec<Vec<IP>> = Vec::new();
    for &start in &all {
        let u = used.entry(start).or_insert(0);
        if *u >= edges[&start] {
            continue;
        }
        let mut ring = Vec::new();
        let mut e = start;
        let mut guard = 0;
        loop {
            *used.entry(e).or_insert(0) += 1;
            ring.push(e.0);
            let (a, b) = e;
            let din = ((b.0 - a.0) as f64, (b.1 - a.1) as f64);
            let mut bestn: Option<(f64, IP)> = None;
            for &c in out_of.get(&b).map(|v| v.as_slice()).unwrap_or(&[]) {
                let dout = ((c.0 - b.0) as f64, (c.1 - b.1) as f64);
                let cr = din.0 * dout.1 - din.1 * dout.0;
                let dt = din.0 * dout.0 + din.1 * dout.1;
                let mut ang = cr.atan2(dt);
                if ang >= std::f64::consts::PI - 1e-12 {
                    ang = -std::f64::consts::PI; // reversal is the last resort
                }
                if bestn.is_none_or(|(ba, _)| ang > ba) {
                    bestn = Some((ang, c));
                }
            }
            let next = (b, bestn.expect("dangling edge in dissolve").1);
            if next == start {
                break;
            }
            e = next;
            guard += 1;
            if guard > 10_000_000 {
                panic!("dissolve did not close a ring");
            }
        }
        let r = clean_ring(ring);
        if !r.is_empty() {
            rings.push(r);
        }
    }
    assemble(rings)
}

/// Group CCW shells and CW holes into polygons.
pub fn assemble(rings: Vec<Vec<IP>>) -> IMulti {
    let mut shells: Vec<(Vec<IP>, i128)> = Vec::new();
    let mut holes: Vec<Vec<IP>> = Vec::new();
    for r in rings {
        let a = iring_area2(&r);
        if a > 0 {
            shells.push((r, a));
        } else if a < 0 {
            holes.push(r);
        }
    }
    shells.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(&y.0)));
    let mut polys: Vec<IPoly> = shells.iter().map(|(r, _)| vec![r.clone()]).collect();
    for h in holes {
        // smallest shell that strictly contains a vertex of the hole
        let mut best: Option<usize> = None;
        for (si, (s, a)) in shells.iter().enumerate() {
            if h.iter().any(|q| ipoint_in_ring(*q, s) == 1) && best.is_none_or(|b| *a < shells[b].1)
            {
                best = Some(si);
            }
        }
        match best {
            Some(b) => polys[b].push(h),
            None => eprintln!("warning: dissolve produced a hole outside every shell (dropped)"),
        }
    }
    polys
}

/// Point strictly inside a multipolygon (exact, integer grid).
pub fn ipoint_in_multi(p: IP, m: &IMulti) -> bool {
    m.iter().any(|poly| {
        ipoint_in_ring(p, &poly[0]) == 1 && poly[1..].iter().all(|h| ipoint_in_ring(p, h) == -1)
    })
}
