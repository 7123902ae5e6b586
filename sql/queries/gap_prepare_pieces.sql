-- Keeps each coverage area clipped to each kelurahan of $1 text[] it meets (V19,
-- gap_coverage_piece), for the coverage a run reads: approved, active on $2 date, of the
-- programs $3 text[] (gap_active_programs.sql). Only pairs without a kept row computed from the
-- same two shapes are clipped. Reads gap_kelurahan_shape, so gap_prepare_shape.sql runs first;
-- gap_prepare_gone.sql runs before it. gap_coverage_clip (V19) is also the run's fallback in
-- gap_kelurahan_chunk.sql, so a kept piece and a computed one are equal.
WITH todo AS MATERIALIZED (
    -- Found first, so that only these are clipped.
    SELECT s.code, s.src AS kel_src, s.g AS kg, kl.geom AS kgeom, c.id, c.geom AS cgeom,
           c.geom_md5 AS cov_src
    FROM gap_kelurahan_shape s
    JOIN kelurahan kl ON kl.code = s.code AND kl.geom_md5 = s.src
    JOIN coverage c ON c.geom && kl.geom
    WHERE s.code = ANY ($1::text[])
      AND c.program_code = ANY ($3::text[])
      AND c.valid_from <= $2 AND c.valid_to >= $2
      AND c.approved_at IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM gap_coverage_piece p
                      WHERE p.kelurahan_code = s.code AND p.coverage_id = c.id
                        AND p.kel_src = s.src AND p.cov_src = c.geom_md5)
)
INSERT INTO gap_coverage_piece AS p (kelurahan_code, coverage_id, kel_src, cov_src, g)
SELECT code, id, kel_src, cov_src, gap_coverage_clip(cgeom, kgeom, kg)
FROM todo
ORDER BY code, id
ON CONFLICT (kelurahan_code, coverage_id) DO UPDATE
    SET kel_src = excluded.kel_src, cov_src = excluded.cov_src, g = excluded.g
