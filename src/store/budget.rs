//! Budget scenarios, their funded proposals, and what the allocation reads: the candidates
//! with their score inputs, the kecamatan of an area and their low-income households.

use chrono::{DateTime, Utc};
use deadpool_postgres::{GenericClient, Transaction};
use serde::Serialize;
use serde_json::{json, Value};
use tokio_postgres::Row;

use super::audit::{self, Actor};
use super::{Context, StoreError};

/// A verified proposal with the inputs of its priority score.
#[derive(Debug, Clone, Serialize)]
pub struct CandidateRow {
    pub id: i64,
    pub tracking_code: String,
    pub title: String,
    pub category: String,
    pub status: String,
    pub estimated_cost_idr: Option<i64>,
    pub kelurahan_code: String,
    pub kecamatan_code: String,
    pub gap_run_id: Option<i64>,
    pub gap_score: Option<f64>,
    pub gap_score_max: Option<f64>,
    pub resident_supports: i64,
    pub other_supports: i64,
    pub households: Option<i64>,
    pub area_km2: Option<f64>,
}

/// The candidates of an allocation in `area` (a kecamatan or kelurahan code; `None`: all).
pub async fn candidates<C: GenericClient>(
    client: &C,
    area: Option<&str>,
) -> Result<Vec<CandidateRow>, StoreError> {
    let stmt = client
        .prepare_cached(include_str!("../../sql/queries/budget_candidates.sql"))
        .await
        .context("preparing the budget candidates query")?;
    let rows = client
        .query(&stmt, &[&area])
        .await
        .context("reading the budget candidates")?;
    Ok(rows
        .iter()
        .map(|r| CandidateRow {
            id: r.get(0),
            tracking_code: r.get(1),
            title: r.get(2),
            category: r.get(3),
            status: r.get(4),
            estimated_cost_idr: r.get(5),
            kelurahan_code: r.get(6),
            kecamatan_code: r.get(7),
            gap_run_id: r.get(8),
            gap_score: r.get(9),
            gap_score_max: r.get(10),
            resident_supports: r.get(11),
            other_supports: r.get(12),
            households: r.get(13),
            area_km2: r.get(14),
        })
        .collect())
}

