-- Gap analysis for one chunk of kelurahan: coverage, population weighting, demand, overlap and
-- hexagon cell pieces. All metric work is in ESRI:54034 (equal-area) through gap_metric() (V14), which also repairs a
-- geometry its transform made invalid.
-- $1 text[] kelurahan codes, $2 date as_of, $3 text[] codes of the programs active on as_of that
-- pass the filters (gap_active_programs.sql), $4 float8 hexagon edge in metres, $5 text[] public
-- proposal statuses, $6 text[] and $7 text[] the type and partner of each program of $3.
--
-- Instead of one union of every coverage area, each kelurahan unions only the active coverage
-- pieces the GiST index finds for it, clipped to it first: the unions stay small and independent,
-- so chunks run on several connections at once. Every geometry operation is computed once: the
-- CTEs that hold geometry are MATERIALIZED so that a filter on a computed geometry does not make
-- the planner compute it again (ST_Intersection in a WHERE and a SELECT list runs twice when
-- inlined). Docs: docs/gap-analysis.md, docs/performance-gap.md.
WITH k AS MATERIALIZED (
    -- The kelurahan with what is kept of them (V19): their metric geometry and the land of each
    -- hexagon, used only when computed from the same shape (md5 of its EWKB); else NULL here and
    -- computed below.
    SELECT kl.code, kl.kecamatan_code, kl.geom, kl.geom_md5 AS src,
           coalesce(s.g, gap_metric(kl.geom)) AS g, s.code IS NOT NULL AS shape_kept,
           l.ci AS land_ci, l.cj AS land_cj, l.land_m2 AS land_m2
    FROM kelurahan kl
    LEFT JOIN gap_kelurahan_shape s ON s.code = kl.code AND s.src = kl.geom_md5
    LEFT JOIN gap_kelurahan_land l ON l.code = kl.code AND l.cell_m = $4 AND l.src = kl.geom_md5
    WHERE kl.code = ANY ($1::text[])
),
-- Type and partner of each active program, found by a hash join (array_position over ~1 000
-- programs per coverage piece cost more than the clipping's transform).
progs AS MATERIALIZED (
    SELECT * FROM unnest($3::text[], $6::text[], $7::text[]) AS u (code, type, partner)
),
-- Each active coverage clipped to each kelurahan it meets: the kept piece (V19) when it was
-- clipped from the same two shapes, else clipped here by the same function. Only pieces of
-- positive area count.
cand AS MATERIALIZED (
    SELECT k.code, c.id, c.program_code, pr.type AS program_type, pr.partner AS partner_code,
           c.geom AS cgeom, c.geom_md5 AS cov_src
    FROM k
    JOIN coverage c ON c.geom && k.geom
    JOIN progs pr ON pr.code = c.program_code
    WHERE c.valid_from <= $2 AND c.valid_to >= $2
      AND c.approved_at IS NOT NULL
),
pieces_all AS MATERIALIZED (
    SELECT cand.code, cand.id, cand.program_code, cand.program_type, cand.partner_code,
           coalesce(p.kept, false) AS kept,
           CASE WHEN p.kept THEN p.g ELSE gap_coverage_clip(cand.cgeom, k.geom, k.g) END AS g
    FROM cand
    JOIN k ON k.code = cand.code
    -- LATERAL and OFFSET 0: one primary-key lookup per candidate (as a plain join the planner
    -- hashed the whole table, 0.5 s a chunk at national size).
    LEFT JOIN LATERAL (
        SELECT true AS kept, p.g
        FROM gap_coverage_piece p
        WHERE p.kelurahan_code = cand.code AND p.coverage_id = cand.id
          AND p.kel_src = k.src AND p.cov_src = cand.cov_src
        OFFSET 0
    ) p ON true
),
-- Whether every coverage piece of a kelurahan was read from what is kept.
pieces_kept AS (
    SELECT code, bool_and(kept) AS kept FROM pieces_all GROUP BY code
),
pieces AS MATERIALIZED (
    -- Kept or computed, a piece is NULL unless it has area (gap_coverage_clip).
    SELECT * FROM pieces_all WHERE g IS NOT NULL
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
-- One partner's pieces in a (kelurahan, type) group; a single piece needs no union.
by_partner AS (
    SELECT p.code, p.program_type, p.partner_code,
           CASE WHEN count(*) = 1 THEN (array_agg(p.g))[1]
                ELSE ST_UnaryUnion(ST_Collect(p.g ORDER BY p.id)) END AS g
    FROM pieces p
    JOIN shared s ON s.code = p.code AND s.program_type = p.program_type
    GROUP BY 1, 2, 3
),
-- Each group's partners in code order, so pairs come from subscripts (no self-join).
by_group AS (
    SELECT code, program_type,
           array_agg(partner_code ORDER BY partner_code) AS ps,
           array_agg(g ORDER BY partner_code) AS gs
    FROM by_partner
    GROUP BY 1, 2
),
pairs AS MATERIALIZED (
    SELECT b.code, b.program_type, b.ps[x] AS pa, b.ps[y] AS pb,
           ST_CollectionExtract(ST_Intersection(b.gs[x], b.gs[y]), 3) AS g
    FROM by_group b
    CROSS JOIN generate_subscripts(b.ps, 1) x
    CROSS JOIN generate_subscripts(b.ps, 1) y
    WHERE x < y
),
overlap AS (
    SELECT code, program_type,
           (SELECT string_agg(DISTINCT u, ',' ORDER BY u)
              FROM unnest(array_agg(pa) || array_agg(pb)) u) AS partners,
           CASE WHEN count(*) = 1 THEN ST_Area((array_agg(g))[1])
                ELSE ST_Area(ST_UnaryUnion(ST_Collect(g ORDER BY pa, pb))) END AS m2
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
),
-- Public proposals of the chunk per kelurahan: their points in ESRI:54034 as one multipoint per
-- kelurahan (one transform call each, not one per point; a transformed point needs no validity
-- check), and their supports in the same order.
demand_k AS (
    SELECT pd.kelurahan_code AS code, count(*) AS proposals, sum(pd.supports) AS supports,
           ST_Transform(ST_Collect(p.geom ORDER BY p.id), 54034) AS pts,
           array_agg(pd.supports ORDER BY p.id) AS ss
    FROM proposal_demand pd
    JOIN proposal p ON p.id = pd.proposal_id
    WHERE pd.kelurahan_code = ANY ($1) AND p.status = ANY ($5)
    GROUP BY pd.kelurahan_code
),
-- The hexagons each public proposal lies in (on an edge or a corner: each hexagon it touches),
-- found from the point: the grid of a box 1 mm around it, then the exact test.
demand_cells AS (
    SELECT d.code, hx.i, hx.j, count(*)::int AS proposals, sum(d.ss[u.path[1]])::bigint AS supports
    FROM demand_k d
    CROSS JOIN LATERAL ST_Dump(d.pts) AS u
    CROSS JOIN LATERAL ST_HexagonGrid($4, ST_Expand(u.geom, 0.001)) hx
    WHERE ST_Intersects(hx.geom, u.geom)
    GROUP BY 1, 2, 3
),
-- Land of each hexagon per kelurahan: kept (V19), or computed here by the same function.
land AS MATERIALIZED (
    SELECT k.code, k.land_ci AS ci, k.land_cj AS cj, k.land_m2
    FROM k
    WHERE k.land_ci IS NOT NULL
    UNION ALL
    SELECT k.code, h.ci, h.cj, h.land_m2
    FROM k
    CROSS JOIN LATERAL gap_hexagon_land($4, k.g) h
    WHERE k.land_ci IS NULL
)
SELECT k.code,
       -- False when anything of this kelurahan was computed here instead of read from what is
       -- kept (V19): the run keeps it afterwards (store::gap::measure).
       (k.shape_kept AND k.land_ci IS NOT NULL AND coalesce(pk.kept, true)) AS kept,
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
LEFT JOIN pieces_kept pk ON pk.code = k.code
LEFT JOIN agg a ON a.code = k.code
LEFT JOIN overlap_k o ON o.code = k.code
LEFT JOIN indicator_latest i ON i.kelurahan_code = k.code
LEFT JOIN demand_k d ON d.code = k.code
LEFT JOIN LATERAL (
    SELECT sum(pw.weight * s.in_k) AS w_total,
           sum(pw.weight * s.in_cov) AS w_covered
    FROM population_weight pw
    CROSS JOIN LATERAL (SELECT gap_metric(pw.geom) AS g) t
    CROSS JOIN LATERAL (
        SELECT CASE WHEN ST_Dimension(t.g) = 0 THEN 1.0
                    ELSE ST_Area(ST_Intersection(t.g, k.g)) / nullif(ST_Area(t.g), 0) END AS in_k,
               CASE WHEN a.cg IS NULL THEN 0.0
                    WHEN ST_Dimension(t.g) = 0 THEN (ST_Intersects(t.g, a.cg))::int::float8
                    ELSE ST_Area(ST_Intersection(t.g, a.cg)) / nullif(ST_Area(t.g), 0) END AS in_cov
    ) s
    WHERE pw.geom && k.geom AND ST_Intersects(pw.geom, k.geom)
) w ON true
LEFT JOIN land ON land.code = k.code
LEFT JOIN LATERAL (
    -- The kelurahan's hexagons with land: the covered area of each piece (hexagon ∩ the union of
    -- the kelurahan's coverage, which lies inside the kelurahan) and the public proposals inside.
    -- ST_Hexagon on the grid's origin gives the very hexagon ST_HexagonGrid gave.
    SELECT array_agg(h.i ORDER BY h.i, h.j) AS ci,
           array_agg(h.j ORDER BY h.i, h.j) AS cj,
           array_agg(h.land_m2 ORDER BY h.i, h.j) AS land_m2,
           array_agg(h.covered_m2 ORDER BY h.i, h.j) AS covered_m2,
           array_agg(h.proposals ORDER BY h.i, h.j) AS proposals,
           array_agg(h.supports ORDER BY h.i, h.j) AS supports
    FROM (
        SELECT u.i, u.j, u.land_m2,
               CASE WHEN a.cg IS NULL THEN 0.0
                    -- The kelurahan's land lies in this one hexagon: so does its coverage.
                    WHEN cardinality(land.ci) = 1 THEN ST_Area(a.cg)
                    ELSE (SELECT CASE WHEN ST_Intersects(hg, a.cg)
                                      THEN ST_Area(ST_Intersection(hg, a.cg)) ELSE 0.0 END
                          FROM ST_Hexagon($4, u.i, u.j, 'SRID=54034;POINT(0 0)'::geometry) hg)
               END AS covered_m2,
               coalesce(dc.proposals, 0) AS proposals,
               coalesce(dc.supports, 0)::bigint AS supports
        FROM unnest(land.ci, land.cj, land.land_m2) AS u (i, j, land_m2)
        LEFT JOIN demand_cells dc ON dc.code = k.code AND dc.i = u.i AND dc.j = u.j
    ) h
    HAVING count(*) > 0) cells ON true
ORDER BY k.code
