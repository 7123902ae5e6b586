-- Follow-up gap: kelurahan where a training program's coverage ended and no pendampingan
-- coverage was active there at any time within $2 months afterwards. Only windows that closed by
-- the analysis date count (a window still open is not a gap yet). A coverage's active period is
-- its own validity within its program's dates. The mentoring lookup reads the coverage table
-- itself (not a CTE) so the GiST index finds the candidates. "Reached" means the interiors
-- meet: a coverage drawn as the neighbouring kelurahan only touches this one and does not count.
-- Where partners report progress (V10), reported mentoring decides: a report of mentoring sessions
-- in the kelurahan during the window counts as follow-up, whichever program held them; and a
-- pendampingan coverage counts only when its program has no report for that kelurahan and window
-- (reports of zero sessions mean none were held). Pending (unapproved) entries never count.
-- $1 date as_of, $2 int4 months, $3 text partner type of the training, or NULL, $4 text[] the
-- kelurahan to look at, or NULL for all (the live refresh asks only for those a change touched).
WITH trained AS (
    SELECT k.code AS kelurahan_code, pr.code AS program_code, pr.type AS program_type,
           pr.partner_code, max(least(c.valid_to, pr.end_date)) AS ended
    FROM coverage c
    JOIN program pr ON pr.code = c.program_code
    JOIN partner pa ON pa.code = pr.partner_code
    JOIN kelurahan k ON k.geom && c.geom AND ST_Intersects(k.geom, c.geom)
                        AND NOT ST_Touches(k.geom, c.geom)
    WHERE pr.type IN ('pelatihan_pertanian', 'pelatihan_kerja')
      AND c.approved_at IS NOT NULL
      AND greatest(c.valid_from, pr.start_date) <= least(c.valid_to, pr.end_date)
      AND ($3::text IS NULL OR pa.type = $3)
      AND ($4::text[] IS NULL OR k.code = ANY ($4::text[]))
    GROUP BY 1, 2, 3, 4
),
closed AS (
    SELECT tr.*, (tr.ended + make_interval(months => $2::int4))::date AS window_closed
    FROM trained tr
)
SELECT cl.kelurahan_code, cl.program_code, cl.program_type, cl.partner_code, cl.ended,
       cl.window_closed
FROM closed cl
JOIN kelurahan k ON k.code = cl.kelurahan_code
WHERE cl.window_closed <= $1::date
  AND NOT EXISTS (
      SELECT 1
      FROM progress_report r
      JOIN program rp ON rp.code = r.program_code
      WHERE r.kelurahan_code = cl.kelurahan_code AND r.mentoring_sessions > 0
        AND rp.approved_at IS NOT NULL
        AND r.period_start <= cl.window_closed AND r.period_end >= cl.ended)
  AND NOT EXISTS (
      SELECT 1
      FROM (
          -- Mentoring coverage of the window whose box meets the kelurahan, found before any
          -- geometry test (OFFSET 0 keeps the planner from testing every coverage's geometry
          -- first and its program after: four times the GEOS work at national size).
          SELECT m.geom, mp.code
          FROM coverage m
          JOIN program mp ON mp.code = m.program_code
          WHERE mp.type = 'pendampingan'
            AND greatest(m.valid_from, mp.start_date) <= cl.window_closed
            AND least(m.valid_to, mp.end_date) >= cl.ended
            AND m.geom && k.geom
            AND m.approved_at IS NOT NULL
          OFFSET 0
      ) mm
      WHERE ST_Intersects(mm.geom, k.geom) AND NOT ST_Touches(mm.geom, k.geom)
        AND NOT EXISTS (
            SELECT 1 FROM progress_report r
            WHERE r.program_code = mm.code AND r.kelurahan_code = cl.kelurahan_code
              AND r.period_start <= cl.window_closed AND r.period_end >= cl.ended))
ORDER BY cl.kelurahan_code, cl.program_code
