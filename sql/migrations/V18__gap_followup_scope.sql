-- A progress report changes the follow-up list of its own kelurahan, so it now names that
-- kelurahan in the change log (V15 logged no kelurahan for it, because the live refresh then
-- recomputed the whole follow-up list on every refresh). The live refresh now looks for follow-up
-- gaps only in the kelurahan a change names (sql/queries/gap_followup.sql, $4): at 10 000
-- kelurahan the whole list took about 4 s of every refresh. A program now also names the
-- kelurahan it reported from (approving it makes its reports count). The rest is V15's.
CREATE OR REPLACE FUNCTION sigap_gap_input_rows_changed() RETURNS trigger LANGUAGE plpgsql AS $$
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
                       CASE WHEN TG_TABLE_NAME IN ('proposal', 'indicator', 'progress_report')
                            THEN 'kelurahan_code' ELSE 'code' END,
                       rows_sql) INTO codes;
        IF codes IS NULL THEN RETURN NULL; END IF;
        IF TG_TABLE_NAME IN ('proposal', 'indicator', 'progress_report') THEN
            scope := array_remove(codes, NULL);
        ELSIF TG_TABLE_NAME = 'program' THEN
            -- Where its coverage is, and where it reported from: a report counts as mentoring
            -- only while its program is approved, wherever its coverage lies.
            SELECT coalesce(array_agg(DISTINCT x.code), '{}') INTO scope
            FROM (SELECT k.code
                  FROM coverage c
                  JOIN kelurahan k ON k.geom && c.geom AND ST_Intersects(k.geom, c.geom)
                  WHERE c.program_code = ANY (codes)
                  UNION
                  SELECT r.kelurahan_code FROM progress_report r
                  WHERE r.program_code = ANY (codes)) x;
        ELSIF TG_TABLE_NAME = 'partner' THEN
            SELECT coalesce(array_agg(DISTINCT k.code), '{}') INTO scope
            FROM program p
            JOIN coverage c ON c.program_code = p.code
            JOIN kelurahan k ON k.geom && c.geom AND ST_Intersects(k.geom, c.geom)
            WHERE p.partner_code = ANY (codes);
        ELSE
            scope := NULL;  -- a table whose reach is not worked out: everything
        END IF;
    END IF;
    INSERT INTO gap_change (source, kelurahan) VALUES (TG_TABLE_NAME, scope);
    PERFORM pg_notify('sigap_gap_changes', TG_TABLE_NAME);
    RETURN NULL;
END $$;
