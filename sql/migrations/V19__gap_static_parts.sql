-- What the gap analysis computes from shapes alone is computed once and kept (issue 11): each
-- kelurahan's geometry in ESRI:54034, the land part of each hexagon per kelurahan (per hexagon
-- size), and each coverage area clipped to each kelurahan it meets. A run reads these instead of
-- transforming and clipping again; at national size that was most of a run's work
-- (docs/performance-gap.md).
--
-- Each row names the shapes it was computed from by the md5 of their EWKB (`src`, `kel_src`,
-- `cov_src`), which kelurahan and coverage carry as a generated column (`geom_md5`, computed
-- once on write: comparing it costs nothing, computing it on every read cost a run seconds). A run uses a row only when those still match the kelurahan and coverage it reads in
-- its own snapshot, and computes anything else on the spot, so a kept row can be out of date but
-- never wrong: a changed shape is simply not matched until the row is computed again
-- (sql/queries/gap_prepare_*.sql, run before each measurement for the kelurahan it measures).
-- No foreign keys (an import may replace a layer wholesale; a row whose source is gone is never
-- matched anyway): deleting a kelurahan or a coverage area deletes its rows (triggers below), and
-- gap_prepare_gone.sql deletes a kelurahan's pieces of reshaped coverage when it is kept again.
-- None of these tables is a gap input: writing them logs no change.
ALTER TABLE kelurahan ADD COLUMN geom_md5 text GENERATED ALWAYS AS (md5(ST_AsEWKB(geom))) STORED;
ALTER TABLE coverage ADD COLUMN geom_md5 text GENERATED ALWAYS AS (md5(ST_AsEWKB(geom))) STORED;

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
CREATE INDEX gap_coverage_piece_coverage ON gap_coverage_piece (coverage_id);

CREATE FUNCTION sigap_gap_kept_kelurahan_gone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM gap_kelurahan_shape s USING old_rows o WHERE s.code = o.code;
    DELETE FROM gap_kelurahan_land l USING old_rows o WHERE l.code = o.code;
    DELETE FROM gap_coverage_piece p USING old_rows o WHERE p.kelurahan_code = o.code;
    RETURN NULL;
END $$;
CREATE TRIGGER kelurahan_gap_kept_gone AFTER DELETE ON kelurahan
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION sigap_gap_kept_kelurahan_gone();

CREATE FUNCTION sigap_gap_kept_coverage_gone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM gap_coverage_piece p USING old_rows o WHERE p.coverage_id = o.id;
    RETURN NULL;
END $$;
CREATE TRIGGER coverage_gap_kept_gone AFTER DELETE ON coverage
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION sigap_gap_kept_coverage_gone();

-- TRUNCATE of a layer forgets everything kept from it.
CREATE FUNCTION sigap_gap_kept_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'kelurahan' THEN
        TRUNCATE gap_kelurahan_shape, gap_kelurahan_land;
    END IF;
    TRUNCATE gap_coverage_piece;
    RETURN NULL;
END $$;
CREATE TRIGGER kelurahan_gap_kept_truncated AFTER TRUNCATE ON kelurahan
    FOR EACH STATEMENT EXECUTE FUNCTION sigap_gap_kept_truncated();
CREATE TRIGGER coverage_gap_kept_truncated AFTER TRUNCATE ON coverage
    FOR EACH STATEMENT EXECUTE FUNCTION sigap_gap_kept_truncated();

-- The hexagons of edge `cell_m` (ST_HexagonGrid indices, ordered by i then j) with land in `g`
-- (a kelurahan in ESRI:54034), and the area of that land in m²; empty arrays when none. One
-- definition for the keeping (gap_prepare_land.sql) and the run's fallback
-- (gap_kelurahan_chunk.sql), so the two agree bit for bit.
CREATE FUNCTION gap_hexagon_land(cell_m float8, g geometry,
                                 OUT ci int[], OUT cj int[], OUT land_m2 float8[])
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(x.i ORDER BY x.i, x.j), '{}'),
           coalesce(array_agg(x.j ORDER BY x.i, x.j), '{}'),
           coalesce(array_agg(x.land_m2 ORDER BY x.i, x.j), '{}')
    FROM (
        SELECT hx.i, hx.j,
               CASE WHEN ST_Within(hx.geom, g) THEN ST_Area(hx.geom)
                    ELSE ST_Area(ST_Intersection(hx.geom, g)) END AS land_m2
        FROM ST_HexagonGrid(cell_m, g) hx
        WHERE ST_Intersects(hx.geom, g)
        OFFSET 0
    ) x
    WHERE x.land_m2 > 0
$$;

-- Coverage `cov` clipped to kelurahan `kel` (both EPSG:4326; `kel_m` is gap_metric(kel)), in
-- ESRI:54034, polygons only; NULL when they share no area. One definition for the keeping
-- (gap_prepare_pieces.sql) and the run's fallback (gap_kelurahan_chunk.sql).
CREATE FUNCTION gap_coverage_clip(cov geometry, kel geometry, kel_m geometry) RETURNS geometry
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT CASE WHEN NOT ST_IsEmpty(c.g) AND ST_Area(c.g) > 0 THEN c.g END
    FROM (SELECT CASE WHEN ST_Intersects(cov, kel)
                      THEN ST_CollectionExtract(ST_Intersection(gap_metric(cov), kel_m), 3)
                 END AS g) c
$$;
