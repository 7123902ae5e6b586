-- 200 partners of the four types and 2 000 programs of the six types over 2024–2027, for the
-- national benchmark shapes (`\ir` from national.sql and national_real.sql, which define
-- pg_temp.u first).
INSERT INTO partner (code, name, type)
SELECT 'mitra-' || n, 'Mitra ' || n, (ARRAY['pemerintah', 'lsm', 'swasta', 'komunitas'])[1 + n % 4]
FROM generate_series(1, 200) n;

INSERT INTO program (code, name, partner_code, type, start_date, end_date)
SELECT 'prog-' || n, 'Program ' || n, 'mitra-' || (1 + n % 200),
       (ARRAY['pelatihan_pertanian', 'pelatihan_kerja', 'ukm', 'infrastruktur', 'pendampingan', 'lainnya'])[1 + n % 6],
       s, s + (180 + floor(900 * pg_temp.u(n, 5)))::int
FROM (SELECT n, date '2024-01-01' + floor(900 * pg_temp.u(n, 4))::int AS s
      FROM generate_series(1, 2000) n) p;
