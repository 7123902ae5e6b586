//! Coverage areas as partners and planners write them over the API (issue 15): shapes checked and
//! repaired by PostGIS before writing, creation (approved or pending), date edits and approval.
//! Access rules live in the API; see docs/partners.md.

use chrono::NaiveDate;
use deadpool_postgres::GenericClient;
use serde_json::{json, Value};

use super::audit::{self, Actor};
use super::partners::{write_error, Viewer, WriteError};
use super::{Context, StoreError};

const COVERAGE_CHECK_SQL: &str = include_str!("../../sql/queries/partners_coverage_check.sql");
const COVERAGE_INSERT_SQL: &str = include_str!("../../sql/queries/partners_coverage_insert.sql");

/// Where a coverage area is: a polygon (GeoJSON Polygon/MultiPolygon) or a site (GeoJSON Point)
/// with a service radius in metres.
#[derive(Debug, Clone)]
pub enum Place {
    Polygon { geojson: String },
    Site { geojson: String, radius_m: f64 },
}

impl Place {
    fn geojson(&self) -> &str {
        match self {
            Place::Polygon { geojson } | Place::Site { geojson, .. } => geojson,
        }
    }
    fn radius_m(&self) -> Option<f64> {
        match self {
            Place::Polygon { .. } => None,
            Place::Site { radius_m, .. } => Some(*radius_m),
        }
    }
}

/// What PostGIS says about a shape before it is written.
#[derive(Debug, Clone)]
pub struct ShapeCheck {
    /// `POLYGON`, `MULTIPOLYGON`, `POINT`, ...
    pub input_type: String,
    pub valid_as_sent: bool,
    /// Something polygonal survives repair (a site: the input is a point).
    pub usable: bool,
    pub in_region: bool,
    pub in_area: bool,
}

/// Checks a shape; `Ok(None)` when the text is not GeoJSON PostGIS can read.
pub async fn check_shape<C: GenericClient>(
    client: &C,
    place: &Place,
    area: Option<&str>,
) -> Result<Option<ShapeCheck>, StoreError> {
    let result = client
        .query_one(
            COVERAGE_CHECK_SQL,
            &[&place.geojson(), &place.radius_m(), &area],
        )
        .await;
    match result {
        Ok(r) => Ok(Some(ShapeCheck {
            input_type: r.get(0),
            valid_as_sent: r.get(1),
            usable: r.get(2),
            in_region: r.get(3),
            in_area: r.get(4),
        })),
        // A parse error of the input; only a lost connection is the server's problem.
        Err(e) if !e.is_closed() && e.as_db_error().is_some() => Ok(None),
        Err(source) => Err(StoreError::Postgres {
            context: "checking a coverage shape",
            source,
        }),
    }
}

/// A coverage area as written.
#[derive(Debug, Clone)]
pub struct CoverageInput {
    pub code: String,
    pub program_code: String,
    pub place: Place,
    /// `None`: the program's dates.
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
    pub note: Option<String>,
}

const COVERAGE_FEATURE: &str = "json_build_object(
    'type', 'Feature', 'id', c.code,
    'geometry', ST_AsGeoJSON(c.geom, 7)::json,
    'properties', json_build_object(
        'code', c.code, 'program_code', c.program_code, 'partner_code', p.partner_code,
        'valid_from', c.valid_from, 'valid_to', c.valid_to,
        -- Free text may name people: only reviewers ($1) and the partner's staff ($2) read it.
        'note', CASE WHEN $1::bool OR p.partner_code = $2::text THEN c.note END,
        'site', ST_AsGeoJSON(c.site, 7)::json, 'radius_m', c.radius_m,
        'area_km2', round((ST_Area(c.geom::geography) / 1e6)::numeric, 4),
        'approved', c.approved_at IS NOT NULL, 'approved_at', c.approved_at))";

