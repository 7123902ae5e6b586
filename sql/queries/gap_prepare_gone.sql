-- Deletes the kept pieces (V19, gap_coverage_piece) of the kelurahan of $1 text[] whose coverage
-- was deleted or reshaped since: they would never be matched again.
DELETE FROM gap_coverage_piece p
WHERE p.kelurahan_code = ANY ($1::text[])
  AND NOT EXISTS (SELECT 1 FROM coverage c
                  WHERE c.id = p.coverage_id AND md5(ST_AsEWKB(c.geom)) = p.cov_src)
