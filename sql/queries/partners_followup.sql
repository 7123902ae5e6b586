-- The planners' follow-up ("tindak lanjut") list: approved training programs that ended by $1 in
-- a kelurahan they reached (approved coverage whose interior meets it, or progress reports with
-- participants there) where no mentoring followed within $2 months: no report of mentoring
-- sessions there in [ended, ended + $2 months] from any approved program, and no approved
-- pendampingan coverage active there in that window whose program has no report for it (where
-- reports exist, they decide; the rule of gap_followup.sql). Windows still open are listed too
-- (overdue = false): that is when a call helps. One row per program, with the partner to contact.
-- $1 date as_of, $2 int4 months, $3 text area code of a scoped planner or NULL.
WITH reached AS (
    SELECT k.code AS kelurahan_code, pr.code AS program_code,
           max(least(c.valid_to, pr.end_date)) AS ended
    FROM coverage c
    JOIN program pr ON pr.code = c.program_code
    JOIN kelurahan k ON k.geom && c.geom AND ST_Intersects(k.geom, c.geom)
                        AND NOT ST_Touches(k.geom, c.geom)
    WHERE pr.type IN ('pelatihan_pertanian', 'pelatihan_kerja')
      AND pr.approved_at IS NOT NULL AND c.approved_at IS NOT NULL
      AND greatest(c.valid_from, pr.start_date) <= least(c.valid_to, pr.end_date)
    GROUP BY 1, 2
    UNION ALL
    SELECT r.kelurahan_code, pr.code, pr.end_date
    FROM progress_report r
    JOIN program pr ON pr.code = r.program_code
    WHERE pr.type IN ('pelatihan_pertanian', 'pelatihan_kerja')
      AND pr.approved_at IS NOT NULL AND r.participants > 0
),
windows AS (
    SELECT kelurahan_code, program_code, max(ended) AS ended,
           (max(ended) + make_interval(months => $2::int4))::date AS window_closes
    FROM reached
    WHERE $3::text IS NULL OR kelurahan_code LIKE $3::text || '%'
    GROUP BY 1, 2
    HAVING max(ended) <= $1::date
),
missing AS (
    SELECT w.*, kl.name AS kelurahan_name
    FROM windows w
    JOIN kelurahan kl ON kl.code = w.kelurahan_code
    WHERE NOT EXISTS (
          SELECT 1
          FROM progress_report r
          JOIN program rp ON rp.code = r.program_code
          WHERE r.kelurahan_code = w.kelurahan_code AND r.mentoring_sessions > 0
            AND rp.approved_at IS NOT NULL
            AND r.period_start <= w.window_closes AND r.period_end >= w.ended)
      AND NOT EXISTS (
          SELECT 1
          FROM coverage m
          JOIN program mp ON mp.code = m.program_code
          WHERE mp.type = 'pendampingan'
            AND greatest(m.valid_from, mp.start_date) <= w.window_closes
            AND least(m.valid_to, mp.end_date) >= w.ended
            AND m.geom && kl.geom AND ST_Intersects(m.geom, kl.geom)
            AND NOT ST_Touches(m.geom, kl.geom)
            AND m.approved_at IS NOT NULL
            AND NOT EXISTS (
                SELECT 1 FROM progress_report r
                WHERE r.program_code = mp.code AND r.kelurahan_code = w.kelurahan_code
                  AND r.period_start <= w.window_closes AND r.period_end >= w.ended))
)
SELECT json_build_object(
    'program_code', p.code, 'program_name', p.name, 'program_type', p.type,
    'end_date', p.end_date,
    'partner_code', pa.code, 'partner_name', pa.name, 'partner_type', pa.type,
    'contact_name', pa.contact_name, 'contact_phone', pa.contact_phone,
    'contact_email', pa.contact_email,
    'window_closes', min(m.window_closes),
    'overdue', bool_or(m.window_closes < $1::date),
    'kelurahan', json_agg(json_build_object(
        'kelurahan_code', m.kelurahan_code, 'kelurahan_name', m.kelurahan_name,
        'ended', m.ended, 'window_closes', m.window_closes,
        'overdue', m.window_closes < $1::date) ORDER BY m.kelurahan_code))
FROM missing m
JOIN program p ON p.code = m.program_code
JOIN partner pa ON pa.code = p.partner_code
GROUP BY p.code, pa.code
ORDER BY min(m.window_closes), p.code
