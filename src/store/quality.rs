//! What is wrong with boundary layers (region, kecamatan, kelurahan): neighbours that overlap,
//! holes and slivers no feature claims, and parts that lie outside the parent area. Real
//! boundaries are messy; SIGAP loads them and says so, it never hides or refuses small faults.
//!
//! `sigap import` runs these checks on the features it loads (inside its transaction, so a dry
//! run reports too) and `sigap check` on what is already loaded. Areas are geodesic (PostGIS
//! `geography`), in m².

use std::collections::HashMap;
use std::fmt;

use serde::Serialize;
use tokio_postgres::GenericClient;

use super::{Context, StoreError};

/// A boundary layer and where its parent is.
#[derive(Debug, Clone, Copy)]
pub struct BoundaryLayer {
    pub layer: &'static str,
    /// The parent table and the column of this layer that names the parent's code.
    pub parent: Option<(&'static str, &'static str)>,
}

/// The layers these checks apply to, top down.
pub const BOUNDARY_LAYERS: &[BoundaryLayer] = &[
    BoundaryLayer {
        layer: "region",
        parent: None,
    },
    BoundaryLayer {
        layer: "kecamatan",
        parent: Some(("region", "region_code")),
    },
    BoundaryLayer {
        layer: "kelurahan",
        parent: Some(("kecamatan", "kecamatan_code")),
    },
];

/// The boundary layer of this name, if it is one.
pub fn boundary_layer(name: &str) -> Option<BoundaryLayer> {
    BOUNDARY_LAYERS.iter().copied().find(|b| b.layer == name)
}

/// Thresholds of the report.
#[derive(Debug, Clone, Copy)]
pub struct QualityOptions {
    /// Holes up to this size are slivers (gaps between neighbours that should meet).
    pub sliver_max_m2: f64,
    /// Parts outside the parent smaller than this are counted, not listed (edge noise).
    pub outside_min_m2: f64,
}

impl Default for QualityOptions {
    fn default() -> Self {
        Self {
            sliver_max_m2: 10_000.0,
            outside_min_m2: 1.0,
        }
    }
}

/// Two features whose interiors overlap.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Overlap {
    pub a: String,
    pub a_name: String,
    pub b: String,
    pub b_name: String,
    pub area_m2: f64,
}

/// Land inside the layer's outline that no feature claims.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Hole {
    pub area_m2: f64,
    /// A point inside the hole (EPSG:4326), to find it on a map.
    pub lon: f64,
    pub lat: f64,
    /// The features around it.
    pub neighbours: Vec<String>,
    /// True when no larger than the sliver threshold.
    pub sliver: bool,
}

/// The part of a feature outside its parent area.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct OutsideParent {
    pub code: String,
    pub name: String,
    pub parent: String,
    pub outside_m2: f64,
    /// Share of the feature's area that is outside, 0..1.
    pub share: f64,
}

/// The report of one layer.
#[derive(Debug, Clone, Serialize, Default)]
pub struct LayerQuality {
    pub layer: &'static str,
    /// Features checked (all of the layer, or those just imported).
    pub features: usize,
    pub overlaps: Vec<Overlap>,
    pub holes: Vec<Hole>,
    pub outside_parent: Vec<OutsideParent>,
    /// Features with a part outside the parent below `outside_min_m2` (not listed).
    pub outside_parent_below_min: usize,
    pub sliver_max_m2: f64,
    pub outside_min_m2: f64,
}

impl LayerQuality {
    pub fn overlap_m2(&self) -> f64 {
        // Starting from +0.0: an empty sum of f64 is -0.0, which would print as "-0.0 m²".
        self.overlaps.iter().fold(0.0, |sum, o| sum + o.area_m2)
    }
    pub fn slivers(&self) -> impl Iterator<Item = &Hole> {
        self.holes.iter().filter(|h| h.sliver)
    }
    /// True when nothing at all was found.
    pub fn is_clean(&self) -> bool {
        self.overlaps.is_empty()
            && self.holes.is_empty()
            && self.outside_parent.is_empty()
            && self.outside_parent_below_min == 0
    }

    /// What the report says of each feature, one line each, keyed by code: its overlaps, then
    /// the holes it borders, then its part outside the parent. One pass over the findings, so a
    /// national import does not scan them once per feature.
    pub fn notes_by_code(&self) -> HashMap<&str, Vec<String>> {
        let mut notes: HashMap<&str, Vec<String>> = HashMap::new();
        for o in &self.overlaps {
            for (code, other, name) in [(&o.a, &o.b, &o.b_name), (&o.b, &o.a, &o.a_name)] {
                notes
                    .entry(code)
                    .or_default()
                    .push(format!("overlaps {other} {name} by {}", m2(o.area_m2)));
            }
        }
        for h in &self.holes {
            for code in &h.neighbours {
                let others: Vec<&str> = h
                    .neighbours
                    .iter()
                    .map(String::as_str)
                    .filter(|n| n != code)
                    .collect();
                notes.entry(code).or_default().push(format!(
                    "borders a {} of {} at {:.6},{:.6}{}",
                    if h.sliver { "sliver" } else { "hole" },
                    m2(h.area_m2),
                    h.lon,
                    h.lat,
                    if others.is_empty() {
                        String::new()
                    } else {
                        format!(" (with {})", others.join(", "))
                    }
                ));
            }
        }
        for o in &self.outside_parent {
            notes.entry(&o.code).or_default().push(format!(
                "{} ({:.1}% of it) lies outside its parent {}",
                m2(o.outside_m2),
                100.0 * o.share,
                o.parent
            ));
        }
        notes
    }
}

