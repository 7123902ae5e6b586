-- One GCRA step for key $1 (text, hashed here) with emission interval $2 and period $3 (both in
-- seconds, float8): the next request's theoretical arrival time moves on by one interval from
-- max(tat, now); the request is allowed when it stays within one period of now. A row comes back
-- when allowed; a refused request leaves the row as it was. The row lock serialises concurrent
-- requests for one key across every process of the fleet.
INSERT INTO rate_limit AS r (key, tat)
VALUES (sha256(convert_to($1, 'UTF8')), now() + make_interval(secs => $2))
ON CONFLICT (key) DO UPDATE
   SET tat = greatest(r.tat, now()) + make_interval(secs => $2)
 WHERE greatest(r.tat, now()) + make_interval(secs => $2) <= now() + make_interval(secs => $3)
RETURNING 1
