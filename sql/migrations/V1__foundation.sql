-- SIGAP foundation schema: administrative areas, indicators, partners, programs, coverage,
-- proposals and users. Every geometry is EPSG:4326 with a GiST index; typmods fix type and SRID,
-- CHECK constraints refuse invalid or empty shapes. Codes follow Kemendagri
-- (32.73 kota, 32.73.01 kecamatan, 32.73.01.1001 kelurahan).

CREATE EXTENSION IF NOT EXISTS postgis;

CREATE TABLE region (
    code        text PRIMARY KEY CHECK (code ~ '^[0-9]{2}\.[0-9]{2}$'),
    name        text NOT NULL CHECK (length(trim(name)) > 0),
    geom        geometry(MultiPolygon, 4326) NOT NULL
                CONSTRAINT region_geom_valid CHECK (ST_IsValid(geom) AND NOT ST_IsEmpty(geom)),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX region_geom_gist ON region USING gist (geom);

CREATE TABLE kecamatan (
    code        text PRIMARY KEY CHECK (code ~ '^[0-9]{2}\.[0-9]{2}\.[0-9]{2}$'),
    name        text NOT NULL CHECK (length(trim(name)) > 0),
    region_code text NOT NULL REFERENCES region (code) ON UPDATE CASCADE,
    geom        geometry(MultiPolygon, 4326) NOT NULL
                CONSTRAINT kecamatan_geom_valid CHECK (ST_IsValid(geom) AND NOT ST_IsEmpty(geom)),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT kecamatan_code_in_region CHECK (left(code, 5) = region_code)
);
CREATE INDEX kecamatan_geom_gist ON kecamatan USING gist (geom);
CREATE INDEX kecamatan_region_code ON kecamatan (region_code);

CREATE TABLE kelurahan (
    code            text PRIMARY KEY CHECK (code ~ '^[0-9]{2}\.[0-9]{2}\.[0-9]{2}\.[0-9]{4}$'),
    name            text NOT NULL CHECK (length(trim(name)) > 0),
    kecamatan_code  text NOT NULL REFERENCES kecamatan (code) ON UPDATE CASCADE,
    geom            geometry(MultiPolygon, 4326) NOT NULL
                    CONSTRAINT kelurahan_geom_valid CHECK (ST_IsValid(geom) AND NOT ST_IsEmpty(geom)),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT kelurahan_code_in_kecamatan CHECK (left(code, 8) = kecamatan_code)
);
CREATE INDEX kelurahan_geom_gist ON kelurahan USING gist (geom);
CREATE INDEX kelurahan_kecamatan_code ON kelurahan (kecamatan_code);

-- Indicators are columns, not name/value pairs: each figure gets a real type, a CHECK
-- (low-income households never exceed households) and plain joins in the OGC layers and the gap
-- analysis. A new indicator is one migration away. Columns are nullable because sources differ by
-- year (population from 2022, households from 2017): indicator_latest picks, per kelurahan, the
-- most recent year that has each figure.
CREATE TABLE indicator (
    kelurahan_code         text NOT NULL REFERENCES kelurahan (code) ON UPDATE CASCADE ON DELETE CASCADE,
    year                   integer NOT NULL CHECK (year BETWEEN 1900 AND 2100),
    population             bigint CHECK (population >= 0),
    households             bigint CHECK (households >= 0),
    low_income_households  bigint CHECK (low_income_households >= 0),
    source                 text,
    PRIMARY KEY (kelurahan_code, year),
    CONSTRAINT indicator_low_income_le_households
        CHECK (households IS NULL OR low_income_households IS NULL OR low_income_households <= households)
);

CREATE VIEW indicator_latest AS
SELECT k.code AS kelurahan_code,
       p.population, p.year AS population_year,
       h.households, h.low_income_households, h.year AS households_year
FROM kelurahan k
LEFT JOIN LATERAL (
    SELECT i.population, i.year FROM indicator i
    WHERE i.kelurahan_code = k.code AND i.population IS NOT NULL
    ORDER BY i.year DESC LIMIT 1) p ON true
LEFT JOIN LATERAL (
    SELECT i.households, i.low_income_households, i.year FROM indicator i
    WHERE i.kelurahan_code = k.code AND i.low_income_households IS NOT NULL
    ORDER BY i.year DESC LIMIT 1) h ON true;

CREATE TABLE partner (
    code         text PRIMARY KEY CHECK (code ~ '^[a-z0-9][a-z0-9_-]{0,63}$'),
    name         text NOT NULL CHECK (length(trim(name)) > 0),
    type         text NOT NULL CHECK (type IN ('pemerintah', 'lsm', 'swasta', 'komunitas')),
    description  text
);

CREATE TABLE program (
    code                   text PRIMARY KEY CHECK (code ~ '^[a-z0-9][a-z0-9_-]{0,63}$'),
    name                   text NOT NULL CHECK (length(trim(name)) > 0),
    partner_code           text NOT NULL REFERENCES partner (code) ON UPDATE CASCADE,
    type                   text NOT NULL CHECK (type IN ('pelatihan_pertanian', 'pelatihan_kerja', 'ukm',
                                                         'infrastruktur', 'pendampingan', 'lainnya')),
    start_date             date NOT NULL,
    end_date               date NOT NULL,
    target_group           text,
    planned_beneficiaries  integer CHECK (planned_beneficiaries >= 0),
    description            text,
    CONSTRAINT program_dates_ordered CHECK (end_date >= start_date)
);
CREATE INDEX program_partner_code ON program (partner_code);

-- Where a program works. Either a polygon, or a site with a service radius; for a site the
-- polygon is computed (geodesic buffer) and stored beside it, so every reader uses one column.
CREATE TABLE coverage (
    id            bigserial PRIMARY KEY,
    code          text NOT NULL UNIQUE CHECK (length(trim(code)) > 0),
    program_code  text NOT NULL REFERENCES program (code) ON UPDATE CASCADE ON DELETE CASCADE,
    site          geometry(Point, 4326),
    radius_m      double precision CHECK (radius_m > 0 AND radius_m <= 50000),
    geom          geometry(MultiPolygon, 4326) NOT NULL
                  CONSTRAINT coverage_geom_valid CHECK (ST_IsValid(geom) AND NOT ST_IsEmpty(geom)),
    valid_from    date NOT NULL,
    valid_to      date NOT NULL,
    note          text,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT coverage_site_has_radius CHECK ((site IS NULL) = (radius_m IS NULL)),
    CONSTRAINT coverage_dates_ordered CHECK (valid_to >= valid_from)
);
CREATE INDEX coverage_geom_gist ON coverage USING gist (geom);
CREATE INDEX coverage_program_code ON coverage (program_code);

CREATE FUNCTION coverage_fill() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.site IS NOT NULL THEN
        NEW.geom := ST_Multi(ST_Buffer(NEW.site::geography, NEW.radius_m, 'quad_segs=16')::geometry);
    END IF;
    IF NEW.valid_from IS NULL OR NEW.valid_to IS NULL THEN
        SELECT coalesce(NEW.valid_from, p.start_date), coalesce(NEW.valid_to, p.end_date)
          INTO NEW.valid_from, NEW.valid_to
          FROM program p WHERE p.code = NEW.program_code;
    END IF;
    NEW.updated_at := now();
    RETURN NEW;
END $$;
CREATE TRIGGER coverage_fill BEFORE INSERT OR UPDATE ON coverage
    FOR EACH ROW EXECUTE FUNCTION coverage_fill();

CREATE TABLE app_user (
    id              bigserial PRIMARY KEY,
    username        text NOT NULL CHECK (username ~ '^[a-z0-9][a-z0-9._-]{2,39}$'),
    password_hash   text NOT NULL,
    role            text NOT NULL CHECK (role IN ('resident', 'moderator', 'planner', 'official', 'admin')),
    -- A kecamatan or kelurahan code; staff with a scope act only inside it.
    area_code       text CHECK (area_code ~ '^[0-9]{2}\.[0-9]{2}\.[0-9]{2}(\.[0-9]{4})?$'),
    display_name    text,
    phone           text,
    home_kelurahan_code text REFERENCES kelurahan (code) ON UPDATE CASCADE,
    created_at      timestamptz NOT NULL DEFAULT now(),
    disabled_at     timestamptz
);
CREATE UNIQUE INDEX app_user_username ON app_user (lower(username));

CREATE TABLE proposal (
    id                  bigserial PRIMARY KEY,
    tracking_code       text NOT NULL UNIQUE CHECK (tracking_code ~ '^[A-Z0-9-]{6,24}$'),
    geom                geometry(Point, 4326) NOT NULL
                        CONSTRAINT proposal_geom_valid CHECK (ST_IsValid(geom) AND NOT ST_IsEmpty(geom)),
    category            text NOT NULL CHECK (category IN ('jalan', 'drainase', 'air_bersih', 'sanitasi',
                                                          'penerangan_jalan', 'fasilitas_umum', 'lainnya')),
    title               text NOT NULL CHECK (char_length(title) BETWEEN 5 AND 120),
    description         text NOT NULL DEFAULT '' CHECK (char_length(description) <= 2000),
    estimated_cost_idr  bigint CHECK (estimated_cost_idr >= 0),
    status              text NOT NULL DEFAULT 'diajukan'
                        CHECK (status IN ('diajukan', 'diverifikasi', 'ditolak', 'digabung', 'diprioritaskan',
                                          'dianggarkan', 'dikerjakan', 'selesai')),
    kelurahan_code      text REFERENCES kelurahan (code) ON UPDATE CASCADE,
    kecamatan_code      text REFERENCES kecamatan (code) ON UPDATE CASCADE,
    submitter_id        bigint REFERENCES app_user (id),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX proposal_geom_gist ON proposal USING gist (geom);
CREATE INDEX proposal_status ON proposal (status);
CREATE INDEX proposal_kelurahan_code ON proposal (kelurahan_code);

-- Kelurahan and kecamatan always follow the point; nobody types them in.
CREATE FUNCTION proposal_assign_area() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT k.code, k.kecamatan_code INTO NEW.kelurahan_code, NEW.kecamatan_code
      FROM kelurahan k WHERE ST_Intersects(k.geom, NEW.geom)
      ORDER BY k.code LIMIT 1;
    RETURN NEW;
END $$;
CREATE TRIGGER proposal_assign_area BEFORE INSERT OR UPDATE OF geom ON proposal
    FOR EACH ROW EXECUTE FUNCTION proposal_assign_area();

CREATE TABLE proposal_event (
    id           bigserial PRIMARY KEY,
    proposal_id  bigint NOT NULL REFERENCES proposal (id) ON DELETE CASCADE,
    actor_id     bigint REFERENCES app_user (id),
    at           timestamptz NOT NULL DEFAULT now(),
    from_status  text,
    to_status    text NOT NULL,
    note         text
);
CREATE INDEX proposal_event_proposal_id ON proposal_event (proposal_id, at);
