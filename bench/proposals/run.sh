#!/usr/bin/env bash
# Proposal write benchmark: a release build of SIGAP on a fresh database, the load client
# (cargo example bench_proposals) for DURATION seconds with CONCURRENCY requests in flight,
# then the count check and the direct-to-database peer. Figures: docs/performance-proposals.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
DB=${BENCH_DB:-sigap_bench_proposals}
PORT=${BENCH_PORT:-18084}
DURATION=${DURATION:-20}
CONCURRENCY=${CONCURRENCY:-64}

cargo build --release --bin sigap --example bench_proposals
dropdb --if-exists "$DB"
createdb "$DB"
export DATABASE_URL="dbname=$DB"
target/release/sigap migrate >/dev/null
psql -q -v ON_ERROR_STOP=1 -d "$DB" -f bench/proposals/fixture.sql

SIGAP_ANON_POSTS_PER_MINUTE=0 SIGAP_ADDR="127.0.0.1:$PORT" SIGAP_LOG=warn SIGAP_POOL_SIZE=16 \
    target/release/sigap serve &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null || true; dropdb --if-exists "$DB"' EXIT
for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break
    sleep 0.1
done

SIGAP_POOL_SIZE=16 target/release/examples/bench_proposals --base "http://127.0.0.1:$PORT" \
    --duration "$DURATION" --concurrency "$CONCURRENCY"
