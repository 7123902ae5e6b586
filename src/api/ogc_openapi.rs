//! The OpenAPI 3.0 document of `/ogc` (served at `/ogc/api`): every path, parameter, response
//! and error, generated from the collection registry so a new collection documents itself.

use serde_json::{json, Value};

use super::ogc::{DEFAULT_LIMIT, MAX_LIMIT};
use crate::domain::crs::SUPPORTED;
use crate::store::collections::{Catalog, Collection, FilterKind};

fn problem() -> Value {
    json!({ "description": "Problem details (RFC 9457)",
            "content": { "application/problem+json": { "schema": { "$ref": "#/components/schemas/Problem" } } } })
}

fn f_param(values: &[&str]) -> Value {
    json!({ "name": "f", "in": "query", "required": false, "style": "form", "explode": false,
            "description": "Output format (else chosen by Accept).",
            "schema": { "type": "string", "enum": values } })
}

fn crs_param(name: &str) -> Value {
    json!({ "name": name, "in": "query", "required": false, "style": "form", "explode": false,
            "schema": { "type": "string", "format": "uri",
                        "enum": SUPPORTED.iter().map(|c| c.uri).collect::<Vec<_>>(),
                        "default": SUPPORTED[0].uri } })
}

fn simple_get(summary: &str, op: &str, content: &str) -> Value {
    json!({ "get": { "summary": summary, "operationId": op,
        "parameters": [f_param(&["json", "html"])],
        "responses": {
            "200": { "description": summary, "content": { content: { "schema": { "type": "object" } },
                                                           "text/html": { "schema": { "type": "string" } } } },
            "400": problem(), "500": problem() } } })
}

fn filter_param(f: &crate::store::collections::Filter) -> Value {
    let schema = match f.kind {
        FilterKind::Vocab(ids) => json!({ "type": "string", "enum": ids }),
        FilterKind::AreaCode => {
            json!({ "type": "string", "pattern": "^[0-9]{2}\\.[0-9]{2}(\\.[0-9]{2}(\\.[0-9]{4})?)?$" })
        }
        FilterKind::Slug => json!({ "type": "string", "pattern": "^[a-z0-9][a-z0-9_-]{0,63}$" }),
    };
    json!({ "name": f.name, "in": "query", "required": false, "style": "form", "explode": false,
            "description": format!("Only features whose {} equals this value.", f.name),
            "schema": schema })
}

fn properties_schema(c: &Collection) -> Value {
    let props: serde_json::Map<String, Value> = c
        .properties
        .iter()
        .map(|p| {
            (
                p.name.to_owned(),
                json!({ "type": p.ty.json_type(), "nullable": true }),
            )
        })
        .collect();
    json!({ "type": "object", "properties": props })
}

