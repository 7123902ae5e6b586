//! `sigap sample scale`, run as a user runs it: the synthetic city has the asked sizes, its
//! villages tile the region without overlaps, every proposal lies in the kelurahan it names, and
//! an existing city is replaced only on request.

use crate::common;

use common::{count, sigap_cli, TestDb};

#[tokio::test]
async fn scale_generates_a_consistent_city_and_replaces_only_on_request() {
    let db = TestDb::new(false).await;
    let args = [
        "sample",
        "scale",
        "--villages",
        "300",
        "--proposals",
        "3000",
        "--coverage",
        "80",
        "--seed",
        "7",
    ];
    let out = sigap_cli(&db, &args).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pool = db.pool();
    assert_eq!(count(&pool, "SELECT count(*) FROM kelurahan").await, 300);
    assert_eq!(count(&pool, "SELECT count(*) FROM proposal").await, 3000);
    assert_eq!(count(&pool, "SELECT count(*) FROM coverage").await, 80);
    assert_eq!(
        count(&pool, "SELECT count(*) FROM kelurahan k LEFT JOIN indicator i ON i.kelurahan_code = k.code WHERE i.low_income_households IS NULL").await,
        0,
        "every village has indicators"
    );
    // Villages tile the region: their areas add up to the region's, and none overlap.
    let overlaps = count(
        &pool,
        "SELECT count(*) FROM kelurahan a JOIN kelurahan b ON a.code < b.code \
         AND a.geom && b.geom AND ST_Area(ST_Intersection(a.geom, b.geom)) > 1e-12",
    )
    .await;
    assert_eq!(overlaps, 0);
    let gap = count(
        &pool,
        "SELECT (abs((SELECT sum(ST_Area(geom)) FROM kelurahan) - \
                     (SELECT ST_Area(geom) FROM region)) * 1e9)::bigint",
    )
    .await;
    assert!(gap < 1000, "villages do not cover the region: {gap}");
    let misplaced = count(
        &pool,
        "SELECT count(*) FROM proposal p JOIN kelurahan k ON k.code = p.kelurahan_code \
         WHERE NOT ST_Intersects(k.geom, p.geom) OR p.kecamatan_code <> k.kecamatan_code",
    )
    .await;
    assert_eq!(misplaced, 0);
    let public = count(
        &pool,
        "SELECT count(*) FROM proposal WHERE status IN ('diverifikasi','diprioritaskan','dianggarkan','dikerjakan','selesai')",
    )
    .await;
    assert!(public > 1000 && public < 3000, "{public}");

    // A second run refuses to overwrite, and --replace regenerates.
    let again = sigap_cli(&db, &args).await;
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("--replace"));
    let mut replace: Vec<&str> = args.to_vec();
    replace[3] = "200";
    replace.push("--replace");
    let out = sigap_cli(&db, &replace).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(count(&pool, "SELECT count(*) FROM kelurahan").await, 200);
}
