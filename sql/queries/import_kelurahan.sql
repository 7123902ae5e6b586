INSERT INTO kelurahan (code, name, kecamatan_code, geom)
SELECT props->>'code', props->>'name', props->>'kecamatan_code', geom
FROM import_staging
WHERE reject IS NULL AND ($1::int IS NULL OR idx = $1)
ON CONFLICT (code) DO UPDATE
SET name = EXCLUDED.name, kecamatan_code = EXCLUDED.kecamatan_code, geom = EXCLUDED.geom,
    updated_at = now()
