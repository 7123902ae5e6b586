//! Vector tiles as a user's tools see them: the tile address of a point, and a tile decoded by
//! GDAL's MVT driver (`ogrinfo`).

use super::gdal_tool;

/// The z/x/y of the tile holding a lon/lat point.
pub fn tile_of(lon: f64, lat: f64, z: u32) -> (u32, u32, u32) {
    let n = f64::from(1u32 << z);
    let x = ((lon + 180.0) / 360.0 * n).floor() as u32;
    let lat_r = lat.to_radians();
    let y = ((1.0 - (lat_r.tan() + 1.0 / lat_r.cos()).ln() / std::f64::consts::PI) / 2.0 * n)
        .floor() as u32;
    (z, x, y)
}

/// Decodes a tile with `ogrinfo -al`: every feature with its fields (`name (Type) = value`).
pub async fn ogrinfo_tile_features(bytes: &[u8], (z, x, y): (u32, u32, u32)) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(format!("{z}/{x}/{y}.pbf"));
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(&path, bytes).expect("write tile");
    let out = gdal_tool(
        "ogrinfo",
        &["-ro", "-al", "-oo", "CLIP=NO", path.to_str().expect("path")],
    )
    .await;
    assert!(out.status.success(), "ogrinfo MVT failed");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Decodes a tile with `ogrinfo` (the file sits at z/x/y.pbf so GDAL georeferences it) and
/// returns its output for all layers.
pub async fn ogrinfo_tile(bytes: &[u8], (z, x, y): (u32, u32, u32)) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(format!("{z}/{x}/{y}.pbf"));
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(&path, bytes).expect("write tile");
    let out = gdal_tool(
        "ogrinfo",
        &[
            "-ro",
            "-so",
            "-al",
            "-oo",
            "CLIP=NO",
            path.to_str().expect("path"),
        ],
    )
    .await;
    assert!(
        out.status.success(),
        "ogrinfo MVT failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Feature count of `layer` in ogrinfo -so -al output (0 when the layer is absent).
pub fn feature_count(info: &str, layer: &str) -> i64 {
    let mut in_layer = false;
    for line in info.lines() {
        if let Some(name) = line.strip_prefix("Layer name: ") {
            in_layer = name.trim() == layer;
        } else if in_layer {
            if let Some(n) = line.strip_prefix("Feature Count: ") {
                return n.trim().parse().expect("count");
            }
        }
    }
    0
}
