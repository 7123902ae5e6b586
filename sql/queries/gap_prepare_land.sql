-- Keeps the land part of each hexagon of edge $2 float8 per kelurahan (V19, gap_kelurahan_land)
-- for the kelurahan of $1 text[] whose kept row is missing or was computed from another shape.
-- Reads gap_kelurahan_shape, so gap_prepare_shape.sql runs first. The same expressions as the
-- fallback in gap_kelurahan_chunk.sql, so a kept row and a computed one are bit for bit equal.
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
SELECT s.code, $2, s.src, coalesce(h.ci, '{}'), coalesce(h.cj, '{}'), coalesce(h.land_m2, '{}')
FROM todo s
CROSS JOIN LATERAL (
    SELECT array_agg(x.i ORDER BY x.i, x.j) AS ci,
           array_agg(x.j ORDER BY x.i, x.j) AS cj,
           array_agg(x.land_m2 ORDER BY x.i, x.j) AS land_m2
    FROM (
        SELECT hx.i, hx.j,
               CASE WHEN ST_Within(hx.geom, s.g) THEN ST_Area(hx.geom)
                    ELSE ST_Area(ST_Intersection(hx.geom, s.g)) END AS land_m2
        FROM ST_HexagonGrid($2, s.g) hx
        WHERE ST_Intersects(hx.geom, s.g)
        OFFSET 0
    ) x
    WHERE x.land_m2 > 0
) h
ORDER BY s.code
ON CONFLICT (code, cell_m) DO UPDATE
    SET src = excluded.src, ci = excluded.ci, cj = excluded.cj, land_m2 = excluded.land_m2
