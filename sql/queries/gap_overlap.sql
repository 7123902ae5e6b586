-- Overlap: per kelurahan and program type, the area where two or more partners have active
-- coverage on the analysis date (EPSG:32748), and which partners meet there.
-- $1 date as_of, $2 text program type or NULL, $3 text partner type or NULL.
WITH active AS (
    SELECT c.id, c.geom, pr.type AS program_type, pr.partner_code
    FROM coverage c
    JOIN program pr ON pr.code = c.program_code
    JOIN partner pa ON pa.code = pr.partner_code
    WHERE c.valid_from <= $1 AND c.valid_to >= $1
      AND pr.start_date <= $1 AND pr.end_date >= $1
      AND ($2::text IS NULL OR pr.type = $2)
      AND ($3::text IS NULL OR pa.type = $3)
),
candidates AS (
    SELECT k.code, a.program_type
    FROM kelurahan k
    JOIN active a ON a.geom && k.geom AND ST_Intersects(a.geom, k.geom)
    GROUP BY 1, 2
    HAVING count(DISTINCT a.partner_code) >= 2
),
per_partner AS (
    SELECT cd.code, cd.program_type, a.partner_code,
           ST_UnaryUnion(ST_Collect(
               ST_CollectionExtract(ST_Intersection(ST_Transform(a.geom, 32748),
                                                    ST_Transform(k.geom, 32748)), 3)
               ORDER BY a.id)) AS g
    FROM candidates cd
    JOIN kelurahan k ON k.code = cd.code
    JOIN active a ON a.program_type = cd.program_type
                 AND a.geom && k.geom AND ST_Intersects(a.geom, k.geom)
    GROUP BY 1, 2, 3
),
pairs AS (
    SELECT x.code, x.program_type, x.partner_code AS pa, y.partner_code AS pb,
           ST_CollectionExtract(ST_Intersection(x.g, y.g), 3) AS g
    FROM per_partner x
    JOIN per_partner y ON y.code = x.code AND y.program_type = x.program_type
                      AND x.partner_code < y.partner_code
),
positive AS (
    SELECT * FROM pairs WHERE NOT ST_IsEmpty(g) AND ST_Area(g) > 0
)
SELECT p.code AS kelurahan_code, p.program_type,
       (SELECT array_agg(DISTINCT u ORDER BY u)
          FROM positive q, unnest(ARRAY[q.pa, q.pb]) u
         WHERE q.code = p.code AND q.program_type = p.program_type) AS partner_codes,
       ST_Area(ST_UnaryUnion(ST_Collect(p.g ORDER BY p.pa, p.pb))) AS overlap_m2
FROM positive p
GROUP BY p.code, p.program_type
ORDER BY p.code, p.program_type
