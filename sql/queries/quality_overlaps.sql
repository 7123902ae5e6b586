-- Pairs of features of one boundary layer whose interiors overlap, with the overlap's geodesic
-- area in m². $TABLE is a static identifier of the layer rules. $1: the codes to check (NULL:
-- all); a pair is listed when either side is among them.
SELECT a.code, a.name, b.code, b.name,
       ST_Area(ST_Intersection(a.geom, b.geom)::geography) AS area_m2
FROM $TABLE a
JOIN $TABLE b ON a.code < b.code AND a.geom && b.geom
WHERE ($1::text[] IS NULL OR a.code = ANY ($1) OR b.code = ANY ($1))
  AND ST_Relate(a.geom, b.geom, '2********')
ORDER BY area_m2 DESC, a.code, b.code
