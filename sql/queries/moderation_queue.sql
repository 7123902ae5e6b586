-- Pending proposals in the moderator's area, oldest first, each with the live proposals within
-- 50 m (measured on the geography) that may be the same request, and how many confirmed email
-- followers each has (never who).
SELECT p.id, p.tracking_code, ST_X(p.geom), ST_Y(p.geom), p.category, p.title, p.description,
       p.estimated_cost_idr, p.status, p.kelurahan_code, p.kecamatan_code, p.support_count,
       p.merged_into, p.status_reason, p.cycle_year, p.created_at, p.updated_at,
       EXISTS (SELECT 1 FROM proposal_photo f WHERE f.proposal_id = p.id),
       p.submitter_id, p.submitter_name, p.submitter_phone,
       coalesce(d.items, '[]'::json) AS nearby_duplicates,
       (SELECT count(*) FROM proposal_follower pf
        WHERE pf.proposal_id = p.id AND pf.confirmed_at IS NOT NULL) AS follower_count
FROM proposal p
LEFT JOIN LATERAL (
    SELECT json_agg(json_build_object('id', o.id, 'title', o.title, 'category', o.category,
                                      'status', o.status, 'support_count', o.support_count,
                                      'distance_m', round(ST_Distance(o.geom::geography, p.geom::geography)::numeric, 1))
                    ORDER BY (o.category = p.category) DESC, ST_Distance(o.geom::geography, p.geom::geography)) AS items
    FROM proposal o
    WHERE o.id <> p.id
      AND o.status NOT IN ('ditolak', 'digabung')
      -- 0.001 degree is about 110 m at Bandung's latitude: a bounding box for the index.
      AND o.geom && ST_Expand(p.geom, 0.001)
      AND ST_DWithin(o.geom::geography, p.geom::geography, 50)
) d ON true
WHERE p.status = 'diajukan'
  AND ($1::text IS NULL OR p.kelurahan_code = $1 OR p.kecamatan_code = $1)
ORDER BY p.created_at, p.id
LIMIT $2
