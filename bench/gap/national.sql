-- National-shape data for the gap benchmark, made with generate_series (stand-in for
-- `sigap sample scale`, which lives on another branch). Run on a freshly migrated, empty database:
--   psql -v villages_x=400 -v villages_y=200 -v coverage=100000 -v proposals=1000000 -f national.sql
-- Villages are 1 km squares (edges segmentised to 100 m, 40 vertices) on a villages_x × villages_y
-- grid in EPSG:32748; kecamatan are 10 × 10 blocks, regions 8 × 10 blocks of kecamatan.
-- Coverage: sites with a 150–900 m service radius (geodesic buffers made by the coverage
-- trigger), programs of 6 types from 200 partners active over 2024–2027. Proposals: points with
-- every status. Everything is derived from hashes of the row number, so reruns are identical.
\set ON_ERROR_STOP on
\if :{?villages_x} \else \set villages_x 400 \endif
\if :{?villages_y} \else \set villages_y 200 \endif
\if :{?coverage} \else \set coverage 100000 \endif
\if :{?proposals} \else \set proposals 1000000 \endif

BEGIN;
-- u(n, salt): a deterministic number in [0, 1).
CREATE OR REPLACE FUNCTION pg_temp.u(n bigint, salt int) RETURNS float8 LANGUAGE sql IMMUTABLE AS
$$ SELECT ('x' || substr(md5(n::text || ':' || salt::text), 1, 8))::bit(32)::bigint / 4294967296.0 $$;

CREATE TEMP TABLE grid AS
SELECT x, y,
       x / 10 AS kx, y / 10 AS ky,
       (x / 10) / 8 AS rx, (y / 10) / 10 AS ry
FROM generate_series(0, :villages_x - 1) x, generate_series(0, :villages_y - 1) y;

CREATE TEMP TABLE reg AS
SELECT rx, ry, format('%s.%s', 11 + ry, lpad((10 + rx)::text, 2, '0')) AS code
FROM (SELECT DISTINCT rx, ry FROM grid) r;

CREATE TEMP TABLE kec AS
SELECT g.kx, g.ky, r.code AS region_code,
       format('%s.%s', r.code, lpad((1 + (g.kx % 8) * 10 + (g.ky % 10))::text, 2, '0')) AS code
FROM (SELECT DISTINCT kx, ky, rx, ry FROM grid) g JOIN reg r USING (rx, ry);

INSERT INTO region (code, name, geom)
SELECT r.code, 'Wilayah ' || r.code,
       ST_Multi(ST_Transform(ST_MakeEnvelope(400000 + r.rx * 80000, 9000000 + r.ry * 100000,
                                             400000 + (r.rx + 1) * 80000, 9000000 + (r.ry + 1) * 100000, 32748), 4326))
FROM reg r;

INSERT INTO kecamatan (code, name, region_code, geom)
SELECT k.code, 'Kecamatan ' || k.code, k.region_code,
       ST_Multi(ST_Transform(ST_MakeEnvelope(400000 + k.kx * 10000, 9000000 + k.ky * 10000,
                                             400000 + (k.kx + 1) * 10000, 9000000 + (k.ky + 1) * 10000, 32748), 4326))
FROM kec k;

INSERT INTO kelurahan (code, name, kecamatan_code, geom)
SELECT format('%s.%s', k.code, 1001 + (g.x % 10) * 10 + (g.y % 10)), 'Desa ' || g.x || '-' || g.y, k.code,
       ST_Multi(ST_Transform(ST_Segmentize(ST_MakeEnvelope(400000 + g.x * 1000, 9000000 + g.y * 1000,
                                                           400000 + (g.x + 1) * 1000, 9000000 + (g.y + 1) * 1000, 32748), 100), 4326))
FROM grid g JOIN kec k USING (kx, ky);

INSERT INTO indicator (kelurahan_code, year, population, households, low_income_households)
SELECT code, 2024, p, p / 4, floor((p / 4) * (0.05 + 0.4 * pg_temp.u(n, 3)))::bigint
FROM (SELECT code, row_number() OVER (ORDER BY code) AS n,
             (2000 + 18000 * pg_temp.u(row_number() OVER (ORDER BY code), 2))::bigint AS p
      FROM kelurahan) s;

\ir partners_programs.sql

INSERT INTO coverage (code, program_code, site, radius_m, geom, valid_from, valid_to)
SELECT 'cov-' || n, pr.code, pt, r,
       ST_Multi(ST_Buffer(pt::geography, r, 'quad_segs=16')::geometry), pr.start_date, pr.end_date
FROM (SELECT n, 1 + n % 2000 AS prog,
             ST_Transform(ST_SetSRID(ST_MakePoint(400000 + :villages_x * 1000 * pg_temp.u(n, 6),
                                                  9000000 + :villages_y * 1000 * pg_temp.u(n, 7)), 32748), 4326) AS pt,
             150 + 750 * pg_temp.u(n, 8) AS r
      FROM generate_series(1, :coverage) n) c
JOIN program pr ON pr.code = 'prog-' || c.prog;

-- Proposals: kelurahan and kecamatan from the grid directly (the trigger would look each up).
ALTER TABLE proposal DISABLE TRIGGER proposal_assign_area;
INSERT INTO proposal (tracking_code, geom, category, title, status, kelurahan_code, kecamatan_code, created_at)
SELECT 'BN-' || lpad(n::text, 8, '0'),
       ST_Transform(ST_SetSRID(ST_MakePoint(400000 + px, 9000000 + py), 32748), 4326),
       (ARRAY['jalan', 'drainase', 'air_bersih', 'sanitasi', 'penerangan_jalan', 'fasilitas_umum', 'lainnya'])[1 + n % 7],
       'Usulan nomor ' || n,
       (ARRAY['diajukan', 'diverifikasi', 'ditolak', 'digabung', 'diprioritaskan', 'dianggarkan', 'dikerjakan', 'selesai'])[1 + n % 8],
       format('%s.%s', k.code, 1001 + (gx % 10) * 10 + (gy % 10)), k.code,
       timestamptz '2025-01-01' + make_interval(days => (n % 600)::int)
FROM (SELECT n, px, py, floor(px / 1000)::int AS gx, floor(py / 1000)::int AS gy
      FROM (SELECT n, 1 + (:villages_x * 1000 - 2) * pg_temp.u(n, 9) AS px,
                   1 + (:villages_y * 1000 - 2) * pg_temp.u(n, 10) AS py
            FROM generate_series(1, :proposals) n) a) p
JOIN kec k ON k.kx = p.gx / 10 AND k.ky = p.gy / 10;
ALTER TABLE proposal ENABLE TRIGGER proposal_assign_area;
COMMIT;
ANALYZE;
