-- New proposals get their first history event; the proposal_assign_area trigger sets the
-- kelurahan and kecamatan from the point.
WITH upserted AS (
    INSERT INTO proposal (tracking_code, geom, category, title, description, estimated_cost_idr,
                          status, created_at)
    SELECT props->>'code', geom, props->>'category', props->>'title',
           coalesce(props->>'description', ''), (props->>'estimated_cost_idr')::bigint,
           coalesce(props->>'status', 'diajukan'),
           coalesce((props->>'created_at')::timestamptz, now())
    FROM import_staging
    WHERE reject IS NULL AND ($1::int IS NULL OR idx = $1)
    ON CONFLICT (tracking_code) DO UPDATE
    SET geom = EXCLUDED.geom, category = EXCLUDED.category, title = EXCLUDED.title,
        description = EXCLUDED.description, estimated_cost_idr = EXCLUDED.estimated_cost_idr,
        status = EXCLUDED.status, updated_at = now()
    RETURNING id, status, created_at, (xmax = 0) AS inserted
)
INSERT INTO proposal_event (proposal_id, at, from_status, to_status, note)
SELECT id, created_at, NULL, status, 'imported'
FROM upserted WHERE inserted
