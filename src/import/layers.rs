//! The layers `sigap import` can load, and the rules of each: geometry kind, fields with their
//! types and limits, the key that must be unique, and the layers it refers to.

use serde_json::{Map, Value};

use crate::domain::{
    AreaCode, AreaLevel, FacilityCategory, PartnerType, ProgramType, ProposalCategory,
    ProposalStatus,
};

use crate::store::import::Rules;
pub use crate::store::import::{GeomKind, Reference};

/// Checks one text value; the error says what is wrong with it.
pub type ValueCheck = fn(&str) -> Result<(), String>;
/// Checks a feature's converted fields together.
pub type RowCheck = fn(&Map<String, Value>) -> Result<(), String>;

/// The type a field is converted to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    Text,
    Int,
    Float,
    /// ISO date, `YYYY-MM-DD`.
    Date,
    /// RFC 3339 timestamp (a bare date means midnight UTC).
    Timestamp,
}

/// One target field of a layer.
#[derive(Debug, Clone, Copy)]
pub struct FieldSpec {
    pub name: &'static str,
    pub ty: FieldType,
    pub required: bool,
    /// Allowed values of a text field.
    pub allowed: Option<&'static [&'static str]>,
    /// Smallest allowed number.
    pub min: Option<f64>,
    /// Length limits of a text field, in characters.
    pub len: Option<(usize, usize)>,
    /// Extra check of a text value.
    pub check: Option<ValueCheck>,
}

pub(super) const fn field(name: &'static str, ty: FieldType) -> FieldSpec {
    FieldSpec {
        name,
        ty,
        required: false,
        allowed: None,
        min: None,
        len: None,
        check: None,
    }
}

const fn req(mut f: FieldSpec) -> FieldSpec {
    f.required = true;
    f
}

const fn one_of(mut f: FieldSpec, allowed: &'static [&'static str]) -> FieldSpec {
    f.allowed = Some(allowed);
    f
}

pub(super) const fn at_least(mut f: FieldSpec, min: f64) -> FieldSpec {
    f.min = Some(min);
    f
}

pub(super) const fn checked(mut f: FieldSpec, check: ValueCheck) -> FieldSpec {
    f.check = Some(check);
    f
}

const fn chars(mut f: FieldSpec, min: usize, max: usize) -> FieldSpec {
    f.len = Some((min, max));
    f
}

/// Everything the importer knows about a layer.
#[derive(Debug)]
pub struct LayerSpec {
    pub name: &'static str,
    pub geom: GeomKind,
    pub fields: &'static [FieldSpec],
    /// Fields whose values together must be unique within the file.
    pub key: &'static [&'static str],
    pub references: &'static [Reference],
    /// Fills a missing field from others (a parent code from the area code).
    pub derive: Option<fn(&mut Map<String, Value>)>,
    /// A check across fields, run after each field converted.
    pub row_check: Option<RowCheck>,
    /// Whether features must touch the loaded region.
    pub in_region: bool,
    /// The INSERT … SELECT from the staging table; `$1` is NULL for all rows or one feature index.
    pub insert_sql: &'static str,
}

impl LayerSpec {
    /// The part of the rules PostGIS checks.
    pub fn rules(&self) -> Rules {
        Rules {
            layer: self.name,
            geom: self.geom,
            key: self.key,
            references: self.references,
            in_region: self.in_region,
            insert_sql: self.insert_sql,
            checks: &[],
        }
    }
}

fn area_code(level: AreaLevel, what: &str, s: &str) -> Result<(), String> {
    match s.parse::<AreaCode>() {
        Ok(c) if c.level() == level => Ok(()),
        _ => Err(format!("'{s}' is not a {what} code")),
    }
}

