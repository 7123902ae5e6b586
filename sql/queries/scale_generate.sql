-- `sigap sample scale`: a synthetic city shaped like the real one, written in one transaction
-- (src/store/scale.rs fills the temporary table scale_params first). Randomness is
-- hashint8extended(i, $SEED): deterministic per seed, and safe under parallel plans.
--
-- Villages: a grid of square-ish quadrilaterals (about 550 m) whose shared corners are jittered by
-- up to 0.3 cell, so they tile the region without gaps or overlaps, centred on Bandung and growing
-- with the village count. Kecamatan: up to 9 x 9 blocks of villages, each the union of its
-- villages. Indicators: population, households and low-income households (year 2024) with a
-- smooth spatial poverty pattern plus noise. Partners (12) and programs (40) for coverage, which
-- is 75% sites with a service radius and 25% village polygons. Proposals: 70% in clusters
-- (Gaussian, sd 1.5 cells), 30% scattered; 60% in public statuses.

CREATE FUNCTION pg_temp.rnd(i bigint, salt bigint) RETURNS float8 LANGUAGE sql IMMUTABLE AS
$$ SELECT (hashint8extended(i * 1000003 + salt, $SEED) & 2147483647)::float8 / 2147483648.0 $$;

CREATE TEMPORARY TABLE scale_grid ON COMMIT DROP AS
SELECT p.*, cols, ceil(p.villages::float8 / cols)::int AS nrows,
       0.005::float8 AS cell,
       107.62 - cols * 0.005 / 2 AS x0,
       -6.91 - ceil(p.villages::float8 / cols) * 0.005 / 2 AS y0,
       greatest(2, ceil(greatest(cols, ceil(p.villages::float8 / cols)) / 9.0))::int AS kb
FROM scale_params p, LATERAL (SELECT ceil(sqrt(p.villages::float8))::int AS cols) c;

-- Corners, jittered inside the region; border corners stay on the outline.
CREATE TEMPORARY TABLE scale_vert ON COMMIT DROP AS
SELECT i, j,
       g.x0 + g.cell * (i + CASE WHEN i IN (0, g.cols) THEN 0 ELSE 0.6 * (pg_temp.rnd(i * 100003 + j, 1) - 0.5) END) AS x,
       g.y0 + g.cell * (j + CASE WHEN j IN (0, g.nrows) THEN 0 ELSE 0.6 * (pg_temp.rnd(i * 100003 + j, 2) - 0.5) END) AS y
FROM scale_grid g, generate_series(0, g.cols) i, generate_series(0, g.nrows) j;
CREATE INDEX ON scale_vert (i, j);
ANALYZE scale_vert;

CREATE TEMPORARY TABLE scale_cell ON COMMIT DROP AS
SELECT n, ci, cj, kec_no,
       '32.73.' || lpad(kec_no::text, 2, '0') AS kecamatan_code,
       '32.73.' || lpad(kec_no::text, 2, '0') || '.' ||
           (1000 + row_number() OVER (PARTITION BY kec_no ORDER BY n))::text AS code,
       a.x AS x00, a.y AS y00, b.x AS x10, b.y AS y10, c.x AS x11, c.y AS y11, d.x AS x01, d.y AS y01
FROM (
    SELECT n, n % g.cols AS ci, n / g.cols AS cj,
           1 + ((n / g.cols) / g.kb) * ceil(g.cols::float8 / g.kb)::int + (n % g.cols) / g.kb AS kec_no
    FROM scale_grid g, generate_series(0, g.villages - 1) n
) cells
JOIN scale_vert a ON a.i = ci AND a.j = cj
JOIN scale_vert b ON b.i = ci + 1 AND b.j = cj
JOIN scale_vert c ON c.i = ci + 1 AND c.j = cj + 1
JOIN scale_vert d ON d.i = ci AND d.j = cj + 1;
CREATE INDEX ON scale_cell (n);
CREATE INDEX ON scale_cell (ci, cj);
ANALYZE scale_cell;

