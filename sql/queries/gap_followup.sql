-- Follow-up gap: kelurahan where a training program's coverage ended and no pendampingan
-- coverage was active there at any time within $2 months afterwards. Only windows that closed by
-- the analysis date count (a window still open is not a gap yet).
-- $1 date as_of, $2 int4 months, $3 text partner type or NULL (of the training's partner).
WITH spans AS (
    SELECT c.id, c.geom, pr.code AS program_code, pr.type AS program_type, pr.partner_code,
           greatest(c.valid_from, pr.start_date) AS active_from,
           least(c.valid_to, pr.end_date) AS active_to
    FROM coverage c
    JOIN program pr ON pr.code = c.program_code
    JOIN partner pa ON pa.code = pr.partner_code
    WHERE pr.type IN ('pelatihan_pertanian', 'pelatihan_kerja', 'pendampingan')
      AND ($3::text IS NULL OR pr.type = 'pendampingan' OR pa.type = $3)
),
trained AS (
    SELECT k.code AS kelurahan_code, t.program_code, t.program_type, t.partner_code,
           max(t.active_to) AS ended
    FROM spans t
    JOIN kelurahan k ON k.geom && t.geom AND ST_Intersects(k.geom, t.geom)
                        AND NOT ST_Touches(k.geom, t.geom)
    WHERE t.program_type <> 'pendampingan' AND t.active_from <= t.active_to
    GROUP BY 1, 2, 3, 4
)
SELECT tr.kelurahan_code, tr.program_code, tr.program_type, tr.partner_code, tr.ended,
       (tr.ended + make_interval(months => $2::int4))::date AS window_closed
FROM trained tr
JOIN kelurahan k ON k.code = tr.kelurahan_code
WHERE (tr.ended + make_interval(months => $2::int4))::date <= $1::date
  AND NOT EXISTS (
      SELECT 1 FROM spans m
      WHERE m.program_type = 'pendampingan'
        AND m.active_from <= (tr.ended + make_interval(months => $2::int4))::date
        AND m.active_to >= tr.ended
        AND m.geom && k.geom AND ST_Intersects(m.geom, k.geom) AND NOT ST_Touches(m.geom, k.geom))
ORDER BY tr.kelurahan_code, tr.program_code
