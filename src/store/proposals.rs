//! Proposals, their photos, supports, lifecycle events and moderation queue. Every write is one
//! transaction that also appends to the audit log.

use chrono::{DateTime, Utc};
use deadpool_postgres::{GenericClient, Transaction};
use serde::Serialize;
use serde_json::{json, Value};
use tokio_postgres::error::SqlState;
use tokio_postgres::Row;

use super::audit::{self, Actor};
use super::{Context, StoreError};
use crate::domain::{ProposalStatus, TransitionKind};

/// A proposal row with everything the API may decide to show or hide.
#[derive(Debug, Clone, Serialize)]
pub struct Proposal {
    pub id: i64,
    pub tracking_code: String,
    pub lon: f64,
    pub lat: f64,
    pub category: String,
    pub title: String,
    pub description: String,
    pub estimated_cost_idr: Option<i64>,
    pub status: String,
    pub kelurahan_code: Option<String>,
    pub kecamatan_code: Option<String>,
    pub support_count: i32,
    pub merged_into: Option<i64>,
    pub status_reason: Option<String>,
    pub cycle_year: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub has_photo: bool,
    #[serde(skip)]
    pub submitter_id: Option<i64>,
    #[serde(skip)]
    pub submitter_name: Option<String>,
    #[serde(skip)]
    pub submitter_phone: Option<String>,
}

/// The column list [`from_row`] reads, in order.
const COLUMNS: &str = "p.id, p.tracking_code, ST_X(p.geom), ST_Y(p.geom), p.category, p.title, \
    p.description, p.estimated_cost_idr, p.status, p.kelurahan_code, p.kecamatan_code, \
    p.support_count, p.merged_into, p.status_reason, p.cycle_year, p.created_at, p.updated_at, \
    EXISTS (SELECT 1 FROM proposal_photo f WHERE f.proposal_id = p.id), \
    p.submitter_id, p.submitter_name, p.submitter_phone";

fn from_row(r: &Row) -> Proposal {
    Proposal {
        id: r.get(0),
        tracking_code: r.get(1),
        lon: r.get(2),
        lat: r.get(3),
        category: r.get(4),
        title: r.get(5),
        description: r.get(6),
        estimated_cost_idr: r.get(7),
        status: r.get(8),
        kelurahan_code: r.get(9),
        kecamatan_code: r.get(10),
        support_count: r.get(11),
        merged_into: r.get(12),
        status_reason: r.get(13),
        cycle_year: r.get(14),
        created_at: r.get(15),
        updated_at: r.get(16),
        has_photo: r.get(17),
        submitter_id: r.get(18),
        submitter_name: r.get(19),
        submitter_phone: r.get(20),
    }
}

impl Proposal {
    pub fn status(&self) -> Option<ProposalStatus> {
        ProposalStatus::parse(&self.status)
    }
}

/// A re-encoded photo, ready to store.
#[derive(Debug, Clone)]
pub struct Photo {
    pub content_type: &'static str,
    pub width: i32,
    pub height: i32,
    pub bytes: Vec<u8>,
}

/// A validated submission.
#[derive(Debug, Clone)]
pub struct NewProposal {
    pub lon: f64,
    pub lat: f64,
    pub category: String,
    pub title: String,
    pub description: String,
    pub estimated_cost_idr: Option<i64>,
    pub submitter_id: Option<i64>,
    pub submitter_name: Option<String>,
    pub submitter_phone: Option<String>,
    pub photo: Option<Photo>,
}

/// What a submission created.
#[derive(Debug, Clone, Serialize)]
pub struct Created {
    pub id: i64,
    pub tracking_code: String,
    pub status: String,
    pub kelurahan_code: Option<String>,
    pub kecamatan_code: Option<String>,
}

