//! Partners and their programs as partners and planners write them over the API (issue 15): who
//! sees what ([`Viewer`]), review (pending until approved, [`approve_program`]), and the errors
//! every partner write shares. Coverage areas: [`super::partner_coverage`]; progress reports,
//! reach and follow-up: [`super::progress`]. Every write runs in the caller's transaction and
//! appends to the audit log. Rules and routes: docs/partners.md.

use chrono::NaiveDate;
use deadpool_postgres::GenericClient;
use serde_json::{json, Value};
use tokio_postgres::error::SqlState;

use super::audit::{self, Actor};
use super::{Context, StoreError};
use crate::domain::{PartnerType, ProgramType};

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

pub(super) fn write_error(
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
