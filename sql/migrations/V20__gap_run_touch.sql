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
