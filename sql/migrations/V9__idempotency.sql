-- Idempotency keys: a retried write (same Idempotency-Key from the same caller) answers the first
-- result instead of writing again. A row is 'pending' (status NULL) while the first request runs.
-- Keys expire after 24 hours (docs/reliability.md); expired rows are deleted by the server.

CREATE TABLE idempotency_key (
    -- SHA-256 of the caller's credential (bearer token or session cookie), or of 'anonymous'.
    scope        bytea       NOT NULL,
    key          text        NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    -- SHA-256 of method, path and body: the same key with another request is refused.
    request_hash bytea       NOT NULL,
    status       smallint,
    content_type text,
    location     text,
    body         bytea,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, key)
);

CREATE INDEX idempotency_key_created ON idempotency_key (created_at);
