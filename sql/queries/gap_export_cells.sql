-- Per-cell results of run $1 with the hexagon (EPSG:4326 WKB), for export.
SELECT ST_AsBinary(c.geom) AS wkb,
       jsonb_build_object(
           'id', format('%s_%s', c.cell_i, c.cell_j),
           'land_m2', c.land_m2, 'covered_pct', c.covered_fraction * 100,
           'low_income_households', c.low_income_households,
           'low_income_uncovered', c.low_income_uncovered,
           'proposals', c.proposals, 'supports', c.supports, 'need', c.need,
           'demand', c.demand, 'gap_score', c.gap_score, 'rank', c.rank,
           'class', c.class) AS properties
FROM gap_cell c
WHERE c.run_id = $1
ORDER BY c.cell_i, c.cell_j