fn region_code(s: &str) -> Result<(), String> {
    area_code(
        AreaLevel::Region,
        "region (kota/kabupaten) code such as 32.73",
        s,
    )
}
fn kecamatan_code(s: &str) -> Result<(), String> {
    area_code(AreaLevel::Kecamatan, "kecamatan code such as 32.73.01", s)
}
fn kelurahan_code(s: &str) -> Result<(), String> {
    area_code(
        AreaLevel::Kelurahan,
        "kelurahan code such as 32.73.01.1001",
        s,
    )
}
pub(super) fn slug(s: &str) -> Result<(), String> {
    let ok = !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
        && s.as_bytes()[0].is_ascii_alphanumeric();
    if ok {
        Ok(())
    } else {
        Err(format!(
            "'{s}' is not a code of lowercase letters, digits, '-' and '_'"
        ))
    }
}
fn rule_code(s: &str) -> Result<(), String> {
    slug(s)?;
    if s.len() > 48 {
        return Err(format!("'{s}' is longer than 48 characters"));
    }
    Ok(())
}
fn tracking_code(s: &str) -> Result<(), String> {
    let ok = (6..=24).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "'{s}' is not a tracking code (6-24 of A-Z, 0-9 and '-')"
        ))
    }
}

fn derive_parent(props: &mut Map<String, Value>, target: &str) {
    if props.get(target).is_some_and(|v| !v.is_null()) {
        return;
    }
    let parent = props
        .get("code")
        .and_then(Value::as_str)
        .and_then(|c| c.parse::<AreaCode>().ok())
        .and_then(|c| c.parent());
    if let Some(parent) = parent {
        props.insert(target.to_owned(), Value::String(parent.to_string()));
    }
}

fn check_parent(props: &Map<String, Value>, target: &str) -> Result<(), String> {
    let code = props
        .get("code")
        .and_then(Value::as_str)
        .and_then(|c| c.parse::<AreaCode>().ok());
    let parent = props.get(target).and_then(Value::as_str);
    match (code.and_then(|c| c.parent()), parent) {
        (Some(expected), Some(given)) if expected.as_str() != given => Err(format!(
            "code {} does not belong to {target} {given} (its code says {expected})",
            props["code"].as_str().unwrap_or_default()
        )),
        _ => Ok(()),
    }
}

pub(super) fn dates_ordered(
    props: &Map<String, Value>,
    from: &str,
    to: &str,
) -> Result<(), String> {
    match (
        props.get(from).and_then(Value::as_str),
        props.get(to).and_then(Value::as_str),
    ) {
        (Some(a), Some(b)) if b < a => Err(format!("{to} {b} is before {from} {a}")),
        _ => Ok(()),
    }
}

fn as_i64(props: &Map<String, Value>, k: &str) -> Option<i64> {
    props.get(k).and_then(Value::as_i64)
}

pub static REGION: LayerSpec = LayerSpec {
    name: "region",
    geom: GeomKind::Polygon,
    fields: &[
        req(checked(field("code", FieldType::Text), region_code)),
        req(field("name", FieldType::Text)),
    ],
    key: &["code"],
    references: &[],
    derive: None,
    row_check: None,
    in_region: false,
    insert_sql: include_str!("../../sql/queries/import_region.sql"),
};

pub static KECAMATAN: LayerSpec = LayerSpec {
    name: "kecamatan",
    geom: GeomKind::Polygon,
    fields: &[
        req(checked(field("code", FieldType::Text), kecamatan_code)),
        req(field("name", FieldType::Text)),
        req(checked(field("region_code", FieldType::Text), region_code)),
    ],
    key: &["code"],
    references: &[Reference {
        field: "region_code",
        table: "region",
        column: "code",
    }],
    derive: Some(|p| derive_parent(p, "region_code")),
    row_check: Some(|p| check_parent(p, "region_code")),
    in_region: true,
    insert_sql: include_str!("../../sql/queries/import_kecamatan.sql"),
};

