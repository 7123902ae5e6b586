-- Fleet-wide rate limits (issue 16): the login and anonymous-submission limits that each process
-- kept in memory (governor) live here, so every SIGAP process behind the load balancer shares one
-- count per client. One row per limited key, holding the GCRA "theoretical arrival time" (the
-- algorithm governor used): a request is allowed while tat stays within one period of now.
--
-- UNLOGGED: a rate-limit row is worth nothing after a crash (the table is emptied then, which
-- only forgives recent attempts), and skipping the WAL keeps each check cheap; the table is also
-- not sent to replicas, which never need it (limits are checked on the primary).
CREATE UNLOGGED TABLE rate_limit (
    -- SHA-256 of '<kind>:<key>' (client IP or account name): no address or name at rest.
    key bytea       PRIMARY KEY,
    tat timestamptz NOT NULL
);

CREATE INDEX rate_limit_tat ON rate_limit (tat);
