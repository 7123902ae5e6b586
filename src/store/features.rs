//! Feature queries of the collection registry: items pages (as a stream of GeoJSON Feature
//! texts written by PostGIS), single features, counts, extents and export rows. Every value is a
//! bind parameter; identifiers come from the registry and are escaped.

use chrono::{DateTime, Utc};
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, RowStream};

use super::collections::{ident, Collection};
use super::{Context, StoreError};
use crate::domain::crs::Crs;

/// A bounding box `[xmin, ymin, xmax, ymax]` in x/y (lon/lat) order, in `srid`.
#[derive(Debug, Clone, Copy)]
pub struct Bbox {
    pub coords: [f64; 4],
    pub srid: i32,
}

/// A closed time interval; `None` ends are open (`..`).
pub type Interval = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// The selection of an items request, shared by pages, counts and exports.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub bbox: Option<Bbox>,
    /// Closed interval, each end optional (`..`).
    pub datetime: Option<Interval>,
    /// Declared property filters (name checked against the registry, value validated).
    pub filters: Vec<(&'static str, String)>,
}

type Param = Box<dyn ToSql + Sync + Send>;

struct Query {
    params: Vec<Param>,
    conds: Vec<String>,
}

impl Query {
    fn bind(&mut self, p: Param) -> String {
        self.params.push(p);
        format!("${}", self.params.len())
    }

    fn refs(&self) -> Vec<&(dyn ToSql + Sync)> {
        self.params
            .iter()
            .map(|p| p.as_ref() as &(dyn ToSql + Sync))
            .collect()
    }

    fn where_clause(&self) -> String {
        if self.conds.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", self.conds.join(" AND "))
        }
    }
}

fn build(c: &Collection, sel: &Selection) -> Query {
    let mut q = Query {
        params: Vec::new(),
        conds: Vec::new(),
    };
    let geom = format!("s.{}", ident(c.geom_column));
    if let Some(b) = sel.bbox {
        let [x0, y0, x1, y1] = b.coords;
        let p = [
            q.bind(Box::new(x0)),
            q.bind(Box::new(y0)),
            q.bind(Box::new(x1)),
            q.bind(Box::new(y1)),
            q.bind(Box::new(b.srid)),
        ];
        let env = format!(
            "ST_Transform(ST_Segmentize(ST_MakeEnvelope({}, {}, {}, {}, {}), \
             CASE WHEN {4} = 4326 THEN 0.01 ELSE 1000 END), 4326)",
            p[0], p[1], p[2], p[3], p[4]
        );
        q.conds.push(format!("{geom} && {env}"));
        q.conds.push(format!("ST_Intersects({geom}, {env})"));
    }
    if let (Some(t), Some((from, to))) = (c.temporal, sel.datetime) {
        let start = format!("s.{}", ident(t.start));
        let end = format!("s.{}", ident(t.end.unwrap_or(t.start)));
        if let Some(from) = from {
            let p = q.bind(Box::new(from));
            q.conds.push(format!("{end} >= {p}::timestamptz"));
        }
        if let Some(to) = to {
            let p = q.bind(Box::new(to));
            q.conds.push(format!("{start} <= {p}::timestamptz"));
        }
    }
    for (name, value) in &sel.filters {
        let p = q.bind(Box::new(value.clone()));
        q.conds.push(format!("s.{}::text = {p}", ident(name)));
    }
    q
}

/// The JSON object of a feature's properties, as SQL.
fn properties_json(c: &Collection) -> String {
    let pairs: Vec<String> = c
        .properties
        .iter()
        .map(|p| format!("'{}', s.{}", p.name, ident(p.name)))
        .collect();
    format!("json_build_object({})", pairs.join(", "))
}

/// The output geometry in `crs`, as SQL: RFC 7946 ring orientation, then the CRS and axis order.
fn geometry_sql(c: &Collection, crs: Crs) -> String {
    let mut g = format!("ST_ForcePolygonCCW(s.{})", ident(c.geom_column));
    if crs.srid != 4326 {
        g = format!("ST_Transform({g}, {})", crs.srid);
    }
    if crs.lat_lon {
        g = format!("ST_FlipCoordinates({g})");
    }
    g
}

/// Whether a page's features carry their geometry, or `null` in its place (RFC 7946 allows an
/// unlocated Feature): a client that draws from the vector tiles and only wants the properties
/// (`skipGeometry=true`) then moves a fraction of the bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Geometry {
    Included,
    Skipped,
}

/// One GeoJSON Feature per row, written by PostGIS.
fn feature_sql(c: &Collection, crs: Crs, geometry: Geometry) -> String {
    let geom = match geometry {
        Geometry::Included => format!(
            "ST_AsGeoJSON({}, {}, 0)::json",
            geometry_sql(c, crs),
            crs.decimals
        ),
        Geometry::Skipped => "NULL::json".to_owned(),
    };
    format!(
        "json_build_object('type', 'Feature', 'id', s.{id}, \
         'geometry', {geom}, \
         'properties', {props})::text",
        id = ident(c.id_column),
        props = properties_json(c),
    )
}