pub static KELURAHAN: LayerSpec = LayerSpec {
    name: "kelurahan",
    geom: GeomKind::Polygon,
    fields: &[
        req(checked(field("code", FieldType::Text), kelurahan_code)),
        req(field("name", FieldType::Text)),
        req(checked(
            field("kecamatan_code", FieldType::Text),
            kecamatan_code,
        )),
    ],
    key: &["code"],
    references: &[Reference {
        field: "kecamatan_code",
        table: "kecamatan",
        column: "code",
    }],
    derive: Some(|p| derive_parent(p, "kecamatan_code")),
    row_check: Some(|p| check_parent(p, "kecamatan_code")),
    in_region: true,
    insert_sql: include_str!("../../sql/queries/import_kelurahan.sql"),
};

pub static INDICATOR: LayerSpec = LayerSpec {
    name: "indicator",
    geom: GeomKind::None,
    fields: &[
        req(checked(
            field("kelurahan_code", FieldType::Text),
            kelurahan_code,
        )),
        req(at_least(field("year", FieldType::Int), 1900.0)),
        at_least(field("population", FieldType::Int), 0.0),
        at_least(field("households", FieldType::Int), 0.0),
        at_least(field("low_income_households", FieldType::Int), 0.0),
        field("source", FieldType::Text),
    ],
    key: &["kelurahan_code", "year"],
    references: &[Reference {
        field: "kelurahan_code",
        table: "kelurahan",
        column: "code",
    }],
    derive: None,
    row_check: Some(
        |p| match (as_i64(p, "low_income_households"), as_i64(p, "households")) {
            (Some(low), Some(all)) if low > all => Err(format!(
                "low_income_households {low} is more than households {all}"
            )),
            _ => Ok(()),
        },
    ),
    in_region: false,
    insert_sql: include_str!("../../sql/queries/import_indicator.sql"),
};

pub static PARTNER: LayerSpec = LayerSpec {
    name: "partner",
    geom: GeomKind::None,
    fields: &[
        req(checked(field("code", FieldType::Text), slug)),
        req(field("name", FieldType::Text)),
        req(one_of(field("type", FieldType::Text), PartnerType::ALL)),
        field("description", FieldType::Text),
    ],
    key: &["code"],
    references: &[],
    derive: None,
    row_check: None,
    in_region: false,
    insert_sql: include_str!("../../sql/queries/import_partner.sql"),
};

pub static PROGRAM: LayerSpec = LayerSpec {
    name: "program",
    geom: GeomKind::None,
    fields: &[
        req(checked(field("code", FieldType::Text), slug)),
        req(field("name", FieldType::Text)),
        req(field("partner_code", FieldType::Text)),
        req(one_of(field("type", FieldType::Text), ProgramType::ALL)),
        req(field("start_date", FieldType::Date)),
        req(field("end_date", FieldType::Date)),
        field("target_group", FieldType::Text),
        at_least(field("planned_beneficiaries", FieldType::Int), 0.0),
        field("description", FieldType::Text),
    ],
    key: &["code"],
    references: &[Reference {
        field: "partner_code",
        table: "partner",
        column: "code",
    }],
    derive: None,
    row_check: Some(|p| dates_ordered(p, "start_date", "end_date")),
    in_region: false,
    insert_sql: include_str!("../../sql/queries/import_program.sql"),
};

pub static COVERAGE: LayerSpec = LayerSpec {
    name: "coverage",
    geom: GeomKind::PointOrPolygon,
    fields: &[
        field("code", FieldType::Text),
        req(field("program_code", FieldType::Text)),
        at_least(field("radius_m", FieldType::Float), 1.0),
        field("valid_from", FieldType::Date),
        field("valid_to", FieldType::Date),
        field("note", FieldType::Text),
    ],
    key: &["code"],
    references: &[Reference {
        field: "program_code",
        table: "program",
        column: "code",
    }],
    derive: None,
    row_check: Some(|p| dates_ordered(p, "valid_from", "valid_to")),
    in_region: true,
    insert_sql: include_str!("../../sql/queries/import_coverage.sql"),
};

