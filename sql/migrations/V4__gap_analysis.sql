-- Gap analysis: stored runs with their parameters and weights, per-kelurahan, per-cell and
-- per-kecamatan results, follow-up gaps and overlaps; an optional population weighting layer; the
-- demand view; and the "latest default run" views the OGC collections and tiles serve.
-- How the figures are computed: docs/gap-analysis.md.

-- Optional population weighting: points or polygons carrying a weight (people, buildings,
-- residential share ...). When rows exist, people inside a kelurahan are spread by them instead
-- of evenly by area.
CREATE TABLE population_weight (
    id      bigserial PRIMARY KEY,
    code    text UNIQUE,
    geom    geometry(Geometry, 4326) NOT NULL
            CONSTRAINT population_weight_geom_valid CHECK (
                ST_IsValid(geom) AND NOT ST_IsEmpty(geom)
                AND GeometryType(geom) IN ('POINT', 'MULTIPOINT', 'POLYGON', 'MULTIPOLYGON')),
    weight  double precision NOT NULL CHECK (weight >= 0 AND weight < 'Infinity'),
    source  text
);
CREATE INDEX population_weight_geom_gist ON population_weight USING gist (geom);

-- The community's demand signal, one row per proposal. The gap analysis reads supports only
-- through this view. FOR NOW supports are 0: proposal.support_count arrives with the proposals
-- migration (V3), and the integrator redefines this view in a later migration as
--   SELECT id, kelurahan_code, support_count::bigint FROM proposal
-- The status filter (ProposalStatus::PUBLIC) is applied by the analysis, not here.
CREATE VIEW proposal_demand AS
SELECT p.id AS proposal_id, p.kelurahan_code, 0::bigint AS supports
FROM proposal p;

CREATE TABLE gap_run (
    id                   bigserial PRIMARY KEY,
    created_at           timestamptz NOT NULL DEFAULT now(),
    as_of                date NOT NULL,
    program_type         text,
    partner_type         text,
    cell_m               double precision NOT NULL CHECK (cell_m >= 50 AND cell_m <= 50000),
    followup_months      integer NOT NULL CHECK (followup_months BETWEEN 1 AND 120),
    weights              jsonb NOT NULL,
    -- True when made with the default filters and weights: the public map shows the latest of these.
    is_default           boolean NOT NULL,
    population_weighted  boolean NOT NULL,
    summary              jsonb NOT NULL
);
CREATE INDEX gap_run_default ON gap_run (is_default, id DESC);

CREATE TABLE gap_kelurahan (
    run_id                 bigint NOT NULL REFERENCES gap_run (id) ON DELETE CASCADE,
    kelurahan_code         text NOT NULL,
    kecamatan_code         text NOT NULL,
    area_m2                double precision NOT NULL,
    covered_m2             double precision NOT NULL,
    covered_fraction       double precision NOT NULL,
    -- Share of people covered: covered_fraction, or by population_weight when it has rows here.
    people_fraction        double precision NOT NULL,
    population             bigint,
    households             bigint,
    low_income_households  bigint,
    people_covered         double precision NOT NULL,
    people_uncovered       double precision NOT NULL,
    low_income_covered     double precision NOT NULL,
    low_income_uncovered   double precision NOT NULL,
    programs               integer NOT NULL,
    partners               integer NOT NULL,
    proposals              integer NOT NULL,
    supports               bigint NOT NULL,
    need                   double precision NOT NULL,
    demand                 double precision NOT NULL,
    gap_score              double precision NOT NULL,
    rank                   integer NOT NULL,
    class                  smallint NOT NULL CHECK (class BETWEEN 1 AND 5),
    PRIMARY KEY (run_id, kelurahan_code)
);

CREATE TABLE gap_kecamatan (
    run_id                 bigint NOT NULL REFERENCES gap_run (id) ON DELETE CASCADE,
    kecamatan_code         text NOT NULL,
    area_m2                double precision NOT NULL,
    covered_m2             double precision NOT NULL,
    covered_fraction       double precision NOT NULL,
    people_fraction        double precision NOT NULL,
    population             bigint,
    households             bigint,
    low_income_households  bigint,
    people_covered         double precision NOT NULL,
    people_uncovered       double precision NOT NULL,
    low_income_covered     double precision NOT NULL,
    low_income_uncovered   double precision NOT NULL,
    programs               integer NOT NULL,
    partners               integer NOT NULL,
    proposals              integer NOT NULL,
    supports               bigint NOT NULL,
    need                   double precision NOT NULL,
    demand                 double precision NOT NULL,
    gap_score              double precision NOT NULL,
    rank                   integer NOT NULL,
    class                  smallint NOT NULL CHECK (class BETWEEN 1 AND 5),
    PRIMARY KEY (run_id, kecamatan_code)
);

