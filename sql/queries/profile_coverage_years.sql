-- Share of the area covered by approved coverage of approved programs, year by year: the
-- geodesic area of the union of the coverage active at any time in the year, clipped to the area.
-- $1 text level, $2 text code, $3 int4 first year, $4 int4 last year.
WITH a AS (
    SELECT geom FROM kelurahan WHERE $1::text = 'kelurahan' AND code = $2::text
    UNION ALL
    SELECT geom FROM kecamatan WHERE $1::text = 'kecamatan' AND code = $2::text
),
area AS (SELECT geom, ST_Area(geom::geography) AS area_m2 FROM a)
SELECT y.year::int4,
       coalesce((SELECT ST_Area(ST_Union(ST_Intersection(c.geom, area.geom))::geography)
                 FROM coverage c JOIN program p ON p.code = c.program_code
                 WHERE c.approved_at IS NOT NULL AND p.approved_at IS NOT NULL
                   AND c.geom && area.geom AND ST_Intersects(c.geom, area.geom)
                   AND greatest(c.valid_from, p.start_date) <= make_date(y.year, 12, 31)
                   AND least(c.valid_to, p.end_date) >= make_date(y.year, 1, 1)), 0)
           / nullif(area.area_m2, 0) AS share,
       (SELECT count(DISTINCT p.code)::int8
        FROM coverage c JOIN program p ON p.code = c.program_code
        WHERE c.approved_at IS NOT NULL AND p.approved_at IS NOT NULL
          AND c.geom && area.geom AND ST_Intersects(c.geom, area.geom)
          AND NOT ST_Touches(c.geom, area.geom)
          AND greatest(c.valid_from, p.start_date) <= make_date(y.year, 12, 31)
          AND least(c.valid_to, p.end_date) >= make_date(y.year, 1, 1)) AS programs
FROM area, generate_series($3::int4, $4::int4) AS y(year)
ORDER BY y.year