/// Inserts a proposal with its event, photo and audit entry in one statement. `None` when the
/// point lies outside the region. A tracking-code collision (one in hundreds of millions) is
/// retried with a fresh code.
pub async fn insert<C: GenericClient>(
    client: &C,
    new: &NewProposal,
    actor: &Actor,
) -> Result<Option<Created>, StoreError> {
    let stmt = client
        .prepare_cached(include_str!("../../sql/queries/insert_proposal.sql"))
        .await
        .context("preparing the proposal insert")?;
    let (ct, w, h, bytes) = match &new.photo {
        Some(p) => (
            Some(p.content_type),
            Some(p.width),
            Some(p.height),
            Some(p.bytes.as_slice()),
        ),
        None => (None, None, None, None),
    };
    let mut attempts = 0;
    loop {
        let code = crate::domain::new_tracking_code();
        let result = client
            .query_opt(
                &stmt,
                &[
                    &code,
                    &new.lon,
                    &new.lat,
                    &new.category,
                    &new.title,
                    &new.description,
                    &new.estimated_cost_idr,
                    &new.submitter_id,
                    &new.submitter_name,
                    &new.submitter_phone,
                    &actor.label,
                    &ct,
                    &w,
                    &h,
                    &bytes,
                ],
            )
            .await;
        match result {
            Ok(row) => {
                return Ok(row.map(|r| Created {
                    id: r.get(0),
                    tracking_code: r.get(1),
                    status: r.get(2),
                    kelurahan_code: r.get(3),
                    kecamatan_code: r.get(4),
                }))
            }
            Err(e)
                if attempts < 5
                    && e.code() == Some(&SqlState::UNIQUE_VIOLATION)
                    && e.as_db_error().and_then(|d| d.constraint())
                        == Some("proposal_tracking_code_key") =>
            {
                attempts += 1;
            }
            Err(source) => {
                return Err(StoreError::Postgres {
                    context: "inserting a proposal",
                    source,
                })
            }
        }
    }
}

/// One proposal by id.
pub async fn get<C: GenericClient>(client: &C, id: i64) -> Result<Option<Proposal>, StoreError> {
    let stmt = client
        .prepare_cached(&format!("SELECT {COLUMNS} FROM proposal p WHERE p.id = $1"))
        .await
        .context("preparing the proposal lookup")?;
    let row = client
        .query_opt(&stmt, &[&id])
        .await
        .context("reading a proposal")?;
    Ok(row.as_ref().map(from_row))
}

/// One proposal by tracking code (case-insensitive).
pub async fn by_tracking_code<C: GenericClient>(
    client: &C,
    code: &str,
) -> Result<Option<Proposal>, StoreError> {
    let row = client
        .query_opt(
            &format!("SELECT {COLUMNS} FROM proposal p WHERE p.tracking_code = upper($1)"),
            &[&code],
        )
        .await
        .context("reading a proposal by tracking code")?;
    Ok(row.as_ref().map(from_row))
}

/// One step of a proposal's public history (no actor: who moderated is not public).
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    pub at: DateTime<Utc>,
    pub from_status: Option<String>,
    pub to_status: String,
    pub note: Option<String>,
}

pub async fn history<C: GenericClient>(client: &C, id: i64) -> Result<Vec<Event>, StoreError> {
    let rows = client
        .query(
            "SELECT at, from_status, to_status, note FROM proposal_event
             WHERE proposal_id = $1 ORDER BY at, id",
            &[&id],
        )
        .await
        .context("reading a proposal's history")?;
    Ok(rows
        .iter()
        .map(|r| Event {
            at: r.get(0),
            from_status: r.get(1),
            to_status: r.get(2),
            note: r.get(3),
        })
        .collect())
}

/// An event of a published proposal in an area feed.
#[derive(Debug, Clone, Serialize)]
pub struct AreaEvent {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub from_status: Option<String>,
    pub to_status: String,
    pub tracking_code: String,
    pub title: String,
    pub category: String,
    pub description: String,
    pub kelurahan_code: Option<String>,
    pub support_count: i32,
}

/// The newest `limit` events of the published proposals of a kelurahan or kecamatan.
pub async fn area_events<C: GenericClient>(
    client: &C,
    area_code: &str,
    limit: i64,
) -> Result<Vec<AreaEvent>, StoreError> {
    let public = crate::domain::ProposalStatus::PUBLIC
        .iter()
        .map(|s| format!("'{s}'"))
        .collect::<Vec<_>>()
        .join(", ");
    // The statuses are constants of this build, never input.
    let sql =
        include_str!("../../sql/queries/feed_area_events.sql").replace("$PUBLIC_STATUSES", &public);
    let rows = client
        .query(&sql, &[&area_code, &limit])
        .await
        .context("reading an area's proposal events")?;
    Ok(rows
        .iter()
        .map(|r| AreaEvent {
            id: r.get(0),
            at: r.get(1),
            from_status: r.get(2),
            to_status: r.get(3),
            tracking_code: r.get(4),
            title: r.get(5),
            category: r.get(6),
            description: r.get(7),
            kelurahan_code: r.get(8),
            support_count: r.get(9),
        })
        .collect())
}

