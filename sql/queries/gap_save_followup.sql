-- Saves the follow-up gaps of run $1.
INSERT INTO gap_followup (run_id, kelurahan_code, program_code, program_type, partner_code,
                          training_ended, window_closed)
SELECT $1, u.* FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::date[], $7::date[]) AS u
