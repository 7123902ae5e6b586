-- Reach against plan for each program of $1 (text[] program codes): the sums of its progress
-- reports against planned_beneficiaries, and the same sums per kelurahan. reach_ratio is NULL
-- when no plan was given.
WITH per_kel AS (
    SELECT r.program_code, r.kelurahan_code, k.name AS kelurahan_name,
           sum(r.participants)::bigint AS participants,
           sum(r.participants_women)::bigint AS participants_women,
           sum(r.ukm_assisted)::bigint AS ukm_assisted,
           sum(r.ukm_women_led)::bigint AS ukm_women_led,
           sum(r.mentoring_sessions)::bigint AS mentoring_sessions,
           count(*) AS reports,
           min(r.period_start) AS first_period_start,
           max(r.period_end) AS last_period_end
    FROM progress_report r
    JOIN kelurahan k ON k.code = r.kelurahan_code
    WHERE r.program_code = ANY ($1::text[])
    GROUP BY 1, 2, 3
),
per_prog AS (
    SELECT program_code,
           sum(participants)::bigint AS participants,
           sum(participants_women)::bigint AS participants_women,
           sum(ukm_assisted)::bigint AS ukm_assisted,
           sum(ukm_women_led)::bigint AS ukm_women_led,
           sum(mentoring_sessions)::bigint AS mentoring_sessions,
           sum(reports)::bigint AS reports,
           json_agg(json_build_object(
               'kelurahan_code', kelurahan_code, 'kelurahan_name', kelurahan_name,
               'participants', participants, 'participants_women', participants_women,
               'ukm_assisted', ukm_assisted, 'ukm_women_led', ukm_women_led,
               'mentoring_sessions', mentoring_sessions, 'reports', reports,
               'first_period_start', first_period_start, 'last_period_end', last_period_end)
               ORDER BY kelurahan_code) AS kelurahan
    FROM per_kel
    GROUP BY 1
)
SELECT json_build_object(
    'program_code', p.code, 'program_name', p.name, 'program_type', p.type,
    'partner_code', p.partner_code, 'approved', p.approved_at IS NOT NULL,
    'start_date', p.start_date, 'end_date', p.end_date,
    'planned_beneficiaries', p.planned_beneficiaries,
    'participants', coalesce(pp.participants, 0),
    'participants_women', coalesce(pp.participants_women, 0),
    'ukm_assisted', coalesce(pp.ukm_assisted, 0),
    'ukm_women_led', coalesce(pp.ukm_women_led, 0),
    'mentoring_sessions', coalesce(pp.mentoring_sessions, 0),
    'reports', coalesce(pp.reports, 0),
    'reach_ratio', CASE WHEN p.planned_beneficiaries > 0
                        THEN round(coalesce(pp.participants, 0)::numeric / p.planned_beneficiaries, 4) END,
    'kelurahan', coalesce(pp.kelurahan, '[]'::json))
FROM program p
LEFT JOIN per_prog pp ON pp.program_code = p.code
WHERE p.code = ANY ($1::text[])
ORDER BY p.code
