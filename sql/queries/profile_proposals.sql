-- Public proposals of the area: the count per stage, and the first $3 by priority (most
-- supported first, then the oldest). $1 text code, $2 text[] public statuses, $3 int8 limit.
SELECT json_build_object(
    'by_stage', coalesce((SELECT json_object_agg(status, n)
                          FROM (SELECT status, count(*) AS n FROM proposal
                                WHERE kelurahan_code LIKE $1::text || '%' AND status = ANY ($2::text[])
                                GROUP BY status) s), '{}'::json),
    'top', coalesce((SELECT json_agg(t) FROM (
                SELECT pr.tracking_code, pr.title, pr.category, pr.status, pr.support_count,
                       pr.estimated_cost_idr, k.name AS kelurahan_name
                FROM proposal pr LEFT JOIN kelurahan k ON k.code = pr.kelurahan_code
                WHERE pr.kelurahan_code LIKE $1::text || '%' AND pr.status = ANY ($2::text[])
                ORDER BY pr.support_count DESC, pr.created_at, pr.id
                LIMIT $3::int8) t), '[]'::json))
