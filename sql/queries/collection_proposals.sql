-- The proposals collection: published proposals only (statuses of ProposalStatus::PUBLIC,
-- bound as $PUBLIC_STATUSES by the registry) and only their public columns: never the submitter
-- or anything pending moderation.
SELECT p.id, p.tracking_code, p.category, p.title, p.description, p.status,
       p.estimated_cost_idr, p.kelurahan_code, p.kecamatan_code, p.support_count, p.created_at,
       p.id AS tile_id, p.geom
FROM proposal p
WHERE p.status IN ($PUBLIC_STATUSES)
