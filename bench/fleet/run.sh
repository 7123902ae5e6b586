#!/usr/bin/env bash
# bench/fleet: tiles/s and items/s with 1 and 2 SIGAP processes, against the primary alone and
# against the primary plus one streaming replica (pg_basebackup), printed with ratios to
# "1 process, primary only". Not a test. Tiles are served cold (SIGAP_TILE_CACHE_MB=0), so every
# request renders on PostgreSQL: the part a replica takes over; warm tiles never reach it.
#
#   bench/fleet/run.sh                                   # 2000 villages, 20000 proposals
#   VILLAGES=10000 PROPOSALS=100000 DURATION=30 bench/fleet/run.sh
#
# Makes its own clusters sigapfleetp (port 5451) and sigapfleetr (5452), the same as
# tests/suite/fleet.rs (do not run both at once), and drops them at the end; never touches the
# main cluster. Needs root (pg_createcluster, runuser) and a release build (done here).
# On one machine, every process and both clusters share the same cores: see docs/operations.md
# "Fleet" for what that can and cannot show.
set -euo pipefail
cd "$(dirname "$0")/../.."

V=15; P=sigapfleetp; R=sigapfleetr; PP=5451; RP=5452
VILLAGES=${VILLAGES:-2000}; PROPOSALS=${PROPOSALS:-20000}; COVERAGE=${COVERAGE:-500}
DURATION=${DURATION:-15}; CONC=${CONC:-16}
PORT1=${PORT1:-18941}; PORT2=${PORT2:-18942}
OUT=bench/out/fleet
mkdir -p "$OUT"
PRIMARY_URL="host=/var/run/postgresql port=$PP user=postgres dbname=sigap"
REPLICA_URL="host=/var/run/postgresql port=$RP user=postgres dbname=sigap"

echo "== build (release)" >&2
cargo build --release --quiet --bin sigap --example fleet_load
SIGAP=target/release/sigap
LOAD=target/release/examples/fleet_load