/// The name of a kelurahan or kecamatan by its code, and which of the two it is.
pub async fn area_name<C: GenericClient>(
    client: &C,
    code: &str,
) -> Result<Option<(String, &'static str)>, StoreError> {
    let row = client
        .query_opt(
            "SELECT name, 'kelurahan' FROM kelurahan WHERE code = $1
             UNION ALL SELECT name, 'kecamatan' FROM kecamatan WHERE code = $1",
            &[&code],
        )
        .await
        .context("looking an area up")?;
    Ok(row.map(|r| {
        let level: String = r.get(1);
        (
            r.get(0),
            if level == "kelurahan" {
                "kelurahan"
            } else {
                "kecamatan"
            },
        )
    }))
}

/// The stored photo of a proposal: content type and bytes.
pub async fn photo<C: GenericClient>(
    client: &C,
    id: i64,
) -> Result<Option<(String, Vec<u8>)>, StoreError> {
    let row = client
        .query_opt(
            "SELECT content_type, bytes FROM proposal_photo WHERE proposal_id = $1",
            &[&id],
        )
        .await
        .context("reading a photo")?;
    Ok(row.map(|r| (r.get(0), r.get(1))))
}

/// A proposal near a point.
#[derive(Debug, Clone, Serialize)]
pub struct Nearby {
    pub id: i64,
    pub title: String,
    pub category: String,
    pub status: String,
    pub support_count: i32,
    pub distance_m: f64,
}

/// Published proposals within `radius_m` metres (on the geography) of a point, those of
/// `category` first, then by distance.
pub async fn nearby<C: GenericClient>(
    client: &C,
    lon: f64,
    lat: f64,
    category: Option<&str>,
    radius_m: f64,
) -> Result<Vec<Nearby>, StoreError> {
    let stmt = client
        .prepare_cached(
            "WITH q AS (SELECT ST_SetSRID(ST_MakePoint($1::float8, $2::float8), 4326) AS geom)
             SELECT p.id, p.title, p.category, p.status, p.support_count,
                    ST_Distance(p.geom::geography, q.geom::geography) AS distance_m
             FROM proposal p, q
             WHERE p.status = ANY($4)
               -- a degree-based box (radius / 100 km per degree, generous) lets the GiST index work
               AND p.geom && ST_Expand(q.geom, $5::float8 / 100000.0 * 1.2)
               AND ST_DWithin(p.geom::geography, q.geom::geography, $5)
             ORDER BY (p.category = $3) DESC NULLS LAST, distance_m, p.id
             LIMIT 50",
        )
        .await
        .context("preparing the nearby search")?;
    let public: Vec<&str> = ProposalStatus::PUBLIC.to_vec();
    let rows = client
        .query(&stmt, &[&lon, &lat, &category, &public, &radius_m])
        .await
        .context("searching nearby proposals")?;
    Ok(rows
        .iter()
        .map(|r| Nearby {
            id: r.get(0),
            title: r.get(1),
            category: r.get(2),
            status: r.get(3),
            support_count: r.get(4),
            distance_m: r.get(5),
        })
        .collect())
}

/// Why a support could not be given.
#[derive(Debug, thiserror::Error)]
pub enum SupportError {
    #[error("no such proposal")]
    NotFound,
    #[error("proposal not published")]
    NotPublished,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Adds a support (a no-op when the account already supports it) and returns the count. The
/// primary key of proposal_support makes it one per account; its trigger keeps the count and
/// refuses unpublished proposals under the proposal's row lock.
/// `instead_of_new`: the resident came from the "similar proposals nearby" list while pinning a
/// new one, and supports this instead (audited as `proposal.support_instead_of_new`, counted in
/// the moderation view).
pub async fn support<C: GenericClient>(
    client: &C,
    proposal_id: i64,
    actor: &Actor,
    instead_of_new: bool,
) -> Result<i32, SupportError> {
    let stmt = client
        .prepare_cached(
            "WITH ins AS (
                 INSERT INTO proposal_support (proposal_id, user_id) VALUES ($1, $2)
                 ON CONFLICT DO NOTHING RETURNING proposal_id
             ), a AS (
                 INSERT INTO audit_log (actor_id, actor_label, action, target_type, target_id)
                 SELECT $2, $3,
                        CASE WHEN $4 THEN 'proposal.support_instead_of_new' ELSE 'proposal.support' END,
                        'proposal', proposal_id::text FROM ins
             )
             SELECT p.support_count + (SELECT count(*) FROM ins)::integer
             FROM proposal p WHERE p.id = $1",
        )
        .await
        .context("preparing the support insert")?;
    match client
        .query_opt(
            &stmt,
            &[&proposal_id, &actor.id, &actor.label, &instead_of_new],
        )
        .await
    {
        // The count in this statement's snapshot plus this support, without a second round
        // trip. Supports committed meanwhile may be missing from the answer; the stored
        // counter itself is exact (the trigger increments it under the row lock).
        Ok(Some(row)) => Ok(row.get(0)),
        Ok(None) => Err(SupportError::NotFound),
        Err(e) if e.code() == Some(&SqlState::FOREIGN_KEY_VIOLATION) => Err(SupportError::NotFound),
        Err(e) if e.code().map(|c| c.code()) == Some("SG409") => Err(SupportError::NotPublished),
        Err(source) => Err(StoreError::Postgres {
            context: "adding a support",
            source,
        }
        .into()),
    }
}

