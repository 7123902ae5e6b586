//! Partners, their programs, coverage areas and progress reports as partners and planners write
//! them over the API (issue 15): who sees what ([`Viewer`]), review (pending until approved),
//! reach against plan and the follow-up list. Every write runs in the caller's transaction and
//! appends to the audit log. Rules and routes: docs/partners.md.

use chrono::NaiveDate;
use deadpool_postgres::GenericClient;
use serde_json::{json, Value};
use tokio_postgres::error::SqlState;

use super::audit::{self, Actor};
use super::{Context, StoreError};
use crate::domain::{PartnerType, ProgramType};

const COVERAGE_CHECK_SQL: &str = include_str!("../../sql/queries/partners_coverage_check.sql");
const COVERAGE_INSERT_SQL: &str = include_str!("../../sql/queries/partners_coverage_insert.sql");
const REACH_SQL: &str = include_str!("../../sql/queries/partners_reach.sql");
const FOLLOWUP_SQL: &str = include_str!("../../sql/queries/partners_followup.sql");

/// Who is reading: pending entries are visible to city staff who review them and to the accounts
/// of the partner that wrote them, to nobody else.
#[derive(Debug, Clone, Default)]
pub struct Viewer {
    /// Planners and admins (reviewers): every entry, and partner contacts.
    pub reviewer: bool,
    /// A mitra account's partner.
    pub partner: Option<String>,
}

/// Why a write was refused.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("not found")]
    NotFound,
    /// The code is taken (the field that holds it).
    #[error("{0} already exists")]
    Duplicate(&'static str),
    /// A referenced row does not exist (the field that names it).
    #[error("unknown {0}")]
    UnknownReference(&'static str),
    /// A progress period overlaps one already reported.
    #[error("overlapping period")]
    Overlap,
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn write_error(
    e: tokio_postgres::Error,
    context: &'static str,
    code_field: &'static str,
) -> WriteError {
    match e.code() {
        Some(c) if *c == SqlState::UNIQUE_VIOLATION => WriteError::Duplicate(code_field),
        Some(c) if *c == SqlState::FOREIGN_KEY_VIOLATION => {
            let constraint = e
                .as_db_error()
                .and_then(|d| d.constraint())
                .unwrap_or_default();
            WriteError::UnknownReference(if constraint.contains("kelurahan") {
                "kelurahan_code"
            } else if constraint.contains("program") {
                "program_code"
            } else {
                "partner_code"
            })
        }
        Some(c) if c.code() == "SG409" => WriteError::Overlap,
        _ => WriteError::Store(StoreError::Postgres { context, source: e }),
    }
}

// ---------------------------------------------------------------------------------------------
// Partners

/// A partner as written (create, or the merged result of an edit).
#[derive(Debug, Clone)]
pub struct PartnerInput {
    pub code: String,
    pub name: String,
    pub kind: PartnerType,
    pub description: Option<String>,
    pub contact_name: Option<String>,
    pub contact_phone: Option<String>,
    pub contact_email: Option<String>,
}

/// JSON of a partner; contacts and review state only for `$2` (reviewer) or its own staff (`$3`).
const PARTNER_JSON: &str = "json_build_object(
    'code', pa.code, 'name', pa.name, 'type', pa.type, 'description', pa.description,
    'trusted', pa.trusted_at IS NOT NULL)::jsonb
    || CASE WHEN $2::bool OR pa.code = $3::text THEN json_build_object(
        'contact_name', pa.contact_name, 'contact_phone', pa.contact_phone,
        'contact_email', pa.contact_email, 'trusted_at', pa.trusted_at)::jsonb
       ELSE '{}'::jsonb END";

/// Partners a viewer may see: trusted ones publicly, untrusted ones only by reviewers and their
/// own staff. `$1` one code or NULL for all.
pub async fn partners<C: GenericClient>(
    client: &C,
    code: Option<&str>,
    viewer: &Viewer,
) -> Result<Vec<Value>, StoreError> {
    let rows = client
        .query(
            &format!(
                "SELECT {PARTNER_JSON} FROM partner pa
                 WHERE ($1::text IS NULL OR pa.code = $1)
                   AND (pa.trusted_at IS NOT NULL OR $2::bool OR pa.code = $3::text)
                 ORDER BY pa.code"
            ),
            &[&code, &viewer.reviewer, &viewer.partner],
        )
        .await
        .context("listing partners")?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// The stored fields of a partner, as [`PartnerInput`] names them (for merging an edit).
pub async fn partner_fields<C: GenericClient>(
    client: &C,
    code: &str,
) -> Result<Option<Value>, StoreError> {
    let row = client
        .query_opt(
            "SELECT json_build_object('code', code, 'name', name, 'type', type,
                    'description', description, 'contact_name', contact_name,
                    'contact_phone', contact_phone, 'contact_email', contact_email)
             FROM partner WHERE code = $1 FOR UPDATE",
            &[&code],
        )
        .await
        .context("reading a partner")?;
    Ok(row.map(|r| r.get(0)))
}

fn partner_audit(p: &PartnerInput) -> Value {
    json!({"code": p.code, "name": p.name, "type": p.kind, "description": p.description,
           "contact_name": p.contact_name, "contact_phone": p.contact_phone,
           "contact_email": p.contact_email})
}

/// Creates a partner. A partner made over the API starts untrusted: its staff's first entries
/// wait for review.
pub async fn create_partner<C: GenericClient>(
    tx: &C,
    p: &PartnerInput,
    actor: &Actor,
) -> Result<(), WriteError> {
    tx.execute(
        "INSERT INTO partner (code, name, type, description, contact_name, contact_phone,
                              contact_email, trusted_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, NULL)",
        &[
            &p.code,
            &p.name,
            &p.kind.as_str(),
            &p.description,
            &p.contact_name,
            &p.contact_phone,
            &p.contact_email,
        ],
    )
    .await
    .map_err(|e| write_error(e, "creating a partner", "code"))?;
    audit::record(
        tx,
        actor,
        "partner.create",
        "partner",
        &p.code,
        None,
        Some(partner_audit(p)),
    )
    .await?;
    Ok(())
}

