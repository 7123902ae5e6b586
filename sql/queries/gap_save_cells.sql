-- Saves the per-cell results of run $1; $2 is the hexagon edge (m). Each cell's shape is rebuilt
-- from its grid column and row with ST_Hexagon, on the same origin ST_HexagonGrid uses. The grid is in ESRI:54034 (gap_metric, V14).
INSERT INTO gap_cell (run_id, cell_i, cell_j, geom, land_m2, covered_m2, covered_fraction,
    low_income_households, low_income_uncovered, proposals, supports, need, demand, gap_score,
    rank, class)
SELECT $1, u.i, u.j,
       ST_Transform(ST_Hexagon($2, u.i, u.j, ST_SetSRID(ST_MakePoint(0, 0), 54034)), 4326),
       u.land_m2, u.covered_m2, u.covered_fraction, u.low, u.low_uncovered, u.proposals,
       u.supports, u.need, u.demand, u.gap_score, u.rank, u.class
FROM unnest($3::int4[], $4::int4[], $5::float8[], $6::float8[], $7::float8[], $8::float8[],
            $9::float8[], $10::int4[], $11::int8[], $12::float8[], $13::float8[], $14::float8[],
            $15::int4[], $16::int2[])
     AS u (i, j, land_m2, covered_m2, covered_fraction, low, low_uncovered, proposals, supports,
           need, demand, gap_score, rank, class)
