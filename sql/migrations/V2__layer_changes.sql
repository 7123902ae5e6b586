-- Change notifications for the served layers. Every write path (API, `sigap import`, psql,
-- other triggers) ends in one of these statement-level triggers, which send one pg_notify on
-- channel 'sigap_changes' per statement: the layers affected and the old and new extents of the
-- rows touched, in EPSG:4326. The server drops only the cached tiles that intersect those extents.
--
-- Payload (always well under pg_notify's 8000-byte limit):
--   {"layers":["proposals"],"boxes":[[xmin,ymin,xmax,ymax],...]}
-- "boxes": null means "everything of these layers" (TRUNCATE, or rows without geometry).
-- Statement level with transition tables keeps bulk loads cheap: one COPY of a million rows is one
-- notification with one extent, not a million.

CREATE FUNCTION sigap_notify_change(layers text[], old_box box2d, new_box box2d, everything boolean)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    boxes jsonb := '[]'::jsonb;
BEGIN
    IF everything THEN
        PERFORM pg_notify('sigap_changes',
            jsonb_build_object('layers', to_jsonb(layers), 'boxes', NULL)::text);
        RETURN;
    END IF;
    IF old_box IS NOT NULL THEN
        boxes := boxes || jsonb_build_array(jsonb_build_array(
            ST_XMin(old_box), ST_YMin(old_box), ST_XMax(old_box), ST_YMax(old_box)));
    END IF;
    IF new_box IS NOT NULL THEN
        boxes := boxes || jsonb_build_array(jsonb_build_array(
            ST_XMin(new_box), ST_YMin(new_box), ST_XMax(new_box), ST_YMax(new_box)));
    END IF;
    IF jsonb_array_length(boxes) > 0 THEN
        PERFORM pg_notify('sigap_changes',
            jsonb_build_object('layers', to_jsonb(layers), 'boxes', boxes)::text);
    END IF;
END $$;

-- For tables with a `geom` column in EPSG:4326. TG_ARGV: the layer ids the table feeds.
CREATE FUNCTION sigap_geom_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    old_box box2d;
    new_box box2d;
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        PERFORM sigap_notify_change(TG_ARGV::text[], NULL, NULL, true);
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        SELECT ST_Extent(geom) INTO old_box FROM old_rows;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        SELECT ST_Extent(geom) INTO new_box FROM new_rows;
    END IF;
    PERFORM sigap_notify_change(TG_ARGV::text[], old_box, new_box, false);
    RETURN NULL;
END $$;

-- Transition tables allow one event per trigger, hence three triggers per table.
CREATE FUNCTION sigap_watch_geom_table(tbl regclass, layers text[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    args text := (SELECT string_agg(quote_literal(l), ', ') FROM unnest(layers) l);
    base text := replace(tbl::text, '.', '_');
BEGIN
    EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %s REFERENCING NEW TABLE AS new_rows
                    FOR EACH STATEMENT EXECUTE FUNCTION sigap_geom_changed(%s)',
                   base || '_changed_ins', tbl, args);
    EXECUTE format('CREATE TRIGGER %I AFTER UPDATE ON %s REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
                    FOR EACH STATEMENT EXECUTE FUNCTION sigap_geom_changed(%s)',
                   base || '_changed_upd', tbl, args);
    EXECUTE format('CREATE TRIGGER %I AFTER DELETE ON %s REFERENCING OLD TABLE AS old_rows
                    FOR EACH STATEMENT EXECUTE FUNCTION sigap_geom_changed(%s)',
                   base || '_changed_del', tbl, args);
    EXECUTE format('CREATE TRIGGER %I AFTER TRUNCATE ON %s
                    FOR EACH STATEMENT EXECUTE FUNCTION sigap_geom_changed(%s)',
                   base || '_changed_trunc', tbl, args);
END $$;

-- kecamatan carry sums of their kelurahan indicators, so kelurahan changes touch both layers.
SELECT sigap_watch_geom_table('kecamatan', ARRAY['kecamatan']);
SELECT sigap_watch_geom_table('kelurahan', ARRAY['kelurahan', 'kecamatan']);
SELECT sigap_watch_geom_table('coverage', ARRAY['coverage']);
SELECT sigap_watch_geom_table('proposal', ARRAY['proposals']);

-- Indicators have no geometry: the extent is that of their kelurahan.
CREATE FUNCTION sigap_indicator_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    old_box box2d;
    new_box box2d;
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        PERFORM sigap_notify_change(ARRAY['kelurahan', 'kecamatan'], NULL, NULL, true);
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        SELECT ST_Extent(k.geom) INTO old_box
          FROM kelurahan k WHERE k.code IN (SELECT kelurahan_code FROM old_rows);
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        SELECT ST_Extent(k.geom) INTO new_box
          FROM kelurahan k WHERE k.code IN (SELECT kelurahan_code FROM new_rows);
    END IF;
    PERFORM sigap_notify_change(ARRAY['kelurahan', 'kecamatan'], old_box, new_box, false);
    RETURN NULL;
END $$;
CREATE TRIGGER indicator_changed_ins AFTER INSERT ON indicator REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION sigap_indicator_changed();
CREATE TRIGGER indicator_changed_upd AFTER UPDATE ON indicator
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION sigap_indicator_changed();
CREATE TRIGGER indicator_changed_del AFTER DELETE ON indicator REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION sigap_indicator_changed();
CREATE TRIGGER indicator_changed_trunc AFTER TRUNCATE ON indicator
    FOR EACH STATEMENT EXECUTE FUNCTION sigap_indicator_changed();

-- Coverage properties come from program and partner (names, types): a rename touches the
-- extent of that program's or partner's coverage. Inserts change nothing served.
CREATE FUNCTION sigap_program_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    box box2d;
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        PERFORM sigap_notify_change(ARRAY['coverage'], NULL, NULL, true);
        RETURN NULL;
    END IF;
    IF TG_TABLE_NAME = 'program' THEN
        SELECT ST_Extent(c.geom) INTO box FROM coverage c
         WHERE c.program_code IN (SELECT code FROM old_rows);
    ELSE
        SELECT ST_Extent(c.geom) INTO box FROM coverage c JOIN program p ON p.code = c.program_code
         WHERE p.partner_code IN (SELECT code FROM old_rows);
    END IF;
    PERFORM sigap_notify_change(ARRAY['coverage'], box, NULL, false);
    RETURN NULL;
END $$;
CREATE TRIGGER program_changed_upd AFTER UPDATE ON program REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION sigap_program_changed();
CREATE TRIGGER program_changed_del AFTER DELETE ON program REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION sigap_program_changed();
CREATE TRIGGER program_changed_trunc AFTER TRUNCATE ON program
    FOR EACH STATEMENT EXECUTE FUNCTION sigap_program_changed();
CREATE TRIGGER partner_changed_upd AFTER UPDATE ON partner REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION sigap_program_changed();
CREATE TRIGGER partner_changed_del AFTER DELETE ON partner REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION sigap_program_changed();
CREATE TRIGGER partner_changed_trunc AFTER TRUNCATE ON partner
    FOR EACH STATEMENT EXECUTE FUNCTION sigap_program_changed();
