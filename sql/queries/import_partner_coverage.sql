-- A partner's uploaded coverage (api/coverage_upload.rs): new rows only, never an upsert, so a
-- file cannot overwrite anyone's area; the program and the review state come from the upload's
-- context, not from the file; each row is audited in the same statement.
-- $1 NULL for every staged row or one feature index; $2 the context jsonb:
-- {program_code, approved, approver, creator, actor}.
WITH ins AS (
    INSERT INTO coverage AS c (code, program_code, site, radius_m, geom, valid_from, valid_to,
                               note, approved_at, approved_by, created_by)
    SELECT props->>'code',
           $2::jsonb->>'program_code',
           CASE WHEN GeometryType(geom) = 'POINT' THEN geom END,
           CASE WHEN GeometryType(geom) = 'POINT' THEN (props->>'radius_m')::float8 END,
           CASE WHEN GeometryType(geom) = 'POINT' THEN NULL ELSE geom END,
           (props->>'valid_from')::date, (props->>'valid_to')::date, props->>'note',
           CASE WHEN ($2::jsonb->>'approved')::bool THEN now() END,
           CASE WHEN ($2::jsonb->>'approved')::bool THEN ($2::jsonb->>'approver')::bigint END,
           ($2::jsonb->>'creator')::bigint
    FROM import_staging
    WHERE reject IS NULL AND ($1::int IS NULL OR idx = $1)
    RETURNING c.code, c.program_code, c.valid_from, c.valid_to, c.radius_m, c.note,
              c.approved_at IS NOT NULL AS approved,
              round((ST_Area(c.geom::geography) / 1e6)::numeric, 4)::float8 AS area_km2
)
INSERT INTO audit_log (actor_id, actor_label, action, target_type, target_id, before, after)
SELECT ($2::jsonb->>'creator')::bigint, $2::jsonb->>'actor', 'coverage.create', 'coverage', ins.code, NULL,
       jsonb_build_object('code', ins.code, 'program_code', ins.program_code,
                          'valid_from', ins.valid_from, 'valid_to', ins.valid_to,
                          'radius_m', ins.radius_m, 'area_km2', ins.area_km2, 'note', ins.note,
                          'approved', ins.approved, 'upload', true)
FROM ins
