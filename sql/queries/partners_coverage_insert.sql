-- A coverage area from the API: a polygon repaired by sigap_coverage_polygon, or a site point whose
-- polygon the coverage_fill trigger buffers (and which fills missing dates from the program).
-- $1 code, $2 program_code, $3 GeoJSON, $4 radius_m (NULL: polygon), $5 valid_from, $6 valid_to,
-- $7 note, $8 approved, $9 approver id, $10 creator id.
INSERT INTO coverage AS c (code, program_code, site, radius_m, geom, valid_from, valid_to, note,
                           approved_at, approved_by, created_by)
VALUES ($1, $2,
        CASE WHEN $4::float8 IS NOT NULL THEN ST_Force2D(ST_SetSRID(ST_GeomFromGeoJSON($3), 4326)) END,
        $4::float8,
        CASE WHEN $4::float8 IS NULL THEN sigap_coverage_polygon($3) END,
        $5, $6, $7,
        CASE WHEN $8::bool THEN now() END, CASE WHEN $8::bool THEN $9::bigint END, $10)
RETURNING c.code
