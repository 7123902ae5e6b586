-- The kecamatan collection: boundaries with the sums of their kelurahan's latest indicators.
-- LATERAL so a tile or a page computes the sums only for the kecamatan it returns.
SELECT kc.code, kc.name, kc.region_code,
       agg.population, agg.households, agg.low_income_households,
       replace(kc.code, '.', '')::bigint AS tile_id,
       kc.updated_at, kc.geom
FROM kecamatan kc
LEFT JOIN LATERAL (
    SELECT sum(il.population)::bigint AS population,
           sum(il.households)::bigint AS households,
           sum(il.low_income_households)::bigint AS low_income_households
    FROM kelurahan k JOIN indicator_latest il ON il.kelurahan_code = k.code
    WHERE k.kecamatan_code = kc.code) agg ON true
