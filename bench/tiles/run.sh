#!/usr/bin/env bash
# bench/tiles: SIGAP against martin and against the raw SQL floor, on one database and one list of
# tiles (z11–z16 over the region). Not a test: it prints tiles/s and the ratios.
#
#   bench/tiles/run.sh                      # the Bandung sample (sample-layers/)
#   VILLAGES=10000 PROPOSALS=100000 COVERAGE=2000 bench/tiles/run.sh   # synthetic, sigap sample scale
#
# Two load shapes, each for SIGAP cold/warm, martin cold/warm and the raw SQL floor:
#   - its own client (examples/tile_load): CONC workers over TILES_PER_ZOOM random tiles a zoom;
#   - wrk: WRK_THREADS threads, WRK_CONNS connections, WRK_ROUNDS rounds of WRK_SECONDS s over
#     every tile z11–16 of the region's bounding box (bench/tiles/walk.lua walks the list); the
#     median round is printed. The SQL floor of this shape is pgbench with WRK_CONNS clients.
#
# Needs: a release build (done here), PostgreSQL + PostGIS, pgbench, wrk, and martin on PATH
# (`cargo install martin --version 1.14.0 --locked --no-default-features --features postgres`;
# MARTIN=/path/to/martin to point elsewhere). Without martin the
# martin rows are skipped and say so.
set -euo pipefail
cd "$(dirname "$0")/../.."

DB=${BENCH_DB:-sigap_bench_tiles}
VILLAGES=${VILLAGES:-}
PROPOSALS=${PROPOSALS:-100000}
COVERAGE=${COVERAGE:-2000}
LAYERS=${LAYERS:-"proposals kelurahan"}
TILES_PER_ZOOM=${TILES_PER_ZOOM:-100}
CONC=${CONC:-4}
WARM_ROUNDS=${WARM_ROUNDS:-5}
# Cold passes (cache off, so every pass renders every tile again).
COLD_ROUNDS=${COLD_ROUNDS:-2}
WRK_THREADS=${WRK_THREADS:-2}
WRK_CONNS=${WRK_CONNS:-16}
WRK_ROUNDS=${WRK_ROUNDS:-3}
WRK_SECONDS=${WRK_SECONDS:-5}
MARTIN=${MARTIN:-$(command -v martin || echo /tmp/martin-install/bin/martin)}
SIGAP_PORT=${SIGAP_PORT:-18931}
MARTIN_PORT=${MARTIN_PORT:-18932}
OUT=bench/out/tiles
mkdir -p "$OUT"
export DATABASE_URL="dbname=$DB"
export SIGAP_LOG=warn
# Tiles only: the live gap refresher measures every kelurahan once when a server starts (seconds
# of both cores at 10 000 kelurahan), which would land in the first measured pass of each start.
export SIGAP_LIVE_GAP=false

echo "== build (release)" >&2
cargo build --release --quiet --bin sigap --example tile_load --example tile_sql
SIGAP=target/release/sigap
LOAD=target/release/examples/tile_load
TILE_SQL=target/release/examples/tile_sql

psql -q -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
$SIGAP migrate >/dev/null
if [ -z "$VILLAGES" ]; then
  echo "== database $DB: the Bandung sample" >&2
  $SIGAP sample load --dir sample-layers >/dev/null
else
  echo "== database $DB: $VILLAGES villages, $PROPOSALS proposals, $COVERAGE coverage" >&2
  $SIGAP sample scale --villages "$VILLAGES" --proposals "$PROPOSALS" --coverage "$COVERAGE" >&2
fi
psql -q -d "$DB" -c "VACUUM ANALYZE"
# Every table, index and TOAST table in shared buffers first: whoever runs first would otherwise
# pay for reading the data in (SIGAP does, each layer), and the others would not.
psql -q -d "$DB" -c "CREATE EXTENSION IF NOT EXISTS pg_prewarm" -Atc "
  SELECT 'prewarmed ' || pg_size_pretty(sum(pg_prewarm(c.oid)) * current_setting('block_size')::bigint)
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname IN ('public', 'pg_toast') AND c.relkind IN ('r', 'i', 't', 'm')" >&2
VILLAGES=$(psql -Atq -d "$DB" -c "SELECT count(*) FROM kelurahan")
PROPOSALS=$(psql -Atq -d "$DB" -c "SELECT count(*) FROM proposal")

