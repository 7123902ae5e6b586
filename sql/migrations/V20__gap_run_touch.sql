-- A live refresh that changed no figure (an edit that moved nothing measured: a no-op update, an
-- end date moved within a day the analysis does not read) only records that the run includes the
-- change: it sets `changes_through` and `refreshed_at` and nothing else
-- (sql/queries/gap_live_touch_run.sql). Until now every update of a gap_run row dropped all cached
-- tiles of the gap layers (V7); those two columns change no tile, so updating only them no
-- longer does. Every other column still does, as do inserts, deletes and TRUNCATE.
DROP TRIGGER gap_run_changed ON gap_run;
CREATE TRIGGER gap_run_changed
    AFTER INSERT OR DELETE OR TRUNCATE
       OR UPDATE OF id, created_at, as_of, program_type, partner_type, cell_m, followup_months,
                    weights, is_default, population_weighted, summary, live
    ON gap_run
    FOR EACH STATEMENT EXECUTE FUNCTION sigap_layers_replaced('gap_kelurahan', 'gap_cells');

-- An in-place refresh rewrites every row whose rank moved: one changed score can move tens of
-- thousands of kelurahan and cells at national size (44 311 rows a refresh, docs/performance-gap.md).
-- None of the columns it writes is indexed, so with room left on each page PostgreSQL can update
-- them in place (HOT) instead of adding a new entry to every index, the cells' GiST index
-- included: it did so for 0.1 % of the updates at full pages. Pages of new runs keep 20 % free.
ALTER TABLE gap_kelurahan SET (fillfactor = 80);
ALTER TABLE gap_kecamatan SET (fillfactor = 80);
ALTER TABLE gap_cell SET (fillfactor = 80);
