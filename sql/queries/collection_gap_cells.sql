-- The gap_cells collection: hexagon cells of the latest default gap run, where pockets inside a
-- well-covered kelurahan show up.
SELECT format('%s_%s', c.cell_i, c.cell_j) AS id, c.run_id, r.as_of,
       round((c.covered_fraction * 100)::numeric, 2)::float8 AS covered_pct,
       round(c.low_income_households::numeric, 1)::float8 AS low_income_households,
       round(c.low_income_uncovered::numeric, 1)::float8 AS low_income_uncovered,
       c.proposals, c.supports, c.need, c.demand, c.gap_score, c.rank, c.class::int AS class,
       (c.cell_i::bigint * 1000000 + c.cell_j) AS tile_id, c.geom
FROM gap_run_latest_default r
JOIN gap_cell c ON c.run_id = r.id