# martin serves views over the very SQL of SIGAP's collections (same rows, same columns).
public_statuses=$(printf "'%s'," diverifikasi diprioritaskan dianggarkan dikerjakan selesai)
public_statuses=${public_statuses%,}
for layer in $LAYERS; do
  sql=$(sed "s/\$PUBLIC_STATUSES/$public_statuses/" "sql/queries/collection_$layer.sql")
  psql -q -v ON_ERROR_STOP=1 -d "$DB" -c "CREATE VIEW bench_$layer AS $sql"
done

# The tile ranges of the region's bounding box at each zoom 11–16 (both lists below draw on it).
psql -q -v ON_ERROR_STOP=1 -d "$DB" <<SQL
CREATE TABLE bench_ranges AS
WITH e AS (SELECT ST_XMin(b) x0, ST_YMin(b) y0, ST_XMax(b) x1, ST_YMax(b) y1
           FROM (SELECT ST_Extent(geom)::box2d b FROM region) s),
r AS (SELECT z,
        floor((x0 + 180) / 360 * 2 ^ z)::int AS tx0, floor((x1 + 180) / 360 * 2 ^ z)::int AS tx1,
        floor((1 - ln(tan(radians(y1)) + 1 / cos(radians(y1))) / pi()) / 2 * 2 ^ z)::int AS ty0,
        floor((1 - ln(tan(radians(y0)) + 1 / cos(radians(y0))) / pi()) / 2 * 2 ^ z)::int AS ty1
      FROM e, generate_series(11, 16) z)
SELECT * FROM r;
SQL
# One list of tiles: for each zoom 11–16, TILES_PER_ZOOM tiles drawn (fixed seed) over the region.
psql -q -v ON_ERROR_STOP=1 -d "$DB" <<SQL
CREATE TABLE bench_tiles AS
SELECT row_number() OVER () AS i, z, x, y FROM (
  SELECT z, tx0 + floor((hashint8extended(k * 7 + z, 42) & 65535) / 65536.0 * (tx1 - tx0 + 1))::int AS x,
            ty0 + floor((hashint8extended(k * 13 + z, 43) & 65535) / 65536.0 * (ty1 - ty0 + 1))::int AS y
  FROM bench_ranges, generate_series(1, $TILES_PER_ZOOM) k) t;
SQL
NTILES=$(psql -Atq -d "$DB" -c "SELECT count(*) FROM bench_tiles")
psql -Atq -d "$DB" -F ' ' -c "SELECT z, x, y FROM bench_tiles ORDER BY i" > "$OUT/tiles.txt"
# The wrk shape: every tile z11–16 of the region's bounding box, in order.
psql -q -v ON_ERROR_STOP=1 -d "$DB" <<SQL
CREATE TABLE bench_all_tiles AS
SELECT row_number() OVER (ORDER BY z, x, y) AS i, z, x, y
FROM bench_ranges, generate_series(tx0, tx1) x, generate_series(ty0, ty1) y;
SQL
NALL=$(psql -Atq -d "$DB" -c "SELECT count(*) FROM bench_all_tiles")
psql -Atq -d "$DB" -F ' ' -c "SELECT z, x, y FROM bench_all_tiles ORDER BY i" > "$OUT/all_tiles.txt"

wait_http() { for _ in $(seq 1 100); do curl -fs -o /dev/null "$1" && return 0; sleep 0.1; done; echo "no answer from $1" >&2; return 1; }
run_load() { $LOAD "$1" "$CONC" "$2" | sed -n 's/.*tiles_per_s=\([0-9.]*\).*/\1/p'; }
# run_wrk PATHS BASE_URL: the median requests/s of WRK_ROUNDS rounds (fails on any error answer).
run_wrk() {
  for _ in $(seq 1 "$WRK_ROUNDS"); do
    line=$(TILES="$1" wrk -t "$WRK_THREADS" -c "$WRK_CONNS" -d "${WRK_SECONDS}s" -s bench/tiles/walk.lua "$2" | grep '^wrk_rps=')
    echo "$line" >> "$OUT/wrk.log"
    case "$line" in *" non2xx=0 sockerr=0 "*) ;; *) echo "wrk errors: $line" >&2; return 1 ;; esac
    echo "$line" | sed -n 's/^wrk_rps=\([0-9.]*\).*/\1/p'
  done | sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'
}

