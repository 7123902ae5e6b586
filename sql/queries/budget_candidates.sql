-- Budget candidates: verified proposals (diverifikasi, diprioritaskan) in an area ($1: a kecamatan
-- or kelurahan code, NULL for the whole region), with what the priority score needs: the
-- kelurahan's gap score in the latest gap run (the live run, else the latest default run, else the
-- latest run) and
-- that run's highest kelurahan gap score, supports split into residents of the same kelurahan
-- and everyone else, households from indicator_latest, and the kelurahan's area in km².
WITH run AS (
    SELECT id FROM gap_run ORDER BY live DESC, is_default DESC, id DESC LIMIT 1
), gmax AS (
    SELECT max(g.gap_score) AS m FROM gap_kelurahan g WHERE g.run_id = (SELECT id FROM run)
)
SELECT p.id, p.tracking_code, p.title, p.category, p.status, p.estimated_cost_idr,
       p.kelurahan_code, p.kecamatan_code,
       (SELECT id FROM run) AS gap_run_id,
       g.gap_score,
       (SELECT m FROM gmax) AS gap_score_max,
       coalesce(s.resident, 0) AS resident_supports,
       coalesce(s.other, 0) AS other_supports,
       i.households,
       ST_Area(k.geom::geography) / 1e6 AS area_km2
FROM proposal p
JOIN kelurahan k ON k.code = p.kelurahan_code
LEFT JOIN indicator_latest i ON i.kelurahan_code = p.kelurahan_code
LEFT JOIN gap_kelurahan g ON g.run_id = (SELECT id FROM run) AND g.kelurahan_code = p.kelurahan_code
LEFT JOIN LATERAL (
    SELECT count(*) FILTER (WHERE u.role = 'resident' AND u.home_kelurahan_code = p.kelurahan_code) AS resident,
           count(*) FILTER (WHERE NOT (u.role = 'resident' AND u.home_kelurahan_code IS NOT DISTINCT FROM p.kelurahan_code)) AS other
    FROM proposal_support ps
    JOIN app_user u ON u.id = ps.user_id
    WHERE ps.proposal_id = p.id AND u.disabled_at IS NULL
) s ON true
WHERE p.status IN ('diverifikasi', 'diprioritaskan')
  AND ($1::text IS NULL OR p.kelurahan_code = $1 OR p.kecamatan_code = $1)
ORDER BY p.id
