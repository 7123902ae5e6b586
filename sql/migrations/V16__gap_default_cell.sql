-- The hexagon size of the default (public, live) gap analysis is the deployment's, not a constant.
--
-- 500 m hexagons suit a city: Bandung's 167 km² are about 300 cells. Indonesia's 1.9 million km²
-- would be 2.9 million cells, and measuring and saving them took 3.5 times the national run's
-- 60 s budget while no national user reads a 500 m cell (docs/performance-gap.md). So the default
-- size follows the region: the smallest of 500 m, 1 km, 2 km, 5 km, 10 km and 20 km at which the
-- kelurahan layer holds at most 400 000 cells, estimated from the kelurahan's bounding boxes
-- (cheap: five points each; a bounding box over-estimates its polygon, so the estimate errs
-- towards larger cells, never towards more cells than the budget). Bandung keeps 500 m, a
-- province gets 1 or 2 km, the country 2 km. A deployment can fix its own size instead
-- (`sigap gap cell-size`). Dated or filtered runs choose any size, as before.
CREATE TABLE gap_setting (
    only_row  boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    -- NULL: chosen from the region (gap_auto_cell_m).
    cell_m    float8 CHECK (cell_m BETWEEN 50 AND 50000)
);
INSERT INTO gap_setting DEFAULT VALUES;

-- The smallest size of the ladder at which an area of `area_m2` holds at most `budget` hexagons
-- (a hexagon of edge s covers 3·√3/2·s²).
CREATE FUNCTION gap_cell_for_area(area_m2 float8, budget float8 DEFAULT 400000) RETURNS float8
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT coalesce(min(s), 20000)
    FROM unnest(ARRAY[500, 1000, 2000, 5000, 10000, 20000]::float8[]) AS s
    WHERE area_m2 / (3 * sqrt(3) / 2 * s * s) <= budget
$$;

CREATE FUNCTION gap_auto_cell_m() RETURNS float8 LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT gap_cell_for_area(coalesce(sum(ST_Area(ST_Envelope(geom)::geography)), 0))
    FROM kelurahan
$$;

-- The hexagon edge of the default analysis now.
CREATE FUNCTION gap_default_cell_m() RETURNS float8 LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT coalesce((SELECT cell_m FROM gap_setting), gap_auto_cell_m())
$$;

-- Changing the size changes every cell of the live run: log it as a change of everything.
CREATE TRIGGER gap_setting_gap_input AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON gap_setting
    FOR EACH STATEMENT EXECUTE FUNCTION sigap_gap_input_changed();
