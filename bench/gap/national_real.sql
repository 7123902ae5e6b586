-- The national shape as it really is, for the gap benchmark (issue 11): Indonesia's counts
-- (83 246 desa/kelurahan, 7 284 kecamatan, 514 kabupaten/kota in 38 provinces) on an archipelago
-- of Indonesia's land area (about 1.9 million km², from 95° E to 141° E, 11° S to 6° N: UTM zones
-- 46–54), with irregular borders of realistic vertex counts, islands and multipolygons.
-- Run on a freshly migrated, empty database:
--   psql -v scale=1 -f bench/gap/national_real.sql        (scale=0.02 for a quick run)
-- `scale` multiplies the land area and every count; the shape stays the same.
--
-- How it is made (all deterministic: every random number is a hash of a row number):
-- 1. Land: 18 named islands at their real places with their real areas and rough proportions
--    (Sumatra, Jawa, Kalimantan, Sulawesi, Papua, …), each a star-shaped outline of 720
--    vertices with a wavy coast, plus 300 small islands; built in ESRI:54034 (equal area).
-- 2. Kabupaten, kecamatan, desa: seeds drawn inside the land (Jawa, Bali, Madura and Lombok
--    six to three times as dense as the rest, as they are), Voronoi cells of the seeds cut to the
--    land (kabupaten), to their kabupaten (kecamatan), to their kecamatan (desa). Small islands
--    fall to the nearest kabupaten, so many areas are multipolygons.
-- 3. Borders: every desa outline is segmentised to 180 m and each vertex moved by a smooth field
--    of up to 75 m along each axis that depends only on where the vertex is, so neighbours move
--    a shared border the same way (as far as floating point lets them: real data has slivers
--    too). Then ST_MakeValid. Kecamatan and kabupaten are the union of their desa.
-- 4. Indicators per desa; 200 partners, 2 000 programs; ~99 500 coverage sites with a 500–2 035 m
--    radius inside desa (where people are); 1 000 000 proposals (12 a desa) of every status.
\set ON_ERROR_STOP on
\if :{?scale} \else \set scale 1 \endif
\timing on

BEGIN;
SET LOCAL work_mem = '256MB';
-- u(n, salt): a deterministic number in [0, 1).
CREATE OR REPLACE FUNCTION pg_temp.u(n bigint, salt int) RETURNS float8 LANGUAGE sql IMMUTABLE AS
$$ SELECT ('x' || substr(md5(n::text || ':' || salt::text), 1, 8))::bit(32)::bigint / 4294967296.0 $$;

-- A smooth displacement field (metres, ESRI:54034) of a vertex at (x, y).
CREATE OR REPLACE FUNCTION pg_temp.wobble(p geometry) RETURNS geometry LANGUAGE sql IMMUTABLE AS $$
  SELECT ST_MakePoint(
    ST_X(p) + 55 * sin(ST_X(p) / 350 + 2 * sin(ST_Y(p) / 530)) + 20 * sin(ST_Y(p) / 97 + ST_X(p) / 131),
    ST_Y(p) + 55 * cos(ST_Y(p) / 370 + 2 * sin(ST_X(p) / 410)) + 20 * cos(ST_X(p) / 89 - ST_Y(p) / 143))
$$;

-- split(parent, seeds): the parent cut into the Voronoi cells of its seeds (one seed: whole).
CREATE OR REPLACE FUNCTION pg_temp.split(parent geometry, seeds geometry) RETURNS SETOF geometry
LANGUAGE sql IMMUTABLE AS $$
  SELECT parent WHERE ST_NumGeometries(seeds) = 1
  UNION ALL
  SELECT ST_CollectionExtract(ST_Intersection(c.geom, parent), 3)
  FROM ST_Dump(ST_VoronoiPolygons(seeds, 0, ST_Expand(ST_Envelope(parent), 1000))) c
  WHERE ST_NumGeometries(seeds) > 1
$$;

-- 1. Land.
CREATE TEMP TABLE island_spec (id int, name text, lon float8, lat float8, km2 float8,
                               aspect float8, angle float8, density float8);
