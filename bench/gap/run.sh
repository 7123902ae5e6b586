#!/usr/bin/env bash
# Gap analysis benchmark: the Bandung sample and a national-shape database, each measured against
# the analyst's one-statement approach in the same run. Not a test; run by hand:
#   bench/gap/run.sh [bandung|national|national-real|all]
# Uses databases sigap_bench_gap_bandung, sigap_bench_gap_national (80 000 squares, the quick
# national shape) and sigap_bench_gap_natreal (the real national shape of national_real.sql:
# 83 246 irregular desa on 1.9 million km² of islands; about 5 minutes to generate), created when
# missing. `all` runs the first two. Figures: docs/performance-gap.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
what="${1:-all}"
# PROFILE=dev reuses the debug build (dependencies at opt-level 1); the work is in PostGIS either way.
if [[ "${PROFILE:-release}" == dev ]]; then
    cargo build --bin sigap --bin bench-gap
    SIGAP=target/debug/sigap BENCH=target/debug/bench-gap
else
    cargo build --release --bin sigap --bin bench-gap
    SIGAP=target/release/sigap BENCH=target/release/bench-gap
fi

have_db() { psql -d postgres -Atc "SELECT 1 FROM pg_database WHERE datname = '$1'" | grep -q 1; }

if [[ "$what" == bandung || "$what" == all ]]; then
    db=sigap_bench_gap_bandung
    if ! have_db "$db"; then
        psql -d postgres -qc "CREATE DATABASE $db"
        DATABASE_URL="dbname=$db" "$SIGAP" migrate
        DATABASE_URL="dbname=$db" "$SIGAP" sample load >/dev/null
    fi
    # The date with the most coverage active, so the comparison has work to do.
    as_of=$(psql -d "$db" -Atc "SELECT d FROM (SELECT valid_from AS d FROM coverage) x
        ORDER BY (SELECT count(*) FROM coverage c JOIN program p ON p.code = c.program_code
                  WHERE c.valid_from <= x.d AND c.valid_to >= x.d AND p.start_date <= x.d AND p.end_date >= x.d) DESC, d
        LIMIT 1")
    echo "== Bandung sample =="
    DATABASE_URL="dbname=$db" /usr/bin/time -f "bench process: %e s wall, max RSS %M KiB" "$BENCH" --as-of "$as_of"
fi

if [[ "$what" == national || "$what" == all ]]; then
    db=sigap_bench_gap_national
    if ! have_db "$db"; then
        psql -d postgres -qc "CREATE DATABASE $db"
        DATABASE_URL="dbname=$db" "$SIGAP" migrate
        psql -d "$db" -q -f bench/gap/national.sql
    fi
    echo "== National shape (80 000 villages, 100 000 coverage areas, 1 000 000 proposals) =="
    DATABASE_URL="dbname=$db" /usr/bin/time -f "bench process: %e s wall, max RSS %M KiB" "$BENCH" --as-of 2026-06-01 --naive-timeout-s "${NAIVE_TIMEOUT_S:-900}"
fi

if [[ "$what" == national-real ]]; then
    db=sigap_bench_gap_natreal
    if ! have_db "$db"; then
        psql -d postgres -qc "CREATE DATABASE $db"
        DATABASE_URL="dbname=$db" "$SIGAP" migrate
        psql -d "$db" -q -v scale="${SCALE:-1}" -f bench/gap/national_real.sql
    fi
    echo "== Real national shape (514 kabupaten, 7 284 kecamatan, about 83 250 desa on 1.9 million km², about 99 500 coverage areas and 1 000 000 proposals) =="
    DATABASE_URL="dbname=$db" /usr/bin/time -f "bench process: %e s wall, max RSS %M KiB" "$BENCH" --as-of 2026-06-01 --naive-timeout-s "${NAIVE_TIMEOUT_S:-900}"
fi
