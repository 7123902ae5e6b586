-- Coverage rules upsert by code; the coverage_rule_changed triggers make their coverage rows.
INSERT INTO coverage_rule (code, program_code, facility_category, radius_m, valid_from, valid_to, note)
SELECT props->>'code', props->>'program_code', props->>'facility_category',
       (props->>'radius_m')::float8, (props->>'valid_from')::date, (props->>'valid_to')::date,
       props->>'note'
FROM import_staging
WHERE reject IS NULL AND ($1::int IS NULL OR idx = $1)
ON CONFLICT (code) DO UPDATE
SET program_code = EXCLUDED.program_code, facility_category = EXCLUDED.facility_category,
    radius_m = EXCLUDED.radius_m, valid_from = EXCLUDED.valid_from, valid_to = EXCLUDED.valid_to,
    note = EXCLUDED.note
