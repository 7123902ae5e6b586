-- Holes in the union of one boundary layer: land that no feature claims, between neighbours
-- (slivers when small) or enclosed by them. Geodesic area in m², a point inside each hole, and
-- the features around it. $TABLE is a static identifier of the layer rules. $1: the codes to
-- check (NULL: all); a hole is listed when one of its neighbours is among them. $2: true when
-- the layer has few features (see gap_neighbour).
--
-- The holes are the interior rings of the layer's union, found without that union (which, at
-- national size, is hundreds of thousands of tiny rings merged again at every level of the
-- cascade, and stalled for more than 10 minutes): a hole of the union is either
--   * a gap between features: an interior ring of the union of the features' outer shells
--     alone, made level by level so that no ring is merged twice (boundary_shell_gaps, V21), or
--   * an interior ring of one feature (a hole in a kelurahan, a sliver its own outline leaves),
--     less whatever other features fill of it.
-- The union of bare shells has only the gaps for rings, and no ring of a feature is ever
-- merged with anything, so the same rings come out as from the whole union.
WITH part AS (
    SELECT f.code, p.geom AS g
    FROM $TABLE f, ST_Dump(f.geom) p
), gap AS (
    -- With $2, each gap grown by 1e-9° once here, not once per feature it is tested against.
    SELECT row_number() OVER () AS id, h,
           CASE WHEN $2 THEN ST_Buffer(h, 1e-9) END AS grown
    FROM boundary_shell_gaps('$TABLE'::regclass) h
), gap_neighbour AS (
    -- The features around a gap: those within 1e-9° (0.1 mm) of it. A distance and not
    -- ST_Intersects, for two reasons. A gap's corners are nodes the overlay rounded, a hair off
    -- the outlines they lie on, so whether an outline touches a gap exactly depends on the order
    -- the union merged in. And unprepared, ST_Intersects computes the full relate, which threw
    -- "side location conflict" on a sliver of 4e-11 m² among the 795 266 gaps of the national
    -- desa layer; a distance never throws.
    -- $2 (few, large features: kabupaten): each feature once against every gap, so PostGIS
    -- prepares its outline once and tests it against the gap grown by 1e-9° (ST_DWithin has no
    -- prepared form, and a 30 000-vertex outline costs it ten times as much). Else (many small
    -- features) each gap looks its neighbours up in the layer's index.
    SELECT n.id, t.code
    FROM $TABLE t
    CROSS JOIN LATERAL (SELECT gap.id FROM gap
                        WHERE $2 AND gap.grown && t.geom
                          AND ST_Intersects(t.geom, gap.grown)) n
    UNION ALL
    SELECT gap.id, n.code
    FROM gap
    CROSS JOIN LATERAL (SELECT t.code FROM $TABLE t
                        WHERE NOT $2 AND ST_DWithin(t.geom, gap.h, 1e-9)) n
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
    -- Features reaching into another's rings (an enclave, an overlapping neighbour) or within
    -- 1e-9° of them (as around a gap): one test per pair of neighbours against all of a
    -- feature's rings at once, not one per ring (a kabupaten can have thousands of slivers
    -- inside it).
    SELECT s.code, t.code AS other
    FROM (SELECT code, ST_Buffer(ST_Collect(r), 1e-9) AS rings FROM ring GROUP BY code) s
    JOIN $TABLE t ON t.code <> s.code AND t.geom && s.rings AND ST_Intersects(t.geom, s.rings)
), ring_filled AS (
    SELECT ring.code, ring.r,
           ARRAY(SELECT t.code FROM filler f JOIN $TABLE t ON t.code = f.other
                 WHERE f.code = ring.code AND t.geom && ST_Expand(ring.r, 1e-9)
                   AND ST_Intersects(t.geom, ST_Buffer(ring.r, 1e-9))
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
    -- As a ring of the union: its outline, with any feature floating inside it counted in. Its
    -- neighbours: the feature it lies in and the others within 1e-9° of it.
    -- A hole inside a feature that itself floats in another feature's hole is seen from both;
    -- the copies are the same ring, kept once (same point on surface, to 1e-9°).
    SELECT DISTINCT ON (round(ST_X(p)::numeric, 9), round(ST_Y(p)::numeric, 9)) h, p, neighbours
    FROM (
        SELECT h, ST_PointOnSurface(h) AS p,
               CASE WHEN r.others = '{}' THEN ARRAY[r.code]
                    ELSE ARRAY(SELECT t.code FROM $TABLE t
                               WHERE t.code = ANY (r.code || r.others) AND ST_DWithin(t.geom, h, 1e-9)
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
-- = ANY, not &&: PostgreSQL looks a constant array of = ANY up in a hash table, while && compares
-- every pair (795 266 gaps against the 83 265 codes of a national import ran for minutes).
WHERE $1::text[] IS NULL OR EXISTS (SELECT 1 FROM unnest(neighbours) n WHERE n = ANY ($1))
ORDER BY area_m2 DESC
