INSERT INTO kecamatan (code, name, region_code, geom)
SELECT props->>'code', props->>'name', props->>'region_code', geom
FROM import_staging
WHERE reject IS NULL AND ($1::int IS NULL OR idx = $1)
ON CONFLICT (code) DO UPDATE
SET name = EXCLUDED.name, region_code = EXCLUDED.region_code, geom = EXCLUDED.geom, updated_at = now()