INSERT INTO island_spec VALUES
  (1, 'Sumatra', 101.5, -0.3, 473000, 4.5, -40, 1.2),
  (2, 'Jawa', 110.2, -7.3, 128000, 6.5, -8, 6),
  (3, 'Kalimantan', 113.8, -1.0, 540000, 1.4, 10, 0.5),
  (4, 'Sulawesi', 121.0, -1.8, 175000, 2.5, 60, 1),
  (5, 'Papua', 137.5, -4.2, 420000, 2.2, -15, 0.4),
  (6, 'Bali', 115.1, -8.4, 5600, 2.0, 0, 3),
  (7, 'Lombok', 116.3, -8.6, 4700, 1.3, 0, 3),
  (8, 'Sumbawa', 117.9, -8.7, 15400, 3, 5, 1.5),
  (9, 'Flores', 121.0, -8.6, 14300, 6, 0, 1.5),
  (10, 'Sumba', 119.9, -9.7, 11000, 2.5, -15, 1),
  (11, 'Timor', 124.2, -9.8, 15800, 3, 30, 1),
  (12, 'Halmahera', 128.0, 0.9, 18000, 2, 80, 0.8),
  (13, 'Seram', 129.5, -3.1, 17100, 4, 5, 0.8),
  (14, 'Buru', 126.6, -3.4, 9500, 1.4, 0, 0.8),
  (15, 'Bangka', 106.1, -2.2, 11700, 2, -45, 1),
  (16, 'Belitung', 107.9, -2.9, 4800, 1.2, 0, 1),
  (17, 'Madura', 113.4, -7.0, 5200, 4, 0, 4),
  (18, 'Nias', 97.5, 1.1, 5600, 2.5, -45, 1);
-- 300 small islands (10–400 km², about 29 000 km² in all) scattered over the archipelago.
INSERT INTO island_spec
SELECT 100 + n, 'Pulau ' || n, 96 + 44 * pg_temp.u(n, 1), -10.5 + 15 * pg_temp.u(n, 2),
       10 + 390 * pg_temp.u(n, 3) ^ 2, 1 + 2 * pg_temp.u(n, 4), 180 * pg_temp.u(n, 5), 1
FROM generate_series(1, 300) n;
UPDATE island_spec SET km2 = km2 * :scale;

CREATE TEMP TABLE wave AS
SELECT s.id, j, 0.28 / j ^ 1.1 AS amp, 2 * pi() * pg_temp.u(s.id * 100 + j, 6) AS phase
FROM island_spec s, generate_series(2, 16) j;
CREATE TEMP TABLE island AS
WITH c AS (
  SELECT s.*, ST_Transform(ST_SetSRID(ST_MakePoint(lon, lat), 4326), 54034) AS center,
         sqrt(km2 * 1e6 * aspect / pi()) AS a, sqrt(km2 * 1e6 / (pi() * aspect)) AS b,
         cos(radians(angle)) AS ca, sin(radians(angle)) AS sa
  FROM island_spec s),
r AS (
  SELECT w.id, k, greatest(0.35, 1 + sum(w.amp * sin(w.j * 2 * pi() * k / 720 + w.phase))) AS r
  FROM wave w, generate_series(0, 719) k GROUP BY w.id, k),
line AS (
  SELECT c.id, c.center, c.km2, ST_MakeLine(array_agg(ST_MakePoint(
           ST_X(c.center) + r.r * (c.a * cos(2 * pi() * k / 720) * c.ca - c.b * sin(2 * pi() * k / 720) * c.sa),
           ST_Y(c.center) + r.r * (c.a * cos(2 * pi() * k / 720) * c.sa + c.b * sin(2 * pi() * k / 720) * c.ca))
           ORDER BY k)) AS l
  FROM c JOIN r USING (id) GROUP BY c.id, c.center, c.km2),
outline AS (SELECT id, center, km2, ST_MakePolygon(ST_AddPoint(l, ST_StartPoint(l))) AS g FROM line)
-- Scaled about its centre to the island's area exactly.
SELECT o.id, s.density, ST_SetSRID(ST_Translate(ST_Scale(ST_Translate(o.g, -ST_X(o.center), -ST_Y(o.center)),
                           sqrt(o.km2 * 1e6 / ST_Area(o.g)), sqrt(o.km2 * 1e6 / ST_Area(o.g))),
                   ST_X(o.center), ST_Y(o.center)), 54034) AS geom
