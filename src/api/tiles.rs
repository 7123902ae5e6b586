//! Vector tiles: `/tiles/{collection}/{z}/{x}/{y}.mvt`, the combined `/tiles/sigap/...`, their
//! TileJSON 3.0.0 documents, and the same tiles under the OGC API Tiles path. Cached tiles carry
//! an ETag (If-None-Match answers 304) and `X-Cache: hit|miss`.

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use bytes::Bytes;
use serde_json::{json, Value};

use super::ogc::base_url;
use crate::domain::tile::{TileCoord, MAX_ZOOM};
use crate::error::{ApiError, ApiResult, Msg};
use crate::store::collections::Collection;
use crate::store::features;
use crate::store::read_routing;
use crate::store::tile_cache::{CachedTile, TileKey, COMBINED};
use crate::store::tiles;
use crate::AppState;

/// The id of the combined tileset.
pub const COMBINED_ID: &str = "sigap";

/// Clients revalidate every time (cheap with the ETag), so they never show a stale tile.
const CACHE_CONTROL: &str = "public, max-age=0, must-revalidate";
const MVT_TYPE: &str = "application/vnd.mapbox-vector-tile";

pub fn router() -> Router<AppState> {
    Router::new()
        // One catch-all (the router cannot hold both `/tiles/{tileset}` and a 404 catch-all):
        // `{tileset}.json` or `{tileset}/{z}/{x}/{y}.mvt`, anything else 404.
        .route("/tiles/{*path}", get(tiles_path))
        .route(
            "/ogc/collections/{id}/tiles/WebMercatorQuad/{z}/{y}/{x}",
            get(ogc_tile),
        )
}

fn unknown_tileset(id: &str) -> ApiError {
    ApiError::not_found(Msg::new(
        format!("Tidak ada lapisan tile bernama '{id}'."),
        format!("There is no tile layer named '{id}'."),
    ))
}

fn bad_tile() -> ApiError {
    ApiError::bad_request(Msg::new(
        format!("Koordinat tile tidak valid: z harus 0–{MAX_ZOOM}, x dan y 0 sampai 2^z − 1."),
        format!("Invalid tile address: z must be 0–{MAX_ZOOM}, x and y from 0 to 2^z − 1."),
    ))
}

/// Parses `z`, `x`, `y` (with an optional `.mvt`/`.pbf` suffix on the last) and checks ranges.
fn parse_tile(z: &str, x: &str, y: &str) -> ApiResult<TileCoord> {
    let y = y
        .strip_suffix(".mvt")
        .or_else(|| y.strip_suffix(".pbf"))
        .unwrap_or(y);
    let num = |s: &str| {
        (!s.is_empty() && s.len() <= 8 && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<u32>().ok())
            .flatten()
    };
    match (num(z), num(x), num(y)) {
        (Some(z), Some(x), Some(y)) => TileCoord::new(z, x, y).ok_or_else(bad_tile),
        _ => Err(bad_tile()),
    }
}

async fn tiles_path(
    State(state): State<AppState>,
    Path(path): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let parts: Vec<&str> = path.split('/').collect();
    match parts.as_slice() {
        [file] => tilejson(&state, file, &headers)
            .await
            .map(IntoResponse::into_response),
        [tileset, z, x, y] => {
            let layer = layer_key(&state, tileset)?;
            let coord = parse_tile(z, x, y)?;
            serve_tile(&state, layer, coord, &headers).await
        }
        _ => Err(crate::error::not_found_fallback().await),
    }
}

async fn ogc_tile(
    State(state): State<AppState>,
    Path((id, z, y, x)): Path<(String, String, String, String)>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let layer = layer_key(&state, &id)?;
    let coord = parse_tile(&z, &x, &y)?;
    serve_tile(&state, layer, coord, &headers).await
}

fn layer_key(state: &AppState, id: &str) -> ApiResult<u16> {
    if id == COMBINED_ID {
        return Ok(COMBINED);
    }
    state
        .catalog
        .index(id)
        .and_then(|i| u16::try_from(i).ok())
        .ok_or_else(|| unknown_tileset(id))
}