pub static PROPOSAL: LayerSpec = LayerSpec {
    name: "proposal",
    geom: GeomKind::Point,
    fields: &[
        checked(field("code", FieldType::Text), tracking_code),
        req(one_of(
            field("category", FieldType::Text),
            ProposalCategory::ALL,
        )),
        req(chars(field("title", FieldType::Text), 5, 120)),
        chars(field("description", FieldType::Text), 0, 2000),
        at_least(field("estimated_cost_idr", FieldType::Int), 0.0),
        one_of(field("status", FieldType::Text), ProposalStatus::ALL),
        field("created_at", FieldType::Timestamp),
    ],
    key: &["code"],
    references: &[],
    derive: None,
    row_check: None,
    in_region: true,
    insert_sql: include_str!("../../sql/queries/import_proposal.sql"),
};

/// Public facilities (puskesmas, hospital, clinic, school, university), e.g. from OpenStreetMap:
/// `--map code=osm_id` keeps the source's own ids, so a later import updates in place.
pub static FACILITY: LayerSpec = LayerSpec {
    name: "facility",
    geom: GeomKind::Point,
    fields: &[
        req(chars(field("code", FieldType::Text), 1, 64)),
        chars(field("name", FieldType::Text), 0, 200),
        req(one_of(
            field("category", FieldType::Text),
            FacilityCategory::ALL,
        )),
        field("source", FieldType::Text),
    ],
    key: &["code"],
    references: &[],
    derive: None,
    row_check: None,
    in_region: true,
    insert_sql: include_str!("../../sql/queries/import_facility.sql"),
};

/// Coverage drawn from facilities: "program P covers every facility of category C within
/// radius_m metres". Each rule becomes one coverage polygon per facility, kept current by the
/// database when facilities are added, moved or removed.
pub static COVERAGE_RULE: LayerSpec = LayerSpec {
    name: "coverage_rule",
    geom: GeomKind::None,
    fields: &[
        req(checked(field("code", FieldType::Text), rule_code)),
        req(field("program_code", FieldType::Text)),
        req(one_of(
            field("facility_category", FieldType::Text),
            FacilityCategory::ALL,
        )),
        req(at_least(field("radius_m", FieldType::Float), 1.0)),
        field("valid_from", FieldType::Date),
        field("valid_to", FieldType::Date),
        field("note", FieldType::Text),
    ],
    key: &["code"],
    references: &[Reference {
        field: "program_code",
        table: "program",
        column: "code",
    }],
    derive: None,
    row_check: Some(|p| {
        dates_ordered(p, "valid_from", "valid_to")?;
        match p.get("radius_m").and_then(Value::as_f64) {
            Some(r) if r > 50_000.0 => Err(format!("radius_m {r} is more than 50000 m")),
            _ => Ok(()),
        }
    }),
    in_region: false,
    insert_sql: include_str!("../../sql/queries/import_coverage_rule.sql"),
};

/// Optional population weighting for the gap analysis: points or polygons with a weight (people,
/// buildings, a residential share); map a source column with `--map weight=JUMLAH_PENDUDUK`.
pub static POPULATION: LayerSpec = LayerSpec {
    name: "population",
    geom: GeomKind::PointsOrPolygons,
    fields: &[
        field("code", FieldType::Text),
        req(at_least(field("weight", FieldType::Float), 0.0)),
        field("source", FieldType::Text),
    ],
    key: &["code"],
    references: &[],
    derive: None,
    row_check: None,
    in_region: true,
    insert_sql: include_str!("../../sql/queries/import_population.sql"),
};

/// Every importable layer, in the order a new region loads them.
pub static LAYERS: &[&LayerSpec] = &[
    &REGION,
    &KECAMATAN,
    &KELURAHAN,
    &INDICATOR,
    &PARTNER,
    &PROGRAM,
    &COVERAGE,
    &PROPOSAL,
    &POPULATION,
    &FACILITY,
    &COVERAGE_RULE,
];

/// Looks a layer up by name.
pub fn layer(name: &str) -> Option<&'static LayerSpec> {
    LAYERS.iter().copied().find(|l| l.name == name)
}
