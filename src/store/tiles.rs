//! Vector tile SQL: one ST_AsMVT query per layer and one for the combined tileset, built once
//! from the collection registry with escaped identifiers; z/x/y are the bind parameters `$1..$3`
//! of a prepared, cached statement. A tile request that is dropped (client gone) cancels its
//! query on the server.

use deadpool_postgres::Pool;

use super::collections::{ident, literal, Catalog, Collection, GeomKind, PropType};
use super::{CancelGuard, Context, StoreError};
use crate::domain::tile::{TileCoord, BUFFER, EXTENT};

/// Below this zoom, polygons are simplified to one tile pixel before quantisation, so low zooms
/// stay small; from it on, ST_AsMVTGeom's own snapping to the 4096 grid is enough.
const SIMPLIFY_BELOW_ZOOM: u8 = 14;

/// Web Mercator world width in metres (2 π 6378137).
const WORLD_M: f64 = 40_075_016.685_578_49;

/// The SELECT producing one layer's MVT bytes for tile `$1/$2/$3`.
pub fn layer_sql(c: &Collection) -> String {
    let geom = format!("s.{}", ident(c.geom_column));
    let mercator = format!("ST_Transform({geom}, 3857)");
    let shaped = match c.geom_kind {
        GeomKind::Point => mercator,
        // One pixel of the tile at zoom $1; keep collapsed rings so small villages stay visible.
        GeomKind::Polygon => format!(
            "CASE WHEN $1 < {SIMPLIFY_BELOW_ZOOM} \
             THEN ST_Simplify({mercator}, {WORLD_M} / ({EXTENT} * power(2, $1)), true) \
             ELSE {mercator} END"
        ),
    };
    let props: Vec<String> = c
        .properties
        .iter()
        .map(|p| match p.ty {
            // ST_AsMVT knows text, numbers and booleans; dates travel as ISO text.
            PropType::Date | PropType::Timestamp => {
                format!("s.{}::text AS {}", ident(p.name), ident(p.name))
            }
            _ => format!("s.{}", ident(p.name)),
        })
        .collect();
    format!(
        "SELECT ST_AsMVT(t, {name}, {EXTENT}, 'geom', 'tile_id') FROM (\
           SELECT s.tile_id, {props}, \
                  ST_AsMVTGeom({shaped}, ST_TileEnvelope($1, $2, $3), {EXTENT}, {BUFFER}, true) AS geom \
           FROM ({src}) s \
           WHERE {geom} && ST_Transform(ST_TileEnvelope($1, $2, $3, margin => {margin}), 4326)\
         ) t WHERE t.geom IS NOT NULL",
        name = literal(c.id),
        props = props.join(", "),
        src = c.source_sql,
        margin = f64::from(BUFFER) / f64::from(EXTENT),
    )
}

/// The combined tileset's SELECT: every layer's MVT concatenated (MVT layers concatenate).
pub fn combined_sql(catalog: &Catalog) -> String {
    let parts: Vec<String> = catalog
        .collections
        .iter()
        .filter(|c| c.in_combined_tiles)
        .map(|c| format!("coalesce(({}), ''::bytea)", layer_sql(c)))
        .collect();
    format!("SELECT {}", parts.join(" || "))
}

/// Runs a tile SELECT (`sql` from [`layer_sql`] or [`combined_sql`]) for `tile`. Empty tiles come
/// back as empty bytes.
pub async fn render(pool: &Pool, sql: &str, tile: TileCoord) -> Result<Vec<u8>, StoreError> {
    render_on(pool.get().await?, sql, tile).await
}

/// [`render`] on a connection already checked out (from the primary or a read replica).
pub async fn render_on(
    client: deadpool_postgres::Object,
    sql: &str,
    tile: TileCoord,
) -> Result<Vec<u8>, StoreError> {
    let guard = CancelGuard::new(client);
    let client = guard.client()?;
    let stmt = client
        .prepare_cached(sql)
        .await
        .context("preparing a tile query")?;
    let (z, x, y) = (i32::from(tile.z), tile.x as i32, tile.y as i32);
    let row = client
        .query_one(&stmt, &[&z, &x, &y])
        .await
        .context("rendering a tile")?;
    let bytes: Option<Vec<u8>> = row.get(0);
    guard.finish();
    Ok(bytes.unwrap_or_default())
}

/// The tile SQL of every layer and of the combined tileset, built once at start-up.
#[derive(Debug)]
pub struct TileQueries {
    /// Indexed like the catalog's collections.
    pub layers: Vec<String>,
    pub combined: String,
}

impl TileQueries {
    pub fn new(catalog: &Catalog) -> Self {
        Self {
            layers: catalog.collections.iter().map(|c| layer_sql(c)).collect(),
            combined: combined_sql(catalog),
        }
    }
}