async fn serve_tile(
    state: &AppState,
    layer: u16,
    coord: TileCoord,
    headers: &HeaderMap,
) -> ApiResult<Response> {
    let key = TileKey { layer, tile: coord };
    let generation = state.tiles.begin().await;
    // A client that has just written skips the cache: this process may not have heard of its
    // change yet. It still renders on a server that has replayed it, and may fill the cache.
    let after = read_routing::read_after();
    if generation.is_some() && after == 0 {
        if let Some(hit) = state.tiles.get(&key).await {
            return Ok(tile_response(&hit, headers, "hit"));
        }
    }
    let sql = if layer == COMBINED {
        &state.tile_sql.combined
    } else {
        &state.tile_sql.layers[usize::from(layer)]
    };
    // Only a server that has replayed every change this process heard of for this tile (and
    // the client's own write) may render it: a lagging replica would bring back the old tile.
    let wait = if after > 0 {
        read_routing::CATCH_UP_WAIT
    } else {
        std::time::Duration::ZERO
    };
    let (client, _source) = state
        .reads
        .conn(state.tiles.fence(&key).max(after), wait)
        .await?;
    let bytes = tiles::render_on(client, sql, coord).await?;
    let tile = CachedTile {
        etag: super::etag::of(&bytes).into(),
        bytes: Bytes::from(bytes),
    };
    if let Some(generation) = generation {
        state.tiles.insert(key, tile.clone(), generation).await;
    }
    Ok(tile_response(&tile, headers, "miss"))
}

fn tile_response(tile: &CachedTile, headers: &HeaderMap, cache: &'static str) -> Response {
    let matches = super::etag::request_hits(headers, &tile.etag);
    let mut res = if matches {
        StatusCode::NOT_MODIFIED.into_response()
    } else if tile.bytes.is_empty() {
        StatusCode::NO_CONTENT.into_response()
    } else {
        let mut r = tile.bytes.clone().into_response();
        r.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(MVT_TYPE));
        r
    };
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&tile.etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(CACHE_CONTROL),
    );
    h.insert("x-cache", HeaderValue::from_static(cache));
    res
}

/// TileJSON field types of a collection's properties.
fn fields(c: &Collection) -> Value {
    let map: serde_json::Map<String, Value> = c
        .properties
        .iter()
        .map(|p| {
            let ty = match p.ty.json_type() {
                "integer" | "number" => "Number",
                "boolean" => "Boolean",
                _ => "String",
            };
            (p.name.to_owned(), Value::from(ty))
        })
        .collect();
    Value::Object(map)
}

fn vector_layer(c: &Collection) -> Value {
    json!({
        "id": c.id,
        "description": c.description,
        "fields": fields(c),
        "minzoom": 0,
        "maxzoom": MAX_ZOOM,
    })
}

async fn tilejson(state: &AppState, file: &str, headers: &HeaderMap) -> ApiResult<Json<Value>> {
    let Some(id) = file.strip_suffix(".json") else {
        return Err(unknown_tileset(file));
    };
    let layers: Vec<&Collection> = if id == COMBINED_ID {
        state
            .catalog
            .collections
            .iter()
            .filter(|c| c.in_combined_tiles)
            .map(|c| c.as_ref())
            .collect()
    } else {
        vec![state
            .catalog
            .get(id)
            .map(|c| c.as_ref())
            .ok_or_else(|| unknown_tileset(id))?]
    };
    let client = state
        .pool
        .get()
        .await
        .map_err(crate::store::StoreError::from)?;
    let mut bounds: Option<[f64; 4]> = None;
    for c in &layers {
        if let (Some(b), _) = features::extent(&client, c).await? {
            bounds = Some(match bounds {
                None => b,
                Some(a) => [
                    a[0].min(b[0]),
                    a[1].min(b[1]),
                    a[2].max(b[2]),
                    a[3].max(b[3]),
                ],
            });
        }
    }
    let bounds = bounds.unwrap_or([-180.0, -85.051_128_78, 180.0, 85.051_128_78]);
    let base = base_url(state, headers);
    // The map shows a vector source's TileJSON attribution in its attribution control.
    let source_layers: Vec<&str> = layers
        .iter()
        .flat_map(|c| c.sources.iter().copied())
        .collect();
    // `for_layers` answers each distinct source once.
    let sources = crate::store::sources::for_layers(&**client, &source_layers).await?;
    let attribution = crate::store::sources::joined(&sources).unwrap_or_default();
    Ok(Json(json!({
        "attribution": attribution,
        "tilejson": "3.0.0",
        "name": id,
        "scheme": "xyz",
        "tiles": [format!("{base}/tiles/{id}/{{z}}/{{x}}/{{y}}.mvt")],
        "minzoom": 0,
        "maxzoom": MAX_ZOOM,
        "bounds": bounds,
        "center": [(bounds[0] + bounds[2]) / 2.0, (bounds[1] + bounds[3]) / 2.0, 12],
        "vector_layers": layers.iter().map(|c| vector_layer(c)).collect::<Vec<_>>(),
    })))
}
