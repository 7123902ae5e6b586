-- Approved programs present in the area: approved coverage whose interior meets it, or progress
-- reports from its kelurahan. $1 text level, $2 text code.
WITH a AS (
    SELECT geom FROM kelurahan WHERE $1::text = 'kelurahan' AND code = $2::text
    UNION ALL
    SELECT geom FROM kecamatan WHERE $1::text = 'kecamatan' AND code = $2::text
)
SELECT p.code
FROM program p
WHERE p.approved_at IS NOT NULL
  AND (EXISTS (SELECT 1 FROM coverage c, a
               WHERE c.program_code = p.code AND c.approved_at IS NOT NULL
                 AND c.geom && a.geom AND ST_Intersects(c.geom, a.geom)
                 AND NOT ST_Touches(c.geom, a.geom))
       OR EXISTS (SELECT 1 FROM progress_report r
                  WHERE r.program_code = p.code AND r.kelurahan_code LIKE $2::text || '%'))
ORDER BY p.code
