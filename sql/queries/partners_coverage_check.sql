-- Checks a coverage shape a partner sent before anything is written: the GeoJSON type, whether it
-- was valid as sent, whether a polygonal shape survives repair (sigap_coverage_polygon, V10), and
-- whether the final shape (for a site: its geodesic buffer) meets the region and, for a scoped
-- account, its area. ST_GeomFromGeoJSON raises on text that is not GeoJSON; the caller answers 422.
-- $1 text GeoJSON geometry, $2 float8 radius_m (NULL: a polygon), $3 text area code or NULL.
WITH raw AS (
    SELECT ST_Force2D(ST_SetSRID(ST_GeomFromGeoJSON($1), 4326)) AS g
),
shape AS (
    SELECT raw.g,
           CASE WHEN $2::float8 IS NULL THEN sigap_coverage_polygon($1)
                WHEN GeometryType(raw.g) = 'POINT'
                     THEN ST_Multi(ST_Buffer(raw.g::geography, $2::float8, 'quad_segs=16')::geometry)
           END AS f
    FROM raw
)
SELECT GeometryType(s.g) AS input_type,
       ST_IsValid(s.g) AS valid_as_sent,
       s.f IS NOT NULL AS usable,
       s.f IS NOT NULL AND EXISTS (SELECT 1 FROM region r WHERE ST_Intersects(r.geom, s.f)) AS in_region,
       $3::text IS NULL
           OR EXISTS (SELECT 1 FROM kecamatan a WHERE a.code = $3 AND ST_Intersects(a.geom, s.f))
           OR EXISTS (SELECT 1 FROM kelurahan a WHERE a.code = $3 AND ST_Intersects(a.geom, s.f))
           AS in_area
FROM shape s