/// Coverage areas the viewer may see, as GeoJSON features. `$3` one code, `$4` one program.
pub async fn coverage<C: GenericClient>(
    client: &C,
    code: Option<&str>,
    program_code: Option<&str>,
    viewer: &Viewer,
) -> Result<Vec<Value>, StoreError> {
    let rows = client
        .query(
            &format!(
                "SELECT {COVERAGE_FEATURE} FROM coverage c JOIN program p ON p.code = c.program_code
                 WHERE (c.approved_at IS NOT NULL OR $1::bool OR p.partner_code = $2::text)
                   AND ($3::text IS NULL OR c.code = $3)
                   AND ($4::text IS NULL OR c.program_code = $4)
                 ORDER BY c.code
                 LIMIT 2000"
            ),
            &[&viewer.reviewer, &viewer.partner, &code, &program_code],
        )
        .await
        .context("listing coverage")?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// What the API needs to know about one coverage area.
#[derive(Debug, Clone)]
pub struct CoverageHead {
    pub code: String,
    pub program_code: String,
    pub partner_code: String,
    pub approved: bool,
    pub program_approved: bool,
    /// Whether it meets the reviewer's area (true without one).
    pub in_area: bool,
    pub valid_from: NaiveDate,
    pub valid_to: NaiveDate,
    pub note: Option<String>,
}

/// One coverage area, locked when `for_update`.
pub async fn coverage_head<C: GenericClient>(
    client: &C,
    code: &str,
    area: Option<&str>,
    for_update: bool,
) -> Result<Option<CoverageHead>, StoreError> {
    let lock = if for_update { "FOR UPDATE OF c" } else { "" };
    let row = client
        .query_opt(
            &format!(
                "SELECT c.code, c.program_code, p.partner_code, c.approved_at IS NOT NULL,
                        p.approved_at IS NOT NULL,
                        $2::text IS NULL
                          OR EXISTS (SELECT 1 FROM kecamatan a WHERE a.code = $2 AND ST_Intersects(a.geom, c.geom))
                          OR EXISTS (SELECT 1 FROM kelurahan a WHERE a.code = $2 AND ST_Intersects(a.geom, c.geom)),
                        c.valid_from, c.valid_to, c.note
                 FROM coverage c JOIN program p ON p.code = c.program_code
                 WHERE c.code = $1 {lock}"
            ),
            &[&code, &area],
        )
        .await
        .context("reading a coverage area")?;
    Ok(row.map(|r| CoverageHead {
        code: r.get(0),
        program_code: r.get(1),
        partner_code: r.get(2),
        approved: r.get(3),
        program_approved: r.get(4),
        in_area: r.get(5),
        valid_from: r.get(6),
        valid_to: r.get(7),
        note: r.get(8),
    }))
}

/// Creates a coverage area (approved or pending, as for programs; the database keeps coverage of
/// a pending program pending). Returns whether it was stored approved.
pub async fn create_coverage<C: GenericClient>(
    tx: &C,
    c: &CoverageInput,
    approved: bool,
    approver: Option<i64>,
    actor: &Actor,
) -> Result<bool, WriteError> {
    tx.query_one(
        COVERAGE_INSERT_SQL,
        &[
            &c.code,
            &c.program_code,
            &c.place.geojson(),
            &c.place.radius_m(),
            &c.valid_from,
            &c.valid_to,
            &c.note,
            &approved,
            &approver,
            &actor.id,
        ],
    )
    .await
    .map_err(|e| write_error(e, "creating a coverage area", "code"))?;
    let row = tx
        .query_one(
            "SELECT approved_at IS NOT NULL, valid_from, valid_to,
                    round((ST_Area(geom::geography) / 1e6)::numeric, 4)::float8
             FROM coverage WHERE code = $1",
            &[&c.code],
        )
        .await
        .context("reading a new coverage area")?;
    let stored_approved: bool = row.get(0);
    let (from, to, area_km2): (NaiveDate, NaiveDate, f64) = (row.get(1), row.get(2), row.get(3));
    audit::record(
        tx,
        actor,
        "coverage.create",
        "coverage",
        &c.code,
        None,
        Some(
            json!({"code": c.code, "program_code": c.program_code, "valid_from": from,
                    "valid_to": to, "radius_m": c.place.radius_m(), "area_km2": area_km2,
                    "note": c.note, "approved": stored_approved}),
        ),
    )
    .await?;
    Ok(stored_approved)
}

/// Changes the dates and note of a coverage period.
pub async fn update_coverage_dates<C: GenericClient>(
    tx: &C,
    before: &CoverageHead,
    valid_from: NaiveDate,
    valid_to: NaiveDate,
    note: Option<&str>,
    actor: &Actor,
) -> Result<(), WriteError> {
    tx.execute(
        "UPDATE coverage SET valid_from = $2, valid_to = $3, note = $4 WHERE code = $1",
        &[&before.code, &valid_from, &valid_to, &note],
    )
    .await
    .map_err(|e| write_error(e, "changing a coverage area", "code"))?;
    audit::record(
        tx,
        actor,
        "coverage.update",
        "coverage",
        &before.code,
        Some(json!({"valid_from": before.valid_from, "valid_to": before.valid_to, "note": before.note})),
        Some(json!({"valid_from": valid_from, "valid_to": valid_to, "note": note})),
    )
    .await?;
    Ok(())
}

/// Approves one coverage area (its program must be approved already).
pub async fn approve_coverage<C: GenericClient>(
    tx: &C,
    code: &str,
    actor: &Actor,
) -> Result<(), WriteError> {
    let n = tx
        .execute(
            "UPDATE coverage SET approved_at = now(), approved_by = $2
             WHERE code = $1 AND approved_at IS NULL",
            &[&code, &actor.id],
        )
        .await
        .context("approving a coverage area")?;
    if n > 0 {
        audit::record(
            tx,
            actor,
            "coverage.approve",
            "coverage",
            code,
            None,
            Some(json!({"approved": true})),
        )
        .await?;
    }
    Ok(())
}