/// How many features the selection matches.
pub async fn count(client: &Client, c: &Collection, sel: &Selection) -> Result<i64, StoreError> {
    let q = build(c, sel);
    let sql = format!(
        "SELECT count(*) FROM ({}) s {}",
        c.source_sql,
        q.where_clause()
    );
    let row = client
        .query_one(&sql, &q.refs())
        .await
        .context("counting features")?;
    Ok(row.get(0))
}

/// A page of features as a row stream; column 0 of each row is one GeoJSON Feature text.
pub async fn page(
    client: &Client,
    c: &Collection,
    sel: &Selection,
    crs: Crs,
    geometry: Geometry,
    limit: i64,
    offset: i64,
) -> Result<RowStream, StoreError> {
    let mut q = build(c, sel);
    let lim = q.bind(Box::new(limit));
    let off = q.bind(Box::new(offset));
    let sql = format!(
        "SELECT {feature} FROM ({src}) s {where_} ORDER BY s.{id} LIMIT {lim} OFFSET {off}",
        feature = feature_sql(c, crs, geometry),
        src = c.source_sql,
        where_ = q.where_clause(),
        id = ident(c.id_column),
    );
    client
        .query_raw(&sql, q.refs())
        .await
        .context("reading a page of features")
}

/// One feature by its id, as GeoJSON Feature text.
pub async fn one(
    client: &Client,
    c: &Collection,
    id: &str,
    crs: Crs,
) -> Result<Option<String>, StoreError> {
    let sql = format!(
        "SELECT {feature} FROM ({src}) s WHERE s.{id} = $1",
        feature = feature_sql(c, crs, Geometry::Included),
        src = c.source_sql,
        id = ident(c.id_column),
    );
    let row = if c.id_is_integer {
        let Ok(n) = id.parse::<i64>() else {
            return Ok(None);
        };
        client.query_opt(&sql, &[&n]).await
    } else {
        client.query_opt(&sql, &[&id]).await
    }
    .context("reading one feature")?;
    Ok(row.map(|r| r.get(0)))
}

/// The spatial extent `[west, south, east, north]` (degrees) and the temporal extent (ISO
/// texts) of a collection; `None` parts when empty.
pub async fn extent(
    client: &Client,
    c: &Collection,
) -> Result<(Option<[f64; 4]>, Option<(String, String)>), StoreError> {
    let temporal = match c.temporal {
        Some(t) => format!(
            "min(s.{})::text, max(s.{})::text",
            ident(t.start),
            ident(t.end.unwrap_or(t.start))
        ),
        None => "NULL::text, NULL::text".to_owned(),
    };
    let sql = format!(
        "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e), t0, t1 \
         FROM (SELECT ST_Extent(s.{geom}) AS e, {temporal} FROM ({src}) s) x(e, t0, t1)",
        geom = ident(c.geom_column),
        src = c.source_sql,
    );
    let row = client
        .query_one(&sql, &[])
        .await
        .context("computing a collection extent")?;
    let bbox = match (row.get(0), row.get(1), row.get(2), row.get(3)) {
        (Some(a), Some(b), Some(c), Some(d)) => Some([a, b, c, d]),
        _ => None,
    };
    let time = match (row.get::<_, Option<String>>(4), row.get(5)) {
        (Some(a), Some(b)) => Some((a, b)),
        _ => None,
    };
    Ok((bbox, time))
}

/// A feature for CSV and GDAL exports: properties as JSON, geometry as WKT, and a point on the
/// surface (lon/lat).
#[derive(Debug)]
pub struct ExportRow {
    pub properties: serde_json::Map<String, serde_json::Value>,
    pub wkt: String,
    pub lon: f64,
    pub lat: f64,
}

/// Every feature of the selection (optionally one page of it) for an export, in EPSG:4326.
pub async fn export_rows(
    client: &Client,
    c: &Collection,
    sel: &Selection,
    limit: Option<i64>,
    offset: i64,
) -> Result<Vec<ExportRow>, StoreError> {
    let mut q = build(c, sel);
    let lim = q.bind(Box::new(limit));
    let off = q.bind(Box::new(offset));
    let g = format!("s.{}", ident(c.geom_column));
    let sql = format!(
        "SELECT {props}::text, ST_AsText({g}, 7), ST_X(p), ST_Y(p) \
         FROM ({src}) s CROSS JOIN LATERAL ST_PointOnSurface({g}) p {where_} \
         ORDER BY s.{id} LIMIT {lim} OFFSET {off}",
        props = properties_json(c),
        src = c.source_sql,
        where_ = q.where_clause(),
        id = ident(c.id_column),
    );
    let rows = client
        .query(&sql, &q.refs())
        .await
        .context("reading features for an export")?;
    rows.into_iter()
        .map(|r| {
            let text: String = r.get(0);
            let properties = match serde_json::from_str(&text) {
                Ok(serde_json::Value::Object(m)) => m,
                _ => serde_json::Map::new(),
            };
            Ok(ExportRow {
                properties,
                wkt: r.get(1),
                lon: r.get(2),
                lat: r.get(3),
            })
        })
        .collect()
}
