//! The HTML face of `/ogc`: small server-rendered pages (every value escaped) so a person in a
//! browser can see the collections and their features, with links to the JSON.

use serde_json::Value;

use crate::store::collections::{Catalog, Collection};

/// Escapes text for HTML element content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(ch),
        }
    }
    out
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"id\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{t} · SIGAP</title><style>\
         body{{font-family:system-ui,sans-serif;margin:1rem;max-width:70rem}}\
         table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}}\
         </style></head><body><h1>{t}</h1>{body}</body></html>",
        t = esc(title),
    )
}

pub fn landing(base: &str, catalog: &Catalog) -> String {
    let b = esc(base);
    let mut body = format!(
        "<p>OGC API – Features · <a href=\"{b}/ogc?f=json\">JSON</a> · \
         <a href=\"{b}/ogc/api\">OpenAPI</a> · <a href=\"{b}/ogc/conformance?f=html\">Conformance</a> · \
         <a href=\"{b}/ogc/collections?f=html\">Koleksi / Collections</a> · \
         <a href=\"{b}{api}\">API JSON SIGAP (OpenAPI)</a></p><ul>",
        api = super::openapi::PATH
    );
    for c in &catalog.collections {
        body.push_str(&format!(
            "<li><a href=\"{b}/ogc/collections/{id}?f=html\">{title}</a></li>",
            id = esc(c.id),
            title = esc(c.title)
        ));
    }
    body.push_str("</ul>");
    page("SIGAP", &body)
}

pub fn list_page(title: &str, base: &str, items: &[&str]) -> String {
    let mut body = format!("<p><a href=\"{}/ogc?f=html\">SIGAP</a></p><ul>", esc(base));
    for i in items {
        body.push_str(&format!("<li>{}</li>", esc(i)));
    }
    body.push_str("</ul>");
    page(title, &body)
}

/// A table of collection documents (as JSON values).
pub fn collections(base: &str, docs: &[Value]) -> String {
    let b = esc(base);
    let mut body = format!(
        "<p><a href=\"{b}/ogc?f=html\">SIGAP</a> · <a href=\"{b}/ogc/collections?f=json\">JSON</a></p>\
         <table><tr><th>id</th><th>Judul / Title</th><th>Keterangan / Description</th><th>Extent</th><th></th></tr>"
    );
    for d in docs {
        let id = d["id"].as_str().unwrap_or("");
        let bbox = d["extent"]["spatial"]["bbox"][0].to_string();
        body.push_str(&format!(
            "<tr><td>{id}</td><td>{title}</td><td>{desc}{attr}</td><td>{bbox}</td>\
             <td><a href=\"{b}/ogc/collections/{id}/items?f=html\">items</a> · \
             <a href=\"{b}/ogc/collections/{id}/items?f=json\">GeoJSON</a> · \
             <a href=\"{b}/ogc/collections/{id}/items?f=csv\">CSV</a></td></tr>",
            id = esc(id),
            title = esc(d["title"].as_str().unwrap_or("")),
            desc = esc(d["description"].as_str().unwrap_or("")),
            attr = d["attribution"]
                .as_str()
                .map(|a| format!("<br><small>Sumber / Source: {}</small>", esc(a)))
                .unwrap_or_default(),
            bbox = esc(&bbox),
        ));
    }
    body.push_str("</table>");
    page("Koleksi / Collections", &body)
}

/// A table of features: one row per feature, one column per published property.
pub fn items(
    c: &Collection,
    features: &[Value],
    matched: i64,
    json_href: &str,
    attribution: Option<&str>,
    suppress_below: u32,
) -> String {
    let mut body = format!(
        "<p>{n} / {matched} · <a href=\"{j}\">GeoJSON</a>{a}</p><table><tr><th>id</th>",
        n = features.len(),
        j = esc(json_href),
        a = attribution
            .map(|a| format!(" · Sumber / Source: {}", esc(a)))
            .unwrap_or_default(),
    );
    for p in c.properties {
        body.push_str(&format!("<th>{}</th>", esc(p.name)));
    }
    body.push_str("</tr>");
    for f in features {
        body.push_str(&format!("<tr><td>{}</td>", esc(&plain(&f["id"]))));
        // A withheld small count reads "< N" for people (docs/privacy.md).
        let suppressed = f["properties"]["households_suppressed"] == Value::Bool(true);
        for p in c.properties {
            let v = &f["properties"][p.name];
            let count = matches!(p.name, "low_income_households" | "low_income_uncovered");
            let shown = if suppressed && v.is_null() && count {
                format!("< {suppress_below}")
            } else {
                plain(v)
            };
            body.push_str(&format!("<td>{}</td>", esc(&shown)));
        }
        body.push_str("</tr>");
    }
    body.push_str("</table>");
    page(c.title, &body)
}

fn plain(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
