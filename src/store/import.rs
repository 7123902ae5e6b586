//! The import staging table: features land in a temporary table, PostGIS checks and repairs
//! them, and one INSERT … SELECT per layer moves the good ones into place — all in one
//! transaction, so a refused import leaves nothing behind.

use indicatif::ProgressBar;
use serde_json::Value;
use tokio_postgres::Client;

use super::quality::{self, LayerQuality, QualityOptions};
use super::sources::{self, Source};
use super::{Context, StoreError};

/// What geometry a layer takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GeomKind {
    /// No geometry: any geometry in the source is ignored.
    None,
    Point,
    Polygon,
    /// A polygon, or a site point with `radius_m` (program coverage).
    PointOrPolygon,
    /// Points or polygons, as they come (population weights).
    PointsOrPolygons,
}

/// A field that must name a row of another table.
#[derive(Debug, Clone, Copy)]
pub struct Reference {
    pub field: &'static str,
    pub table: &'static str,
    pub column: &'static str,
}

/// The database-side rules of a layer.
#[derive(Debug, Clone, Copy)]
pub struct Rules {
    pub layer: &'static str,
    pub geom: GeomKind,
    /// Fields whose values together must be unique within the file.
    pub key: &'static [&'static str],
    pub references: &'static [Reference],
    /// Whether features must touch the loaded region.
    pub in_region: bool,
    /// INSERT … SELECT from `import_staging`; `$1` is NULL for every row, or one feature index.
    /// With a [`LoadOptions::context`], `$2` is that context (jsonb).
    pub insert_sql: &'static str,
    /// Further checks of the staged rows (UPDATEs that set `reject`), run after the built-in
    /// ones; each takes the load's context as `$1` (jsonb). Empty for `sigap import`'s layers.
    pub checks: &'static [&'static str],
}

/// One feature to stage.
#[derive(Debug)]
pub struct StagedRow {
    pub index: i32,
    pub fid: Option<i64>,
    pub wkb: Option<Vec<u8>>,
    pub props: Value,
    pub reject: Option<String>,
}

/// What the reader sends to [`load`]: batches of rows as they are read, then `Done`. A channel
/// that closes without `Done` means the reader failed, and nothing is loaded.
#[derive(Debug)]
pub enum Staged {
    Rows(Vec<StagedRow>),
    Done,
}

/// A feature the outcome names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Noted {
    pub index: i32,
    pub fid: Option<i64>,
    pub reason: String,
}

#[derive(Debug, Default)]
pub struct Loaded {
    pub loaded: usize,
    pub repaired: Vec<Noted>,
    pub rejected: Vec<Noted>,
    pub committed: bool,
    /// For boundary layers: overlaps, holes and parts outside the parent of what was loaded.
    pub quality: Option<LayerQuality>,
    /// The quality findings per loaded feature, one line each.
    pub quality_notes: Vec<Noted>,
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("no region is loaded yet: import the region layer (the kota/kabupaten outline) first")]
    NoRegion,
    /// The reader stopped before the end of the file (its own error says why).
    #[error("the reader stopped before the end of the file")]
    SourceStopped,
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn quote_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