fn m2(a: f64) -> String {
    if a >= 1e5 {
        format!("{:.3} km²", a / 1e6)
    } else {
        format!("{a:.1} m²")
    }
}

impl LayerQuality {
    /// The summary in one line.
    pub fn headline(&self) -> String {
        let slivers = self.slivers().count();
        format!(
            "{} quality: {} features; {} overlapping pairs ({}); {} slivers up to {} and {} larger holes; {} with parts outside their parent (+{} under {})",
            self.layer,
            self.features,
            self.overlaps.len(),
            m2(self.overlap_m2()),
            slivers,
            m2(self.sliver_max_m2),
            self.holes.len() - slivers,
            self.outside_parent.len(),
            self.outside_parent_below_min,
            m2(self.outside_min_m2),
        )
    }
}

/// The summary line, then every finding.
impl fmt::Display for LayerQuality {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.headline())?;
        for o in &self.overlaps {
            writeln!(
                f,
                "  overlap {} {} / {} {}: {}",
                o.a,
                o.a_name,
                o.b,
                o.b_name,
                m2(o.area_m2)
            )?;
        }
        for h in &self.holes {
            writeln!(
                f,
                "  {} {} at {:.6},{:.6} between {}",
                if h.sliver { "sliver" } else { "hole" },
                m2(h.area_m2),
                h.lon,
                h.lat,
                h.neighbours.join(", ")
            )?;
        }
        for o in &self.outside_parent {
            writeln!(
                f,
                "  outside parent {} {}: {} ({:.1}%) outside {}",
                o.code,
                o.name,
                m2(o.outside_m2),
                100.0 * o.share,
                o.parent
            )?;
        }
        Ok(())
    }
}

fn sql(template: &str, table: &str, parent: Option<(&str, &str)>) -> String {
    // Identifiers come from BOUNDARY_LAYERS, never from input; quoted all the same.
    let quote = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    let mut s = template.replace("$TABLE", &quote(table));
    if let Some((p, col)) = parent {
        s = s
            .replace("$PARENT_COLUMN", &quote(col))
            .replace("$PARENT", &quote(p));
    }
    s
}

/// Up to this many features in a layer, the holes query tests each feature against all gaps.
const FEW_FEATURES: i64 = 2_000;

/// Checks `layer`, all of it (`codes` None) or the features with these codes and their
/// neighbours' shared faults.
pub async fn check(
    client: &impl GenericClient,
    layer: BoundaryLayer,
    codes: Option<&[String]>,
    opts: QualityOptions,
) -> Result<LayerQuality, StoreError> {
    let codes: Option<Vec<String>> = codes.map(<[String]>::to_vec);
    let table = layer.layer;
    let in_layer: i64 = client
        .query_one(&sql("SELECT count(*) FROM $TABLE", table, None), &[])
        .await
        .context("counting boundary features")?
        .get(0);
    let features = codes.as_ref().map_or(in_layer, |c| c.len() as i64);
    // Few features (a country's 514 kabupaten, a city's kelurahan) are large ones: the holes
    // query then takes each feature once against all gaps rather than each gap against the index.
    let few_features = in_layer <= FEW_FEATURES;

    let overlaps = client
        .query(
            &sql(
                include_str!("../../sql/queries/quality_overlaps.sql"),
                table,
                None,
            ),
            &[&codes],
        )
        .await
        .context("finding overlapping boundaries")?
        .iter()
        .map(|r| Overlap {
            a: r.get(0),
            a_name: r.get(1),
            b: r.get(2),
            b_name: r.get(3),
            area_m2: r.get(4),
        })
        .filter(|o| o.area_m2 > 0.0)
        .collect();

    let holes = client
        .query(
            &sql(
                include_str!("../../sql/queries/quality_holes.sql"),
                table,
                None,
            ),
            &[&codes, &few_features],
        )
        .await
        .context("finding holes between boundaries")?
        .iter()
        .map(|r| {
            let area_m2: f64 = r.get(0);
            Hole {
                area_m2,
                lon: r.get(1),
                lat: r.get(2),
                neighbours: r.get(3),
                sliver: area_m2 <= opts.sliver_max_m2,
            }
        })
        .collect();

    let mut outside_parent = Vec::new();
    let mut outside_parent_below_min = 0;
    if let Some(parent) = layer.parent {
        let rows = client
            .query(
                &sql(
                    include_str!("../../sql/queries/quality_outside_parent.sql"),
                    table,
                    Some(parent),
                ),
                &[&codes],
            )
            .await
            .context("finding parts outside the parent area")?;
        for r in rows {
            let outside_m2: f64 = r.get(3);
            let area_m2: f64 = r.get(4);
            if outside_m2 <= 0.0 {
                continue;
            }
            if outside_m2 < opts.outside_min_m2 {
                outside_parent_below_min += 1;
                continue;
            }
            outside_parent.push(OutsideParent {
                code: r.get(0),
                name: r.get(1),
                parent: r.get(2),
                outside_m2,
                share: if area_m2 > 0.0 {
                    outside_m2 / area_m2
                } else {
                    0.0
                },
            });
        }
    }

    Ok(LayerQuality {
        layer: layer.layer,
        features: features as usize,
        overlaps,
        holes,
        outside_parent,
        outside_parent_below_min,
        sliver_max_m2: opts.sliver_max_m2,
        outside_min_m2: opts.outside_min_m2,
    })
}
