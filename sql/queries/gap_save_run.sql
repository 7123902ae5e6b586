-- Records a gap run with its parameters, weights and summary; returns its id. A run with the
-- default parameters as of today is live: the public map shows the latest of these.
INSERT INTO gap_run (as_of, program_type, partner_type, cell_m, followup_months, weights,
                     is_default, population_weighted, summary, live, changes_through)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $7 AND $1 = current_date, $10)
RETURNING id, live