fn quote_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// The SQL that checks geometry presence, type and validity, repairing what ST_MakeValid can.
fn geometry_checks(kind: GeomKind) -> &'static [&'static str] {
    match kind {
        GeomKind::None => &[],
        GeomKind::Point => &[
            "UPDATE import_staging SET reject = 'no geometry' WHERE reject IS NULL AND geom IS NULL",
            "UPDATE import_staging SET geom = ST_GeometryN(geom, 1)
             WHERE reject IS NULL AND GeometryType(geom) = 'MULTIPOINT' AND ST_NumGeometries(geom) = 1",
            "UPDATE import_staging
             SET reject = format('wrong geometry type: %s where a point is expected', GeometryType(geom))
             WHERE reject IS NULL AND GeometryType(geom) <> 'POINT'",
            "UPDATE import_staging SET reject = 'invalid point coordinates (' || ST_IsValidReason(geom) || ')'
             WHERE reject IS NULL AND NOT ST_IsValid(geom)",
        ],
        GeomKind::PointsOrPolygons => &[
            "UPDATE import_staging SET reject = 'no geometry' WHERE reject IS NULL AND geom IS NULL",
            "UPDATE import_staging
             SET reject = format('wrong geometry type: %s where a point or a polygon is expected', GeometryType(geom))
             WHERE reject IS NULL
               AND GeometryType(geom) NOT IN ('POINT', 'MULTIPOINT', 'POLYGON', 'MULTIPOLYGON')",
            "UPDATE import_staging SET reject = 'invalid point coordinates'
             WHERE reject IS NULL AND GeometryType(geom) IN ('POINT', 'MULTIPOINT') AND NOT ST_IsValid(geom)",
            "UPDATE import_staging s
             SET geom = CASE WHEN ST_IsEmpty(r.fixed) THEN s.geom ELSE r.fixed END,
                 note = CASE WHEN ST_IsEmpty(r.fixed) THEN NULL ELSE 'repaired with ST_MakeValid: ' || r.reason END,
                 reject = CASE WHEN ST_IsEmpty(r.fixed)
                     THEN 'invalid geometry (' || r.reason || ') that ST_MakeValid cannot repair into a polygon'
                 END
             FROM (SELECT idx, ST_IsValidReason(geom) AS reason,
                          ST_Multi(ST_CollectionExtract(ST_MakeValid(geom), 3)) AS fixed
                   FROM import_staging
                   WHERE reject IS NULL AND GeometryType(geom) IN ('POLYGON', 'MULTIPOLYGON')
                     AND NOT ST_IsValid(geom)) r
             WHERE s.idx = r.idx",
        ],
        GeomKind::Polygon | GeomKind::PointOrPolygon => &[
            "UPDATE import_staging SET reject = 'no geometry' WHERE reject IS NULL AND geom IS NULL",
            "UPDATE import_staging
             SET reject = format('wrong geometry type: %s where a %s is expected', GeometryType(geom),
                                 CASE WHEN $1 THEN 'polygon or a site point' ELSE 'polygon' END)
             WHERE reject IS NULL
               AND GeometryType(geom) NOT IN ('POLYGON', 'MULTIPOLYGON')
               AND NOT ($1 AND GeometryType(geom) = 'POINT')",
            "UPDATE import_staging
             SET reject = 'a site point needs radius_m (the service radius in metres)'
             WHERE reject IS NULL AND GeometryType(geom) = 'POINT' AND props->>'radius_m' IS NULL",
            "UPDATE import_staging SET reject = 'invalid point coordinates'
             WHERE reject IS NULL AND GeometryType(geom) = 'POINT' AND NOT ST_IsValid(geom)",
            // Repair: keep only the polygonal part of ST_MakeValid's answer.
            "UPDATE import_staging s
             SET geom = CASE WHEN ST_IsEmpty(r.fixed) THEN s.geom ELSE r.fixed END,
                 note = CASE WHEN ST_IsEmpty(r.fixed) THEN NULL ELSE 'repaired with ST_MakeValid: ' || r.reason END,
                 reject = CASE WHEN ST_IsEmpty(r.fixed)
                     THEN 'invalid geometry (' || r.reason || ') that ST_MakeValid cannot repair into a polygon'
                 END
             FROM (SELECT idx, ST_IsValidReason(geom) AS reason,
                          ST_Multi(ST_CollectionExtract(ST_MakeValid(geom), 3)) AS fixed
                   FROM import_staging
                   WHERE reject IS NULL AND GeometryType(geom) <> 'POINT' AND NOT ST_IsValid(geom)) r
             WHERE s.idx = r.idx",
            "UPDATE import_staging SET geom = ST_Multi(geom)
             WHERE reject IS NULL AND GeometryType(geom) = 'POLYGON'",
        ],
    }
}

/// How to load: what `sigap import`'s flags decide.
#[derive(Debug, Clone, Copy)]
pub struct LoadOptions<'a> {
    /// Check and report, then roll back.
    pub dry_run: bool,
    /// Load the good features even when some are rejected.
    pub skip_invalid: bool,
    /// Thresholds of the boundary quality report.
    pub quality: QualityOptions,
    /// The layer's source and licence, recorded when the load commits.
    pub source: Option<&'a Source>,
    /// Who loads and for what (e.g. a partner's upload: the program, the review state, the
    /// actor), bound as `$1` of [`Rules::checks`] and `$2` of the insert. `None` for the CLI.
    pub context: Option<&'a Value>,
}