/// Replaces a partner's fields (the code stays); `before` is what [`partner_fields`] read.
pub async fn update_partner<C: GenericClient>(
    tx: &C,
    p: &PartnerInput,
    before: Value,
    actor: &Actor,
) -> Result<(), WriteError> {
    tx.execute(
        "UPDATE partner SET name = $2, type = $3, description = $4, contact_name = $5,
                            contact_phone = $6, contact_email = $7
         WHERE code = $1",
        &[
            &p.code,
            &p.name,
            &p.kind.as_str(),
            &p.description,
            &p.contact_name,
            &p.contact_phone,
            &p.contact_email,
        ],
    )
    .await
    .map_err(|e| write_error(e, "changing a partner", "code"))?;
    audit::record(
        tx,
        actor,
        "partner.update",
        "partner",
        &p.code,
        Some(before),
        Some(partner_audit(p)),
    )
    .await?;
    Ok(())
}

/// True when the partner's entries are published without review.
pub async fn partner_trusted<C: GenericClient>(
    client: &C,
    code: &str,
) -> Result<Option<bool>, StoreError> {
    let row = client
        .query_opt(
            "SELECT trusted_at IS NOT NULL FROM partner WHERE code = $1",
            &[&code],
        )
        .await
        .context("reading whether a partner is trusted")?;
    Ok(row.map(|r| r.get(0)))
}

// ---------------------------------------------------------------------------------------------
// Programs

/// A program as written.
#[derive(Debug, Clone)]
pub struct ProgramInput {
    pub code: String,
    pub name: String,
    pub partner_code: String,
    pub kind: ProgramType,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub target_group: Option<String>,
    pub planned_beneficiaries: Option<i32>,
    pub description: Option<String>,
}

/// What the API and the review logic need to know about one program.
#[derive(Debug, Clone)]
pub struct ProgramHead {
    pub code: String,
    pub partner_code: String,
    pub approved: bool,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
}

