-- Holes in the union of one boundary layer: land that no feature claims, between neighbours
-- (slivers when small) or enclosed by them. Geodesic area in m², a point inside each hole, and
-- the features around it. $TABLE is a static identifier of the layer rules. $1: the codes to
-- check (NULL: all); a hole is listed when one of its neighbours is among them.
WITH parts AS (
    SELECT (ST_Dump(ST_Union(geom))).geom AS g FROM $TABLE
), holes AS (
    SELECT ST_MakePolygon(ST_InteriorRingN(g, n)) AS h
    FROM parts, generate_series(1, ST_NumInteriorRings(g)) AS n
), described AS (
    SELECT ST_Area(h::geography) AS area_m2, ST_PointOnSurface(h) AS p,
           ARRAY(SELECT t.code FROM $TABLE t WHERE t.geom && h AND ST_Intersects(t.geom, h)
                 ORDER BY t.code) AS neighbours
    FROM holes
)
SELECT area_m2, ST_X(p), ST_Y(p), neighbours
FROM described
WHERE $1::text[] IS NULL OR neighbours && $1
ORDER BY area_m2 DESC