FROM outline o JOIN island_spec s USING (id);
CREATE TEMP TABLE land AS SELECT ST_Union(geom) AS geom FROM island;

-- 2. Seeds, weighted by density × area (the named islands; small islands get no seeds of
-- their own and fall to the nearest cell).
CREATE TEMP TABLE level (name text, total int);
INSERT INTO level VALUES ('kab', round(514 * :scale)), ('kec', round(7284 * :scale)),
                         ('desa', round(83246 * :scale));
CREATE TEMP TABLE seed AS
WITH w AS (
  SELECT i.id, i.geom, i.density * ST_Area(i.geom) / sum(i.density * ST_Area(i.geom)) OVER () AS share
  FROM island i WHERE i.id < 100)
-- Rounded per island; Kalimantan (3) takes the remainder, so each level has its exact total.
SELECT l.name AS level, w.id AS island, (ST_Dump(ST_GeneratePoints(w.geom,
         CASE WHEN w.id = 3 THEN greatest(1, l.total - (SELECT sum(greatest(1, round(l.total * o.share)))::int FROM w o WHERE o.id <> 3))
              ELSE greatest(1, round(l.total * w.share))::int END, w.id * 10 + length(l.name)))).geom AS geom
FROM w CROSS JOIN level l;
CREATE INDEX ON seed USING gist (geom);

-- Kabupaten: Voronoi cells of the kab seeds over the whole archipelago, cut to the land.
CREATE TEMP TABLE kab AS
WITH v AS (
  SELECT row_number() OVER () AS c, cell
  FROM (SELECT (ST_Dump(ST_VoronoiPolygons(ST_Collect(geom), 0,
                  (SELECT ST_Expand(ST_Envelope(geom), 50000) FROM land)))).geom AS cell
        FROM seed WHERE level = 'kab') d)
SELECT row_number() OVER (ORDER BY ST_X(ST_Centroid(g)), ST_Y(ST_Centroid(g))) AS id, g AS geom
FROM (SELECT ST_CollectionExtract(ST_Union(ST_CollectionExtract(ST_Intersection(v.cell, i.geom), 3)), 3) AS g
      FROM v JOIN island i ON i.geom && v.cell GROUP BY v.c) x
WHERE NOT ST_IsEmpty(g);
CREATE INDEX ON kab USING gist (geom);

-- Kecamatan inside each kabupaten; a kabupaten with no seed of its own gets one.
CREATE TEMP TABLE kec_seed AS
SELECT DISTINCT ON (s.geom) k.id AS kab, s.geom
FROM seed s JOIN kab k ON ST_Intersects(k.geom, s.geom) WHERE s.level = 'kec';
INSERT INTO kec_seed SELECT k.id, ST_PointOnSurface(k.geom) FROM kab k
WHERE NOT EXISTS (SELECT 1 FROM kec_seed s WHERE s.kab = k.id);
CREATE TEMP TABLE kec AS
SELECT row_number() OVER (ORDER BY kab, ST_X(ST_Centroid(g)), ST_Y(ST_Centroid(g))) AS id, kab, g AS geom
FROM (SELECT k.id AS kab, pg_temp.split(k.geom, ST_Collect(s.geom)) AS g
      FROM kab k JOIN kec_seed s ON s.kab = k.id GROUP BY k.id, k.geom) a
WHERE NOT ST_IsEmpty(g);
CREATE INDEX ON kec USING gist (geom);

-- Desa inside each kecamatan, the same way.
CREATE TEMP TABLE desa_seed AS
SELECT DISTINCT ON (s.geom) k.id AS kec, s.geom
FROM seed s JOIN kec k ON ST_Intersects(k.geom, s.geom) WHERE s.level = 'desa';
INSERT INTO desa_seed SELECT k.id, ST_PointOnSurface(k.geom) FROM kec k
WHERE NOT EXISTS (SELECT 1 FROM desa_seed s WHERE s.kec = k.id);
CREATE TEMP TABLE desa_raw AS
SELECT row_number() OVER (ORDER BY kec, ST_X(ST_Centroid(g)), ST_Y(ST_Centroid(g))) AS id, kec, g AS geom
FROM (SELECT k.id AS kec, pg_temp.split(k.geom, ST_Collect(s.geom)) AS g
      FROM kec k JOIN desa_seed s ON s.kec = k.id GROUP BY k.id, k.geom) a
