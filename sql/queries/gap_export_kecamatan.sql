-- Per-kecamatan results of run $1 with the kecamatan shape (EPSG:4326 WKB), for export.
SELECT ST_AsBinary(k.geom) AS wkb,
       jsonb_build_object(
           'code', g.kecamatan_code, 'name', k.name,
           'area_m2', g.area_m2, 'covered_pct', g.covered_fraction * 100,
           'population', g.population, 'low_income_households', g.low_income_households,
           'people_covered', g.people_covered, 'people_uncovered', g.people_uncovered,
           'low_income_covered', g.low_income_covered,
           'low_income_uncovered', g.low_income_uncovered,
           'programs', g.programs, 'partners', g.partners, 'proposals', g.proposals,
           'supports', g.supports, 'need', g.need, 'demand', g.demand,
           'gap_score', g.gap_score, 'rank', g.rank, 'class', g.class) AS properties
FROM gap_kecamatan g
JOIN kecamatan k ON k.code = g.kecamatan_code
WHERE g.run_id = $1
ORDER BY g.kecamatan_code
