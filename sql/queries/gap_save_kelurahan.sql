-- Saves the per-kelurahan results of run $1, one array per column.
INSERT INTO gap_kelurahan (run_id, kelurahan_code, kecamatan_code, area_m2, covered_m2, covered_fraction,
    people_fraction, population, households, low_income_households, people_covered,
    people_uncovered, low_income_covered, low_income_uncovered, programs, partners, proposals,
    supports, need, demand, gap_score, rank, class)
SELECT $1, u.code, u.kec, u.area_m2, u.covered_m2, u.covered_fraction, u.people_fraction,
       u.population, u.households, u.low_income_households, u.people_covered,
       u.people_uncovered, u.low_income_covered, u.low_income_uncovered, u.programs,
       u.partners, u.proposals, u.supports, u.need, u.demand, u.gap_score, u.rank, u.class
FROM unnest($2::text[], $3::text[], $4::float8[], $5::float8[], $6::float8[], $7::float8[],
            $8::int8[], $9::int8[], $10::int8[], $11::float8[], $12::float8[], $13::float8[],
            $14::float8[], $15::int4[], $16::int4[], $17::int4[], $18::int8[], $19::float8[],
            $20::float8[], $21::float8[], $22::int4[], $23::int2[])
     AS u (code, kec, area_m2, covered_m2, covered_fraction, people_fraction, population,
           households, low_income_households, people_covered, people_uncovered,
           low_income_covered, low_income_uncovered, programs, partners, proposals, supports,
           need, demand, gap_score, rank, class)
