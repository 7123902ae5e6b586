-- The bench region (same shape as tests/suite/fixture), 2000 residents with API tokens
-- tok-res<i>, and 100 published proposals to support.
INSERT INTO region (code, name, geom) VALUES ('32.73', 'Kota Uji',
  ST_Multi(ST_MakeEnvelope(107.5, -7.0, 107.8, -6.8, 4326)));
INSERT INTO kecamatan (code, name, region_code, geom) VALUES
  ('32.73.01', 'Barat', '32.73', ST_Multi(ST_MakeEnvelope(107.5, -7.0, 107.65, -6.8, 4326))),
  ('32.73.02', 'Timur', '32.73', ST_Multi(ST_MakeEnvelope(107.65, -7.0, 107.8, -6.8, 4326)));
INSERT INTO kelurahan (code, name, kecamatan_code, geom) VALUES
  ('32.73.01.1001', 'Barat Satu', '32.73.01', ST_Multi(ST_MakeEnvelope(107.5, -7.0, 107.65, -6.8, 4326))),
  ('32.73.02.1001', 'Timur Satu', '32.73.02', ST_Multi(ST_MakeEnvelope(107.65, -7.0, 107.8, -6.8, 4326)));
-- Residents only ever use their tokens here, so the password hash is a placeholder that
-- matches no password.
WITH u AS (
    INSERT INTO app_user (username, password_hash, role)
    SELECT 'res' || g, '!', 'resident' FROM generate_series(1, 2000) g RETURNING id, username)
INSERT INTO api_token (user_id, name, token_hash)
SELECT id, 'bench', sha256(convert_to('tok-' || username, 'UTF8')) FROM u;
INSERT INTO proposal (tracking_code, geom, category, title, status)
SELECT 'BENCH-' || g, ST_SetSRID(ST_MakePoint(107.52 + g * 0.002, -6.9), 4326), 'jalan',
       'Usulan terbit ' || g, 'diverifikasi'
FROM generate_series(1, 100) g;
