-- Gap analysis for one chunk of kelurahan: coverage, population weighting, demand and hexagon
-- cell pieces. All metric work is in EPSG:32748.
-- $1 text[] kelurahan codes, $2 date as_of, $3 text program type or NULL, $4 text partner type or
-- NULL, $5 float8 hexagon edge in metres, $6 text[] public proposal statuses.
--
-- Instead of one union of every coverage area, each kelurahan unions only the active coverage
-- pieces the GiST index finds for it, clipped to it first: the unions stay small and independent,
-- so chunks run on several connections at once.
WITH k AS (
    SELECT kl.code, kl.kecamatan_code, kl.geom, ST_Transform(kl.geom, 32748) AS g
    FROM kelurahan kl
    WHERE kl.code = ANY ($1)
),
active AS (
    SELECT c.id, c.geom, pr.code AS program_code, pr.partner_code
    FROM coverage c
    JOIN program pr ON pr.code = c.program_code
    JOIN partner pa ON pa.code = pr.partner_code
    WHERE c.valid_from <= $2 AND c.valid_to >= $2
      AND pr.start_date <= $2 AND pr.end_date >= $2
      AND ($3::text IS NULL OR pr.type = $3)
      AND ($4::text IS NULL OR pa.type = $4)
),
pieces AS (
    SELECT k.code, a.id, a.program_code, a.partner_code, x.g
    FROM k
    JOIN active a ON a.geom && k.geom AND ST_Intersects(a.geom, k.geom)
    CROSS JOIN LATERAL (
        SELECT ST_CollectionExtract(ST_Intersection(ST_Transform(a.geom, 32748), k.g), 3) AS g
    ) x
    WHERE NOT ST_IsEmpty(x.g) AND ST_Area(x.g) > 0
),
agg AS (
    SELECT code,
           ST_UnaryUnion(ST_Collect(g ORDER BY id)) AS cg,
           array_agg(DISTINCT program_code ORDER BY program_code) AS programs,
           array_agg(DISTINCT partner_code ORDER BY partner_code) AS partners
    FROM pieces
    GROUP BY code
)
SELECT k.code,
       k.kecamatan_code,
       ST_Area(k.g) AS area_m2,
       coalesce(ST_Area(a.cg), 0) AS covered_m2,
       coalesce(a.programs, '{}') AS programs,
       coalesce(a.partners, '{}') AS partners,
       w.w_total,
       w.w_covered,
       coalesce(d.proposals, 0)::int AS proposals,
       coalesce(d.supports, 0)::bigint AS supports,
       i.population,
       i.households,
       i.low_income_households,
       cells.ci, cells.cj, cells.land_m2, cells.covered_m2 AS cell_covered_m2,
       cells.proposals AS cell_proposals, cells.supports AS cell_supports
FROM k
LEFT JOIN agg a ON a.code = k.code
LEFT JOIN indicator_latest i ON i.kelurahan_code = k.code
LEFT JOIN LATERAL (
    SELECT count(*) AS proposals, sum(pd.supports) AS supports
    FROM proposal_demand pd
    JOIN proposal p ON p.id = pd.proposal_id
    WHERE pd.kelurahan_code = k.code AND p.status = ANY ($6)
) d ON true
-- Population weights: a point counts whole where it lies, a polygon by the share of its area.
LEFT JOIN LATERAL (
    SELECT sum(pw.weight * s.in_k) AS w_total,
           sum(pw.weight * s.in_cov) AS w_covered
    FROM population_weight pw
    CROSS JOIN LATERAL (SELECT ST_Transform(pw.geom, 32748) AS g) t
    CROSS JOIN LATERAL (
        SELECT CASE WHEN ST_Dimension(t.g) = 0 THEN 1.0
                    ELSE ST_Area(ST_Intersection(t.g, k.g)) / nullif(ST_Area(t.g), 0) END AS in_k,
               CASE WHEN a.cg IS NULL THEN 0.0
                    WHEN ST_Dimension(t.g) = 0 THEN (ST_Intersects(t.g, a.cg))::int::float8
                    ELSE ST_Area(ST_Intersection(t.g, a.cg)) / nullif(ST_Area(t.g), 0) END AS in_cov
    ) s
    WHERE pw.geom && k.geom AND ST_Intersects(pw.geom, k.geom)
) w ON true
LEFT JOIN LATERAL (
    SELECT array_agg(h.i ORDER BY h.i, h.j) AS ci,
           array_agg(h.j ORDER BY h.i, h.j) AS cj,
           array_agg(h.land_m2 ORDER BY h.i, h.j) AS land_m2,
           array_agg(h.covered_m2 ORDER BY h.i, h.j) AS covered_m2,
           array_agg(h.proposals ORDER BY h.i, h.j) AS proposals,
           array_agg(h.supports ORDER BY h.i, h.j) AS supports
    FROM (
        SELECT hx.i, hx.j,
               CASE WHEN ST_Within(hx.geom, k.g) THEN ST_Area(hx.geom)
                    ELSE ST_Area(ST_Intersection(hx.geom, k.g)) END AS land_m2,
               CASE WHEN a.cg IS NULL OR NOT ST_Intersects(hx.geom, a.cg) THEN 0.0
                    ELSE ST_Area(ST_Intersection(hx.geom, a.cg)) END AS covered_m2,
               coalesce(hp.proposals, 0)::int AS proposals,
               coalesce(hp.supports, 0)::bigint AS supports
        FROM ST_HexagonGrid($5, k.g) hx
        LEFT JOIN LATERAL (
            SELECT count(*) AS proposals, sum(pd.supports) AS supports
            FROM proposal_demand pd
            JOIN proposal p ON p.id = pd.proposal_id
            WHERE pd.kelurahan_code = k.code AND p.status = ANY ($6)
              AND ST_Intersects(hx.geom, ST_Transform(p.geom, 32748))
        ) hp ON true
        WHERE ST_Intersects(hx.geom, k.g)
    ) h
    WHERE h.land_m2 > 0
) cells ON true
ORDER BY k.code
