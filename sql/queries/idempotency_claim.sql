-- Claims (scope, key) for a new request: inserts a pending row, or takes over a row that has
-- expired or whose first request was abandoned while pending (the server died mid-request).
-- Returns a row only when this request now owns the key.
INSERT INTO idempotency_key AS k (scope, key, request_hash)
VALUES ($1, $2, $3)
ON CONFLICT (scope, key) DO UPDATE
SET request_hash = EXCLUDED.request_hash, status = NULL, content_type = NULL, location = NULL,
    body = NULL, created_at = now()
WHERE k.created_at < now() - make_interval(secs => $4)
   OR (k.status IS NULL AND k.created_at < now() - make_interval(secs => $5))
RETURNING true