pids=()
stop_servers() { for p in "${pids[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done; pids=(); true; }
cleanup() { stop_servers; pg_dropcluster --stop $V $R 2>/dev/null || true; pg_dropcluster --stop $V $P 2>/dev/null || true; }
trap cleanup EXIT
cleanup

echo "== primary ($P, port $PP): $VILLAGES villages, $PROPOSALS proposals" >&2
pg_createcluster $V $P --port $PP -- --auth=trust >/dev/null
pg_ctlcluster $V $P start
psql -q -h /var/run/postgresql -p $PP -U postgres -d postgres -c "CREATE DATABASE sigap"
DATABASE_URL="$PRIMARY_URL" $SIGAP migrate >/dev/null
DATABASE_URL="$PRIMARY_URL" $SIGAP sample scale --villages "$VILLAGES" --proposals "$PROPOSALS" --coverage "$COVERAGE" >&2
psql -q -h /var/run/postgresql -p $PP -U postgres -d sigap -c "VACUUM ANALYZE"

echo "== replica ($R, port $RP)" >&2
pg_createcluster $V $R --port $RP -- --auth=trust >/dev/null
data=/var/lib/postgresql/$V/$R
find "$data" -mindepth 1 -delete
runuser -u postgres -- pg_basebackup -h /var/run/postgresql -p $PP -U postgres -D "$data" -R -X stream -c fast
pg_conftool $V $R set hot_standby_feedback on
pg_ctlcluster $V $R start

# Paths: tiles z13–16 drawn over the region (fixed seed), OGC item pages of proposals and kelurahan.
psql -Atq -h /var/run/postgresql -p $PP -U postgres -d sigap > "$OUT/tiles.txt" <<'SQL'
WITH e AS (SELECT ST_XMin(b) x0, ST_YMin(b) y0, ST_XMax(b) x1, ST_YMax(b) y1
           FROM (SELECT ST_Extent(geom)::box2d b FROM region) s),
r AS (SELECT z,
        floor((x0 + 180) / 360 * 2 ^ z)::int AS tx0, floor((x1 + 180) / 360 * 2 ^ z)::int AS tx1,
        floor((1 - ln(tan(radians(y1)) + 1 / cos(radians(y1))) / pi()) / 2 * 2 ^ z)::int AS ty0,
        floor((1 - ln(tan(radians(y0)) + 1 / cos(radians(y0))) / pi()) / 2 * 2 ^ z)::int AS ty1
      FROM e, generate_series(13, 16) z)
SELECT format('/tiles/sigap/%s/%s/%s.mvt', z,
         tx0 + floor((hashint8extended(k * 7 + z, 42) & 65535) / 65536.0 * (tx1 - tx0 + 1))::int,
         ty0 + floor((hashint8extended(k * 13 + z, 43) & 65535) / 65536.0 * (ty1 - ty0 + 1))::int)
FROM r, generate_series(1, 250) k;
SQL
{ for i in $(seq 0 199); do
    echo "/ogc/collections/proposals/items?f=json&limit=50&offset=$((i * 50))"
    echo "/ogc/collections/kelurahan/items?f=json&limit=10&offset=$((i * 10 % VILLAGES))"
  done; } > "$OUT/items.txt"

wait_ready() { for _ in $(seq 1 300); do curl -fs "$1/readyz" | grep -q "$2" && return 0; sleep 0.1; done; echo "not ready: $1" >&2; return 1; }
BASES=""
start() { # $1 processes, $2 replica (0/1); sets BASES
  local read=""
  BASES=""
  [ "$2" = 1 ] && read="$REPLICA_URL"
  for port in $(seq $PORT1 $((PORT1 + $1 - 1))); do
    DATABASE_URL="$PRIMARY_URL" SIGAP_READ_DATABASE_URL="$read" SIGAP_ADDR="127.0.0.1:$port" \
      SIGAP_TILE_CACHE_MB=0 SIGAP_LIVE_GAP=false SIGAP_LOG=warn $SIGAP serve >>"$OUT/serve.log" 2>&1 & pids+=($!)
    if [ "$2" = 1 ]; then wait_ready "http://127.0.0.1:$port" '"healthy":true'; else wait_ready "http://127.0.0.1:$port" ready; fi
    BASES="$BASES,http://127.0.0.1:$port"
  done
  BASES=${BASES#,}
}

declare -A RES
for replica in 0 1; do
  for procs in 1 2; do
    start $procs $replica
    for kind in tiles items; do
      $LOAD --base "$BASES" --urls "$OUT/$kind.txt" --duration 3 --concurrency "$CONC" >/dev/null   # warm-up
      line=$($LOAD --base "$BASES" --urls "$OUT/$kind.txt" --duration "$DURATION" --concurrency "$CONC")
      echo "   $procs process(es), replica=$replica, $kind: $line" >&2
      RES[${kind}_${procs}_${replica}]=$(sed -n 's/.*per_s=\([0-9.]*\).*/\1/p' <<<"$line")
    done
    stop_servers
  done
done

ratio() { python3 -c "print(f'{$1 / $2:.2f}x')"; }
echo
echo "| setup | tiles/s (cold) | ratio | items/s | ratio |"
echo "|---|---|---|---|---|"
for replica in 0 1; do
  for procs in 1 2; do
    name="$procs process$([ $procs = 2 ] && echo es), $([ $replica = 1 ] && echo 'primary + replica' || echo 'primary only')"
    echo "| $name | ${RES[tiles_${procs}_${replica}]} | $(ratio "${RES[tiles_${procs}_${replica}]}" "${RES[tiles_1_0]}") | ${RES[items_${procs}_${replica}]} | $(ratio "${RES[items_${procs}_${replica}]}" "${RES[items_1_0]}") |"
  done
done
echo
echo "nproc=$(nproc) load average: $(cut -d' ' -f1-3 /proc/loadavg); $VILLAGES villages, $PROPOSALS proposals; concurrency $CONC, $DURATION s per cell"
