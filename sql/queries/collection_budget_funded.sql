-- The budget_funded collection: the proposals funded by the most recently adopted budget
-- scenario (public: adoption is a public decision; only public proposal columns).
SELECT f.id, f.scenario_id, f.scenario_name, f.proposal_id, f.tracking_code, f.title,
       f.category, f.status, f.kelurahan_code, f.kecamatan_code, f.cost_idr, f.score,
       f.proposal_id AS tile_id, f.geom
FROM budget_funded_latest f