-- Hexagon cells of ST_HexagonGrid(cell_m) in EPSG:32748 (cell_m is the hexagon's edge length),
-- identified by their grid column and row; the shape is rebuilt with ST_Hexagon.
CREATE TABLE gap_cell (
    run_id                bigint NOT NULL REFERENCES gap_run (id) ON DELETE CASCADE,
    cell_i                integer NOT NULL,
    cell_j                integer NOT NULL,
    geom                  geometry(Polygon, 4326) NOT NULL,
    land_m2               double precision NOT NULL,
    covered_m2            double precision NOT NULL,
    covered_fraction      double precision NOT NULL,
    low_income_households double precision NOT NULL,
    low_income_uncovered  double precision NOT NULL,
    proposals             integer NOT NULL,
    supports              bigint NOT NULL,
    need                  double precision NOT NULL,
    demand                double precision NOT NULL,
    gap_score             double precision NOT NULL,
    rank                  integer NOT NULL,
    class                 smallint NOT NULL CHECK (class BETWEEN 1 AND 5),
    PRIMARY KEY (run_id, cell_i, cell_j)
);
CREATE INDEX gap_cell_geom_gist ON gap_cell USING gist (geom);

-- Kelurahan where a training program ended and no pendampingan reached them within
-- followup_months afterwards (only windows that closed by as_of).
CREATE TABLE gap_followup (
    run_id           bigint NOT NULL REFERENCES gap_run (id) ON DELETE CASCADE,
    kelurahan_code   text NOT NULL,
    program_code     text NOT NULL,
    program_type     text NOT NULL,
    partner_code     text NOT NULL,
    training_ended   date NOT NULL,
    window_closed    date NOT NULL,
    PRIMARY KEY (run_id, kelurahan_code, program_code)
);

-- Where two or more partners run the same program type at as_of in the same place.
CREATE TABLE gap_overlap (
    run_id          bigint NOT NULL REFERENCES gap_run (id) ON DELETE CASCADE,
    kelurahan_code  text NOT NULL,
    program_type    text NOT NULL,
    partner_codes   text[] NOT NULL,
    overlap_m2      double precision NOT NULL,
    PRIMARY KEY (run_id, kelurahan_code, program_type)
);

-- The latest run made with the default parameters: what the public map shows.
CREATE VIEW gap_run_latest_default AS
SELECT * FROM gap_run WHERE is_default ORDER BY id DESC LIMIT 1;

CREATE VIEW gap_kelurahan_latest AS
SELECT g.kelurahan_code AS code, k.name, g.kecamatan_code, g.run_id, r.as_of,
       round((g.covered_fraction * 100)::numeric, 2) AS covered_pct,
       g.population, g.low_income_households,
       round((g.people_covered)::numeric) AS people_covered, round((g.people_uncovered)::numeric) AS people_uncovered,
       round((g.low_income_covered)::numeric) AS low_income_covered,
       round((g.low_income_uncovered)::numeric) AS low_income_uncovered,
       g.programs, g.partners, g.proposals, g.supports,
       g.need, g.demand, g.gap_score, g.rank, g.class,
       k.geom
FROM gap_run_latest_default r
JOIN gap_kelurahan g ON g.run_id = r.id
JOIN kelurahan k ON k.code = g.kelurahan_code;

CREATE VIEW gap_cells_latest AS
SELECT format('%s_%s', c.cell_i, c.cell_j) AS id, c.run_id, r.as_of,
       round((c.covered_fraction * 100)::numeric, 2) AS covered_pct,
       round((c.low_income_households)::numeric) AS low_income_households,
       round((c.low_income_uncovered)::numeric) AS low_income_uncovered,
       c.proposals, c.supports, c.need, c.demand, c.gap_score, c.rank, c.class,
       c.geom
FROM gap_run_latest_default r
JOIN gap_cell c ON c.run_id = r.id;
