#!/usr/bin/env bash
# The whole test suite against real parts: installs what it needs, starts a throwaway
# PostgreSQL cluster and Redis on free loopback ports in a temporary directory, runs the
# checks and pytest, and stops everything it started, also when something fails.
# Extra arguments go to pytest (e.g. scripts/test.sh tests/ipp -x).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
started=$SECONDS

PG_BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
ensure_packages \
  "${PG_BIN:-/nonexistent}/initdb=postgresql" redis-server=redis-server \
  ippeveprinter=cups-ipp-utils ipptool=cups-ipp-utils cupsd=cups-daemon lp=cups-client \
  /usr/lib/cups/filter/pdftopdf=cups-filters /usr/sbin/lpadmin=cups \
  dbus-daemon=dbus gs=ghostscript pdftoppm=poppler-utils chromium=chromium msgfmt=gettext \
  /usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf=fonts-dejavu-core \
  /usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf=fonts-droid-fallback \
  /usr/share/fonts/truetype/naver-d2coding=fonts-naver-d2coding
PG_BIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
ensure_venv "$ROOT/requirements-dev.txt"

WORK="$(mktemp -d /tmp/printmgmt-test.XXXXXX)"
chmod 755 "$WORK"
PIDS=()
cleanup() {
  local status=$?
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
  exit "$status"
}
trap cleanup EXIT INT TERM

# PostgreSQL refuses to run as root: the cluster belongs to the postgres system user (or to the
# current user when not root). Trust authentication is safe: it listens on loopback only, in a
# directory nobody else uses, for the duration of this run.
PG_PORT="$(free_port)"
PG_DIR="$WORK/pg"
as_pg=()
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
  as_pg=(runuser -u postgres --)
fi
mkdir -p "$PG_DIR"
[ ${#as_pg[@]} -eq 0 ] || chown postgres "$PG_DIR"
say "starting PostgreSQL on 127.0.0.1:$PG_PORT"
"${as_pg[@]}" "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres -A trust -E UTF8 --no-sync >"$WORK/initdb.log" 2>&1 \
  || { cat "$WORK/initdb.log"; die "initdb failed"; }
"${as_pg[@]}" "$PG_BIN/postgres" -D "$PG_DIR/data" -h 127.0.0.1 -p "$PG_PORT" -k "$PG_DIR" \
  -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 \
  >"$WORK/postgres.log" 2>&1 &
PIDS+=($!)
wait_for_port 127.0.0.1 "$PG_PORT" 30 PostgreSQL
"${as_pg[@]}" "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres printmgmt

REDIS_PORT="$(free_port)"
say "starting Redis on 127.0.0.1:$REDIS_PORT"
redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no \
  --dir "$WORK" >"$WORK/redis.log" 2>&1 &
PIDS+=($!)
wait_for_port 127.0.0.1 "$REDIS_PORT" 30 Redis

export DATABASE_URL="postgresql://postgres@127.0.0.1:$PG_PORT/printmgmt"
export CELERY_BROKER_URL="redis://127.0.0.1:$REDIS_PORT/0"
export SECRET_KEY="test-$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export PRINTMGMT_DATA_DIR="$WORK/var"
export PRINTMGMT_TEST_ARTIFACTS="${PRINTMGMT_TEST_ARTIFACTS:-$ROOT/var/test-artifacts}"
cd "$ROOT"

say "ruff"
"$VENV/bin/ruff" check ${LINT_PATHS:-.}
"$VENV/bin/ruff" format --check ${LINT_PATHS:-.}
say "mypy"
"$VENV/bin/mypy" ${LINT_PATHS:-.}
say "Django checks"
"$PY" manage.py compilemessages -v 0 --ignore=.venv --ignore=var
"$PY" manage.py check --fail-level WARNING
"$PY" manage.py makemigrations --check --dry-run
say "pytest (PostgreSQL, Redis, a real Celery worker, ippeveprinter, cupsd)"
"$PY" -m pytest -v --cov --cov-report=term "$@"
say "test command finished in $((SECONDS - started))s"
