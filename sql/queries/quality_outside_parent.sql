-- Parts of features that lie outside their parent (a kelurahan outside its kecamatan, a
-- kecamatan outside its region), geodesic area in m². $TABLE, $PARENT and $PARENT_COLUMN are
-- static identifiers of the layer rules. $1: the codes to check (NULL: all).
SELECT c.code, c.name, p.code,
       ST_Area(ST_Difference(c.geom, p.geom)::geography) AS outside_m2,
       ST_Area(c.geom::geography) AS area_m2
FROM $TABLE c
JOIN $PARENT p ON p.code = c.$PARENT_COLUMN
WHERE ($1::text[] IS NULL OR c.code = ANY ($1))
  AND NOT ST_CoveredBy(c.geom, p.geom)
ORDER BY outside_m2 DESC, c.code
