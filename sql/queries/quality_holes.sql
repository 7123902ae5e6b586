-- Holes in the union of one boundary layer: land that no feature claims, between neighbours
-- (slivers when small) or enclosed by them. Geodesic area in m², a point inside each hole, and
-- the features around it. $TABLE is a static identifier of the layer rules. $1: the codes to
-- check (NULL: all); a hole is listed when one of its neighbours is among them. $2: true when
-- the layer has few features (see gap_neighbour).
--
-- The holes are the interior rings of the layer's union, found without that union (which, at
-- national size, is hundreds of thousands of tiny rings merged again at every level of the
-- cascade, and stalled for more than 10 minutes): a hole of the union is either
--   * an interior ring of the union of the features' outer shells alone (a gap between
--     features), or
--   * an interior ring of one feature (a hole in a kelurahan, a sliver its own outline leaves),
--     less whatever other features fill of it.
-- The union of bare shells has only the gaps for rings, and no ring of a feature is ever
-- merged with anything, so the same rings come out as from the whole union.
WITH part AS (
    SELECT f.code, p.geom AS g
    FROM $TABLE f, ST_Dump(f.geom) p
), shell_union AS (
    SELECT (ST_Dump(ST_Union(ST_MakePolygon(ST_ExteriorRing(g))))).geom AS g FROM part
), gap AS (
    -- ST_DumpRings gives each ring as a polygon; path 0 is the shell.
    SELECT row_number() OVER () AS id, r.geom AS h
    FROM shell_union, ST_DumpRings(g) r
    WHERE r.path[1] > 0
), gap_neighbour AS (
    -- $2 (few, large features: kabupaten): each feature once against every gap, so PostGIS
    -- prepares its outline once, instead of unpacking a 10 000-vertex outline per gap. Else
    -- (many small features) each gap looks its neighbours up in the layer's index.
    SELECT n.id, t.code
    FROM $TABLE t
    CROSS JOIN LATERAL (SELECT gap.id FROM gap
                        WHERE $2 AND gap.h && t.geom AND ST_Intersects(t.geom, gap.h)) n
    UNION ALL
    SELECT gap.id, n.code
    FROM gap
    CROSS JOIN LATERAL (SELECT t.code FROM $TABLE t
                        WHERE NOT $2 AND t.geom && gap.h AND ST_Intersects(t.geom, gap.h)) n
), gap_described AS (
    SELECT gap.h, coalesce(n.neighbours, '{}') AS neighbours
    FROM gap
    LEFT JOIN (SELECT id, array_agg(code ORDER BY code) AS neighbours
               FROM gap_neighbour GROUP BY id) n USING (id)
), ring AS (
    SELECT part.code, r.geom AS r
    FROM part, ST_DumpRings(part.g) r
    WHERE r.path[1] > 0
), filler AS (
    -- Features reaching into another's rings (an enclave, an overlapping neighbour): one test
    -- per pair of neighbours against all of a feature's rings at once, not one per ring (a
    -- kabupaten can have thousands of slivers inside it).
    SELECT s.code, t.code AS other
    FROM (SELECT code, ST_Collect(r) AS rings FROM ring GROUP BY code) s
    JOIN $TABLE t ON t.code <> s.code AND t.geom && s.rings AND ST_Intersects(t.geom, s.rings)
), ring_filled AS (
    SELECT ring.code, ring.r,
           ARRAY(SELECT t.code FROM filler f JOIN $TABLE t ON t.code = f.other
                 WHERE f.code = ring.code AND t.geom && ring.r AND ST_Intersects(t.geom, ring.r)
                 ORDER BY t.code) AS others
    FROM ring
), ring_rest AS (
    SELECT f.code, f.others, d.geom AS rest
    FROM ring_filled f,
         ST_Dump(CASE WHEN f.others = '{}' THEN f.r
                      ELSE ST_Difference(f.r, (SELECT ST_Union(t.geom) FROM $TABLE t
                                               WHERE t.code = ANY (f.others)))
                 END) d
), ring_described AS (
    -- As a ring of the union: its outline, with any feature floating inside it counted in.
    -- A hole inside a feature that itself floats in another feature's hole is seen from both;
    -- the copies are the same ring, kept once (same point on surface, to 1e-9°).
    SELECT DISTINCT ON (round(ST_X(p)::numeric, 9), round(ST_Y(p)::numeric, 9)) h, p, neighbours
    FROM (
        SELECT h, ST_PointOnSurface(h) AS p,
               CASE WHEN r.others = '{}' THEN ARRAY[r.code]
                    ELSE ARRAY(SELECT t.code FROM $TABLE t
                               WHERE t.code = ANY (r.code || r.others) AND ST_Intersects(t.geom, h)
                               ORDER BY t.code)
               END AS neighbours
        FROM ring_rest r, ST_MakePolygon(ST_ExteriorRing(r.rest)) AS h
    ) c
    ORDER BY round(ST_X(p)::numeric, 9), round(ST_Y(p)::numeric, 9), neighbours
), described AS (
    SELECT ST_Area(h::geography) AS area_m2, ST_PointOnSurface(h) AS p, neighbours
    FROM gap_described
    UNION ALL
    SELECT ST_Area(h::geography), p, neighbours FROM ring_described
)
SELECT area_m2, ST_X(p), ST_Y(p), neighbours
FROM described
WHERE $1::text[] IS NULL OR neighbours && $1
ORDER BY area_m2 DESC