const PROGRAM_JSON: &str = "json_build_object(
    'code', p.code, 'name', p.name, 'partner_code', p.partner_code, 'partner_name', pa.name,
    'type', p.type, 'start_date', p.start_date, 'end_date', p.end_date,
    'target_group', p.target_group, 'planned_beneficiaries', p.planned_beneficiaries,
    'description', p.description, 'approved', p.approved_at IS NOT NULL,
    'approved_at', p.approved_at,
    'coverage_count', (SELECT count(*) FROM coverage c WHERE c.program_code = p.code),
    'pending_coverage_count',
        (SELECT count(*) FROM coverage c WHERE c.program_code = p.code AND c.approved_at IS NULL))";

/// Filters of the program list.
#[derive(Debug, Clone, Default)]
pub struct ProgramFilter {
    pub code: Option<String>,
    pub partner_code: Option<String>,
    /// `Some(true)`: only pending; `Some(false)`: only approved.
    pub pending: Option<bool>,
}

/// Programs the viewer may see, by code.
pub async fn programs<C: GenericClient>(
    client: &C,
    filter: &ProgramFilter,
    viewer: &Viewer,
) -> Result<Vec<Value>, StoreError> {
    let rows = client
        .query(
            &format!(
                "SELECT {PROGRAM_JSON} FROM program p JOIN partner pa ON pa.code = p.partner_code
                 WHERE (p.approved_at IS NOT NULL OR $1::bool OR p.partner_code = $2::text)
                   AND ($3::text IS NULL OR p.code = $3)
                   AND ($4::text IS NULL OR p.partner_code = $4)
                   AND ($5::bool IS NULL OR (p.approved_at IS NULL) = $5)
                 ORDER BY p.code"
            ),
            &[
                &viewer.reviewer,
                &viewer.partner,
                &filter.code,
                &filter.partner_code,
                &filter.pending,
            ],
        )
        .await
        .context("listing programs")?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// One program, whoever may see it (the API decides).
pub async fn program_head<C: GenericClient>(
    client: &C,
    code: &str,
) -> Result<Option<ProgramHead>, StoreError> {
    let row = client
        .query_opt(
            "SELECT code, partner_code, approved_at IS NOT NULL, start_date, end_date
             FROM program WHERE code = $1",
            &[&code],
        )
        .await
        .context("reading a program")?;
    Ok(row.map(|r| ProgramHead {
        code: r.get(0),
        partner_code: r.get(1),
        approved: r.get(2),
        start_date: r.get(3),
        end_date: r.get(4),
    }))
}

/// The stored fields of a program, locked for an edit.
pub async fn program_fields<C: GenericClient>(
    client: &C,
    code: &str,
) -> Result<Option<Value>, StoreError> {
    let row = client
        .query_opt(
            "SELECT json_build_object('code', code, 'name', name, 'partner_code', partner_code,
                    'type', type, 'start_date', start_date, 'end_date', end_date,
                    'target_group', target_group, 'planned_beneficiaries', planned_beneficiaries,
                    'description', description)
             FROM program WHERE code = $1 FOR UPDATE",
            &[&code],
        )
        .await
        .context("reading a program")?;
    Ok(row.map(|r| r.get(0)))
}

fn program_audit(p: &ProgramInput) -> Value {
    json!({"code": p.code, "name": p.name, "partner_code": p.partner_code, "type": p.kind,
           "start_date": p.start_date, "end_date": p.end_date, "target_group": p.target_group,
           "planned_beneficiaries": p.planned_beneficiaries, "description": p.description})
}

