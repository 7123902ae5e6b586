#!/usr/bin/env bash
# Import of the national boundaries through `sigap import` (issue 11): the region, kecamatan and
# kelurahan of the real national shape (bench/gap/national_real.sql, database
# sigap_bench_gap_natreal, made by `bench/gap/run.sh national-real`), exported to GeoJSON with
# ogr2ogr, then imported in that order into a fresh database with the release build. Not a test;
# run by hand:
#   bench/gap/import_national.sh
# Environment: SRC_DB (default sigap_bench_gap_natreal, only read), DB (default
# sigap_bench_import_national, dropped and made again), DIR (default /tmp/sigap-import-national,
# the GeoJSON files, made when missing; about 140 + 120 + 400 MB). Prints per file: features,
# MB, wall time, the sigap process's peak RSS (/usr/bin/time -v), the peak RSS of the PostgreSQL
# backend serving the import (ps, sampled every second; it counts the shared buffers the backend
# touched), the load average, and the quality report's summary line. LAYERS (default
# "region kecamatan kelurahan") imports only some; a parent layer left out is copied from SRC_DB
# with COPY instead, so `LAYERS=kelurahan` measures the desa file alone. Figures:
# docs/performance-gap.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
SRC_DB="${SRC_DB:-sigap_bench_gap_natreal}"
DB="${DB:-sigap_bench_import_national}"
DIR="${DIR:-/tmp/sigap-import-national}"
nice cargo build --release --bin sigap
SIGAP=target/release/sigap
mkdir -p "$DIR"

declare -A COLUMNS=([region]="code, name" [kecamatan]="code, name, region_code"
                    [kelurahan]="code, name, kecamatan_code")
for layer in region kecamatan kelurahan; do
    if [[ ! -s "$DIR/$layer.geojson" ]]; then
        ogr2ogr -f GeoJSON "$DIR/$layer.geojson" "PG:dbname=$SRC_DB" \
            -sql "SELECT ${COLUMNS[$layer]}, geom FROM $layer ORDER BY code" -nln "$layer"
    fi
done

psql -d postgres -qc "DROP DATABASE IF EXISTS $DB"
psql -d postgres -qc "CREATE DATABASE $DB"
DATABASE_URL="dbname=$DB" "$SIGAP" migrate >/dev/null 2>&1
LAYERS="${LAYERS:-region kecamatan kelurahan}"
for parent in region kecamatan; do
    if [[ " $LAYERS " != *" $parent "* ]]; then
        # COPY, not pg_dump: a dump empties search_path, and the layers' triggers need it.
        psql -d "$SRC_DB" -c "COPY $parent (${COLUMNS[$parent]}, geom) TO STDOUT" |
            psql -q -v ON_ERROR_STOP=1 -d "$DB" -c "COPY $parent (${COLUMNS[$parent]}, geom) FROM STDIN"
    fi
done

echo "| file | features | MB | wall s | sigap peak RSS MiB | backend peak RSS MiB | load average before → after | quality |"
echo "|---|---|---|---|---|---|---|---|"
for layer in $LAYERS; do
    file="$DIR/$layer.geojson"
    load_before=$(cut -d' ' -f1-3 /proc/loadavg)
    # The largest RSS of any backend connected to $DB, every second, until the import ends.
    (peak=0
     while sleep 1; do
         for pid in $(psql -d postgres -Atc "SELECT pid FROM pg_stat_activity WHERE datname = '$DB'"); do
             rss=$(ps -o rss= -p "$pid" 2>/dev/null || echo 0)
             (( ${rss:-0} > peak )) && peak=$rss && echo "$peak" > "$DIR/$layer.backend_rss_kib"
         done
     done) &
    sampler=$!
    DATABASE_URL="dbname=$DB" /usr/bin/time -v -o "$DIR/$layer.time" \
        "$SIGAP" import "$file" --layer "$layer" > "$DIR/$layer.out" 2> "$DIR/$layer.err" || true
    kill "$sampler"; wait "$sampler" 2>/dev/null || true
    load_after=$(cut -d' ' -f1-3 /proc/loadavg)
    features=$(psql -d "$DB" -Atc "SELECT count(*) FROM $layer")
    mb=$(( $(stat -c %s "$file") / 1000000 ))
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, t, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + t[i]; print s}' "$DIR/$layer.time")
    rss=$(awk -F': ' '/Maximum resident set size/ {printf "%d", $2 / 1024}' "$DIR/$layer.time")
    backend=$(( $(cat "$DIR/$layer.backend_rss_kib" 2>/dev/null || echo 0) / 1024 ))
    quality=$(grep -m1 "quality:" "$DIR/$layer.out" || tail -1 "$DIR/$layer.err")
    echo "| $layer.geojson | $features | $mb | $wall | $rss | $backend | $load_before → $load_after | $quality |"
    tail -1 "$DIR/$layer.out" >&2
done
