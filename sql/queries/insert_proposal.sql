-- One statement, one transaction: the proposal (only when the point lies in the region; the
-- proposal_assign_area trigger fills kelurahan and kecamatan), its first history event, its
-- photo when there is one, and the audit entry. No row back means the point is outside.
WITH p AS (
    INSERT INTO proposal (tracking_code, geom, category, title, description, estimated_cost_idr,
                          submitter_id, submitter_name, submitter_phone)
    SELECT $1, pt.geom, $4, $5, $6, $7, $8, $9, $10
    FROM (SELECT ST_SetSRID(ST_MakePoint($2::float8, $3::float8), 4326) AS geom) pt
    WHERE EXISTS (SELECT 1 FROM region r WHERE ST_Intersects(r.geom, pt.geom))
    RETURNING id, tracking_code, status, kelurahan_code, kecamatan_code, created_at
), e AS (
    INSERT INTO proposal_event (proposal_id, actor_id, at, from_status, to_status)
    SELECT id, $8, created_at, NULL, status FROM p
), ph AS (
    INSERT INTO proposal_photo (proposal_id, content_type, width, height, bytes)
    SELECT id, $12, $13, $14, $15 FROM p WHERE $15::bytea IS NOT NULL
), a AS (
    INSERT INTO audit_log (actor_id, actor_label, action, target_type, target_id, after)
    SELECT $8, $11, 'proposal.create', 'proposal', id::text,
           jsonb_build_object('tracking_code', tracking_code, 'status', status,
                              'category', $4::text, 'title', $5::text,
                              'photo', $15::bytea IS NOT NULL)
    FROM p
)
SELECT id, tracking_code, status, kelurahan_code, kecamatan_code FROM p
