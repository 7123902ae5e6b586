-- Public facilities (puskesmas, hospitals, clinics, schools, universities) as a reference layer,
-- usually from OpenStreetMap (ODbL: "© OpenStreetMap contributors"), and program coverage drawn
-- from them: a coverage rule "every facility of category C, radius R m" is kept as one real
-- coverage polygon per facility, refreshed by triggers when a facility is added, moved,
-- recategorised or removed, or when the rule changes.

CREATE TABLE facility (
    id              bigserial PRIMARY KEY,
    -- The source's own id (OSM: "node/123", "way/456"), so re-importing updates in place.
    code            text NOT NULL UNIQUE CHECK (length(trim(code)) BETWEEN 1 AND 64),
    name            text CHECK (length(name) <= 200),
    category        text NOT NULL CHECK (category IN ('puskesmas', 'hospital', 'clinic', 'school', 'university')),
    source          text,
    geom            geometry(Point, 4326) NOT NULL CONSTRAINT facility_geom_valid CHECK (ST_IsValid(geom)),
    -- Filled by trigger from the kelurahan that holds the point (NULL outside every kelurahan).
    kelurahan_code  text REFERENCES kelurahan (code) ON UPDATE CASCADE ON DELETE SET NULL,
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX facility_geom_gist ON facility USING gist (geom);
CREATE INDEX facility_category ON facility (category);

CREATE FUNCTION facility_fill() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Where boundaries overlap, the kelurahan holding the point with the smallest code wins,
    -- the same rule every time.
    SELECT k.code INTO NEW.kelurahan_code
      FROM kelurahan k WHERE ST_Intersects(k.geom, NEW.geom) ORDER BY k.code LIMIT 1;
    NEW.updated_at := now();
    RETURN NEW;
END $$;
CREATE TRIGGER facility_fill BEFORE INSERT OR UPDATE OF geom, category, name ON facility
    FOR EACH ROW EXECUTE FUNCTION facility_fill();

SELECT sigap_watch_geom_table('facility', ARRAY['facilities']);

-- "Program P covers every facility of category C within R metres, from .. to".
CREATE TABLE coverage_rule (
    code               text PRIMARY KEY CHECK (code ~ '^[a-z0-9][a-z0-9_-]{0,47}$'),
    program_code       text NOT NULL REFERENCES program (code) ON UPDATE CASCADE ON DELETE CASCADE,
    facility_category  text NOT NULL CHECK (facility_category IN ('puskesmas', 'hospital', 'clinic', 'school', 'university')),
    radius_m           double precision NOT NULL CHECK (radius_m > 0 AND radius_m <= 50000),
    valid_from         date,
    valid_to           date,
    note               text,
    CONSTRAINT coverage_rule_dates_ordered CHECK (valid_to >= valid_from)
);

-- The coverage rows a rule made: one per facility, removed with the rule or the facility.
ALTER TABLE coverage
    ADD COLUMN rule_code text REFERENCES coverage_rule (code) ON UPDATE CASCADE ON DELETE CASCADE,
    ADD COLUMN facility_id bigint REFERENCES facility (id) ON DELETE CASCADE,
    ADD CONSTRAINT coverage_rule_has_facility CHECK ((rule_code IS NULL) = (facility_id IS NULL));
CREATE UNIQUE INDEX coverage_rule_facility ON coverage (rule_code, facility_id) WHERE rule_code IS NOT NULL;

-- Makes the coverage of the given rules (NULL: all) match the facilities now present. Rows whose
-- facility moved get the new site (coverage_fill recomputes the polygon); facilities that left
-- the category lose their row; new ones gain one. Codes are "<rule>-f<facility id>".
CREATE FUNCTION coverage_rule_refresh(rules text[], facilities bigint[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM coverage c
     USING coverage_rule r, facility f
     WHERE c.rule_code = r.code AND c.facility_id = f.id
       AND (rules IS NULL OR r.code = ANY (rules))
       AND (facilities IS NULL OR f.id = ANY (facilities))
       AND f.category <> r.facility_category;
    INSERT INTO coverage (code, program_code, site, radius_m, geom, valid_from, valid_to, note,
                          rule_code, facility_id)
    SELECT r.code || '-f' || f.id, r.program_code, f.geom, r.radius_m,
           -- coverage_fill replaces this placeholder with the geodesic buffer of the site
           ST_Multi(ST_Buffer(f.geom, 0.0001)), r.valid_from, r.valid_to,
           coalesce(r.note || ': ', '') || coalesce(f.name, f.code),
           r.code, f.id
      FROM coverage_rule r
      JOIN facility f ON f.category = r.facility_category
     WHERE (rules IS NULL OR r.code = ANY (rules))
       AND (facilities IS NULL OR f.id = ANY (facilities))
    ON CONFLICT (rule_code, facility_id) WHERE rule_code IS NOT NULL DO UPDATE
       SET program_code = EXCLUDED.program_code, site = EXCLUDED.site,
           radius_m = EXCLUDED.radius_m, valid_from = EXCLUDED.valid_from,
           valid_to = EXCLUDED.valid_to, note = EXCLUDED.note
     WHERE coverage.site IS DISTINCT FROM EXCLUDED.site
        OR coverage.radius_m IS DISTINCT FROM EXCLUDED.radius_m
        OR coverage.program_code IS DISTINCT FROM EXCLUDED.program_code
        OR coverage.valid_from IS DISTINCT FROM EXCLUDED.valid_from
        OR coverage.valid_to IS DISTINCT FROM EXCLUDED.valid_to
        OR coverage.note IS DISTINCT FROM EXCLUDED.note;
END $$;

CREATE FUNCTION coverage_rule_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM coverage_rule_refresh((SELECT array_agg(code) FROM new_rows), NULL);
    RETURN NULL;
END $$;
CREATE TRIGGER coverage_rule_changed_ins AFTER INSERT ON coverage_rule REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION coverage_rule_changed();
CREATE TRIGGER coverage_rule_changed_upd AFTER UPDATE ON coverage_rule REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION coverage_rule_changed();

CREATE FUNCTION facility_coverage_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM coverage_rule_refresh(NULL, (SELECT array_agg(id) FROM new_rows));
    RETURN NULL;
END $$;
CREATE TRIGGER facility_coverage_ins AFTER INSERT ON facility REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION facility_coverage_changed();
CREATE TRIGGER facility_coverage_upd AFTER UPDATE ON facility REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION facility_coverage_changed();

-- Where each imported layer's data comes from and under which licence, set by
-- `sigap import --attribution ... --license ...` and shown wherever the data is served or
-- exported (OGC collection metadata, TileJSON and so the map, CSV/GeoPackage/Shapefile).
CREATE TABLE layer_source (
    layer        text PRIMARY KEY CHECK (layer ~ '^[a-z_]{1,32}$'),
    attribution  text NOT NULL CHECK (length(trim(attribution)) BETWEEN 1 AND 300),
    license      text NOT NULL CHECK (length(trim(license)) BETWEEN 1 AND 100),
    license_url  text CHECK (license_url ~ '^https?://'),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