INSERT INTO region (code, name, geom)
SELECT '32.73', 'Kota Sintetis',
       ST_Multi(ST_MakeEnvelope(g.x0, g.y0, g.x0 + g.cols * g.cell, g.y0 + g.nrows * g.cell, 4326))
FROM scale_grid g;

CREATE TEMPORARY TABLE scale_kel ON COMMIT DROP AS
SELECT c.code, c.kecamatan_code, c.n,
       ST_Multi(ST_SetSRID(ST_MakePolygon(ST_MakeLine(ARRAY[
           ST_MakePoint(x00, y00), ST_MakePoint(x10, y10), ST_MakePoint(x11, y11),
           ST_MakePoint(x01, y01), ST_MakePoint(x00, y00)])), 4326))::geometry(MultiPolygon, 4326) AS geom
FROM scale_cell c;

INSERT INTO kecamatan (code, name, region_code, geom)
SELECT kecamatan_code, 'Kecamatan Sintetis ' || right(kecamatan_code, 2), '32.73',
       ST_Multi(ST_UnaryUnion(ST_Collect(geom)))
FROM scale_kel GROUP BY kecamatan_code;

INSERT INTO kelurahan (code, name, kecamatan_code, geom)
SELECT code, 'Kelurahan Sintetis ' || n, kecamatan_code, geom FROM scale_kel;

-- The region is exactly the villages (the last grid row may be partial).
UPDATE region SET geom = (SELECT ST_Multi(ST_UnaryUnion(ST_Collect(geom))) FROM kecamatan)
WHERE code = '32.73';

-- Poverty follows a smooth pattern over the city (two waves) plus noise.
INSERT INTO indicator (kelurahan_code, year, population, households, low_income_households, source)
SELECT code, 2024, pop, hh,
       least(hh, round(hh * greatest(0.02, 0.18 + 0.12 * sin(ci / 7.0) * cos(cj / 9.0)
                                       + 0.08 * (pg_temp.rnd(n, 13) - 0.5)))::bigint),
       'sintetis'
FROM (
    SELECT c.code, c.n, c.ci, c.cj,
           (3000 + 12000 * pg_temp.rnd(c.n, 11))::bigint AS pop,
           ((3000 + 12000 * pg_temp.rnd(c.n, 11)) / (3.0 + pg_temp.rnd(c.n, 12)))::bigint AS hh
    FROM scale_cell c
) v;

INSERT INTO partner (code, name, type)
SELECT 'mitra-' || lpad(k::text, 2, '0'), 'Mitra Sintetis ' || k,
       (ARRAY['pemerintah', 'lsm', 'swasta', 'komunitas'])[1 + k % 4]
FROM generate_series(1, 12) k;

INSERT INTO program (code, name, partner_code, type, start_date, end_date, target_group, planned_beneficiaries)
SELECT 'program-' || lpad(k::text, 3, '0'), 'Program Sintetis ' || k,
       'mitra-' || lpad((1 + k % 12)::text, 2, '0'),
       (ARRAY['pelatihan_pertanian', 'pelatihan_kerja', 'ukm', 'infrastruktur', 'pendampingan', 'lainnya'])[1 + k % 6],
       date '2022-01-01' + (k % 4) * 180, date '2025-12-31' + (k % 3) * 365,
       'rumah tangga berpenghasilan rendah', 100 + 25 * k
FROM generate_series(1, 40) k;

-- Coverage: a site with a service radius (the trigger buffers it geodesically) or a village.
INSERT INTO coverage (code, program_code, site, radius_m, geom, valid_from, valid_to)
SELECT 'cov-' || lpad(k::text, 7, '0'), p.code,
       CASE WHEN is_site THEN ST_SetSRID(ST_MakePoint(
           (x00 + x10 + x11 + x01) / 4, (y00 + y10 + y11 + y01) / 4), 4326) END,
       CASE WHEN is_site THEN 300 + 2200 * pg_temp.rnd(k, 22) END,
       CASE WHEN is_site THEN NULL ELSE kel.geom END,
       p.start_date, p.end_date
