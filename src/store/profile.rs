//! What a printable area profile shows (issue 15): the area, its map as SVG path data, its gap
//! figures, coverage year by year, the programs present, and public proposals. Public data only:
//! approved entries, public proposal statuses, no contacts.

use chrono::NaiveDate;
use deadpool_postgres::GenericClient;
use serde_json::Value;

use super::{Context, StoreError};

const AREA_SQL: &str = include_str!("../../sql/queries/profile_area.sql");
const MAP_SQL: &str = include_str!("../../sql/queries/profile_map.sql");
const GAP_SQL: &str = include_str!("../../sql/queries/profile_gap.sql");
const YEARS_SQL: &str = include_str!("../../sql/queries/profile_coverage_years.sql");
const PROGRAMS_SQL: &str = include_str!("../../sql/queries/profile_programs.sql");
const PROPOSALS_SQL: &str = include_str!("../../sql/queries/profile_proposals.sql");

/// A kelurahan or a kecamatan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Kelurahan,
    Kecamatan,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Kelurahan => "kelurahan",
            Level::Kecamatan => "kecamatan",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Area {
    pub code: String,
    pub name: String,
    pub parent_code: String,
    pub parent_name: Option<String>,
    pub area_km2: f64,
    /// How many areas of this level there are.
    pub siblings: i64,
}

pub async fn area<C: GenericClient>(
    client: &C,
    level: Level,
    code: &str,
) -> Result<Option<Area>, StoreError> {
    let row = client
        .query_opt(AREA_SQL, &[&level.as_str(), &code])
        .await
        .context("reading a profile's area")?;
    Ok(row.map(|r| Area {
        code: r.get(0),
        name: r.get(1),
        parent_code: r.get(2),
        parent_name: r.get(3),
        area_km2: r.get(4),
        siblings: r.get(5),
    }))
}

/// Coverage active at any time from `from` to `as_of`:
/// `{xmin, ymax, width, height, outline, inner: [path], coverage: path|null, proposals: [circle
/// attributes]}` in metres of EPSG:32748 (see sql/queries/profile_map.sql).
pub async fn map<C: GenericClient>(
    client: &C,
    level: Level,
    code: &str,
    (from, as_of): (NaiveDate, NaiveDate),
    public_statuses: &[&str],
) -> Result<Value, StoreError> {
    let row = client
        .query_one(
            MAP_SQL,
            &[&level.as_str(), &code, &as_of, &public_statuses, &from],
        )
        .await
        .context("drawing a profile's map")?;
    Ok(row.get(0))
}

/// The area's row of the public gap analysis, if one has been run.
pub async fn gap<C: GenericClient>(
    client: &C,
    level: Level,
    code: &str,
) -> Result<Option<Value>, StoreError> {
    let row = client
        .query_opt(GAP_SQL, &[&level.as_str(), &code])
        .await
        .context("reading a profile's gap figures")?;
    Ok(row.map(|r| r.get(0)))
}

/// One year of coverage: the share of the area covered and how many programs were active.
#[derive(Debug, Clone)]
pub struct CoverageYear {
    pub year: i32,
    pub share: f64,
    pub programs: i64,
}

pub async fn coverage_years<C: GenericClient>(
    client: &C,
    level: Level,
    code: &str,
    first: i32,
    last: i32,
) -> Result<Vec<CoverageYear>, StoreError> {
    let rows = client
        .query(YEARS_SQL, &[&level.as_str(), &code, &first, &last])
        .await
        .context("measuring a profile's coverage by year")?;
    Ok(rows
        .iter()
        .map(|r| CoverageYear {
            year: r.get(0),
            share: r.get::<_, Option<f64>>(1).unwrap_or(0.0),
            programs: r.get(2),
        })
        .collect())
}

/// Codes of the approved programs present in the area.
pub async fn programs<C: GenericClient>(
    client: &C,
    level: Level,
    code: &str,
) -> Result<Vec<String>, StoreError> {
    let rows = client
        .query(PROGRAMS_SQL, &[&level.as_str(), &code])
        .await
        .context("listing a profile's programs")?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// `{by_stage: {status: n}, top: [proposal]}` of the public proposals in the area.
pub async fn proposals<C: GenericClient>(
    client: &C,
    code: &str,
    public_statuses: &[&str],
    top: i64,
) -> Result<Value, StoreError> {
    let row = client
        .query_one(PROPOSALS_SQL, &[&code, &public_statuses, &top])
        .await
        .context("reading a profile's proposals")?;
    Ok(row.get(0))
}