/// Creates a program, approved at once (`approved_by`, or NULL for a trusted partner's own
/// entry) or pending (`approved` false).
pub async fn create_program<C: GenericClient>(
    tx: &C,
    p: &ProgramInput,
    approved: bool,
    approver: Option<i64>,
    actor: &Actor,
) -> Result<(), WriteError> {
    tx.execute(
        "INSERT INTO program (code, name, partner_code, type, start_date, end_date, target_group,
                              planned_beneficiaries, description, approved_at, approved_by, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9,
                 CASE WHEN $10::bool THEN now() END, CASE WHEN $10::bool THEN $11::bigint END, $12)",
        &[
            &p.code,
            &p.name,
            &p.partner_code,
            &p.kind.as_str(),
            &p.start_date,
            &p.end_date,
            &p.target_group,
            &p.planned_beneficiaries,
            &p.description,
            &approved,
            &approver,
            &actor.id,
        ],
    )
    .await
    .map_err(|e| write_error(e, "creating a program", "code"))?;
    let mut after = program_audit(p);
    after["approved"] = json!(approved);
    audit::record(
        tx,
        actor,
        "program.create",
        "program",
        &p.code,
        None,
        Some(after),
    )
    .await?;
    Ok(())
}

/// Replaces a program's fields (code and partner stay); its review state does not change.
pub async fn update_program<C: GenericClient>(
    tx: &C,
    p: &ProgramInput,
    before: Value,
    actor: &Actor,
) -> Result<(), WriteError> {
    tx.execute(
        "UPDATE program SET name = $2, type = $3, start_date = $4, end_date = $5,
                            target_group = $6, planned_beneficiaries = $7, description = $8
         WHERE code = $1",
        &[
            &p.code,
            &p.name,
            &p.kind.as_str(),
            &p.start_date,
            &p.end_date,
            &p.target_group,
            &p.planned_beneficiaries,
            &p.description,
        ],
    )
    .await
    .map_err(|e| write_error(e, "changing a program", "code"))?;
    audit::record(
        tx,
        actor,
        "program.update",
        "program",
        &p.code,
        Some(before),
        Some(program_audit(p)),
    )
    .await?;
    Ok(())
}

/// What an approval changed.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Approved {
    /// The program itself was pending.
    pub program: bool,
    /// Pending coverage areas of the program approved with it.
    pub coverage: Vec<String>,
    /// The partner was untrusted and is trusted from now on.
    pub partner_trusted: bool,
}

/// Approves a program, its pending coverage (for a scoped reviewer, only coverage meeting
/// `area`), and trusts its partner: a partner whose first entries passed review publishes the
/// next ones directly. Each change is audited.
pub async fn approve_program<C: GenericClient>(
    tx: &C,
    code: &str,
    area: Option<&str>,
    actor: &Actor,
) -> Result<Approved, WriteError> {
    let row = tx
        .query_opt(
            "SELECT partner_code, approved_at IS NULL FROM program WHERE code = $1 FOR UPDATE",
            &[&code],
        )
        .await
        .context("locking a program")?
        .ok_or(WriteError::NotFound)?;
    let (partner, was_pending): (String, bool) = (row.get(0), row.get(1));
    let mut done = Approved::default();
    if was_pending {
        tx.execute(
            "UPDATE program SET approved_at = now(), approved_by = $2 WHERE code = $1",
            &[&code, &actor.id],
        )
        .await
        .context("approving a program")?;
        audit::record(
            tx,
            actor,
            "program.approve",
            "program",
            code,
            None,
            Some(json!({"approved": true})),
        )
        .await?;
        done.program = true;
    }
    let rows = tx
        .query(
            "UPDATE coverage c SET approved_at = now(), approved_by = $2
             WHERE c.program_code = $1 AND c.approved_at IS NULL
               AND ($3::text IS NULL
                    OR EXISTS (SELECT 1 FROM kecamatan a WHERE a.code = $3 AND ST_Intersects(a.geom, c.geom))
                    OR EXISTS (SELECT 1 FROM kelurahan a WHERE a.code = $3 AND ST_Intersects(a.geom, c.geom)))
             RETURNING c.code",
            &[&code, &actor.id, &area],
        )
        .await
        .context("approving a program's coverage")?;
    for r in rows {
        let c: String = r.get(0);
        audit::record(
            tx,
            actor,
            "coverage.approve",
            "coverage",
            &c,
            None,
            Some(json!({"approved": true})),
        )
        .await?;
        done.coverage.push(c);
    }
    let trusted = tx
        .execute(
            "UPDATE partner SET trusted_at = now(), trusted_by = $2 WHERE code = $1 AND trusted_at IS NULL",
            &[&partner, &actor.id],
        )
        .await
        .context("trusting a partner")?;
    if trusted > 0 {
        audit::record(
            tx,
            actor,
            "partner.trust",
            "partner",
            &partner,
            None,
            Some(json!({"trusted": true})),
        )
        .await?;
        done.partner_trusted = true;
    }
    Ok(done)
}