FROM (
    SELECT k, pg_temp.rnd(k, 21) < 0.75 AS is_site,
           floor(pg_temp.rnd(k, 23) * (SELECT villages FROM scale_params))::bigint AS n,
           1 + floor(pg_temp.rnd(k, 24) * 40)::int AS prog
    FROM generate_series(1, (SELECT coverage FROM scale_params)) k
) s
JOIN scale_cell c ON c.n = s.n
JOIN scale_kel kel ON kel.n = s.n
JOIN program p ON p.code = 'program-' || lpad(s.prog::text, 3, '0');

-- Proposals: the kelurahan is known from the cell, so the point-in-polygon trigger is skipped.
ALTER TABLE proposal DISABLE TRIGGER proposal_assign_area;
INSERT INTO proposal (tracking_code, geom, category, title, description, estimated_cost_idr, status,
                      kelurahan_code, kecamatan_code, created_at, updated_at)
SELECT 'SYN-' || upper(lpad(to_hex(k), 10, '0')),
       ST_SetSRID(ST_MakePoint(
           (1 - u) * (1 - v) * x00 + u * (1 - v) * x10 + u * v * x11 + (1 - u) * v * x01,
           (1 - u) * (1 - v) * y00 + u * (1 - v) * y10 + u * v * y11 + (1 - u) * v * y01), 4326),
       (ARRAY['jalan', 'drainase', 'air_bersih', 'sanitasi', 'penerangan_jalan', 'fasilitas_umum', 'lainnya'])[1 + k % 7],
       'Usulan sintetis nomor ' || k, 'Dibuat oleh sigap sample scale.',
       (5 + floor(pg_temp.rnd(k, 35) * 495))::bigint * 1000000,
       CASE WHEN r < 0.60 THEN (ARRAY['diverifikasi', 'diprioritaskan', 'dianggarkan', 'dikerjakan', 'selesai'])[1 + k % 5]
            WHEN r < 0.85 THEN 'diajukan' WHEN r < 0.95 THEN 'ditolak' ELSE 'digabung' END,
       c.code, c.kecamatan_code,
       timestamptz '2023-01-01' + pg_temp.rnd(k, 36) * interval '1000 days',
       timestamptz '2023-01-01' + pg_temp.rnd(k, 36) * interval '1000 days'
FROM (
    SELECT k, r, u, v,
           least(greatest(floor(gx), 0), g.cols - 1)::int AS ci,
           least(greatest(floor(gy), 0), g.nrows - 1)::int AS cj
    FROM (
        SELECT k, pg_temp.rnd(k, 31) AS r,
               0.05 + 0.9 * pg_temp.rnd(k, 32) AS u, 0.05 + 0.9 * pg_temp.rnd(k, 33) AS v,
               CASE WHEN pg_temp.rnd(k, 34) < 0.7
                    THEN cx + 1.5 * sqrt(-2 * ln(greatest(pg_temp.rnd(k, 37), 1e-12))) * cos(2 * pi() * pg_temp.rnd(k, 38))
                    ELSE g.cols * pg_temp.rnd(k, 39) END AS gx,
               CASE WHEN pg_temp.rnd(k, 34) < 0.7
                    THEN cy + 1.5 * sqrt(-2 * ln(greatest(pg_temp.rnd(k, 37), 1e-12))) * sin(2 * pi() * pg_temp.rnd(k, 38))
                    ELSE g.nrows * pg_temp.rnd(k, 40) END AS gy
        FROM scale_grid g, generate_series(1, g.proposals) k,
             LATERAL (SELECT g.cols * pg_temp.rnd(k % greatest(1, g.proposals / 200), 41) AS cx,
                             g.nrows * pg_temp.rnd(k % greatest(1, g.proposals / 200), 42) AS cy) centre
    ) raw, scale_grid g
) s
JOIN scale_cell c ON c.n = least(s.cj * (SELECT cols FROM scale_grid) + s.ci,
                                 (SELECT villages - 1 FROM scale_params))
JOIN scale_grid g ON true;
ALTER TABLE proposal ENABLE TRIGGER proposal_assign_area;

ANALYZE kecamatan;
ANALYZE kelurahan;
ANALYZE indicator;
ANALYZE coverage;
ANALYZE proposal;
