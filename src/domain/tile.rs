//! Web Mercator tile coordinates (`z/x/y`, XYZ scheme, y down) and their extents in degrees.

/// The largest zoom SIGAP serves.
pub const MAX_ZOOM: u8 = 22;
/// MVT extent (tile coordinate units per tile side) and buffer, in those units.
pub const EXTENT: u32 = 4096;
pub const BUFFER: u32 = 64;

/// A valid tile address: `z <= 22`, `x, y < 2^z`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TileCoord {
    pub z: u8,
    pub x: u32,
    pub y: u32,
}

impl TileCoord {
    /// Checks the ranges; `None` when the tile does not exist.
    ///
    /// ```
    /// use sigap::domain::tile::TileCoord;
    /// assert!(TileCoord::new(2, 3, 3).is_some());
    /// assert!(TileCoord::new(2, 4, 0).is_none());
    /// assert!(TileCoord::new(23, 0, 0).is_none());
    /// ```
    pub fn new(z: u32, x: u32, y: u32) -> Option<TileCoord> {
        if z > u32::from(MAX_ZOOM) {
            return None;
        }
        let n = 1u32 << z;
        (x < n && y < n).then_some(TileCoord { z: z as u8, x, y })
    }

    /// The tile's extent grown by the MVT buffer, as `[west, south, east, north]` in degrees
    /// (EPSG:4326): the area whose changes can alter this tile's bytes.
    pub fn buffered_bounds_deg(self) -> [f64; 4] {
        let n = f64::from(1u32 << self.z);
        let pad = f64::from(BUFFER) / f64::from(EXTENT);
        let x0 = f64::from(self.x) - pad;
        let x1 = f64::from(self.x) + 1.0 + pad;
        let y0 = f64::from(self.y) - pad;
        let y1 = f64::from(self.y) + 1.0 + pad;
        [lon(x0, n), lat(y1, n), lon(x1, n), lat(y0, n)]
    }
}

fn lon(x: f64, n: f64) -> f64 {
    x / n * 360.0 - 180.0
}

fn lat(y: f64, n: f64) -> f64 {
    let y = y.clamp(0.0, n);
    (std::f64::consts::PI * (1.0 - 2.0 * y / n))
        .sinh()
        .atan()
        .to_degrees()
}

/// True when two `[xmin, ymin, xmax, ymax]` boxes touch or overlap.
pub fn boxes_intersect(a: &[f64; 4], b: &[f64; 4]) -> bool {
    a[0] <= b[2] && b[0] <= a[2] && a[1] <= b[3] && b[1] <= a[3]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_of_a_bandung_tile() {
        // z14 tile over central Bandung (107.6, -6.9).
        let t = TileCoord::new(14, 13088, 8506).unwrap();
        let b = t.buffered_bounds_deg();
        assert!(b[0] < 107.6 && 107.6 < b[2], "{b:?}");
        assert!(b[1] < -6.9 && -6.9 < b[3], "{b:?}");
        assert!(boxes_intersect(&b, &[107.6, -6.9, 107.6, -6.9]));
        assert!(!boxes_intersect(&b, &[107.7, -6.9, 107.8, -6.8]));
    }
}
