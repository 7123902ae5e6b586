INSERT INTO partner (code, name, type, description)
SELECT props->>'code', props->>'name', props->>'type', props->>'description'
FROM import_staging
WHERE reject IS NULL AND ($1::int IS NULL OR idx = $1)
ON CONFLICT (code) DO UPDATE
SET name = EXCLUDED.name, type = EXCLUDED.type, description = EXCLUDED.description
