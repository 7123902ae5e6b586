INSERT INTO indicator (kelurahan_code, year, population, households, low_income_households, source)
SELECT props->>'kelurahan_code', (props->>'year')::int, (props->>'population')::bigint,
       (props->>'households')::bigint, (props->>'low_income_households')::bigint, props->>'source'
FROM import_staging
WHERE reject IS NULL AND ($1::int IS NULL OR idx = $1)
ON CONFLICT (kelurahan_code, year) DO UPDATE
SET population = EXCLUDED.population, households = EXCLUDED.households,
    low_income_households = EXCLUDED.low_income_households, source = EXCLUDED.source