/// Withdraws a support (a no-op when there is none) and returns the count.
pub async fn withdraw<C: GenericClient>(
    client: &C,
    proposal_id: i64,
    actor: &Actor,
) -> Result<i32, SupportError> {
    let stmt = client
        .prepare_cached(
            "WITH del AS (
                 DELETE FROM proposal_support WHERE proposal_id = $1 AND user_id = $2
                 RETURNING proposal_id
             ), a AS (
                 INSERT INTO audit_log (actor_id, actor_label, action, target_type, target_id)
                 SELECT $2, $3, 'proposal.withdraw_support', 'proposal', proposal_id::text FROM del
             )
             SELECT count(*) FROM del",
        )
        .await
        .context("preparing the support withdrawal")?;
    client
        .query_one(&stmt, &[&proposal_id, &actor.id, &actor.label])
        .await
        .context("withdrawing a support")?;
    support_count(client, proposal_id)
        .await?
        .ok_or(SupportError::NotFound)
}

async fn support_count<C: GenericClient>(
    client: &C,
    proposal_id: i64,
) -> Result<Option<i32>, StoreError> {
    let stmt = client
        .prepare_cached("SELECT support_count FROM proposal WHERE id = $1")
        .await
        .context("preparing the support count")?;
    Ok(client
        .query_opt(&stmt, &[&proposal_id])
        .await
        .context("reading a support count")?
        .map(|r| r.get(0)))
}

/// True when the account supports the proposal.
pub async fn supports<C: GenericClient>(
    client: &C,
    proposal_id: i64,
    user_id: i64,
) -> Result<bool, StoreError> {
    Ok(client
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM proposal_support WHERE proposal_id = $1 AND user_id = $2)",
            &[&proposal_id, &user_id],
        )
        .await
        .context("checking a support")?
        .get(0))
}

/// How many supports residents gave from the "similar proposals nearby" list instead of pinning
/// a duplicate, in an area (None: everywhere).
pub async fn supports_instead_of_new<C: GenericClient>(
    client: &C,
    area: Option<&str>,
) -> Result<i64, StoreError> {
    let row = client
        .query_one(
            "SELECT count(*) FROM audit_log a
             JOIN proposal p ON p.id::text = a.target_id
             WHERE a.action = 'proposal.support_instead_of_new' AND a.target_type = 'proposal'
               AND ($1::text IS NULL OR p.kelurahan_code = $1 OR p.kecamatan_code = $1)",
            &[&area],
        )
        .await
        .context("counting supports instead of duplicates")?;
    Ok(row.get(0))
}

/// Locks a proposal for a status change (SELECT … FOR UPDATE) in the caller's transaction.
pub async fn lock(tx: &Transaction<'_>, id: i64) -> Result<Option<Proposal>, StoreError> {
    let row = tx
        .query_opt(
            &format!("SELECT {COLUMNS} FROM proposal p WHERE p.id = $1 FOR UPDATE"),
            &[&id],
        )
        .await
        .context("locking a proposal")?;
    Ok(row.as_ref().map(from_row))
}

/// A checked status change, to apply to a locked proposal.
#[derive(Debug, Clone)]
pub struct Transition {
    pub to: ProposalStatus,
    pub kind: TransitionKind,
    pub note: Option<String>,
    /// The public reason of a rejection.
    pub reason: Option<String>,
    /// The (locked, checked) target of a merge.
    pub merged_into: Option<i64>,
}

