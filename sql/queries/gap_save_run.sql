-- Records a gap run with its parameters, weights and summary; returns its id.
INSERT INTO gap_run (as_of, program_type, partner_type, cell_m, followup_months, weights,
                     is_default, population_weighted, summary)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
RETURNING id
