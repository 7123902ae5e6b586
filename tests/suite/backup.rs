//! `sigap backup FILE` and `sigap restore FILE`, run as an operator runs them: a database with
//! proposals, supports, audit entries and a gap run is backed up, restored into a fresh
//! database, and every table and a rendered tile (decoded) come back identical.

use crate::common;

use common::{count, gdal_tool, serve, sigap_cli, user, TestDb};
use serde_json::json;

/// Every table of the public schema (PostGIS's own aside) with an md5 of its rows in order.
async fn table_digests(db: &TestDb) -> Vec<(String, i64, String)> {
    let client = db.pool().get().await.expect("client");
    let tables: Vec<String> = client
        .query(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname <> 'spatial_ref_sys'
             ORDER BY 1",
            &[],
        )
        .await
        .expect("tables")
        .iter()
        .map(|r| r.get(0))
        .collect();
    let mut out = Vec::new();
    for t in tables {
        let sql = format!(
            "SELECT count(*), coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), '') FROM \"{t}\" x"
        );
        let row = client.query_one(&sql, &[]).await.expect("digest");
        out.push((t, row.get(0), row.get(1)));
    }
    out
}

fn text(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The combined tile over central Bandung at zoom 12: its address and (z, x, y).
fn tile() -> (String, (u32, u32, u32)) {
    let (lon, lat, z) = (107.61f64, -6.91f64, 12u32);
    let n = f64::from(1u32 << z);
    let x = ((lon + 180.0) / 360.0 * n).floor() as u32;
    let r = lat.to_radians();
    let y =
        ((1.0 - (r.tan() + 1.0 / r.cos()).ln() / std::f64::consts::PI) / 2.0 * n).floor() as u32;
    (format!("/tiles/sigap/{z}/{x}/{y}.mvt"), (z, x, y))
}

/// The tile decoded by GDAL: every feature (layer, id, fields, geometry) as text, sorted, so
/// two tiles with the same features in another order (rows restored in another physical order)
/// compare equal.
async fn decoded(bytes: &[u8], (z, x, y): (u32, u32, u32)) -> Vec<String> {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(format!("{z}/{x}/{y}.pbf"));
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(&path, bytes).expect("write tile");
    let out = gdal_tool(
        "ogrinfo",
        &["-ro", "-al", "-q", path.to_str().expect("path")],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out));
    let listing = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut features: Vec<String> = listing
        .split("OGRFeature(")
        .skip(1)
        // "layer):N" numbers features in the order read: keep the layer, drop N.
        .map(|f| {
            let (head, rest) = f.split_once('\n').unwrap_or((f, ""));
            // Indented lines are the feature's; the next layer's header may follow them.
            // GDAL orders a layer's fields as it first meets them: sort them too.
            let mut body: Vec<&str> = rest.lines().filter(|l| l.starts_with("  ")).collect();
            body.sort_unstable();
            format!(
                "{}\n{}",
                head.split(':').next().unwrap_or(head),
                body.join("\n")
            )
        })
        .collect();
    features.sort();
    features
}

#[tokio::test(flavor = "multi_thread")]
async fn backup_restores_into_a_fresh_database_identically() {
    let app = serve(TestDb::new(true).await).await;
    // Writes of every kind: a status change (audit), supports, a gap run.
    let (_, moderator) = user(&app, "mod1", "moderator", None).await;
    let (resident_id, _) = user(&app, "warga1", "resident", None).await;
    let client = app.pool.get().await.expect("client");
    let pending: i64 = client
        .query_one(
            "SELECT id FROM proposal WHERE status = 'diajukan' ORDER BY id LIMIT 1",
            &[],
        )
        .await
        .expect("a pending proposal")
        .get(0);
    let res = app
        .http
        .post(app.url(&format!("/api/proposals/{pending}/status")))
        .bearer_auth(&moderator)
        .json(&json!({"to": "diverifikasi", "note": "dicek"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    client
        .execute(
            "INSERT INTO proposal_support (proposal_id, user_id)
             SELECT id, $1 FROM proposal WHERE status = 'diverifikasi' ORDER BY id LIMIT 5",
            &[&resident_id],
        )
        .await
        .expect("supports");
    let out = sigap_cli(&app.db, &["gap", "run"]).await;
    assert!(out.status.success(), "{}", text(&out));

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sigap.dump");
    let file_s = file.to_string_lossy().into_owned();
    let out = sigap_cli(&app.db, &["backup", &file_s]).await;
    assert!(out.status.success(), "{}", text(&out));

    let fresh = TestDb::blank().await;
    let out = sigap_cli(&fresh, &["restore", &file_s]).await;
    assert!(out.status.success(), "{}", text(&out));

    let before = table_digests(&app.db).await;
    let after = table_digests(&fresh).await;
    for table in [
        "proposal",
        "audit_log",
        "proposal_support",
        "gap_run",
        "kelurahan",
    ] {
        let n = before
            .iter()
            .find(|(t, _, _)| t == table)
            .map(|(_, n, _)| *n)
            .unwrap_or_default();
        assert!(n > 0, "{table} is empty before the backup");
    }
    assert_eq!(before, after);
    assert_eq!(
        count(&fresh.pool(), "SELECT count(*) FROM proposal_support").await,
        5
    );

    // The restored database serves the same tile, byte for byte.
    let (tile, zxy) = tile();
    let original = app.http.get(app.url(&tile)).send().await.unwrap();
    assert_eq!(original.status(), 200);
    let original = original.bytes().await.unwrap();
    assert!(!original.is_empty());
    let restored_app = serve(fresh).await;
    let restored = restored_app
        .http
        .get(restored_app.url(&tile))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let (original, restored) = (decoded(&original, zxy).await, decoded(&restored, zxy).await);
    assert!(original.len() > 10, "{} features", original.len());
    assert_eq!(original, restored);

    // A restore never goes over data.
    let out = sigap_cli(&app.db, &["restore", &file_s]).await;
    assert!(!out.status.success());
    assert!(
        text(&out).contains("restore into a new, empty database"),
        "{}",
        text(&out)
    );
}
