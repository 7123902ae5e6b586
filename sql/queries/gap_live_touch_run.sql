-- Takes in a live refresh that changed no row of run $1 (gap_live_update_run.sql otherwise): only
-- the last change it includes ($4) and when, so the gap layers' cached tiles stay (V20). Only
-- while $1 is the latest live run and its summary ($2) and population weighting ($3) are those
-- of the refresh; else no row, and the caller updates the run in full.
UPDATE gap_run r
SET changes_through = $4, refreshed_at = now()
WHERE r.id = $1 AND r.live
  AND r.summary = $2 AND r.population_weighted = $3
  AND NOT EXISTS (SELECT 1 FROM gap_run n WHERE n.live AND n.id > r.id)
RETURNING r.id
