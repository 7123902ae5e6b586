-- Rewrites the per-kelurahan rows of run $1 whose figures changed, one array per column (the
-- same columns, in the same order, as gap_save_kelurahan.sql).
UPDATE gap_kelurahan g
SET kecamatan_code = u.kec, area_m2 = u.area_m2, covered_m2 = u.covered_m2,
    covered_fraction = u.covered_fraction, people_fraction = u.people_fraction,
    population = u.population, households = u.households,
    low_income_households = u.low_income_households, people_covered = u.people_covered,
    people_uncovered = u.people_uncovered, low_income_covered = u.low_income_covered,
    low_income_uncovered = u.low_income_uncovered, programs = u.programs, partners = u.partners,
    proposals = u.proposals, supports = u.supports, need = u.need, demand = u.demand,
    gap_score = u.gap_score, rank = u.rank, class = u.class
FROM unnest($2::text[], $3::text[], $4::float8[], $5::float8[], $6::float8[], $7::float8[],
            $8::int8[], $9::int8[], $10::int8[], $11::float8[], $12::float8[], $13::float8[],
            $14::float8[], $15::int4[], $16::int4[], $17::int4[], $18::int8[], $19::float8[],
            $20::float8[], $21::float8[], $22::int4[], $23::int2[])
     AS u (code, kec, area_m2, covered_m2, covered_fraction, people_fraction, population,
           households, low_income_households, people_covered, people_uncovered,
           low_income_covered, low_income_uncovered, programs, partners, proposals, supports,
           need, demand, gap_score, rank, class)
WHERE g.run_id = $1 AND g.kelurahan_code = u.code