// ---------------------------------------------------------------------------------------------
// Coverage

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
        'valid_from', c.valid_from, 'valid_to', c.valid_to, 'note', c.note,
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
                 ORDER BY c.code"
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

// ---------------------------------------------------------------------------------------------
// Progress reports

/// The counts of a progress report (aggregates, never people).
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Counts {
    pub participants: i32,
    pub participants_women: i32,
    pub ukm_assisted: i32,
    pub ukm_women_led: i32,
    pub mentoring_sessions: i32,
}

/// A progress report as written.
#[derive(Debug, Clone)]
pub struct ProgressInput {
    pub program_code: String,
    pub kelurahan_code: String,
    /// `month` or `quarter`.
    pub period: &'static str,
    pub period_start: NaiveDate,
    pub counts: Counts,
    pub note: Option<String>,
}

const PROGRESS_JSON: &str = "json_build_object(
    'id', r.id, 'program_code', r.program_code, 'partner_code', p.partner_code,
    'kelurahan_code', r.kelurahan_code, 'kelurahan_name', k.name,
    'period', r.period_kind, 'period_start', r.period_start, 'period_end', r.period_end,
    'participants', r.participants, 'participants_women', r.participants_women,
    'ukm_assisted', r.ukm_assisted, 'ukm_women_led', r.ukm_women_led,
    'mentoring_sessions', r.mentoring_sessions, 'note', r.note,
    'program_approved', p.approved_at IS NOT NULL, 'updated_at', r.updated_at)";

/// Filters of the progress list.
#[derive(Debug, Clone, Default)]
pub struct ProgressFilter {
    pub id: Option<i64>,
    pub program_code: Option<String>,
    pub partner_code: Option<String>,
    /// A kelurahan or kecamatan code (prefix match on the kelurahan).
    pub area_code: Option<String>,
}

/// Reports the viewer may see (those of approved programs, and of pending ones to reviewers and
/// the partner's staff), newest period first.
pub async fn progress<C: GenericClient>(
    client: &C,
    f: &ProgressFilter,
    viewer: &Viewer,
) -> Result<Vec<Value>, StoreError> {
    let rows = client
        .query(
            &format!(
                "SELECT {PROGRESS_JSON} FROM progress_report r
                 JOIN program p ON p.code = r.program_code
                 JOIN kelurahan k ON k.code = r.kelurahan_code
                 WHERE (p.approved_at IS NOT NULL OR $1::bool OR p.partner_code = $2::text)
                   AND ($3::bigint IS NULL OR r.id = $3)
                   AND ($4::text IS NULL OR r.program_code = $4)
                   AND ($5::text IS NULL OR p.partner_code = $5)
                   AND ($6::text IS NULL OR r.kelurahan_code LIKE $6 || '%')
                 ORDER BY r.period_start DESC, r.program_code, r.kelurahan_code
                 LIMIT 5000"
            ),
            &[
                &viewer.reviewer,
                &viewer.partner,
                &f.id,
                &f.program_code,
                &f.partner_code,
                &f.area_code,
            ],
        )
        .await
        .context("listing progress reports")?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// One report with its program's partner, locked for an edit.
pub async fn progress_head<C: GenericClient>(
    client: &C,
    id: i64,
) -> Result<Option<(Value, String, String)>, StoreError> {
    let row = client
        .query_opt(
            "SELECT json_build_object('program_code', r.program_code,
                    'kelurahan_code', r.kelurahan_code, 'period', r.period_kind,
                    'period_start', r.period_start, 'participants', r.participants,
                    'participants_women', r.participants_women, 'ukm_assisted', r.ukm_assisted,
                    'ukm_women_led', r.ukm_women_led, 'mentoring_sessions', r.mentoring_sessions,
                    'note', r.note),
                    p.partner_code, r.kelurahan_code
             FROM progress_report r JOIN program p ON p.code = r.program_code
             WHERE r.id = $1 FOR UPDATE OF r",
            &[&id],
        )
        .await
        .context("reading a progress report")?;
    Ok(row.map(|r| (r.get(0), r.get(1), r.get(2))))
}

