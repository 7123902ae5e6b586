-- The gap and budget layers join to kelurahan and proposal rows and are replaced wholesale by a
-- new gap run or an adopted scenario: make those writes invalidate their cached tiles too.

CREATE FUNCTION sigap_layers_replaced() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM sigap_notify_change(TG_ARGV::text[], NULL, NULL, true);
    RETURN NULL;
END $$;

CREATE TRIGGER gap_run_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON gap_run
    FOR EACH STATEMENT EXECUTE FUNCTION sigap_layers_replaced('gap_kelurahan', 'gap_cells');
CREATE TRIGGER budget_scenario_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON budget_scenario
    FOR EACH STATEMENT EXECUTE FUNCTION sigap_layers_replaced('budget_funded');

-- Boundaries and proposals feed the new layers as well (by extent, like their own layers).
DROP TRIGGER kelurahan_changed_ins ON kelurahan;
DROP TRIGGER kelurahan_changed_upd ON kelurahan;
DROP TRIGGER kelurahan_changed_del ON kelurahan;
DROP TRIGGER kelurahan_changed_trunc ON kelurahan;
SELECT sigap_watch_geom_table('kelurahan', ARRAY['kelurahan', 'kecamatan', 'gap_kelurahan']);
DROP TRIGGER proposal_changed_ins ON proposal;
DROP TRIGGER proposal_changed_upd ON proposal;
DROP TRIGGER proposal_changed_del ON proposal;
DROP TRIGGER proposal_changed_trunc ON proposal;
SELECT sigap_watch_geom_table('proposal', ARRAY['proposals', 'budget_funded']);
