-- What the gap analysis computes from shapes alone is computed once and kept (issue 11): each
-- kelurahan's geometry in ESRI:54034, the land part of each hexagon per kelurahan (per hexagon
-- size), and each coverage area clipped to each kelurahan it meets. A run reads these instead of
-- transforming and clipping again; at national size that was most of a run's work
-- (docs/performance-gap.md).
--
-- Each row names the shapes it was computed from by the md5 of their EWKB (`src`, `kel_src`,
-- `cov_src`). A run uses a row only when those still match the kelurahan and coverage it reads in
-- its own snapshot, and computes anything else on the spot, so a kept row can be out of date but
-- never wrong: a changed shape is simply not matched until the row is computed again
-- (sql/queries/gap_prepare_*.sql, run before each measurement for the kelurahan it measures).
-- No foreign keys: an import may replace a layer wholesale, and a row whose source is gone is
-- never matched; gap_prepare_pieces.sql deletes a chunk's rows of deleted or changed coverage.
-- None of these tables is a gap input: writing them logs no change.
CREATE TABLE gap_kelurahan_shape (
    code   text PRIMARY KEY,
    src    text NOT NULL,
    -- gap_metric(kelurahan.geom)
    g      geometry NOT NULL
);

CREATE TABLE gap_kelurahan_land (
    code     text NOT NULL,
    cell_m   float8 NOT NULL,
    src      text NOT NULL,
    -- The hexagons (ST_HexagonGrid(cell_m, g) indices, ordered by i then j) with land in the
    -- kelurahan, and the area of that land in m²; empty arrays for a kelurahan with none.
    ci       int[] NOT NULL,
    cj       int[] NOT NULL,
    land_m2  float8[] NOT NULL,
    PRIMARY KEY (code, cell_m)
);

CREATE TABLE gap_coverage_piece (
    kelurahan_code  text NOT NULL,
    coverage_id     bigint NOT NULL,
    kel_src         text NOT NULL,
    cov_src         text NOT NULL,
    -- ST_Intersection(gap_metric(coverage.geom), gap_metric(kelurahan.geom)), polygons only;
    -- NULL when the two share no area (their bounding boxes meet, nothing more).
    g               geometry,
    PRIMARY KEY (kelurahan_code, coverage_id)
);
