INSERT INTO region (code, name, geom)
SELECT props->>'code', props->>'name', geom
FROM import_staging
WHERE reject IS NULL AND ($1::int IS NULL OR idx = $1)
ON CONFLICT (code) DO UPDATE
SET name = EXCLUDED.name, geom = EXCLUDED.geom, updated_at = now()
