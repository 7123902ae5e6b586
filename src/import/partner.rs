//! A partner's coverage file (issue 15): the same reading, checking and staging as `sigap import`
//! `--layer coverage`, with the rules a partner's upload needs. The program is the one the
//! partner chose (a file naming another is refused feature by feature); rows are only added, never
//! upserted, so a code taken by any other area is a rejection; the review state and the actor come
//! from the upload; every row is audited. See docs/partners.md "Uploading coverage".

use std::path::Path;

use deadpool_postgres::Pool;
use serde_json::{json, Value};

use super::layers::{at_least, checked, dates_ordered, field, slug, FieldType, LayerSpec};
use super::{ImportError, ImportOptions, ImportReport};
use crate::store::import::{GeomKind, Rules};

/// The coverage layer as a partner uploads it: `program_code` may be left out (the upload names
/// the program), `code` must be a slug and is generated when absent.
pub static PARTNER_COVERAGE: LayerSpec = LayerSpec {
    name: "coverage",
    geom: GeomKind::PointOrPolygon,
    fields: &[
        checked(field("code", FieldType::Text), slug),
        checked(field("program_code", FieldType::Text), slug),
        at_least(field("radius_m", FieldType::Float), 1.0),
        field("valid_from", FieldType::Date),
        field("valid_to", FieldType::Date),
        field("note", FieldType::Text),
    ],
    key: &["code"],
    references: &[],
    derive: None,
    row_check: Some(|p| dates_ordered(p, "valid_from", "valid_to")),
    in_region: true,
    insert_sql: include_str!("../../sql/queries/import_partner_coverage.sql"),
};

/// Checks beyond `sigap import`'s, each with the upload context as `$1`.
const CHECKS: &[&str] = &[
    // A code for features without one: the upload's prefix and the feature's position.
    "UPDATE import_staging
     SET props = props || jsonb_build_object('code', ($1::jsonb->>'code_prefix') || idx)
     WHERE NOT props ? 'code'",
    "UPDATE import_staging
     SET reject = format('program_code %s is not the program of this upload (%s)',
                         props->>'program_code', $1::jsonb->>'program_code')
     WHERE reject IS NULL AND props ? 'program_code'
       AND props->>'program_code' <> $1::jsonb->>'program_code'",
    "UPDATE import_staging s
     SET reject = format('code %s is taken by another coverage area: choose another code', s.props->>'code')
     WHERE s.reject IS NULL AND EXISTS (SELECT 1 FROM coverage c WHERE c.code = s.props->>'code')",
    "UPDATE import_staging
     SET reject = 'a radius_m above 50000 m is not a service area'
     WHERE reject IS NULL AND (props->>'radius_m')::float8 > 50000",
    // A scoped reviewer: the shape (a site: its geodesic buffer) must meet the reviewer's area.
    "UPDATE import_staging s
     SET reject = format('outside your area %s', $1::jsonb->>'area')
     WHERE s.reject IS NULL AND $1::jsonb->>'area' IS NOT NULL
       AND NOT EXISTS (
           SELECT 1 FROM (SELECT geom FROM kecamatan WHERE code = $1::jsonb->>'area'
                          UNION ALL SELECT geom FROM kelurahan WHERE code = $1::jsonb->>'area') a
           WHERE ST_Intersects(a.geom,
                 CASE WHEN GeometryType(s.geom) = 'POINT'
                      THEN ST_Buffer(s.geom::geography, (s.props->>'radius_m')::float8, 'quad_segs=16')::geometry
                      ELSE s.geom END))",
];

/// Who uploads, for which program, and whether the rows are published at once.
#[derive(Debug, Clone)]
pub struct UploadContext {
    pub program_code: String,
    /// Prefix of the codes given to features that have none (a unique suffix per upload).
    pub code_prefix: String,
    /// A scoped reviewer's area code.
    pub area: Option<String>,
    pub approved: bool,
    pub approver: Option<i64>,
    pub creator: Option<i64>,
    pub actor: String,
}

/// Reads `path` and checks every feature; writes the good ones when `commit` (the rejected ones
/// are left out: the partner saw them in the preview), else rolls back (the preview).
pub async fn upload_coverage(
    pool: &Pool,
    path: &Path,
    ctx: &UploadContext,
    commit: bool,
) -> Result<ImportReport, ImportError> {
    let context: Value = json!({
        "program_code": ctx.program_code,
        "code_prefix": ctx.code_prefix,
        "area": ctx.area,
        "approved": ctx.approved,
        "approver": ctx.approver,
        "creator": ctx.creator,
        "actor": ctx.actor,
    });
    let rules = Rules {
        checks: CHECKS,
        ..PARTNER_COVERAGE.rules()
    };
    let opts = ImportOptions {
        dry_run: !commit,
        skip_invalid: true,
        ..ImportOptions::default()
    };
    super::run(pool, path, &PARTNER_COVERAGE, &rules, &opts, Some(&context)).await
}
