-- The gap_kelurahan collection: every kelurahan's figures from the latest gap run made with the
-- default parameters (what the public map shows), with its score components.
SELECT g.kelurahan_code AS code, k.name, g.kecamatan_code, g.run_id, r.as_of,
       round((g.covered_fraction * 100)::numeric, 2)::float8 AS covered_pct,
       g.population, g.low_income_households,
       round(g.people_uncovered)::bigint AS people_uncovered,
       round(g.low_income_uncovered)::bigint AS low_income_uncovered,
       g.programs, g.partners, g.proposals, g.supports,
       g.need, g.demand, g.gap_score, g.rank, g.class::int AS class,
       replace(g.kelurahan_code, '.', '')::bigint AS tile_id, k.geom
FROM gap_run_latest_default r
JOIN gap_kelurahan g ON g.run_id = r.id
JOIN kelurahan k ON k.code = g.kelurahan_code
