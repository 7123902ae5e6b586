//! Where each imported layer's data comes from and its licence (`layer_source`): set at import,
//! read wherever the data is served or exported, so attribution travels with the data.

use serde::Serialize;
use tokio_postgres::GenericClient;

use super::{Context, StoreError};

/// The source of a layer's data: who to credit and under which licence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Source {
    pub attribution: String,
    pub license: String,
    pub license_url: Option<String>,
}

impl Source {
    /// `attribution (licence)`, as one line of text.
    pub fn line(&self) -> String {
        format!("{} ({})", self.attribution, self.license)
    }
}

/// The attribution lines of several sources, joined for one text field; None when there are none.
pub fn joined(sources: &[Source]) -> Option<String> {
    (!sources.is_empty()).then(|| {
        sources
            .iter()
            .map(Source::line)
            .collect::<Vec<_>>()
            .join("; ")
    })
}

/// Records (or replaces) the source of `layer`.
pub async fn upsert(
    client: &impl GenericClient,
    layer: &str,
    source: &Source,
) -> Result<(), StoreError> {
    client
        .execute(
            "INSERT INTO layer_source (layer, attribution, license, license_url)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (layer) DO UPDATE
             SET attribution = EXCLUDED.attribution, license = EXCLUDED.license,
                 license_url = EXCLUDED.license_url, updated_at = now()",
            &[
                &layer,
                &source.attribution,
                &source.license,
                &source.license_url,
            ],
        )
        .await
        .context("recording the layer's source")?;
    Ok(())
}

/// The distinct sources of these layers, in the order of `layers`.
pub async fn for_layers(
    client: &impl GenericClient,
    layers: &[&str],
) -> Result<Vec<Source>, StoreError> {
    if layers.is_empty() {
        return Ok(Vec::new());
    }
    let names: Vec<String> = layers.iter().map(|l| (*l).to_owned()).collect();
    let rows = client
        .query(
            "SELECT attribution, license, license_url
             FROM layer_source s JOIN unnest($1::text[]) WITH ORDINALITY AS l(layer, n) USING (layer)
             ORDER BY n",
            &[&names],
        )
        .await
        .context("reading layer sources")?;
    let mut out: Vec<Source> = Vec::new();
    for r in rows {
        let s = Source {
            attribution: r.get(0),
            license: r.get(1),
            license_url: r.get(2),
        };
        if !out.contains(&s) {
            out.push(s);
        }
    }
    Ok(out)
}
