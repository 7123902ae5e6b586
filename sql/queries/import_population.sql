-- Population weights: a feature with a code replaces the one with the same code; features
-- without a code are added.
INSERT INTO population_weight (code, geom, weight, source)
SELECT props->>'code', geom, (props->>'weight')::float8, props->>'source'
FROM import_staging
WHERE reject IS NULL AND ($1::int IS NULL OR idx = $1)
ON CONFLICT (code) DO UPDATE
SET geom = EXCLUDED.geom, weight = EXCLUDED.weight, source = EXCLUDED.source
