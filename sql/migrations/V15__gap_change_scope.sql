-- The live gap analysis recomputes only what a change touches. Each logged change now says which
-- kelurahan it affects (gap_change.kelurahan): the kelurahan whose measurement can differ because
-- of the rows the statement wrote, old and new. NULL means "everything" (boundaries changed, a
-- TRUNCATE, or a table whose reach is not worked out); an empty array means "no kelurahan's
-- measurement" (the run's follow-up list, recomputed whole on every refresh, may still change).
--
-- Per table, from the statement's transition tables (old and new rows alike):
--   coverage, population_weight   kelurahan their geometry intersects
--   proposal, indicator           their kelurahan_code
--   program                       kelurahan its coverage intersects (dates, type, partner)
--   partner                       kelurahan its programs' coverage intersects
--   progress_report               none (only the follow-up list reads it; it was not logged
--                                 before this migration, so a progress report did not refresh
--                                 the live run's follow-up list)
--   region, kecamatan, kelurahan  everything
ALTER TABLE gap_change ADD COLUMN kelurahan text[];

-- Statement triggers with transition tables (one per event: PostgreSQL allows transition tables
-- only on single-event triggers). Transition tables are visible only in the trigger function
-- itself, so the rows are read here (dynamic SQL, since which of old_rows/new_rows exists depends
-- on the event) and the scope worked out from their geometries or codes. Boundaries keep their
-- plain trigger from V11: they change everything, and an import of 83 000 kelurahan should not
-- keep their old rows for nothing.
CREATE FUNCTION sigap_gap_input_rows_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    rows_sql text := CASE TG_OP
        WHEN 'INSERT' THEN 'SELECT * FROM new_rows'
        WHEN 'DELETE' THEN 'SELECT * FROM old_rows'
        ELSE 'SELECT * FROM new_rows UNION ALL SELECT * FROM old_rows'
    END;
    geoms geometry[];
    codes text[];
    scope text[];
BEGIN
    IF TG_TABLE_NAME IN ('coverage', 'population_weight') THEN
        EXECUTE format('SELECT array_agg(r.geom) FROM (%s) r', rows_sql) INTO geoms;
        IF geoms IS NULL THEN RETURN NULL; END IF;  -- the statement wrote no row
        SELECT coalesce(array_agg(DISTINCT k.code), '{}') INTO scope
        FROM kelurahan k JOIN unnest(geoms) g ON k.geom && g AND ST_Intersects(k.geom, g);
    ELSE
        EXECUTE format('SELECT array_agg(DISTINCT r.%I) FROM (%s) r',
                       CASE WHEN TG_TABLE_NAME IN ('proposal', 'indicator') THEN 'kelurahan_code'
                            WHEN TG_TABLE_NAME = 'progress_report' THEN 'program_code'
                            ELSE 'code' END,
                       rows_sql) INTO codes;
        IF codes IS NULL THEN RETURN NULL; END IF;
        IF TG_TABLE_NAME IN ('proposal', 'indicator') THEN
            scope := array_remove(codes, NULL);
        ELSIF TG_TABLE_NAME = 'program' THEN
            SELECT coalesce(array_agg(DISTINCT k.code), '{}') INTO scope
            FROM coverage c JOIN kelurahan k ON k.geom && c.geom AND ST_Intersects(k.geom, c.geom)
            WHERE c.program_code = ANY (codes);
        ELSIF TG_TABLE_NAME = 'partner' THEN
            SELECT coalesce(array_agg(DISTINCT k.code), '{}') INTO scope
            FROM program p
            JOIN coverage c ON c.program_code = p.code
            JOIN kelurahan k ON k.geom && c.geom AND ST_Intersects(k.geom, c.geom)
            WHERE p.partner_code = ANY (codes);
        ELSE
            scope := '{}';  -- progress_report
        END IF;
    END IF;
    INSERT INTO gap_change (source, kelurahan) VALUES (TG_TABLE_NAME, scope);
    PERFORM pg_notify('sigap_gap_changes', TG_TABLE_NAME);
    RETURN NULL;
END $$;

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['indicator', 'partner', 'program', 'coverage', 'population_weight',
                             'proposal', 'progress_report'] LOOP
        EXECUTE format('DROP TRIGGER IF EXISTS %I ON %I', t || '_gap_input', t);
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %I REFERENCING NEW TABLE AS new_rows
                        FOR EACH STATEMENT EXECUTE FUNCTION sigap_gap_input_rows_changed()',
                       t || '_gap_ins', t);
        EXECUTE format('CREATE TRIGGER %I AFTER UPDATE ON %I
                        REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
                        FOR EACH STATEMENT EXECUTE FUNCTION sigap_gap_input_rows_changed()',
                       t || '_gap_upd', t);
        EXECUTE format('CREATE TRIGGER %I AFTER DELETE ON %I REFERENCING OLD TABLE AS old_rows
                        FOR EACH STATEMENT EXECUTE FUNCTION sigap_gap_input_rows_changed()',
                       t || '_gap_del', t);
        -- TRUNCATE has no rows to look at: everything (V11's function logs a NULL scope).
        EXECUTE format('CREATE TRIGGER %I AFTER TRUNCATE ON %I
                        FOR EACH STATEMENT EXECUTE FUNCTION sigap_gap_input_changed()',
                       t || '_gap_truncate', t);
    END LOOP;
END $$;