/// Why a transition could not be applied.
#[derive(Debug, thiserror::Error)]
pub enum TransitionError {
    #[error("the merge target is not published")]
    TargetNotPublished,
    #[error("another change to the same proposals ran at the same moment")]
    Conflict,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Applies a transition to a proposal locked with [`lock`]: the new status, the event, the
/// followers' mails in the outbox, the moved supports of a merge, and the audit entry, all in
/// `tx`.
pub async fn apply_transition(
    tx: &Transaction<'_>,
    before: &Proposal,
    t: &Transition,
    actor: &Actor,
) -> Result<(), TransitionError> {
    let carry = i32::from(t.kind == TransitionKind::CarryOver);
    tx.execute(
        "UPDATE proposal SET status = $2, merged_into = $3,
                status_reason = CASE WHEN $2 = 'ditolak' THEN $4 ELSE status_reason END,
                cycle_year = cycle_year + $5, updated_at = now()
         WHERE id = $1",
        &[
            &before.id,
            &t.to.as_str(),
            &t.merged_into,
            &t.reason,
            &carry,
        ],
    )
    .await
    .context("changing a proposal's status")?;
    let note = match (&t.note, &t.reason) {
        (Some(n), _) => Some(n.clone()),
        (None, Some(r)) => Some(r.clone()),
        (None, None) => None,
    };
    let event_id: i64 = tx
        .query_one(
            "INSERT INTO proposal_event (proposal_id, actor_id, from_status, to_status, note)
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
            &[&before.id, &actor.id, &before.status, &t.to.as_str(), &note],
        )
        .await
        .context("recording a proposal event")?
        .get(0);
    // One mail per confirmed email follower, committed (or not) with the change itself.
    super::follow::enqueue_status(tx, before.id, event_id).await?;
    let mut moved: u64 = 0;
    if let Some(target) = t.merged_into {
        // Supports of accounts that already support the target are not counted twice.
        let result = tx
            .execute(
                "INSERT INTO proposal_support (proposal_id, user_id, created_at)
                 SELECT $2, user_id, created_at FROM proposal_support WHERE proposal_id = $1
                 ON CONFLICT DO NOTHING",
                &[&before.id, &target],
            )
            .await;
        moved = match result {
            Ok(n) => n,
            Err(e) if e.code().map(|c| c.code()) == Some("SG409") => {
                return Err(TransitionError::TargetNotPublished)
            }
            Err(e) if e.code() == Some(&SqlState::T_R_DEADLOCK_DETECTED) => {
                return Err(TransitionError::Conflict)
            }
            Err(source) => {
                return Err(StoreError::Postgres {
                    context: "moving supports to the merge target",
                    source,
                }
                .into())
            }
        };
        tx.execute(
            "DELETE FROM proposal_support WHERE proposal_id = $1",
            &[&before.id],
        )
        .await
        .context("removing the supports of a merged proposal")?;
    }
    audit::record(
        tx,
        actor,
        "proposal.status",
        "proposal",
        &before.id.to_string(),
        Some(json!({"status": before.status, "cycle_year": before.cycle_year})),
        Some(json!({
            "status": t.to,
            "cycle_year": before.cycle_year + carry,
            "merged_into": t.merged_into,
            "supports_moved": moved,
            "note": note,
        })),
    )
    .await?;
    Ok(())
}

/// The moderation queue: pending proposals in `area` (all when `None`), oldest first, each with
/// its possible duplicates within 50 m and its number of confirmed email followers.
pub async fn moderation_queue<C: GenericClient>(
    client: &C,
    area: Option<&str>,
    limit: i64,
) -> Result<Vec<(Proposal, Value, i64)>, StoreError> {
    let rows = client
        .query(
            include_str!("../../sql/queries/moderation_queue.sql"),
            &[&area, &limit],
        )
        .await
        .context("reading the moderation queue")?;
    Ok(rows
        .iter()
        .map(|r| (from_row(r), r.get(21), r.get(22)))
        .collect())
}

/// Published proposals for Open311 listings, newest first.
pub async fn list_public<C: GenericClient>(
    client: &C,
    category: Option<&str>,
    statuses: &[&str],
    limit: i64,
) -> Result<Vec<Proposal>, StoreError> {
    let rows = client
        .query(
            &format!(
                "SELECT {COLUMNS} FROM proposal p
                 WHERE p.status = ANY($2) AND ($1::text IS NULL OR p.category = $1)
                 ORDER BY p.created_at DESC, p.id DESC LIMIT $3"
            ),
            &[&category, &statuses, &limit],
        )
        .await
        .context("listing proposals")?;
    Ok(rows.iter().map(from_row).collect())
}
