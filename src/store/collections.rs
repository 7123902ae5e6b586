//! The collection registry: every layer SIGAP publishes (OGC API Features collection, vector tile
//! layer, export) is one [`Collection`] here, declaring its source SQL, id, geometry, temporal
//! property, property filters and public properties. The SQL of tiles and items is built from
//! these declarations once, at start-up, with escaped identifiers; see docs/layers.md.

use std::sync::Arc;

use crate::domain::{FacilityCategory, PartnerType, ProgramType, ProposalCategory, ProposalStatus};

/// The SQL type of a published property, as tiles, JSON schemas and exports see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PropType {
    Text,
    Int,
    Float,
    Date,
    Timestamp,
}

impl PropType {
    /// The JSON schema / TileJSON type name.
    pub fn json_type(self) -> &'static str {
        match self {
            PropType::Text | PropType::Date | PropType::Timestamp => "string",
            PropType::Int => "integer",
            PropType::Float => "number",
        }
    }
}

/// A published property: a column of the collection's source SQL.
#[derive(Debug, Clone, Copy)]
pub struct Property {
    pub name: &'static str,
    pub ty: PropType,
}

const fn prop(name: &'static str, ty: PropType) -> Property {
    Property { name, ty }
}

/// What values a property filter accepts. Values are checked before any SQL runs, then bound.
#[derive(Debug, Clone, Copy)]
pub enum FilterKind {
    /// One id of a controlled vocabulary.
    Vocab(&'static [&'static str]),
    /// A Kemendagri area code (`32.73.01`, `32.73.01.1001`).
    AreaCode,
    /// A program/partner/coverage code: `[a-z0-9][a-z0-9_-]{0,63}`.
    Slug,
}

impl FilterKind {
    /// True when `value` is acceptable for this filter.
    pub fn accepts(self, value: &str) -> bool {
        match self {
            FilterKind::Vocab(ids) => ids.contains(&value),
            FilterKind::AreaCode => value.parse::<crate::domain::AreaCode>().is_ok(),
            FilterKind::Slug => {
                let b = value.as_bytes();
                !b.is_empty()
                    && b.len() <= 64
                    && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
                    && b.iter().all(|c| {
                        c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_' || *c == b'-'
                    })
            }
        }
    }
}

/// A property filter: `?name=value` keeps the features whose column `name` equals `value`.
#[derive(Debug, Clone, Copy)]
pub struct Filter {
    pub name: &'static str,
    pub kind: FilterKind,
}

/// The temporal property that `datetime` applies to: an instant (`end` = None) or an interval.
#[derive(Debug, Clone, Copy)]
pub struct Temporal {
    pub start: &'static str,
    pub end: Option<&'static str>,
}

/// Geometry kind, for simplification and export layer types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GeomKind {
    Point,
    Polygon,
}

/// One published layer.
#[derive(Debug, Clone)]
pub struct Collection {
    /// The collection id, tile layer name and URL segment.
    pub id: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    /// A SELECT returning at least the properties, `id_column`, `geom_column` (EPSG:4326) and
    /// a `tile_id` bigint column (the MVT feature id).
    pub source_sql: String,
    /// The featureId column; `id_is_integer` decides how `/items/{featureId}` is bound.
    pub id_column: &'static str,
    pub id_is_integer: bool,
    pub geom_column: &'static str,
    pub geom_kind: GeomKind,
    pub temporal: Option<Temporal>,
    pub properties: &'static [Property],
    pub filters: &'static [Filter],
    /// Whether this layer is part of the combined tileset `/tiles/sigap`.
    pub in_combined_tiles: bool,
    /// The imported layers whose data this collection shows: their sources (attribution and
    /// licence, `layer_source`) go wherever it is served or exported.
    pub sources: &'static [&'static str],
}

impl Collection {
    pub fn property(&self, name: &str) -> Option<&Property> {
        self.properties.iter().find(|p| p.name == name)
    }
    pub fn filter(&self, name: &str) -> Option<&Filter> {
        self.filters.iter().find(|f| f.name == name)
    }
}

