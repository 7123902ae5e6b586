-- Facilities upsert by their source id; the facility_fill trigger assigns the kelurahan and the
-- facility_coverage triggers refresh coverage drawn from them.
INSERT INTO facility (code, name, category, source, geom)
SELECT props->>'code', nullif(props->>'name', ''), props->>'category', props->>'source', geom
FROM import_staging
WHERE reject IS NULL AND ($1::int IS NULL OR idx = $1)
ON CONFLICT (code) DO UPDATE
SET name = EXCLUDED.name, category = EXCLUDED.category, source = EXCLUDED.source,
    geom = EXCLUDED.geom
WHERE (facility.name, facility.category, facility.source, facility.geom)
      IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.category, EXCLUDED.source, EXCLUDED.geom)
