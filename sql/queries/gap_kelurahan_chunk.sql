-- Gap analysis for one chunk of kelurahan: coverage, population weighting, demand and hexagon
-- cell pieces. All metric work is in EPSG:32748.
-- $1 text[] kelurahan codes, $2 date as_of, $3 text[] codes of the programs active on as_of that
-- pass the filters (gap_active_programs.sql), $4 float8 hexagon edge in metres, $5 text[] public
-- proposal statuses, $6 text[] and $7 text[] the type and partner of each program of $3.
--
-- Instead of one union of every coverage area, each kelurahan unions only the active coverage
-- pieces the GiST index finds for it, clipped to it first: the unions stay small and independent,
-- so chunks run on several connections at once.
WITH k AS (
    SELECT kl.code, kl.kecamatan_code, kl.geom, ST_Transform(kl.geom, 32748) AS g
    FROM kelurahan kl
    WHERE kl.code = ANY ($1)
),
pieces AS (
    -- Type and partner are looked up by position in the parallel arrays: a join with their
    -- unnest misleads the planner into a nested loop over every program.
    SELECT k.code, c.id, c.program_code,
           ($6::text[])[array_position($3::text[], c.program_code)] AS program_type,
           ($7::text[])[array_position($3::text[], c.program_code)] AS partner_code,
           x.g
    FROM k
    JOIN coverage c ON c.geom && k.geom AND ST_Intersects(c.geom, k.geom)
    CROSS JOIN LATERAL (
        SELECT ST_CollectionExtract(ST_Intersection(ST_Transform(c.geom, 32748), k.g), 3) AS g
    ) x
    WHERE c.program_code = ANY ($3) AND c.valid_from <= $2 AND c.valid_to >= $2
      AND NOT ST_IsEmpty(x.g) AND ST_Area(x.g) > 0
),
agg AS (
    SELECT code,
           -- One piece needs no union (most kelurahan at national shape have one or two).
           CASE WHEN count(*) = 1 THEN (array_agg(g))[1]
                ELSE ST_UnaryUnion(ST_Collect(g ORDER BY id)) END AS cg,
           array_agg(DISTINCT program_code ORDER BY program_code) AS programs
    FROM pieces
    GROUP BY code
),
-- Overlap: where two or more partners run the same program type in this kelurahan.
shared AS (
    SELECT code, program_type
    FROM pieces
    GROUP BY 1, 2
    HAVING count(DISTINCT partner_code) >= 2
),
by_partner AS (
    SELECT p.code, p.program_type, p.partner_code,
           ST_UnaryUnion(ST_Collect(p.g ORDER BY p.id)) AS g
    FROM pieces p
    JOIN shared s ON s.code = p.code AND s.program_type = p.program_type
    GROUP BY 1, 2, 3
),
pairs AS (
    SELECT x.code, x.program_type, x.partner_code AS pa, y.partner_code AS pb,
           ST_CollectionExtract(ST_Intersection(x.g, y.g), 3) AS g
    FROM by_partner x
    JOIN by_partner y ON y.code = x.code AND y.program_type = x.program_type
                     AND x.partner_code < y.partner_code
),
overlap AS (
    SELECT code, program_type,
           (SELECT string_agg(DISTINCT u, ',' ORDER BY u)
              FROM unnest(array_agg(pa) || array_agg(pb)) u) AS partners,
           ST_Area(ST_UnaryUnion(ST_Collect(g ORDER BY pa, pb))) AS m2
    FROM pairs
    WHERE NOT ST_IsEmpty(g) AND ST_Area(g) > 0
    GROUP BY 1, 2
),
overlap_k AS (
    SELECT code,
           array_agg(program_type ORDER BY program_type) AS types,
           array_agg(partners ORDER BY program_type) AS partners,
           array_agg(m2 ORDER BY program_type) AS m2
    FROM overlap
    GROUP BY code
)
SELECT k.code,
       k.kecamatan_code,
       ST_Area(k.g) AS area_m2,
       coalesce(ST_Area(a.cg), 0) AS covered_m2,
       coalesce(a.programs, '{}') AS programs,
       w.w_total,
       w.w_covered,
       coalesce(d.proposals, 0)::int AS proposals,
       coalesce(d.supports, 0)::bigint AS supports,
       i.population,
       i.households,
       i.low_income_households,
       cells.ci, cells.cj, cells.land_m2, cells.covered_m2 AS cell_covered_m2,
       cells.proposals AS cell_proposals, cells.supports AS cell_supports,
       o.types AS overlap_types, o.partners AS overlap_partners, o.m2 AS overlap_m2
FROM k
LEFT JOIN agg a ON a.code = k.code
LEFT JOIN overlap_k o ON o.code = k.code
LEFT JOIN indicator_latest i ON i.kelurahan_code = k.code
LEFT JOIN LATERAL (
    SELECT count(*) AS proposals, sum(pd.supports) AS supports
    FROM proposal_demand pd
    JOIN proposal p ON p.id = pd.proposal_id
    WHERE pd.kelurahan_code = k.code AND p.status = ANY ($5)
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
    -- Hexagons of ST_HexagonGrid touching this kelurahan, with the land and covered area of each
    -- piece, and the public proposals inside (points transformed once, not once per hexagon).
    WITH hexes AS MATERIALIZED (
        SELECT hx.i, hx.j, hx.geom FROM ST_HexagonGrid($4, k.g) hx WHERE ST_Intersects(hx.geom, k.g)
    ),
    pts AS MATERIALIZED (
        SELECT ST_Transform(p.geom, 32748) AS g, pd.supports
        FROM proposal_demand pd
        JOIN proposal p ON p.id = pd.proposal_id
        WHERE pd.kelurahan_code = k.code AND p.status = ANY ($5)
    ),
    demand AS (
        SELECT h.i, h.j, count(*) AS proposals, sum(pts.supports) AS supports
        FROM hexes h JOIN pts ON ST_Intersects(h.geom, pts.g)
        GROUP BY h.i, h.j
    ),
    pieces AS (
        SELECT h.i, h.j,
               CASE WHEN ST_Within(h.geom, k.g) THEN ST_Area(h.geom)
                    ELSE ST_Area(ST_Intersection(h.geom, k.g)) END AS land_m2,
               CASE WHEN a.cg IS NULL OR NOT ST_Intersects(h.geom, a.cg) THEN 0.0
                    ELSE ST_Area(ST_Intersection(h.geom, a.cg)) END AS covered_m2,
               coalesce(d.proposals, 0)::int AS proposals,
               coalesce(d.supports, 0)::bigint AS supports
        FROM hexes h
        LEFT JOIN demand d ON d.i = h.i AND d.j = h.j
    )
    SELECT array_agg(i ORDER BY i, j) AS ci,
           array_agg(j ORDER BY i, j) AS cj,
           array_agg(land_m2 ORDER BY i, j) AS land_m2,
           array_agg(covered_m2 ORDER BY i, j) AS covered_m2,
           array_agg(proposals ORDER BY i, j) AS proposals,
           array_agg(supports ORDER BY i, j) AS supports
    FROM pieces
    WHERE land_m2 > 0
) cells ON true
ORDER BY k.code
