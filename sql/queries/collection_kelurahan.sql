-- The kelurahan collection: boundaries with their latest indicators (indicator_latest).
SELECT k.code, k.name, k.kecamatan_code, kc.name AS kecamatan_name,
       il.population, il.population_year, il.households, il.low_income_households,
       il.households_year,
       round((ST_Area(k.geom::geography) / 1e6)::numeric, 3)::float8 AS area_km2,
       replace(k.code, '.', '')::bigint AS tile_id,
       k.updated_at, k.geom
FROM kelurahan k
JOIN kecamatan kc ON kc.code = k.kecamatan_code
LEFT JOIN indicator_latest il ON il.kelurahan_code = k.code
