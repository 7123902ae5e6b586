INSERT INTO program (code, name, partner_code, type, start_date, end_date, target_group,
                     planned_beneficiaries, description)
SELECT props->>'code', props->>'name', props->>'partner_code', props->>'type',
       (props->>'start_date')::date, (props->>'end_date')::date, props->>'target_group',
       (props->>'planned_beneficiaries')::int, props->>'description'
FROM import_staging
WHERE reject IS NULL AND ($1::int IS NULL OR idx = $1)
ON CONFLICT (code) DO UPDATE
SET name = EXCLUDED.name, partner_code = EXCLUDED.partner_code, type = EXCLUDED.type,
    start_date = EXCLUDED.start_date, end_date = EXCLUDED.end_date,
    target_group = EXCLUDED.target_group, planned_beneficiaries = EXCLUDED.planned_beneficiaries,
    description = EXCLUDED.description
