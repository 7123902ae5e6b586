-- Keeps each kelurahan's geometry in ESRI:54034 (V19, gap_kelurahan_shape) for the kelurahan of
-- $1 text[] whose kept row is missing or was computed from another shape.
INSERT INTO gap_kelurahan_shape AS s (code, src, g)
SELECT kl.code, kl.geom_md5, gap_metric(kl.geom)
FROM kelurahan kl
WHERE kl.code = ANY ($1::text[])
  AND NOT EXISTS (SELECT 1 FROM gap_kelurahan_shape k
                  WHERE k.code = kl.code AND k.src = kl.geom_md5)
ORDER BY kl.code
ON CONFLICT (code) DO UPDATE SET src = excluded.src, g = excluded.g