/// Kecamatan of `area` (all, the one named, or the one holding the kelurahan named) with their
/// low-income households (sum over their kelurahan of indicator_latest; 0 when unknown).
pub async fn kecamatan_need<C: GenericClient>(
    client: &C,
    area: Option<&str>,
) -> Result<Vec<(String, i64)>, StoreError> {
    let rows = client
        .query(
            "SELECT c.code, coalesce(sum(i.low_income_households), 0)::bigint
             FROM kecamatan c
             LEFT JOIN kelurahan k ON k.kecamatan_code = c.code
             LEFT JOIN indicator_latest i ON i.kelurahan_code = k.code
             WHERE $1::text IS NULL OR c.code = left($1, 8)
             GROUP BY c.code ORDER BY c.code",
            &[&area],
        )
        .await
        .context("reading low-income households by kecamatan")?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// True when `code` names a kecamatan.
pub async fn kecamatan_exists<C: GenericClient>(
    client: &C,
    code: &str,
) -> Result<bool, StoreError> {
    Ok(client
        .query_opt("SELECT 1 FROM kecamatan WHERE code = $1", &[&code])
        .await
        .context("looking up a kecamatan")?
        .is_some())
}

/// A stored scenario.
#[derive(Debug, Clone, Serialize)]
pub struct Scenario {
    pub id: i64,
    pub name: String,
    pub area_code: Option<String>,
    pub params: Value,
    pub result: Option<Value>,
    pub status: String,
    pub created_by: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub solved_at: Option<DateTime<Utc>>,
    pub adopted_by: Option<i64>,
    pub adopted_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "id, name, area_code, params, result, status, created_by, created_at, \
    updated_at, solved_at, adopted_by, adopted_at";

fn from_row(r: &Row) -> Scenario {
    Scenario {
        id: r.get(0),
        name: r.get(1),
        area_code: r.get(2),
        params: r.get(3),
        result: r.get(4),
        status: r.get(5),
        created_by: r.get(6),
        created_at: r.get(7),
        updated_at: r.get(8),
        solved_at: r.get(9),
        adopted_by: r.get(10),
        adopted_at: r.get(11),
    }
}

/// Stores a new draft scenario and its audit entry.
pub async fn insert(
    tx: &Transaction<'_>,
    name: &str,
    area_code: Option<&str>,
    params: &Value,
    actor: &Actor,
) -> Result<Scenario, StoreError> {
    let row = tx
        .query_one(
            &format!(
                "INSERT INTO budget_scenario (name, area_code, params, created_by)
                 VALUES ($1, $2, $3, $4) RETURNING {COLUMNS}"
            ),
            &[&name, &area_code, params, &actor.id],
        )
        .await
        .context("inserting a budget scenario")?;
    let s = from_row(&row);
    audit::record(
        tx,
        actor,
        "budget.create",
        "budget_scenario",
        &s.id.to_string(),
        None,
        Some(json!({"name": name, "area_code": area_code, "params": params})),
    )
    .await?;
    Ok(s)
}

/// One scenario.
pub async fn get<C: GenericClient>(client: &C, id: i64) -> Result<Option<Scenario>, StoreError> {
    let row = client
        .query_opt(
            &format!("SELECT {COLUMNS} FROM budget_scenario WHERE id = $1"),
            &[&id],
        )
        .await
        .context("reading a budget scenario")?;
    Ok(row.as_ref().map(from_row))
}

/// Locks one scenario for a change (SELECT … FOR UPDATE) in the caller's transaction.
pub async fn lock(tx: &Transaction<'_>, id: i64) -> Result<Option<Scenario>, StoreError> {
    let row = tx
        .query_opt(
            &format!("SELECT {COLUMNS} FROM budget_scenario WHERE id = $1 FOR UPDATE"),
            &[&id],
        )
        .await
        .context("locking a budget scenario")?;
    Ok(row.as_ref().map(from_row))
}

/// Scenarios whose area lies inside `area` (all when `None`), newest first, without results.
pub async fn list<C: GenericClient>(
    client: &C,
    area: Option<&str>,
) -> Result<Vec<Scenario>, StoreError> {
    let rows = client
        .query(
            &format!(
                "SELECT {COLUMNS} FROM budget_scenario
                 WHERE $1::text IS NULL OR area_code = $1 OR area_code LIKE $1 || '.%'
                 ORDER BY id DESC"
            ),
            &[&area],
        )
        .await
        .context("listing budget scenarios")?;
    Ok(rows
        .iter()
        .map(|r| Scenario {
            result: None,
            ..from_row(r)
        })
        .collect())
}

/// Replaces a draft's name and parameters; its result is cleared (it no longer matches).
pub async fn update(
    tx: &Transaction<'_>,
    before: &Scenario,
    name: &str,
    params: &Value,
    actor: &Actor,
) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE budget_scenario SET name = $2, params = $3, result = NULL, solved_at = NULL,
                updated_at = now() WHERE id = $1",
        &[&before.id, &name, params],
    )
    .await
    .context("updating a budget scenario")?;
    tx.execute(
        "DELETE FROM budget_funded WHERE scenario_id = $1",
        &[&before.id],
    )
    .await
    .context("clearing a scenario's funded proposals")?;
    audit::record(
        tx,
        actor,
        "budget.update",
        "budget_scenario",
        &before.id.to_string(),
        Some(json!({"name": before.name, "params": before.params})),
        Some(json!({"name": name, "params": params})),
    )
    .await
}

/// Stores a solve's result and its funded proposals `(proposal_id, cost_idr, score)`.
pub async fn save_result(
    tx: &Transaction<'_>,
    id: i64,
    result: &Value,
    funded: &[(i64, i64, f64)],
    actor: &Actor,
) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE budget_scenario SET result = $2, solved_at = now(), updated_at = now() WHERE id = $1",
        &[&id, result],
    )
    .await
    .context("saving a budget result")?;
    tx.execute("DELETE FROM budget_funded WHERE scenario_id = $1", &[&id])
        .await
        .context("clearing a scenario's funded proposals")?;
    let ids: Vec<i64> = funded.iter().map(|f| f.0).collect();
    let costs: Vec<i64> = funded.iter().map(|f| f.1).collect();
    let scores: Vec<f64> = funded.iter().map(|f| f.2).collect();
    tx.execute(
        "INSERT INTO budget_funded (scenario_id, proposal_id, cost_idr, score)
         SELECT $1, * FROM unnest($2::bigint[], $3::bigint[], $4::float8[])",
        &[&id, &ids, &costs, &scores],
    )
    .await
    .context("saving a scenario's funded proposals")?;
    audit::record(
        tx,
        actor,
        "budget.solve",
        "budget_scenario",
        &id.to_string(),
        None,
        Some(json!({
            "method": result.pointer("/allocation/method"),
            "funded": ids,
            "spent_idr": result.pointer("/allocation/spent_idr"),
        })),
    )
    .await
}

/// Marks a solved draft adopted.
pub async fn mark_adopted(tx: &Transaction<'_>, id: i64, actor: &Actor) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE budget_scenario SET status = 'adopted', adopted_by = $2, adopted_at = now(),
                updated_at = now() WHERE id = $1",
        &[&id, &actor.id],
    )
    .await
    .context("adopting a budget scenario")?;
    audit::record(
        tx,
        actor,
        "budget.adopt",
        "budget_scenario",
        &id.to_string(),
        Some(json!({"status": "draft"})),
        Some(json!({"status": "adopted"})),
    )
    .await
}
