-- The area's figures in the public gap analysis (the latest run with default parameters).
-- $1 text level, $2 text code. Kelurahan and kecamatan rows have the same columns; `n` is how
-- many areas of that level the run ranks.
WITH area AS (
    SELECT r.id, r.as_of, to_jsonb(g) AS g,
           (SELECT count(*) FROM gap_kelurahan x WHERE x.run_id = r.id) AS n
    FROM gap_run_latest_default r
    JOIN gap_kelurahan g ON g.run_id = r.id
    WHERE $1::text = 'kelurahan' AND g.kelurahan_code = $2::text
    UNION ALL
    SELECT r.id, r.as_of, to_jsonb(g),
           (SELECT count(*) FROM gap_kecamatan x WHERE x.run_id = r.id)
    FROM gap_run_latest_default r
    JOIN gap_kecamatan g ON g.run_id = r.id
    WHERE $1::text = 'kecamatan' AND g.kecamatan_code = $2::text
)
SELECT (jsonb_build_object('run_id', id, 'as_of', as_of, 'of', n)
        || (SELECT jsonb_object_agg(key, value) FROM jsonb_each(g)
            WHERE key IN ('covered_fraction', 'people_fraction', 'population',
                          'low_income_households', 'people_uncovered', 'low_income_uncovered',
                          'programs', 'partners', 'proposals', 'supports', 'need', 'demand',
                          'gap_score', 'rank', 'class')))::json
FROM area
