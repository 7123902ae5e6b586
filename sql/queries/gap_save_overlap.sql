-- Saves the overlaps of run $1; $4 holds each overlap's partner codes joined by commas.
INSERT INTO gap_overlap (run_id, kelurahan_code, program_type, partner_codes, overlap_m2)
SELECT $1, u.code, u.type, string_to_array(u.partners, ','), u.m2
FROM unnest($2::text[], $3::text[], $4::text[], $5::float8[]) AS u (code, type, partners, m2)
