-- The area's figures in the public gap analysis (the latest run with default parameters).
-- $1 text level, $2 text code.
SELECT json_build_object(
    'run_id', r.id, 'as_of', r.as_of, 'covered_fraction', g.covered_fraction,
    'people_fraction', g.people_fraction, 'population', g.population,
    'low_income_households', g.low_income_households,
    'people_uncovered', g.people_uncovered, 'low_income_uncovered', g.low_income_uncovered,
    'programs', g.programs, 'partners', g.partners, 'proposals', g.proposals,
    'supports', g.supports, 'need', g.need, 'demand', g.demand, 'gap_score', g.gap_score,
    'rank', g.rank, 'class', g.class,
    'of', (SELECT count(*) FROM gap_kelurahan x WHERE x.run_id = r.id))
FROM gap_run_latest_default r
JOIN gap_kelurahan g ON g.run_id = r.id
WHERE $1::text = 'kelurahan' AND g.kelurahan_code = $2::text
UNION ALL
SELECT json_build_object(
    'run_id', r.id, 'as_of', r.as_of, 'covered_fraction', g.covered_fraction,
    'people_fraction', g.people_fraction, 'population', g.population,
    'low_income_households', g.low_income_households,
    'people_uncovered', g.people_uncovered, 'low_income_uncovered', g.low_income_uncovered,
    'programs', g.programs, 'partners', g.partners, 'proposals', g.proposals,
    'supports', g.supports, 'need', g.need, 'demand', g.demand, 'gap_score', g.gap_score,
    'rank', g.rank, 'class', g.class,
    'of', (SELECT count(*) FROM gap_kecamatan x WHERE x.run_id = r.id))
FROM gap_run_latest_default r
JOIN gap_kecamatan g ON g.run_id = r.id
WHERE $1::text = 'kecamatan' AND g.kecamatan_code = $2::text