fn progress_audit(p: &ProgressInput) -> Value {
    json!({"program_code": p.program_code, "kelurahan_code": p.kelurahan_code,
           "period": p.period, "period_start": p.period_start, "participants": p.counts.participants,
           "participants_women": p.counts.participants_women, "ukm_assisted": p.counts.ukm_assisted,
           "ukm_women_led": p.counts.ukm_women_led,
           "mentoring_sessions": p.counts.mentoring_sessions, "note": p.note})
}

/// Creates a report; returns its id.
pub async fn create_progress<C: GenericClient>(
    tx: &C,
    p: &ProgressInput,
    actor: &Actor,
) -> Result<i64, WriteError> {
    let c = &p.counts;
    let id: i64 = tx
        .query_one(
            "INSERT INTO progress_report (program_code, kelurahan_code, period_kind, period_start,
                 participants, participants_women, ukm_assisted, ukm_women_led, mentoring_sessions,
                 note, created_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
            &[
                &p.program_code,
                &p.kelurahan_code,
                &p.period,
                &p.period_start,
                &c.participants,
                &c.participants_women,
                &c.ukm_assisted,
                &c.ukm_women_led,
                &c.mentoring_sessions,
                &p.note,
                &actor.id,
            ],
        )
        .await
        .map_err(|e| write_error(e, "creating a progress report", "period_start"))?
        .get(0);
    audit::record(
        tx,
        actor,
        "progress.create",
        "progress_report",
        &id.to_string(),
        None,
        Some(progress_audit(p)),
    )
    .await?;
    Ok(id)
}

/// Replaces the counts and note of a report (program, kelurahan and period stay).
pub async fn update_progress<C: GenericClient>(
    tx: &C,
    id: i64,
    p: &ProgressInput,
    before: Value,
    actor: &Actor,
) -> Result<(), WriteError> {
    let c = &p.counts;
    tx.execute(
        "UPDATE progress_report SET participants = $2, participants_women = $3, ukm_assisted = $4,
                ukm_women_led = $5, mentoring_sessions = $6, note = $7
         WHERE id = $1",
        &[
            &id,
            &c.participants,
            &c.participants_women,
            &c.ukm_assisted,
            &c.ukm_women_led,
            &c.mentoring_sessions,
            &p.note,
        ],
    )
    .await
    .map_err(|e| write_error(e, "changing a progress report", "period_start"))?;
    audit::record(
        tx,
        actor,
        "progress.update",
        "progress_report",
        &id.to_string(),
        Some(before),
        Some(progress_audit(p)),
    )
    .await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Reach and follow-up

/// Reach against plan of each program in `codes` (see sql/queries/partners_reach.sql).
pub async fn reach<C: GenericClient>(
    client: &C,
    codes: &[String],
) -> Result<Vec<Value>, StoreError> {
    let rows = client
        .query(REACH_SQL, &[&codes])
        .await
        .context("summing progress against plan")?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// The follow-up list (see sql/queries/partners_followup.sql).
pub async fn followup<C: GenericClient>(
    client: &C,
    as_of: NaiveDate,
    months: i32,
    area: Option<&str>,
) -> Result<Vec<Value>, StoreError> {
    let rows = client
        .query(FOLLOWUP_SQL, &[&as_of, &months, &area])
        .await
        .context("listing programs without follow-up")?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}
