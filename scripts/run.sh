#!/usr/bin/env bash
# Set everything up and run the product on the embedded default (SQLite, local broker):
# system packages, virtual environment, migrations, demo users, then the web server (uvicorn,
# ASGI), a Celery worker and Celery beat. Ctrl-C, or SIGTERM to it or its process group, stops
# everything it started; data is kept in var/ (or PRINTMGMT_DATA_DIR) for the next run. The
# Celery worker and beat are started again when they die; when another process ends, or they
# keep dying, everything stops, and the script says which process ended, how, and where its
# log is.
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
ensure_port_free "$HOST" "$PORT"
cd "$ROOT"

"$PY" manage.py migrate --no-input -v 0
"$PY" manage.py collectstatic --no-input -v 0
"$PY" manage.py compilemessages -v 0 --ignore=.venv --ignore=var
"$PY" manage.py demo
"$PY" manage.py preflight

# The Celery worker and beat are started again when they die: tasks are acknowledged late and
# the reconcile_jobs sweep queues lost print jobs again, so nothing is lost by it. One that
# ends this many times in a row within this many seconds of its start is broken (a setting, a
# full disk): everything stops with the reason, as `manage.py serve` does for web processes.
EARLY_ENDS_ALLOWED=3
MIN_LIFETIME_SECONDS=60
declare -A NAME_OF=() COMMAND_OF=() LOG_OF=() STARTED_AT=() EARLY_ENDS=()

# start NAME LOG FUNCTION: FUNCTION (which execs the process) in the background, its output
# appended to LOG (a file under the data dir, or "" for this script's output).
start() {
  local name="$1" log="$2" function="$3"
  if [ -n "$log" ]; then "$function" >>"$log" 2>&1 & else "$function" & fi
  NAME_OF[$!]="$name"
  COMMAND_OF[$name]="$function"
  LOG_OF[$name]="$log"
  STARTED_AT[$name]=$SECONDS
  EARLY_ENDS[$name]=${EARLY_ENDS[$name]:-0}
}

# stop_all [REASON]: stop every process started here and wait for them.
stop_all() {
  trap - INT TERM EXIT
  say "stopping${1:+: $1}"
  for pid in "${!NAME_OF[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap 'stop_all; exit 0' INT TERM
trap stop_all EXIT

# how_it_ended STATUS: wait's status in words.
how_it_ended() {
  if (($1 > 128)); then echo "was killed by SIG$(kill -l $(($1 - 128)))"; else echo "exited with status $1"; fi
}

{ read -r DATA_DIR; read -r WEB_WORKERS; } < <("$PY" manage.py shell -v 0 -c \
  'from django.conf import settings; print(settings.DATA_DIR); print(settings.WEB_WORKERS)')
LOG_DIR="$DATA_DIR/log"
mkdir -p "$LOG_DIR"
celery_worker() { exec "$VENV/bin/celery" -A printmgmt worker --loglevel=INFO --concurrency=2; }
celery_beat() { exec "$VENV/bin/celery" -A printmgmt beat --loglevel=INFO; }
demo_printers() { exec "$PY" manage.py demo_printers; }
dnssd() { exec "$PY" manage.py dnssd; }
# WEB_WORKERS processes (one per CPU unless set): one runs Python on one core at a time.
web_server() { exec "$PY" manage.py serve --host "$HOST" --port "$PORT" --workers "$WEB_WORKERS"; }

start "the Celery worker" "$LOG_DIR/worker.log" celery_worker
start "Celery beat" "$LOG_DIR/beat.log" celery_beat
if [ "${DEMO_PRINTERS:-1}" = 1 ]; then
  start "the demo printers" "$LOG_DIR/demo-printers.log" demo_printers
fi
DNSSD_ENABLED="${DNSSD_ENABLED:-false}"
case "${DNSSD_ENABLED,,}" in 1|true|yes|on)  # phones find the printer by name (README)
  start "the DNS-SD advertiser" "$LOG_DIR/dnssd.log" dnssd ;; esac
start "the web server" "" web_server
wait_for_port "$HOST" "$PORT" 30 "the web server"

say "running: open $(server_url "$HOST" "$PORT") ($WEB_WORKERS web processes; logs in $LOG_DIR; Ctrl-C stops)"
# A process that ends is named with how it ended and its log. The Celery worker and beat are
# started again; any other process that ends ends the run, so it is never silently half-running.
while true; do
  # `wait -n` misses a process that ended before it was called while this shell ran another
  # command (bash 5.2 has then reaped it), so those are looked for first.
  ended=""
  for pid in "${!NAME_OF[@]}"; do kill -0 "$pid" 2>/dev/null || { ended=$pid; break; }; done
  status=0
  if [ -n "$ended" ]; then
    wait "$ended" 2>/dev/null || status=$?
  else
    # (bash's own "Killed …" line goes: the one below says it with the process's name)
    wait -n -p ended "${!NAME_OF[@]}" 2>/dev/null || status=$?
    [ -n "$ended" ] || continue
  fi
  name="${NAME_OF[$ended]}"
  unset "NAME_OF[$ended]"
  ending="(pid $ended) $(how_it_ended "$status")"
  log="${LOG_OF[$name]:+its log: ${LOG_OF[$name]}}"
  log="${log:-its output is above}"
  case "${COMMAND_OF[$name]}" in
    celery_worker | celery_beat) ;;
    *) stop_all "$name $ending; $log"; exit 1 ;;
  esac
  if ((SECONDS - STARTED_AT[$name] < MIN_LIFETIME_SECONDS)); then
    EARLY_ENDS[$name]=$((EARLY_ENDS[$name] + 1))
  else
    EARLY_ENDS[$name]=0
  fi
  if ((EARLY_ENDS[$name] >= EARLY_ENDS_ALLOWED)); then
    stop_all "$name ended $EARLY_ENDS_ALLOWED times in a row within $MIN_LIFETIME_SECONDS s of its \
start, the last time $ending; $log"
    exit 1
  fi
  say "$name $ending; $log; starting it again"
  start "$name" "${LOG_OF[$name]}" "${COMMAND_OF[$name]}"
done
