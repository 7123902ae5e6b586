-- Deletes the kept pieces (V19, gap_coverage_piece) of the kelurahan of $1 text[] whose coverage
-- was deleted or reshaped since: they would never be matched again. A scalar subquery, one
-- primary-key lookup per kept piece (as NOT EXISTS the planner hashed the whole coverage table).
DELETE FROM gap_coverage_piece p
WHERE p.kelurahan_code = ANY ($1::text[])
  AND (SELECT c.geom_md5 FROM coverage c WHERE c.id = p.coverage_id)
      IS DISTINCT FROM p.cov_src
