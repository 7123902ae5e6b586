//! Progress reports (aggregates per program, kelurahan and month or quarter; never names), reach
//! against plan and the planners' follow-up list (issue 15). See docs/partners.md.

use chrono::NaiveDate;
use deadpool_postgres::GenericClient;
use serde_json::{json, Value};

use super::audit::{self, Actor};
use super::partners::{write_error, Viewer, WriteError};
use super::{Context, StoreError};

const REACH_SQL: &str = include_str!("../../sql/queries/partners_reach.sql");
const FOLLOWUP_SQL: &str = include_str!("../../sql/queries/partners_followup.sql");

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
    'mentoring_sessions', r.mentoring_sessions,
    -- Free text may name people: only reviewers ($1) and the partner's staff ($2) read it.
    'note', CASE WHEN $1::bool OR p.partner_code = $2::text THEN r.note END,
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

/// Codes of the programs the viewer may see that reported in `area` (a kecamatan or kelurahan
/// code; prefix match on the kelurahan).
pub async fn programs_reporting_in<C: GenericClient>(
    client: &C,
    area: &str,
    viewer: &Viewer,
) -> Result<Vec<String>, StoreError> {
    let rows = client
        .query(
            "SELECT DISTINCT r.program_code FROM progress_report r
             JOIN program p ON p.code = r.program_code
             WHERE r.kelurahan_code LIKE $1 || '%'
               AND (p.approved_at IS NOT NULL OR $2::bool OR p.partner_code = $3::text)
             ORDER BY 1",
            &[&area, &viewer.reviewer, &viewer.partner],
        )
        .await
        .context("listing programs that reported in an area")?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}
