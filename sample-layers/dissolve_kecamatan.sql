-- The kecamatan of sample-layers/kecamatan.geojson: the real kelurahan of each kecamatan unioned
-- (PostGIS ST_Union), sliver holes dropped (exterior rings only). Run against a database with the
-- sample loaded:
--   ogr2ogr -f GeoJSON -lco COORDINATE_PRECISION=7 -lco RFC7946=YES kecamatan.geojson \
--     "PG:dbname=sigap" -sql "$(cat sample-layers/dissolve_kecamatan.sql)" -nln kecamatan
SELECT c.code AS kode_kec, c.name AS nama_kec, '32.73' AS kode_kota, 'Kota Bandung' AS nama_kota,
       ST_Multi(ST_Collect(ST_MakePolygon(ST_ExteriorRing(d.geom)) ORDER BY d.path)) AS geom
FROM kecamatan c
CROSS JOIN LATERAL ST_Dump(ST_Union(ARRAY(SELECT k.geom FROM kelurahan k WHERE k.kecamatan_code = c.code))) d
GROUP BY c.code, c.name ORDER BY c.code
