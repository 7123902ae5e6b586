-- The profile's map as SVG path data, in metres of EPSG:32748 (UTM 48S) so the shape is true to
-- scale: the area's outline (and, for a kecamatan, its kelurahan), approved coverage of approved
-- programs active at any time from $5 to $3 clipped to the area, and public proposals inside it.
-- ST_AsSVG writes y downwards (it negates y), so the viewBox starts at -ymax.
-- $1 text level, $2 text code, $3 date as_of, $4 text[] public proposal statuses, $5 date from.
WITH a AS (
    SELECT geom FROM kelurahan WHERE $1::text = 'kelurahan' AND code = $2::text
    UNION ALL
    SELECT geom FROM kecamatan WHERE $1::text = 'kecamatan' AND code = $2::text
),
m AS (
    SELECT a.geom AS g4326, ST_Transform(a.geom, 32748) AS g FROM a
),
b AS (
    SELECT m.*, ST_Expand(ST_Envelope(m.g),
                          greatest(ST_XMax(m.g) - ST_XMin(m.g), ST_YMax(m.g) - ST_YMin(m.g)) * 0.04) AS box
    FROM m
)
SELECT json_build_object(
    'xmin', ST_XMin(b.box), 'ymax', ST_YMax(b.box),
    'width', ST_XMax(b.box) - ST_XMin(b.box), 'height', ST_YMax(b.box) - ST_YMin(b.box),
    'outline', ST_AsSVG(b.g, 0, 1),
    'inner', coalesce((SELECT json_agg(ST_AsSVG(ST_Transform(k.geom, 32748), 0, 1) ORDER BY k.code)
                       FROM kelurahan k
                       WHERE $1::text = 'kecamatan' AND k.kecamatan_code = $2::text), '[]'::json),
    'coverage', (SELECT ST_AsSVG(ST_CollectionExtract(
                            ST_Intersection(ST_Union(ST_Transform(c.geom, 32748)), b.g), 3), 0, 1)
                 FROM coverage c JOIN program p ON p.code = c.program_code
                 WHERE c.approved_at IS NOT NULL AND p.approved_at IS NOT NULL
                   AND c.geom && b.g4326 AND ST_Intersects(c.geom, b.g4326)
                   AND greatest(c.valid_from, p.start_date) <= $3::date
                   AND least(c.valid_to, p.end_date) >= $5::date),
    'proposals', coalesce((SELECT json_agg(ST_AsSVG(ST_Transform(pr.geom, 32748), 0, 1) ORDER BY pr.id)
                           FROM proposal pr
                           WHERE pr.kelurahan_code LIKE $2::text || '%'
                             AND pr.status = ANY ($4::text[])), '[]'::json)
)
FROM b