/// Stages the features as they arrive from `rows`, checks them and (unless refused) loads them.
/// Holds at most one batch at a time: the memory of an import does not grow with the file.
pub async fn load(
    client: &mut Client,
    rules: &Rules,
    mut rows: tokio::sync::mpsc::Receiver<Staged>,
    opts: LoadOptions<'_>,
    progress: &ProgressBar,
) -> Result<Loaded, LoadError> {
    let LoadOptions {
        dry_run,
        skip_invalid,
        quality: quality_opts,
        source,
        context,
    } = opts;
    let tx = client
        .transaction()
        .await
        .context("starting the import transaction")?;
    tx.batch_execute(
        "CREATE TEMP TABLE import_staging (
             idx integer PRIMARY KEY, fid bigint, geom geometry, props jsonb NOT NULL,
             reject text, note text
         ) ON COMMIT DROP",
    )
    .await
    .context("creating the staging table")?;

    if rules.in_region && rules.geom != GeomKind::None {
        let has_region: bool = tx
            .query_one("SELECT EXISTS (SELECT 1 FROM region)", &[])
            .await
            .context("looking for the region")?
            .get(0);
        if !has_region {
            return Err(LoadError::NoRegion);
        }
    }

    let insert = tx
        .prepare(
            "INSERT INTO import_staging (idx, fid, geom, props, reject)
             SELECT i, f, ST_SetSRID(ST_GeomFromWKB(w), 4326), p, r
             FROM unnest($1::int[], $2::int8[], $3::bytea[], $4::jsonb[], $5::text[]) AS t(i, f, w, p, r)",
        )
        .await
        .context("preparing the staging insert")?;
    // The reader advances the progress bar as it reads; staging follows a batch or two behind.
    loop {
        let chunk = match rows.recv().await {
            Some(Staged::Rows(chunk)) => chunk,
            Some(Staged::Done) => break,
            None => return Err(LoadError::SourceStopped),
        };
        let (mut idx, mut fid, mut wkb, mut props, mut reject) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for r in chunk {
            idx.push(r.index);
            fid.push(r.fid);
            wkb.push(r.wkb);
            props.push(r.props);
            reject.push(r.reject);
        }
        tx.execute(&insert, &[&idx, &fid, &wkb, &props, &reject])
            .await
            .context("staging features")?;
    }

    progress.set_message("checking");
    let is_coverage = rules.geom == GeomKind::PointOrPolygon;
    for sql in geometry_checks(rules.geom) {
        if sql.contains("$1") {
            tx.execute(*sql, &[&is_coverage]).await
        } else {
            tx.execute(*sql, &[]).await
        }
        .context("checking geometries")?;
    }

    if rules.in_region && rules.geom != GeomKind::None {
        // The region's outlines cut into pieces of at most 256 vertices, indexed: a country's
        // 514 kabupaten outlines hold millions of vertices, and testing each feature against
        // whole outlines (which PostGIS re-prepares as the candidates alternate) ran for minutes
        // at national size. A feature meets the region exactly when it meets one of the pieces.
        tx.batch_execute(
            "CREATE TEMP TABLE import_region_parts ON COMMIT DROP AS
                 SELECT ST_Subdivide(geom, 256) AS geom FROM region;
             CREATE INDEX ON import_region_parts USING gist (geom);
             ANALYZE import_region_parts",
        )
        .await
        .context("cutting the region's outline into pieces")?;
        tx.execute(
            // A region outline is often coarser than its kelurahan (Bandung's differs by
            // 4-5 km² each way), so touching any loaded kelurahan counts as inside too.
            "UPDATE import_staging s
             SET reject = 'outside the region (' ||
                 (SELECT string_agg(r.name || ' ' || r.code, ', ' ORDER BY r.code) FROM region r) || ')'
             WHERE s.reject IS NULL AND s.geom IS NOT NULL
               AND NOT EXISTS (SELECT 1 FROM import_region_parts r WHERE ST_Intersects(r.geom, s.geom))
               AND NOT EXISTS (SELECT 1 FROM kelurahan k WHERE ST_Intersects(k.geom, s.geom))",
            &[],
        )
        .await
        .context("checking features against the region")?;
    }

    if !rules.key.is_empty() {
        // Field names come from the static layer rules, never from input; quoted all the same.
        let key_expr = format!(
            "concat_ws(' / ', {})",
            rules
                .key
                .iter()
                .map(|k| format!("props->>{}", quote_literal(k)))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let label = quote_literal(&rules.key.join(" + "));
        let sql = format!(
            "UPDATE import_staging s
             SET reject = coalesce(s.reject || '; ', '') ||
                 format('duplicate %s %s: feature %s has it already', {label}, d.key, d.first_idx)
             FROM (SELECT idx, key,
                          first_value(idx) OVER (PARTITION BY key ORDER BY idx) AS first_idx,
                          row_number() OVER (PARTITION BY key ORDER BY idx) AS rn
                   FROM (SELECT idx, {key_expr} AS key FROM import_staging) k
                   WHERE key <> '') d
             WHERE s.idx = d.idx AND d.rn > 1"
        );
        tx.execute(&sql, &[])
            .await
            .context("checking for duplicate codes")?;
    }

    for r in rules.references {
        let sql = format!(
            "UPDATE import_staging s
             SET reject = format('unknown %s %s: load that layer first', {field_lit}, s.props->>{field_lit})
             WHERE s.reject IS NULL AND s.props ? {field_lit}
               AND NOT EXISTS (SELECT 1 FROM {table} t WHERE t.{column} = s.props->>{field_lit})",
            field_lit = quote_literal(r.field),
            table = quote_ident(r.table),
            column = quote_ident(r.column),
        );
        tx.execute(&sql, &[]).await.context("checking references")?;
    }

    if let Some(ctx) = context {
        for sql in rules.checks {
            if sql.contains("$1") {
                tx.execute(*sql, &[ctx]).await
            } else {
                tx.execute(*sql, &[]).await
            }
            .context("running the layer's own checks")?;
        }
    }

    progress.set_message("loading");
    let insert_one = tx
        .prepare(rules.insert_sql)
        .await
        .context("preparing the layer insert")?;
    let none: Option<i32> = None;
    tx.batch_execute("SAVEPOINT bulk")
        .await
        .context("setting a savepoint")?;
    let run_insert = |idx: Option<i32>| {
        let tx = &tx;
        let insert_one = &insert_one;
        async move {
            match context {
                Some(ctx) => tx.execute(insert_one, &[&idx, ctx]).await,
                None => tx.execute(insert_one, &[&idx]).await,
            }
        }
    };
    if run_insert(none).await.is_err() {
        // A constraint the checks above did not foresee: find the culprits one by one so the
        // report names them instead of failing the whole file.
        tx.batch_execute("ROLLBACK TO SAVEPOINT bulk")
            .await
            .context("rolling back the bulk insert")?;
        let pending: Vec<i32> = tx
            .query(
                "SELECT idx FROM import_staging WHERE reject IS NULL ORDER BY idx",
                &[],
            )
            .await
            .context("listing staged features")?
            .iter()
            .map(|r| r.get(0))
            .collect();
        for idx in pending {
            tx.batch_execute("SAVEPOINT one")
                .await
                .context("setting a savepoint")?;
            if let Err(e) = run_insert(Some(idx)).await {
                tx.batch_execute("ROLLBACK TO SAVEPOINT one")
                    .await
                    .context("rolling back one feature")?;
                let reason = e
                    .as_db_error()
                    .map(|d| format!("refused by the database: {}", d.message()))
                    .unwrap_or_else(|| format!("refused by the database: {e}"));
                tx.execute(
                    "UPDATE import_staging SET reject = $2 WHERE idx = $1",
                    &[&idx, &reason],
                )
                .await
                .context("recording a refused feature")?;
            }
        }
    }

    // Boundary layers: what is wrong with them, on the rows as they now stand in the table
    // (inside this transaction, so a dry run reports the same).
    let mut quality = None;
    let mut quality_notes = Vec::new();
    if let Some(layer) = quality::boundary_layer(rules.layer) {
        progress.set_message("quality");
        let staged: Vec<(String, i32, Option<i64>)> = tx
            .query(
                "SELECT props->>'code', idx, fid FROM import_staging
                 WHERE reject IS NULL AND props->>'code' IS NOT NULL ORDER BY idx",
                &[],
            )
            .await
            .context("listing loaded boundaries")?
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect();
        if !staged.is_empty() {
            let codes: Vec<String> = staged.iter().map(|s| s.0.clone()).collect();
            let report = quality::check(&tx, layer, Some(&codes), quality_opts).await?;
            let mut notes = report.notes_by_code();
            for (code, index, fid) in &staged {
                for reason in notes.remove(code.as_str()).unwrap_or_default() {
                    quality_notes.push(Noted {
                        index: *index,
                        fid: *fid,
                        reason: format!("{code}: {reason}"),
                    });
                }
            }
            quality = Some(report);
        }
    }

    let noted = |rows: Vec<tokio_postgres::Row>| -> Vec<Noted> {
        rows.iter()
            .map(|r| Noted {
                index: r.get(0),
                fid: r.get(1),
                reason: r.get(2),
            })
            .collect()
    };
    let rejected = noted(
        tx.query(
            "SELECT idx, fid, reject FROM import_staging WHERE reject IS NOT NULL ORDER BY idx",
            &[],
        )
        .await
        .context("reading rejections")?,
    );
    let repaired = noted(
        tx.query(
            "SELECT idx, fid, note FROM import_staging WHERE reject IS NULL AND note IS NOT NULL ORDER BY idx",
            &[],
        )
        .await
        .context("reading repairs")?,
    );
    let good: i64 = tx
        .query_one(
            "SELECT count(*) FROM import_staging WHERE reject IS NULL",
            &[],
        )
        .await
        .context("counting good features")?
        .get(0);
    let good = good as usize;
    progress.finish_and_clear();

    let refused = !rejected.is_empty() && !skip_invalid;
    if dry_run || refused {
        tx.rollback().await.context("rolling back the import")?;
        return Ok(Loaded {
            loaded: if refused { 0 } else { good },
            repaired,
            rejected,
            committed: false,
            quality,
            quality_notes,
        });
    }
    if let Some(source) = source {
        sources::upsert(&tx, rules.layer, source).await?;
    }
    tx.commit().await.context("committing the import")?;
    Ok(Loaded {
        loaded: good,
        repaired,
        rejected,
        committed: true,
        quality,
        quality_notes,
    })
}
