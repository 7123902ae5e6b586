-- Takes in a live refresh done in place: run $1's summary, population weighting, the last change
-- it includes and when. Only while $1 is the latest live run (else no row: the caller saves a new
-- run instead). The row lock it takes keeps two writers of the same run apart.
UPDATE gap_run r
SET summary = $2, population_weighted = $3, changes_through = $4, refreshed_at = now()
WHERE r.id = $1 AND r.live
  AND NOT EXISTS (SELECT 1 FROM gap_run n WHERE n.live AND n.id > r.id)
RETURNING r.id