/// Escapes an identifier for SQL (`"name"`, with embedded quotes doubled).
pub fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Escapes a literal for SQL (`'text'`). Only for constants of this build, never for input.
pub fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

use PropType::*;

const KECAMATAN_PROPS: &[Property] = &[
    prop("code", Text),
    prop("name", Text),
    prop("region_code", Text),
    prop("population", Int),
    prop("households", Int),
    prop("low_income_households", Int),
];

const KELURAHAN_PROPS: &[Property] = &[
    prop("code", Text),
    prop("name", Text),
    prop("kecamatan_code", Text),
    prop("kecamatan_name", Text),
    prop("population", Int),
    prop("population_year", Int),
    prop("households", Int),
    prop("low_income_households", Int),
    prop("households_year", Int),
    prop("area_km2", Float),
];

const COVERAGE_PROPS: &[Property] = &[
    prop("id", Int),
    prop("code", Text),
    prop("program_code", Text),
    prop("program_name", Text),
    prop("program_type", Text),
    prop("partner_code", Text),
    prop("partner_name", Text),
    prop("partner_type", Text),
    prop("valid_from", Date),
    prop("valid_to", Date),
    prop("radius_m", Float),
];

const PROPOSAL_PROPS: &[Property] = &[
    prop("id", Int),
    prop("tracking_code", Text),
    prop("category", Text),
    prop("title", Text),
    prop("description", Text),
    prop("status", Text),
    prop("estimated_cost_idr", Int),
    prop("kelurahan_code", Text),
    prop("kecamatan_code", Text),
    prop("support_count", Int),
    prop("created_at", Timestamp),
];

const GAP_KELURAHAN_PROPS: &[Property] = &[
    prop("code", Text),
    prop("name", Text),
    prop("kecamatan_code", Text),
    prop("run_id", Int),
    prop("as_of", Date),
    prop("covered_pct", Float),
    prop("population", Int),
    prop("low_income_households", Int),
    prop("people_uncovered", Int),
    prop("low_income_uncovered", Int),
    prop("programs", Int),
    prop("partners", Int),
    prop("proposals", Int),
    prop("supports", Int),
    prop("need", Float),
    prop("demand", Float),
    prop("gap_score", Float),
    prop("rank", Int),
    prop("class", Int),
];

const GAP_CELL_PROPS: &[Property] = &[
    prop("id", Text),
    prop("run_id", Int),
    prop("as_of", Date),
    prop("covered_pct", Float),
    prop("low_income_households", Float),
    prop("low_income_uncovered", Float),
    prop("proposals", Int),
    prop("supports", Int),
    prop("need", Float),
    prop("demand", Float),
    prop("gap_score", Float),
    prop("rank", Int),
    prop("class", Int),
];

const BUDGET_FUNDED_PROPS: &[Property] = &[
    prop("id", Text),
    prop("scenario_id", Int),
    prop("scenario_name", Text),
    prop("proposal_id", Int),
    prop("tracking_code", Text),
    prop("title", Text),
    prop("category", Text),
    prop("status", Text),
    prop("kelurahan_code", Text),
    prop("kecamatan_code", Text),
    prop("cost_idr", Int),
    prop("score", Float),
];

const GAP_KELURAHAN_FILTERS: &[Filter] = &[filter("kecamatan_code", FilterKind::AreaCode)];
const BUDGET_FUNDED_FILTERS: &[Filter] = &[
    filter("category", FilterKind::Vocab(ProposalCategory::ALL)),
    filter("kecamatan_code", FilterKind::AreaCode),
];

const FACILITY_PROPS: &[Property] = &[
    prop("id", Int),
    prop("code", Text),
    prop("name", Text),
    prop("category", Text),
    prop("kelurahan_code", Text),
    prop("kecamatan_code", Text),
];
const FACILITY_FILTERS: &[Filter] = &[
    filter("category", FilterKind::Vocab(FacilityCategory::ALL)),
    filter("kelurahan_code", FilterKind::AreaCode),
    filter("kecamatan_code", FilterKind::AreaCode),
];

