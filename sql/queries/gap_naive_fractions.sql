-- The analyst's hand-written approach, kept as the benchmark's peer: the union of ALL active
-- coverage in ESRI:54034 (gap_metric, V14), then its intersection with each kelurahan, in one statement.
-- $1 date as_of, $2 text program type or NULL, $3 text partner type or NULL.
WITH u AS (
    SELECT ST_Union(gap_metric(c.geom)) AS g
    FROM coverage c
    JOIN program pr ON pr.code = c.program_code
    JOIN partner pa ON pa.code = pr.partner_code
    WHERE c.valid_from <= $1 AND c.valid_to >= $1
      AND c.approved_at IS NOT NULL
      AND pr.start_date <= $1 AND pr.end_date >= $1
      AND ($2::text IS NULL OR pr.type = $2)
      AND ($3::text IS NULL OR pa.type = $3)
)
SELECT k.code,
       coalesce(ST_Area(ST_Intersection(gap_metric(k.geom), u.g)), 0)
           / ST_Area(gap_metric(k.geom)) AS covered_fraction
FROM kelurahan k CROSS JOIN u
ORDER BY k.code
