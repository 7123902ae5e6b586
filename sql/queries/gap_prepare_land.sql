-- Keeps the land part of each hexagon of edge $2 float8 per kelurahan (V19, gap_kelurahan_land)
-- for the kelurahan of $1 text[] whose kept row is missing or was computed from another shape.
-- Reads gap_kelurahan_shape, so gap_prepare_shape.sql runs first. gap_hexagon_land (V19) is
-- also the run's fallback in gap_kelurahan_chunk.sql, so a kept row and a computed one are equal.
WITH todo AS MATERIALIZED (
    -- Found first: as a filter beside the LATERAL below, the planner may anti-join after
    -- computing every kelurahan's hexagons.
    SELECT s.code, s.src, s.g
    FROM gap_kelurahan_shape s
    JOIN kelurahan kl ON kl.code = s.code AND kl.geom_md5 = s.src
    WHERE s.code = ANY ($1::text[])
      AND NOT EXISTS (SELECT 1 FROM gap_kelurahan_land k
                      WHERE k.code = s.code AND k.cell_m = $2 AND k.src = s.src)
)
INSERT INTO gap_kelurahan_land AS l (code, cell_m, src, ci, cj, land_m2)
SELECT s.code, $2, s.src, h.ci, h.cj, h.land_m2
FROM todo s
CROSS JOIN LATERAL gap_hexagon_land($2, s.g) h
ORDER BY s.code
ON CONFLICT (code, cell_m) DO UPDATE
    SET src = excluded.src, ci = excluded.ci, cj = excluded.cj, land_m2 = excluded.land_m2
