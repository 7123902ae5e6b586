-- The live gap analysis. The public map shows the latest *live* run: default parameters, as of
-- the day it was made. A planner's dated or filtered run is kept and served by id, but never
-- replaces it (before, any default-parameter run did, whatever its date).
--
-- Every write to a table the analysis reads logs one row in gap_change per statement and
-- notifies 'sigap_gap_changes'; `sigap serve` keeps the live run fresh from these (see
-- docs/gap-analysis.md, "Live"). A run records the last change it includes.

ALTER TABLE gap_run
    ADD COLUMN live boolean NOT NULL DEFAULT false,
    ADD COLUMN changes_through bigint;
UPDATE gap_run SET live = is_default AND as_of = (created_at AT TIME ZONE 'UTC')::date;
CREATE INDEX gap_run_live ON gap_run (id DESC) WHERE live;

CREATE OR REPLACE VIEW gap_run_latest_default AS
SELECT * FROM gap_run WHERE live ORDER BY id DESC LIMIT 1;

CREATE TABLE gap_change (
    id      bigserial PRIMARY KEY,
    at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    source  text NOT NULL
);

CREATE FUNCTION sigap_gap_input_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO gap_change (source) VALUES (TG_TABLE_NAME);
    PERFORM pg_notify('sigap_gap_changes', TG_TABLE_NAME);
    RETURN NULL;
END $$;

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['region', 'kecamatan', 'kelurahan', 'indicator', 'partner', 'program',
                             'coverage', 'population_weight', 'proposal'] LOOP
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON %I
                        FOR EACH STATEMENT EXECUTE FUNCTION sigap_gap_input_changed()',
                       t || '_gap_input', t);
    END LOOP;
END $$;
