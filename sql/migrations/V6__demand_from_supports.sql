-- The gap analysis reads community demand through proposal_demand (V4 defined it with zero
-- supports because supports arrived in V3 on a parallel branch). Now that proposal.support_count
-- exists and is kept exact by the database, demand counts it.
CREATE OR REPLACE VIEW proposal_demand AS
SELECT p.id AS proposal_id, p.kelurahan_code, p.support_count::bigint AS supports
FROM proposal p;