WHERE NOT ST_IsEmpty(g);

-- 3. Irregular borders: segmentise, move every vertex by the field, make valid.
CREATE TEMP TABLE desa AS
WITH rings AS (
  SELECT d.id, p.path[1] AS part, r.path[1] AS ring, ST_Segmentize(ST_ExteriorRing(r.geom), 180) AS line
  FROM desa_raw d, ST_Dump(d.geom) p, ST_DumpRings(p.geom) r),
moved AS (
  SELECT id, part, ring,
         ST_MakeLine(array_agg(pg_temp.wobble(pt.geom) ORDER BY pt.path[1])) AS line
  FROM rings, ST_DumpPoints(line) pt GROUP BY id, part, ring),
parts AS (
  SELECT id, part, ST_MakePolygon((array_agg(line) FILTER (WHERE ring = 0))[1],
                                  coalesce(array_agg(line) FILTER (WHERE ring > 0), '{}')) AS g
  FROM moved GROUP BY id, part)
SELECT d.id, d.kec,
       ST_Multi(ST_CollectionExtract(ST_MakeValid(ST_SetSRID(ST_Collect(p.g), 54034)), 3)) AS geom
FROM desa_raw d JOIN parts p ON p.id = d.id
GROUP BY d.id, d.kec;
DELETE FROM desa WHERE ST_IsEmpty(geom);

-- Codes: provinces are 38 clusters of kabupaten; numbers in each level follow position.
SELECT least(38, count(*)) AS provinces FROM kab \gset
CREATE TEMP TABLE prov AS
SELECT id AS kab, ST_ClusterKMeans(ST_Centroid(geom), :provinces) OVER () AS p FROM kab;
CREATE TEMP TABLE kab_code AS
SELECT k.kab, format('%s.%s', 11 + 2 * r.pn, lpad(row_number() OVER (PARTITION BY r.pn ORDER BY k.kab)::text, 2, '0')) AS code
FROM prov k JOIN (SELECT p, row_number() OVER (ORDER BY min(kab)) - 1 AS pn FROM prov GROUP BY p) r USING (p)
WHERE EXISTS (SELECT 1 FROM kec c JOIN desa d ON d.kec = c.id WHERE c.kab = k.kab);
CREATE TEMP TABLE kec_code AS
SELECT c.id AS kec, c.kab, format('%s.%s', kc.code, lpad(row_number() OVER (PARTITION BY c.kab ORDER BY c.id)::text, 2, '0')) AS code
FROM kec c JOIN kab_code kc ON kc.kab = c.kab
WHERE EXISTS (SELECT 1 FROM desa d WHERE d.kec = c.id);
CREATE TEMP TABLE desa_code AS
SELECT d.id AS desa, d.kec, format('%s.%s', kc.code, 1000 + row_number() OVER (PARTITION BY d.kec ORDER BY d.id)) AS code
FROM desa d JOIN kec_code kc ON kc.kec = d.kec;

-- Kecamatan and kabupaten are the union of their desa (on a 1 m grid: the slivers between
-- wobbled neighbours close), and go in first (foreign keys).
CREATE TEMP TABLE kec_geom AS
SELECT kc.code, ST_Union(d.geom, 1.0) AS geom
FROM desa d JOIN desa_code dc ON dc.desa = d.id JOIN kec_code kc ON kc.kec = d.kec GROUP BY kc.code;
INSERT INTO region (code, name, geom)
SELECT left(code, 5), 'Kabupaten ' || left(code, 5),
       ST_Multi(ST_CollectionExtract(ST_MakeValid(ST_Transform(ST_Union(geom, 1.0), 4326)), 3))
FROM kec_geom GROUP BY left(code, 5);
INSERT INTO kecamatan (code, name, region_code, geom)
SELECT code, 'Kecamatan ' || code, left(code, 5),
       ST_Multi(ST_CollectionExtract(ST_MakeValid(ST_Transform(geom, 4326)), 3))
