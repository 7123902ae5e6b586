#!/usr/bin/env bash
# Soak benchmark (not a test): SIGAP on a fresh database holding the Bandung sample, DURATION
# seconds (default 600) of mixed load at CONCURRENCY connections (default 64): tiles, OGC items,
# submissions (with Idempotency-Key), supports, readiness. Prints errors, p50/p99 per route and
# the server's RSS at start and end. Figures: docs/reliability.md.
#
#   bench/soak/run.sh                         # 10 minutes, release build
#   DURATION=30 PROFILE=debug bench/soak/run.sh   # a smoke run
set -euo pipefail
cd "$(dirname "$0")/../.."
DB=${SOAK_DB:-sigap_soak}
PORT=${SOAK_PORT:-18090}
DURATION=${DURATION:-600}
CONCURRENCY=${CONCURRENCY:-64}
PROFILE=${PROFILE:-release}

if [ "$PROFILE" = release ]; then
    cargo build --release --bin sigap --example soak
else
    cargo build --bin sigap --example soak
fi
BIN="target/$PROFILE"
dropdb --if-exists "$DB"
createdb "$DB"
export DATABASE_URL="dbname=$DB"
"$BIN/sigap" migrate >/dev/null
"$BIN/sigap" sample load >/dev/null
# 500 residents with API tokens tok-soak<i> (the token hash is what SIGAP stores).
psql -q -v ON_ERROR_STOP=1 -d "$DB" <<'SQL'
WITH u AS (
    INSERT INTO app_user (username, password_hash, role)
    SELECT 'soak' || g, 'x', 'resident' FROM generate_series(1, 500) g RETURNING id, username)
INSERT INTO api_token (user_id, name, token_hash)
SELECT id, 'soak', sha256(convert_to('tok-' || username, 'UTF8')) FROM u;
SQL

SIGAP_ANON_POSTS_PER_MINUTE=0 SIGAP_ADDR="127.0.0.1:$PORT" SIGAP_LOG=warn SIGAP_POOL_SIZE=16 \
    SIGAP_STATIC_DIR=map-ui/dist "$BIN/sigap" serve &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null || true; dropdb --if-exists "$DB"' EXIT
for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break
    sleep 0.1
done

"$BIN/examples/soak" --base "http://127.0.0.1:$PORT" --duration "$DURATION" \
    --concurrency "$CONCURRENCY" --pid "$SERVER" --db "$DB"
