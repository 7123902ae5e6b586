-- The live gap run is updated in place: a refresh after a change rewrites only the rows whose
-- figures changed, and the run keeps its id for the day (docs/gap-analysis.md, "Live").
-- `refreshed_at` says when the run last took in a change; `created_at` stays when it was made.
-- Nothing else is needed for the tile cache: the in-place update writes the run's row in the
-- same transaction, and gap_run's statement trigger (V7) then drops the gap layers' tiles.
ALTER TABLE gap_run ADD COLUMN refreshed_at timestamptz;
UPDATE gap_run SET refreshed_at = created_at;
ALTER TABLE gap_run
    ALTER COLUMN refreshed_at SET DEFAULT now(),
    ALTER COLUMN refreshed_at SET NOT NULL;
