-- Kelurahan whose covered fraction changed between run $1 (a) and run $2 (b) by more than $3.
-- A kelurahan present in only one run counts as 0 in the other.
SELECT coalesce(b.kelurahan_code, a.kelurahan_code) AS kelurahan_code,
       coalesce(a.covered_fraction, 0) AS covered_fraction_a,
       coalesce(b.covered_fraction, 0) AS covered_fraction_b,
       coalesce(b.covered_fraction, 0) - coalesce(a.covered_fraction, 0) AS delta,
       coalesce(a.gap_score, 0) AS gap_score_a,
       coalesce(b.gap_score, 0) AS gap_score_b
FROM (SELECT * FROM gap_kelurahan WHERE run_id = $1) a
FULL JOIN (SELECT * FROM gap_kelurahan WHERE run_id = $2) b USING (kelurahan_code)
WHERE abs(coalesce(b.covered_fraction, 0) - coalesce(a.covered_fraction, 0)) > $3
ORDER BY delta, kelurahan_code
