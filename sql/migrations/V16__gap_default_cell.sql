-- The hexagon size of the default (public, live) gap analysis is the deployment's, not a constant.
--
-- 500 m hexagons suit a city: Bandung's 167 km² are about 300 cells. Indonesia's 1.9 million km²
-- would be 2.9 million cells, and measuring and saving them took 3.5 times the national run's
-- 60 s budget while no national user reads a 500 m cell (docs/performance-gap.md). So the default
-- size follows the region: the smallest of 500 m, 1 km, 2 km, 5 km, 10 km and 20 km at which the
-- kelurahan layer holds at most 400 000 cells. Bandung keeps 500 m, a province like Jawa Barat
-- too, the country gets 2 km. A deployment can fix its own size instead (`sigap gap cell-size`).
-- Dated or filtered runs choose any size, as before.
CREATE TABLE gap_setting (
    only_row  boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    -- NULL: chosen from the region (gap_auto_cell_m).
    cell_m    float8 CHECK (cell_m BETWEEN 50 AND 50000)
);
INSERT INTO gap_setting DEFAULT VALUES;

-- Changing the size changes every cell of the live run: log it as a change of everything.
CREATE TRIGGER gap_setting_gap_input AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON gap_setting
    FOR EACH STATEMENT EXECUTE FUNCTION sigap_gap_input_changed();

-- The smallest size of the ladder at which an area of `area_m2` holds at most `budget` hexagons
-- (a hexagon of edge s covers 3·√3/2·s²).
CREATE FUNCTION gap_cell_for_area(area_m2 float8, budget float8 DEFAULT 400000) RETURNS float8
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT coalesce(min(s), 20000)
    FROM unnest(ARRAY[500, 1000, 2000, 5000, 10000, 20000]::float8[]) AS s
    WHERE area_m2 / (3 * sqrt(3) / 2 * s * s) <= budget
$$;

-- The size the kelurahan layer calls for. Its area is estimated on the sphere from the planar
-- area in degrees, each polygon scaled by cos(latitude) at the middle of its bounding box: the
-- real national shape's 83 265 desa give 1 908 364 km² against 1 895 691 km² geodesic (+0.7 %),
-- in about 0.2 s. (Bounding boxes are cheaper but a desa of several islands has a box many times
-- its area: 9.6 million km² for the same desa, which would call for 5 km.)
CREATE FUNCTION gap_auto_cell_m() RETURNS float8 LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT gap_cell_for_area(coalesce(sum(
               ST_Area(geom) * cos(radians((ST_YMin(geom) + ST_YMax(geom)) / 2))), 0)
           * 111319.49 ^ 2)
    FROM kelurahan
$$;

-- gap_auto_cell_m() is kept here until the kelurahan layer changes (every run and every live
-- refresh asks, and at national size the estimate takes 0.2 s). A change of the layer clears the
-- size and bumps `generation`; a reader stores the size it worked out only if the generation is
-- still the one it read. A reader that worked from a snapshot older than a concurrent change
-- therefore never stores a stale size: its UPDATE waits for the changing transaction's row lock,
-- then finds another generation and writes nothing.
CREATE TABLE gap_auto_cell (
    only_row    boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    cell_m      float8,
    generation  bigint NOT NULL DEFAULT 0
);
INSERT INTO gap_auto_cell DEFAULT VALUES;

CREATE FUNCTION sigap_gap_auto_cell_forget() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE gap_auto_cell SET cell_m = NULL, generation = generation + 1;
    RETURN NULL;
END $$;

CREATE TRIGGER kelurahan_gap_auto_cell AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON kelurahan
    FOR EACH STATEMENT EXECUTE FUNCTION sigap_gap_auto_cell_forget();

-- The hexagon edge of the default analysis now (writes the cache, hence VOLATILE).
CREATE FUNCTION gap_default_cell_m() RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE
    size float8;
    seen bigint;
BEGIN
    SELECT cell_m INTO size FROM gap_setting;
    IF size IS NOT NULL THEN
        RETURN size;
    END IF;
    SELECT cell_m, generation INTO size, seen FROM gap_auto_cell;
    IF size IS NULL THEN
        size := gap_auto_cell_m();
        UPDATE gap_auto_cell SET cell_m = size WHERE generation = seen;
    END IF;
    RETURN size;
END $$;
