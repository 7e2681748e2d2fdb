#!/usr/bin/env bash
# Set everything up and run the product on the embedded default (SQLite, local broker):
# system packages, virtual environment, migrations, demo users, then the web server (uvicorn,
# ASGI), a Celery worker and Celery beat. Ctrl-C, or SIGTERM to it or its process group, stops
# everything it started; data is kept in var/ (or PRINTMGMT_DATA_DIR) for the next run.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-8000}"
ensure_packages gs=ghostscript msgfmt=gettext \
  /usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf=fonts-dejavu-core \
  /usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf=fonts-droid-fallback \
  /usr/share/fonts/truetype/naver-d2coding=fonts-naver-d2coding
if [ "${DEMO_PRINTERS:-1}" = 1 ]; then
  ensure_packages ippeveprinter=cups-ipp-utils cupsd=cups-daemon lpadmin=cups-client \
    /usr/lib/cups/filter/pdftopdf=cups-filters dbus-daemon=dbus
fi
ensure_venv "$ROOT/requirements.txt"
cd "$ROOT"

"$PY" manage.py migrate --no-input -v 0
"$PY" manage.py collectstatic --no-input -v 0
"$PY" manage.py compilemessages -v 0 --ignore=.venv --ignore=var
"$PY" manage.py demo
"$PY" manage.py preflight

PIDS=()
stop_all() {
  trap - INT TERM EXIT
  say "stopping"
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop_all INT TERM EXIT

{ read -r DATA_DIR; read -r WEB_WORKERS; } < <("$PY" manage.py shell -v 0 -c \
  'from django.conf import settings; print(settings.DATA_DIR); print(settings.WEB_WORKERS)')
mkdir -p "$DATA_DIR/log"
"$VENV/bin/celery" -A printmgmt worker --loglevel=INFO --concurrency=2 \
  >>"$DATA_DIR/log/worker.log" 2>&1 &
PIDS+=($!)
"$VENV/bin/celery" -A printmgmt beat --loglevel=INFO \
  >>"$DATA_DIR/log/beat.log" 2>&1 &
PIDS+=($!)
if [ "${DEMO_PRINTERS:-1}" = 1 ]; then
  "$PY" manage.py demo_printers >>"$DATA_DIR/log/demo-printers.log" 2>&1 &
  PIDS+=($!)
fi
DNSSD_ENABLED="${DNSSD_ENABLED:-false}"
case "${DNSSD_ENABLED,,}" in 1|true|yes|on)  # phones find the printer by name (README)
  "$PY" manage.py dnssd >>"$DATA_DIR/log/dnssd.log" 2>&1 & PIDS+=($!) ;; esac
# WEB_WORKERS processes (one per CPU unless set): one runs Python on one core at a time.
"$PY" manage.py serve --host "$HOST" --port "$PORT" --workers "$WEB_WORKERS" &
PIDS+=($!)
wait_for_port "$PORT" 30 "the web server"

say "running: open http://$HOST:$PORT/ ($WEB_WORKERS web processes; logs in $DATA_DIR/log; Ctrl-C stops)"
# Whichever process ends first ends the run, so a crash is never silently half-running.
wait -n "${PIDS[@]}" || true
