-- Partners at the table (issue 15): partner staff accounts (role `mitra`, tied to one partner),
-- review of what a new partner enters, and progress reports (aggregates per program, kelurahan
-- and month or quarter; never names of beneficiaries). See docs/partners.md.

-- A mitra account belongs to exactly one partner; no other role has one.
ALTER TABLE app_user DROP CONSTRAINT app_user_role_check;
ALTER TABLE app_user
    ADD CONSTRAINT app_user_role_check
        CHECK (role IN ('resident', 'moderator', 'planner', 'official', 'admin', 'mitra')),
    ADD COLUMN partner_code text REFERENCES partner (code) ON UPDATE CASCADE,
    ADD CONSTRAINT app_user_mitra_has_partner CHECK ((role = 'mitra') = (partner_code IS NOT NULL));
CREATE INDEX app_user_partner_code ON app_user (partner_code) WHERE partner_code IS NOT NULL;

-- Who to call about a partner's programs (private: only staff and the partner's own accounts read
-- it). `trusted_at`: the partner's entries are published without review. The DEFAULT makes every
-- existing partner and every `sigap import` trusted; a partner made over the API starts untrusted
-- and becomes trusted when a planner approves its first program.
ALTER TABLE partner
    ADD COLUMN contact_name  text CHECK (char_length(contact_name) <= 120),
    ADD COLUMN contact_phone text CHECK (char_length(contact_phone) <= 40),
    ADD COLUMN contact_email text CHECK (char_length(contact_email) <= 120),
    ADD COLUMN trusted_at    timestamptz DEFAULT now(),
    ADD COLUMN trusted_by    bigint REFERENCES app_user (id);

-- Review state. NULL approved_at = pending: kept off the public layers, tiles and the gap
-- analysis. The DEFAULT approves existing rows and imports; the API writes NULL explicitly for
-- an untrusted partner's entries.
ALTER TABLE program
    ADD COLUMN approved_at timestamptz DEFAULT now(),
    ADD COLUMN approved_by bigint REFERENCES app_user (id),
    ADD COLUMN created_by  bigint REFERENCES app_user (id);
ALTER TABLE coverage
    ADD COLUMN approved_at timestamptz DEFAULT now(),
    ADD COLUMN approved_by bigint REFERENCES app_user (id),
    ADD COLUMN created_by  bigint REFERENCES app_user (id);
CREATE INDEX program_pending ON program (partner_code) WHERE approved_at IS NULL;
CREATE INDEX coverage_pending ON coverage (program_code) WHERE approved_at IS NULL;

-- Coverage of a pending program is pending too, however it was written. This keeps every public
-- reader to one predicate (`coverage.approved_at IS NOT NULL`).
CREATE FUNCTION coverage_pending_with_program() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.approved_at IS NOT NULL
       AND EXISTS (SELECT 1 FROM program p WHERE p.code = NEW.program_code AND p.approved_at IS NULL) THEN
        NEW.approved_at := NULL;
        NEW.approved_by := NULL;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER coverage_pending_with_program BEFORE INSERT OR UPDATE ON coverage
    FOR EACH ROW EXECUTE FUNCTION coverage_pending_with_program();

-- A coverage polygon as a partner sends it (GeoJSON, EPSG:4326): 2D, repaired with ST_MakeValid
-- when invalid, kept only when the repair is still polygonal. NULL when nothing polygonal is left.
CREATE FUNCTION sigap_coverage_polygon(geojson text) RETURNS geometry
LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT CASE WHEN ST_IsEmpty(f) THEN NULL ELSE ST_Multi(f) END
    FROM (SELECT CASE WHEN ST_IsValid(g) THEN g
                      ELSE ST_CollectionExtract(ST_MakeValid(g), 3) END AS f
          FROM (SELECT ST_Force2D(ST_SetSRID(ST_GeomFromGeoJSON(geojson), 4326)) AS g) raw) fixed
$$;

-- The last day of a calendar month or quarter starting on `start`.
CREATE FUNCTION sigap_period_end(kind text, start date) RETURNS date
LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT (start + CASE WHEN kind = 'quarter' THEN interval '3 months' ELSE interval '1 month' END
                  - interval '1 day')::date
$$;

-- Progress per program, kelurahan and period: aggregates only. A period is a calendar month or
-- quarter, named by its first day; period_end is derived so readers compare dates directly.
CREATE TABLE progress_report (
    id                  bigserial PRIMARY KEY,
    program_code        text NOT NULL REFERENCES program (code) ON UPDATE CASCADE ON DELETE CASCADE,
    kelurahan_code      text NOT NULL REFERENCES kelurahan (code) ON UPDATE CASCADE,
    period_kind         text NOT NULL CHECK (period_kind IN ('month', 'quarter')),
    period_start        date NOT NULL,
    period_end          date NOT NULL
                        GENERATED ALWAYS AS (sigap_period_end(period_kind, period_start)) STORED,
    participants        integer NOT NULL CHECK (participants >= 0),
    participants_women  integer NOT NULL DEFAULT 0
                        CHECK (participants_women >= 0 AND participants_women <= participants),
    ukm_assisted        integer NOT NULL DEFAULT 0 CHECK (ukm_assisted >= 0),
    ukm_women_led       integer NOT NULL DEFAULT 0
                        CHECK (ukm_women_led >= 0 AND ukm_women_led <= ukm_assisted),
    mentoring_sessions  integer NOT NULL DEFAULT 0 CHECK (mentoring_sessions >= 0),
    note                text CHECK (char_length(note) <= 2000),
    created_by          bigint REFERENCES app_user (id),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT progress_period_aligned CHECK (
        extract(day FROM period_start) = 1
        AND (period_kind = 'month' OR extract(month FROM period_start) IN (1, 4, 7, 10))),
    CONSTRAINT progress_report_unique UNIQUE (program_code, kelurahan_code, period_kind, period_start)
);
CREATE INDEX progress_report_kelurahan ON progress_report (kelurahan_code, period_start);

-- A month and the quarter holding it would count the same people twice: periods of one program
-- in one kelurahan never overlap. The advisory lock serialises writers of that pair.
CREATE FUNCTION progress_report_no_overlap() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('progress:' || NEW.program_code || ':' || NEW.kelurahan_code));
    IF EXISTS (SELECT 1 FROM progress_report r
               WHERE r.program_code = NEW.program_code AND r.kelurahan_code = NEW.kelurahan_code
                 AND r.id <> NEW.id
                 AND r.period_start <= sigap_period_end(NEW.period_kind, NEW.period_start)
                 AND r.period_end >= NEW.period_start) THEN
        RAISE EXCEPTION 'a report of program % in kelurahan % already covers part of this period',
            NEW.program_code, NEW.kelurahan_code USING ERRCODE = 'SG409';
    END IF;
    NEW.updated_at := now();
    RETURN NEW;
END $$;
CREATE TRIGGER progress_report_no_overlap BEFORE INSERT OR UPDATE ON progress_report
    FOR EACH ROW EXECUTE FUNCTION progress_report_no_overlap();
