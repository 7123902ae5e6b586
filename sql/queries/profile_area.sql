-- The area a profile is about: a kelurahan or a kecamatan, its parent and its geodesic area.
-- $1 text level ('kelurahan' or 'kecamatan'), $2 text code.
SELECT k.code, k.name, k.kecamatan_code AS parent_code, p.name AS parent_name,
       ST_Area(k.geom::geography) / 1e6 AS area_km2,
       (SELECT count(*) FROM kelurahan) AS siblings
FROM kelurahan k JOIN kecamatan p ON p.code = k.kecamatan_code
WHERE $1::text = 'kelurahan' AND k.code = $2::text
UNION ALL
SELECT k.code, k.name, k.region_code, p.name, ST_Area(k.geom::geography) / 1e6,
       (SELECT count(*) FROM kecamatan)
FROM kecamatan k LEFT JOIN region p ON p.code = k.region_code
WHERE $1::text = 'kecamatan' AND k.code = $2::text