fn items_path(c: &Collection) -> Value {
    let mut params = vec![
        json!({ "name": "bbox", "in": "query", "required": false, "style": "form", "explode": false,
                "description": "minx,miny,maxx,maxy (or 6 numbers with heights) in bbox-crs; EPSG:4326 is lat,lon.",
                "schema": { "type": "array", "minItems": 4, "maxItems": 6, "items": { "type": "number" } } }),
        crs_param("bbox-crs"),
        json!({ "name": "datetime", "in": "query", "required": false, "style": "form", "explode": false,
                "description": match c.temporal { Some(t) => format!("Instant or interval (`..` open) on {}{}.", t.start, t.end.map(|e| format!("–{e}")).unwrap_or_default()), None => "Accepted; this collection has no temporal property.".to_owned() },
                "schema": { "type": "string" } }),
        json!({ "name": "limit", "in": "query", "required": false, "style": "form", "explode": false,
                "schema": { "type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT } }),
        json!({ "name": "offset", "in": "query", "required": false, "style": "form", "explode": false,
                "schema": { "type": "integer", "minimum": 0, "default": 0 } }),
        crs_param("crs"),
        json!({ "name": "skipGeometry", "in": "query", "required": false, "style": "form", "explode": false,
                "description": "true: every feature with \"geometry\": null (GeoJSON only; not in OGC API Features Part 1, as in pg_featureserv and tipg).",
                "schema": { "type": "boolean", "default": false } }),
        f_param(&["json", "html", "csv", "gpkg", "shp"]),
    ];
    params.extend(c.filters.iter().map(filter_param));
    json!({ "get": {
        "summary": format!("Features of {}", c.id),
        "operationId": format!("getItems_{}", c.id),
        "parameters": params,
        "responses": {
            "200": { "description": "A page of features (FeatureCollection), or an export.",
                     "headers": { "Content-Crs": { "schema": { "type": "string" } } },
                     "content": {
                        "application/geo+json": { "schema": { "$ref": format!("#/components/schemas/FeatureCollection_{}", c.id) } },
                        "text/html": { "schema": { "type": "string" } },
                        "text/csv": { "schema": { "type": "string" } },
                        "application/geopackage+sqlite3": { "schema": { "type": "string", "format": "binary" } },
                        "application/zip": { "schema": { "type": "string", "format": "binary" } } } },
            "400": problem(), "404": problem(), "500": problem(), "503": problem() } } })
}

fn item_path(c: &Collection) -> Value {
    json!({ "get": {
        "summary": format!("One feature of {}", c.id),
        "operationId": format!("getItem_{}", c.id),
        "parameters": [
            { "name": "featureId", "in": "path", "required": true,
              "schema": { "type": if c.id_is_integer { "integer" } else { "string" } } },
            crs_param("crs"), f_param(&["json", "html"]) ],
        "responses": {
            "200": { "description": "The feature", "headers": { "Content-Crs": { "schema": { "type": "string" } } },
                     "content": { "application/geo+json": { "schema": { "$ref": format!("#/components/schemas/Feature_{}", c.id) } },
                                  "text/html": { "schema": { "type": "string" } } } },
            "400": problem(), "404": problem(), "500": problem() } } })
}

/// The whole document, with absolute server URL `base`.
pub fn document(base: &str, catalog: &Catalog) -> Value {
    let mut paths = serde_json::Map::new();
    paths.insert(
        "/".into(),
        simple_get("Landing page", "getLandingPage", "application/json"),
    );
    paths.insert(
        "/conformance".into(),
        simple_get("Conformance classes", "getConformance", "application/json"),
    );
    paths.insert("/api".into(), json!({ "get": { "summary": "This document", "operationId": "getApi",
        "responses": { "200": { "description": "OpenAPI 3.0", "content": { "application/vnd.oai.openapi+json;version=3.0": { "schema": { "type": "object" } } } } } } }));
    paths.insert(
        "/collections".into(),
        simple_get("Collections", "getCollections", "application/json"),
    );
    let mut schemas = serde_json::Map::new();
    schemas.insert("Problem".into(), json!({ "type": "object", "properties": {
        "type": { "type": "string" }, "title": { "type": "string" }, "status": { "type": "integer" },
        "detail": { "type": "string" } } }));
    for c in &catalog.collections {
        let mut coll = simple_get(
            &format!("Collection {}", c.id),
            &format!("describeCollection_{}", c.id),
            "application/json",
        );
        coll["get"]["responses"]["404"] = problem();
        paths.insert(format!("/collections/{}", c.id), coll);
        paths.insert(format!("/collections/{}/items", c.id), items_path(c));
        paths.insert(
            format!("/collections/{}/items/{{featureId}}", c.id),
            item_path(c),
        );
        schemas.insert(
            format!("Feature_{}", c.id),
            json!({ "type": "object", "required": ["type", "geometry", "properties"],
            "properties": { "type": { "type": "string", "enum": ["Feature"] },
                            "id": { "type": if c.id_is_integer { "integer" } else { "string" } },
                            "geometry": { "type": "object" },
                            "properties": properties_schema(c) } }),
        );
        schemas.insert(format!("FeatureCollection_{}", c.id), json!({ "type": "object", "required": ["type", "features"],
            "properties": { "type": { "type": "string", "enum": ["FeatureCollection"] },
                            "features": { "type": "array", "items": { "$ref": format!("#/components/schemas/Feature_{}", c.id) } },
                            "numberMatched": { "type": "integer", "minimum": 0 },
                            "numberReturned": { "type": "integer", "minimum": 0 },
                            "links": { "type": "array", "items": { "type": "object" } } } }));
    }
    json!({
        "openapi": "3.0.3",
        "info": { "title": "SIGAP OGC API – Features", "version": env!("CARGO_PKG_VERSION"),
                  "description": "Boundaries, indicators, program coverage and published community proposals of Kota Bandung.",
                  "license": { "name": "Apache-2.0" } },
        "servers": [{ "url": format!("{base}/ogc") }],
        "paths": paths,
        "components": { "schemas": schemas },
    })
}
