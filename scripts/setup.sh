#!/usr/bin/env bash
# Shared set-up for ./scripts/run and ./scripts/test, safe to run any number of times:
# installs the Debian packages SIGAP needs when they are missing, starts PostgreSQL when it is
# down, and creates the database role of the current OS user and the `sigap` database.
set -euo pipefail

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
as_postgres() {
  if [ "$(id -un)" = postgres ]; then "$@";
  elif command -v runuser >/dev/null && [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@";
  else sudo -u postgres "$@"; fi
}
missing() { local out=(); for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || out+=("$p"); done; echo "${out[@]:-}"; }

apt_updated=0
install() {
  local need; need=$(missing "$@")
  [ -z "$need" ] && return 0
  echo "setup: installing $need" >&2
  if [ "$apt_updated" -eq 0 ]; then as_root apt-get update -q >&2; apt_updated=1; fi
  # shellcheck disable=SC2086
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $need >&2
}

# PostgreSQL first, so PostGIS can match its major version.
if ! command -v pg_lsclusters >/dev/null || [ -z "$(ls /usr/lib/postgresql 2>/dev/null)" ]; then
  install postgresql
fi
PG_MAJOR=$(ls /usr/lib/postgresql | sort -n | tail -n 1)
# libssl-dev: lettre (follower mails) speaks STARTTLS/TLS through the system OpenSSL.
install "postgresql-${PG_MAJOR}-postgis-3" gdal-bin libgdal-dev pkg-config libssl-dev
if [ "${SIGAP_SETUP_BROWSER:-0}" = 1 ] || [ "${SIGAP_SETUP_NODE:-0}" = 1 ]; then
  command -v node >/dev/null && command -v npm >/dev/null || install nodejs npm
  # zstd: the map build writes MapLibre's worker as a delta against its main module.
  install zstd
fi
if [ "${SIGAP_SETUP_BROWSER:-0}" = 1 ]; then
  install chromium fonts-dejavu-core
  # The tests' real clients: pdftotext reads the printed profiles, HAProxy fronts the fleet test.
  install poppler-utils haproxy
fi

# Start the cluster when it is down (and create one if a fresh install has none).
if ! pg_lsclusters -h 2>/dev/null | grep -q "^${PG_MAJOR} "; then
  as_root pg_createcluster "$PG_MAJOR" main >&2
fi
if ! pg_isready -q -h /var/run/postgresql; then
  echo "setup: starting PostgreSQL ${PG_MAJOR}" >&2
  as_root pg_ctlcluster --skip-systemctl-redirect "$PG_MAJOR" main start >&2 || true
  for _ in $(seq 1 30); do pg_isready -q -h /var/run/postgresql && break; sleep 1; done
  pg_isready -h /var/run/postgresql >&2
fi

# The OS user's role (superuser on this local server: it installs PostGIS into the test
# databases) and the run command's database.
ME=$(id -un)
if [ "$(as_postgres psql -h /var/run/postgresql -d postgres -tAc "SELECT 1 FROM pg_roles WHERE rolname = '$ME'")" != 1 ]; then
  echo "setup: creating database role $ME" >&2
  as_postgres psql -h /var/run/postgresql -d postgres -qc "CREATE ROLE \"$ME\" LOGIN SUPERUSER"
fi
if [ "$(psql -h /var/run/postgresql -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'sigap'")" != 1 ]; then
  echo "setup: creating database sigap" >&2
  psql -h /var/run/postgresql -d postgres -qc "CREATE DATABASE sigap"
fi