declare -A R W
: > "$OUT/wrk.log"
for layer in $LAYERS; do
  echo "== layer $layer ($NTILES tiles, concurrency $CONC)" >&2
  awk -v p="$SIGAP_PORT" -v l="$layer" '{print "http://127.0.0.1:" p "/tiles/" l "/" $1 "/" $2 "/" $3 ".mvt"}' "$OUT/tiles.txt" > "$OUT/sigap_$layer.txt"
  awk -v p="$MARTIN_PORT" -v l="bench_$layer" '{print "http://127.0.0.1:" p "/" l "/" $1 "/" $2 "/" $3}' "$OUT/tiles.txt" > "$OUT/martin_$layer.txt"
  awk -v l="$layer" '{print "/tiles/" l "/" $1 "/" $2 "/" $3 ".mvt"}' "$OUT/all_tiles.txt" > "$OUT/wrk_sigap_$layer.txt"
  awk -v l="bench_$layer" '{print "/" l "/" $1 "/" $2 "/" $3}' "$OUT/all_tiles.txt" > "$OUT/wrk_martin_$layer.txt"
  sed 's#^#http://127.0.0.1:'"$SIGAP_PORT"'#' "$OUT/wrk_sigap_$layer.txt" > "$OUT/all_sigap_$layer.txt"
  sed 's#^#http://127.0.0.1:'"$MARTIN_PORT"'#' "$OUT/wrk_martin_$layer.txt" > "$OUT/all_martin_$layer.txt"

  for mode in cold warm; do
    mb=0; [ "$mode" = warm ] && mb=256
    SIGAP_TILE_CACHE_MB=$mb SIGAP_ADDR="127.0.0.1:$SIGAP_PORT" $SIGAP serve & pid=$!
    wait_http "http://127.0.0.1:$SIGAP_PORT/healthz"
    if [ "$mode" = cold ]; then
      R[sigap_cold_$layer]=$(run_load "$OUT/sigap_$layer.txt" "$COLD_ROUNDS")
    else
      run_load "$OUT/sigap_$layer.txt" 1 >/dev/null
      run_load "$OUT/all_sigap_$layer.txt" 1 >/dev/null
      R[sigap_warm_$layer]=$(run_load "$OUT/sigap_$layer.txt" "$WARM_ROUNDS")
    fi
    W[sigap_${mode}_$layer]=$(run_wrk "$OUT/wrk_sigap_$layer.txt" "http://127.0.0.1:$SIGAP_PORT")
    kill "$pid"; wait "$pid" 2>/dev/null || true

    if [ -x "$MARTIN" ]; then
      cat > "$OUT/martin.yaml" <<YAML
listen_addresses: "127.0.0.1:$MARTIN_PORT"
cache:
  size_mb: $((mb * 2))  # martin gives tiles half of it: the same tile cache size as SIGAP's
postgres:
  connection_string: "postgresql:///$DB?host=/var/run/postgresql&user=$(id -un)"
  pool_size: 16
  auto_publish:
    tables:
      from_schemas: public
      id_columns: tile_id
    functions: false
YAML
      $MARTIN --config "$OUT/martin.yaml" >"$OUT/martin.log" 2>&1 & mpid=$!
      wait_http "http://127.0.0.1:$MARTIN_PORT/catalog"
      if [ "$mode" = cold ]; then
        R[martin_cold_$layer]=$(run_load "$OUT/martin_$layer.txt" "$COLD_ROUNDS")
      else
        run_load "$OUT/martin_$layer.txt" 1 >/dev/null
        run_load "$OUT/all_martin_$layer.txt" 1 >/dev/null
        R[martin_warm_$layer]=$(run_load "$OUT/martin_$layer.txt" "$WARM_ROUNDS")
      fi
      W[martin_${mode}_$layer]=$(run_wrk "$OUT/wrk_martin_$layer.txt" "http://127.0.0.1:$MARTIN_PORT")
      kill "$mpid"; wait "$mpid" 2>/dev/null || true
    fi
  done

  # Raw SQL floor: the same prepared tile query through pgbench, minus the cost of picking the tile.
  { echo "\\set i random(1, $NTILES)"
    echo "SELECT z, x, y FROM bench_tiles WHERE i = :i \\gset"
    $TILE_SQL "$layer" | sed 's/--.*$//; s/\$1/:z/g; s/\$2/:x/g; s/\$3/:y/g' | tr '\n' ' '; echo ";"
  } > "$OUT/pgbench_$layer.sql"
  { echo "\\set i random(1, $NTILES)"
    echo "SELECT z, x, y FROM bench_tiles WHERE i = :i \\gset"
  } > "$OUT/pgbench_pick.sql"
  per_client=$(( (NTILES * COLD_ROUNDS + CONC - 1) / CONC ))
  pgbench -n -M prepared -c "$CONC" -j 2 -t "$per_client" -f "$OUT/pgbench_$layer.sql" "$DB" > "$OUT/pgbench_$layer.out" 2>&1 || { cat "$OUT/pgbench_$layer.out" >&2; exit 1; }
  pgbench -n -M prepared -c "$CONC" -j 2 -t $((per_client * 4)) -f "$OUT/pgbench_pick.sql" "$DB" > "$OUT/pgbench_pick.out" 2>&1 || { cat "$OUT/pgbench_pick.out" >&2; exit 1; }
  tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$OUT/pgbench_$layer.out")
  pick=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$OUT/pgbench_pick.out")
  R[sql_$layer]=$(python3 -c "print(round(1 / (1 / $tps - 1 / $pick), 1))")

  # The same floor in the wrk shape: WRK_CONNS clients over every tile of the bounding box.
  { echo "\\set i random(1, $NALL)"
    echo "SELECT z, x, y FROM bench_all_tiles WHERE i = :i \\gset"
    $TILE_SQL "$layer" | sed 's/--.*$//; s/\$1/:z/g; s/\$2/:x/g; s/\$3/:y/g' | tr '\n' ' '; echo ";"
  } > "$OUT/pgbench_all_$layer.sql"
  { echo "\\set i random(1, $NALL)"
    echo "SELECT z, x, y FROM bench_all_tiles WHERE i = :i \\gset"
  } > "$OUT/pgbench_all_pick.sql"
  for f in all_$layer all_pick; do
    pgbench -n -M prepared -c "$WRK_CONNS" -j "$WRK_THREADS" -T "$WRK_SECONDS" -f "$OUT/pgbench_$f.sql" "$DB" > "$OUT/pgbench_$f.out" 2>&1 || { cat "$OUT/pgbench_$f.out" >&2; exit 1; }
  done
  tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$OUT/pgbench_all_$layer.out")
  pick=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$OUT/pgbench_all_pick.out")
  W[sql_$layer]=$(python3 -c "print(round(1 / (1 / $tps - 1 / $pick), 1))")
