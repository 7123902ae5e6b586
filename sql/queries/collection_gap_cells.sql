-- The gap_cells collection: hexagon cells of the live gap run, where pockets inside a
-- well-covered kelurahan show up.
--
-- Small numbers stay private (docs/privacy.md). A cell whose low-income households, or
-- uncovered low-income households, are above 0 and below $SUPPRESS_BELOW (a whole number from
-- the server's configuration, SIGAP_SUPPRESS_BELOW) shows neither count, nor anything computed
-- from them that would give one back with the cell's known area (covered share, need, score,
-- rank, class); `households_suppressed` says so. Counts of at least the threshold, and zeros,
-- are shown. Kelurahan and larger areas are never suppressed.
SELECT format('%s_%s', c.cell_i, c.cell_j) AS id, c.run_id, r.as_of,
       CASE WHEN s.small THEN NULL
            ELSE round((c.covered_fraction * 100)::numeric, 2)::float8 END AS covered_pct,
       CASE WHEN c.low_income_households > 0 AND c.low_income_households < $SUPPRESS_BELOW THEN NULL
            ELSE round(c.low_income_households::numeric, 1)::float8 END AS low_income_households,
       CASE WHEN c.low_income_uncovered > 0 AND c.low_income_uncovered < $SUPPRESS_BELOW THEN NULL
            ELSE round(c.low_income_uncovered::numeric, 1)::float8 END AS low_income_uncovered,
       c.proposals, c.supports,
       CASE WHEN s.small THEN NULL ELSE c.need END AS need,
       c.demand,
       CASE WHEN s.small THEN NULL ELSE c.gap_score END AS gap_score,
       CASE WHEN s.small THEN NULL ELSE c.rank END AS rank,
       CASE WHEN s.small THEN NULL ELSE c.class::int END AS class,
       s.small AS households_suppressed,
       (c.cell_i::bigint * 1000000 + c.cell_j) AS tile_id, c.geom
FROM gap_run_latest_default r
JOIN gap_cell c ON c.run_id = r.id
CROSS JOIN LATERAL (
    SELECT (c.low_income_households > 0 AND c.low_income_households < $SUPPRESS_BELOW)
        OR (c.low_income_uncovered > 0 AND c.low_income_uncovered < $SUPPRESS_BELOW) AS small
) s