/// Boundaries and the indicators on them.
const BOUNDARY_SOURCES: &[&str] = &["region", "kecamatan", "kelurahan", "indicator"];

const fn filter(name: &'static str, kind: FilterKind) -> Filter {
    Filter { name, kind }
}

const KECAMATAN_FILTERS: &[Filter] = &[filter("region_code", FilterKind::AreaCode)];
const KELURAHAN_FILTERS: &[Filter] = &[filter("kecamatan_code", FilterKind::AreaCode)];
const COVERAGE_FILTERS: &[Filter] = &[
    filter("program_code", FilterKind::Slug),
    filter("program_type", FilterKind::Vocab(ProgramType::ALL)),
    filter("partner_code", FilterKind::Slug),
    filter("partner_type", FilterKind::Vocab(PartnerType::ALL)),
];
const PROPOSAL_FILTERS: &[Filter] = &[
    filter("status", FilterKind::Vocab(ProposalStatus::PUBLIC)),
    filter("category", FilterKind::Vocab(ProposalCategory::ALL)),
    filter("kelurahan_code", FilterKind::AreaCode),
    filter("kecamatan_code", FilterKind::AreaCode),
];

/// The collections of this build, in the order the landing page lists them.
pub fn builtin() -> Vec<Collection> {
    let public_statuses = ProposalStatus::PUBLIC
        .iter()
        .map(|s| literal(s))
        .collect::<Vec<_>>()
        .join(", ");
    vec![
        Collection {
            id: "kecamatan",
            title: "Kecamatan",
            description: "Batas kecamatan dengan jumlah indikator kelurahannya / Districts with the sums of their villages' indicators",
            source_sql: include_str!("../../sql/queries/collection_kecamatan.sql").to_owned(),
            id_column: "code",
            id_is_integer: false,
            geom_column: "geom",
            geom_kind: GeomKind::Polygon,
            temporal: None,
            properties: KECAMATAN_PROPS,
            filters: KECAMATAN_FILTERS,
            in_combined_tiles: true,
            sources: BOUNDARY_SOURCES,
        },
        Collection {
            id: "kelurahan",
            title: "Kelurahan",
            description: "Batas kelurahan dengan indikator terbaru / Villages with their latest indicators",
            source_sql: include_str!("../../sql/queries/collection_kelurahan.sql").to_owned(),
            id_column: "code",
            id_is_integer: false,
            geom_column: "geom",
            geom_kind: GeomKind::Polygon,
            temporal: None,
            properties: KELURAHAN_PROPS,
            filters: KELURAHAN_FILTERS,
            in_combined_tiles: true,
            sources: BOUNDARY_SOURCES,
        },
        Collection {
            id: "coverage",
            title: "Cakupan program / Program coverage",
            description: "Wilayah kerja program dengan program, mitra, jenis dan periode / Where programs work, with program, partner, type and period",
            source_sql: include_str!("../../sql/queries/collection_coverage.sql").to_owned(),
            id_column: "id",
            id_is_integer: true,
            geom_column: "geom",
            geom_kind: GeomKind::Polygon,
            temporal: Some(Temporal {
                start: "valid_from",
                end: Some("valid_to"),
            }),
            properties: COVERAGE_PROPS,
            filters: COVERAGE_FILTERS,
            in_combined_tiles: true,
            sources: &[],
        },
        Collection {
            id: "proposals",
            title: "Usulan warga / Community proposals",
            description: "Usulan yang sudah diverifikasi, hanya kolom publik / Verified proposals, public fields only",
            source_sql: include_str!("../../sql/queries/collection_proposals.sql")
                .replace("$PUBLIC_STATUSES", &public_statuses),
            id_column: "id",
            id_is_integer: true,
            geom_column: "geom",
            geom_kind: GeomKind::Point,
            temporal: Some(Temporal {
                start: "created_at",
                end: None,
            }),
            properties: PROPOSAL_PROPS,
            filters: PROPOSAL_FILTERS,
            in_combined_tiles: true,
            sources: &[],
        },
        Collection {
            id: "gap_kelurahan",
            title: "Kesenjangan per kelurahan / Gap per kelurahan",
            description: "Analisis kesenjangan terbaru dengan parameter baku, dengan komponen skornya / The latest default gap analysis, with its score components",
            source_sql: include_str!("../../sql/queries/collection_gap_kelurahan.sql").to_owned(),
            id_column: "code",
            id_is_integer: false,
            geom_column: "geom",
            geom_kind: GeomKind::Polygon,
            temporal: Some(Temporal {
                start: "as_of",
                end: None,
            }),
            properties: GAP_KELURAHAN_PROPS,
            filters: GAP_KELURAHAN_FILTERS,
            in_combined_tiles: true,
            sources: BOUNDARY_SOURCES,
        },
        Collection {
            id: "gap_cells",
            title: "Kesenjangan per sel heksagon / Gap per hexagon cell",
            description: "Sel heksagon analisis kesenjangan terbaru: kantong kemiskinan di dalam kelurahan / Hexagon cells of the latest default gap analysis: pockets inside kelurahan",
            source_sql: include_str!("../../sql/queries/collection_gap_cells.sql").to_owned(),
            id_column: "id",
            id_is_integer: false,
            geom_column: "geom",
            geom_kind: GeomKind::Polygon,
            temporal: Some(Temporal {
                start: "as_of",
                end: None,
            }),
            properties: GAP_CELL_PROPS,
            filters: &[],
            in_combined_tiles: true,
            sources: BOUNDARY_SOURCES,
        },
        Collection {
            id: "budget_funded",
            title: "Usulan didanai / Funded proposals",
            description: "Usulan yang didanai skenario anggaran yang terakhir ditetapkan / Proposals funded by the most recently adopted budget scenario",
            source_sql: include_str!("../../sql/queries/collection_budget_funded.sql").to_owned(),
            id_column: "id",
            id_is_integer: false,
            geom_column: "geom",
            geom_kind: GeomKind::Point,
            temporal: None,
            properties: BUDGET_FUNDED_PROPS,
            filters: BUDGET_FUNDED_FILTERS,
            in_combined_tiles: true,
            sources: &[],
        },
        Collection {
            id: "facilities",
            title: "Fasilitas umum / Public facilities",
            description: "Puskesmas, rumah sakit, klinik, sekolah dan perguruan tinggi (biasanya dari OpenStreetMap; bisa tidak lengkap) / Health centres, hospitals, clinics, schools and universities (usually from OpenStreetMap; may be incomplete)",
            source_sql: include_str!("../../sql/queries/collection_facilities.sql").to_owned(),
            id_column: "id",
            id_is_integer: true,
            geom_column: "geom",
            geom_kind: GeomKind::Point,
            temporal: None,
            properties: FACILITY_PROPS,
            filters: FACILITY_FILTERS,
            in_combined_tiles: true,
            sources: &["facility"],
        },
    ]
}

/// The registry the server runs with: the collections and their prebuilt tile SQL.
#[derive(Debug)]
pub struct Catalog {
    pub collections: Vec<Arc<Collection>>,
}

impl Catalog {
    pub fn new(collections: Vec<Collection>) -> Self {
        Self {
            collections: collections.into_iter().map(Arc::new).collect(),
        }
    }

    pub fn get(&self, id: &str) -> Option<&Arc<Collection>> {
        self.collections.iter().find(|c| c.id == id)
    }

    /// The position of a collection, used as its compact tile-cache key.
    pub fn index(&self, id: &str) -> Option<usize> {
        self.collections.iter().position(|c| c.id == id)
    }
}

impl Default for Catalog {
    fn default() -> Self {
        Self::new(builtin())
    }
}
