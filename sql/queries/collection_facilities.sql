-- The facilities collection: public facilities (usually OpenStreetMap, ODbL) with the kelurahan
-- that holds each one.
SELECT f.id, f.code, f.name, f.category, f.kelurahan_code, k.kecamatan_code,
       f.id AS tile_id, f.updated_at, f.geom
FROM facility f
LEFT JOIN kelurahan k ON k.code = f.kelurahan_code