done

ratio() { if [ -n "${1:-}" ] && [ -n "${2:-}" ]; then python3 -c "print(f'{$1 / $2:.2f}x')"; else echo "n/a"; fi; }
echo
echo "bench/tiles: $VILLAGES villages, $PROPOSALS proposals, $(nproc) cores"
echo "own client (tile_load): $NTILES random tiles z11-z16, concurrency $CONC"
printf "%-10s %12s %12s %12s %12s %12s | %10s %10s %10s\n" layer sigap_cold martin_cold sigap_warm martin_warm raw_sql cold/martin warm/martin cold/sql
for layer in $LAYERS; do
  printf "%-10s %12s %12s %12s %12s %12s | %10s %10s %10s\n" "$layer" \
    "${R[sigap_cold_$layer]:-}" "${R[martin_cold_$layer]:-n/a}" "${R[sigap_warm_$layer]:-}" "${R[martin_warm_$layer]:-n/a}" "${R[sql_$layer]:-}" \
    "$(ratio "${R[sigap_cold_$layer]:-}" "${R[martin_cold_$layer]:-}")" \
    "$(ratio "${R[sigap_warm_$layer]:-}" "${R[martin_warm_$layer]:-}")" \
    "$(ratio "${R[sigap_cold_$layer]:-}" "${R[sql_$layer]:-}")"
done
echo
echo "wrk: $WRK_THREADS threads, $WRK_CONNS connections, $NALL tiles z11-z16 (every tile of the bounding box), median of $WRK_ROUNDS x ${WRK_SECONDS}s; raw_sql = pgbench -c $WRK_CONNS"
printf "%-10s %12s %12s %12s %12s %12s | %10s %10s %10s\n" layer sigap_cold martin_cold sigap_warm martin_warm raw_sql cold/martin warm/martin cold/sql
for layer in $LAYERS; do
  printf "%-10s %12s %12s %12s %12s %12s | %10s %10s %10s\n" "$layer" \
    "${W[sigap_cold_$layer]:-}" "${W[martin_cold_$layer]:-n/a}" "${W[sigap_warm_$layer]:-}" "${W[martin_warm_$layer]:-n/a}" "${W[sql_$layer]:-}" \
    "$(ratio "${W[sigap_cold_$layer]:-}" "${W[martin_cold_$layer]:-}")" \
    "$(ratio "${W[sigap_warm_$layer]:-}" "${W[martin_warm_$layer]:-}")" \
    "$(ratio "${W[sigap_cold_$layer]:-}" "${W[sql_$layer]:-}")"
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
[ -x "$MARTIN" ] || echo "martin not found ($MARTIN): install with 'cargo install martin --locked'"
echo "(tiles/s; cold = cache off; ratios > 1 mean SIGAP is faster; cold/sql is SIGAP cold over the raw SQL floor)"
