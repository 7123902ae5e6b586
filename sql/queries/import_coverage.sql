-- A site point keeps its radius; the coverage_fill trigger computes its polygon and fills
-- missing dates from the program.
INSERT INTO coverage (code, program_code, site, radius_m, geom, valid_from, valid_to, note)
SELECT coalesce(props->>'code', props->>'program_code' || '-' || idx),
       props->>'program_code',
       CASE WHEN GeometryType(geom) = 'POINT' THEN geom END,
       CASE WHEN GeometryType(geom) = 'POINT' THEN (props->>'radius_m')::float8 END,
       CASE WHEN GeometryType(geom) = 'POINT' THEN NULL ELSE geom END,
       (props->>'valid_from')::date, (props->>'valid_to')::date, props->>'note'
FROM import_staging
WHERE reject IS NULL AND ($1::int IS NULL OR idx = $1)
ON CONFLICT (code) DO UPDATE
SET program_code = EXCLUDED.program_code, site = EXCLUDED.site, radius_m = EXCLUDED.radius_m,
    geom = EXCLUDED.geom, valid_from = EXCLUDED.valid_from, valid_to = EXCLUDED.valid_to,
    note = EXCLUDED.note
