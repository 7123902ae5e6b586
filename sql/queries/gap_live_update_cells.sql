-- Rewrites the cells of run $1 whose figures changed (same arrays as gap_save_cells.sql, without
-- the hexagon edge: a cell's shape depends only on its grid column and row, which stay).
UPDATE gap_cell c
SET land_m2 = u.land_m2, covered_m2 = u.covered_m2, covered_fraction = u.covered_fraction,
    low_income_households = u.low, low_income_uncovered = u.low_uncovered,
    proposals = u.proposals, supports = u.supports, need = u.need, demand = u.demand,
    gap_score = u.gap_score, rank = u.rank, class = u.class
FROM unnest($2::int4[], $3::int4[], $4::float8[], $5::float8[], $6::float8[], $7::float8[],
            $8::float8[], $9::int4[], $10::int8[], $11::float8[], $12::float8[], $13::float8[],
            $14::int4[], $15::int2[])
     AS u (i, j, land_m2, covered_m2, covered_fraction, low, low_uncovered, proposals, supports,
           need, demand, gap_score, rank, class)
WHERE c.run_id = $1 AND c.cell_i = u.i AND c.cell_j = u.j