FROM kec_geom;
INSERT INTO kelurahan (code, name, kecamatan_code, geom)
SELECT dc.code, 'Desa ' || dc.code, left(dc.code, 8),
       ST_Multi(ST_CollectionExtract(ST_MakeValid(ST_Transform(d.geom, 4326)), 3))
FROM desa d JOIN desa_code dc ON dc.desa = d.id;

-- 4. People, partners, programs, coverage, proposals.
INSERT INTO indicator (kelurahan_code, year, population, households, low_income_households)
SELECT code, 2024, p, p / 4, floor((p / 4) * (0.05 + 0.4 * pg_temp.u(n, 3)))::bigint
FROM (SELECT code, n, ((800 + 9000 * pg_temp.u(n, 2) ^ 2) * CASE WHEN left(code, 2)::int < 40 THEN 2 ELSE 1 END)::bigint AS p
      FROM (SELECT code, row_number() OVER (ORDER BY code) AS n FROM kelurahan) s) s;

\ir partners_programs.sql

CREATE TEMP TABLE desa_n AS SELECT code, geom, row_number() OVER (ORDER BY code) AS n FROM kelurahan;
INSERT INTO coverage (code, program_code, site, radius_m, geom, valid_from, valid_to)
SELECT 'cov-' || c.n, pr.code, c.pt, c.r,
       ST_Multi(ST_Buffer(c.pt::geography, c.r, 'quad_segs=16')::geometry), pr.start_date, pr.end_date
FROM (SELECT row_number() OVER (ORDER BY d.n, k) AS n, (ST_Dump(ST_GeneratePoints(d.geom, 1, (d.n * 2 + k)::int))).geom AS pt,
             500 + 1535 * pg_temp.u(d.n * 2 + k, 8) AS r
      FROM desa_n d, generate_series(0, 1) k WHERE pg_temp.u(d.n * 2 + k, 7) < 0.598) c
JOIN program pr ON pr.code = 'prog-' || (1 + c.n % 2000);

-- Proposals: 12 a desa, inside it (kelurahan and kecamatan set directly).
ALTER TABLE proposal DISABLE TRIGGER proposal_assign_area;
INSERT INTO proposal (tracking_code, geom, category, title, status, kelurahan_code, kecamatan_code, created_at)
SELECT 'BN-' || lpad(n::text, 8, '0'), pt,
       (ARRAY['jalan', 'drainase', 'air_bersih', 'sanitasi', 'penerangan_jalan', 'fasilitas_umum', 'lainnya'])[1 + n % 7],
       'Usulan nomor ' || n,
       (ARRAY['diajukan', 'diverifikasi', 'ditolak', 'digabung', 'diprioritaskan', 'dianggarkan', 'dikerjakan', 'selesai'])[1 + n % 8],
       code, left(code, 8), timestamptz '2025-01-01' + make_interval(days => (n % 600)::int)
FROM (SELECT row_number() OVER (ORDER BY d.n) AS n, d.code, p.geom AS pt
      FROM desa_n d, ST_Dump(ST_GeneratePoints(d.geom, 12, d.n::int)) p) s;
ALTER TABLE proposal ENABLE TRIGGER proposal_assign_area;

-- What was made.
SELECT (SELECT count(*) FROM region) AS kabupaten, (SELECT count(*) FROM kecamatan) AS kecamatan,
       (SELECT count(*) FROM kelurahan) AS desa,
       (SELECT round(sum(ST_Area(ST_Transform(geom, 54034))) / 1e6) FROM kelurahan) AS land_km2,
       (SELECT round(avg(ST_NPoints(geom))) FROM kelurahan) AS avg_vertices,
       (SELECT count(*) FROM kelurahan WHERE ST_NumGeometries(geom) > 1) AS multipart_desa,
       (SELECT count(*) FROM region WHERE ST_NumGeometries(geom) > 1) AS multipart_kabupaten,
       (SELECT count(*) FROM coverage) AS coverage, (SELECT count(*) FROM proposal) AS proposals;
COMMIT;
ANALYZE;
