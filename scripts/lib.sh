# Shared steps of scripts/run.sh and scripts/test.sh: system packages, the virtual environment,
# free loopback ports. Sourced, not run.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
PY="$VENV/bin/python"

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
die() { printf 'printmgmt: %s\n' "$*" >&2; exit 2; }

# ensure_packages COMMAND=PACKAGE ...: apt-get installs the packages whose command is missing.
ensure_packages() {
  local missing=() pair command package
  for pair in "$@"; do
    command="${pair%%=*}"; package="${pair#*=}"
    if ! command -v "$command" >/dev/null 2>&1 && [ ! -e "$command" ]; then
      missing+=("$package")
    fi
  done
  [ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"
}

apt_install() {
  command -v apt-get >/dev/null || die "missing $* and no apt-get to install them"
  [ "$(id -u)" = 0 ] || die "missing $*: run as root, or install them with apt-get"
  say "installing system packages: $*"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "$@" >/dev/null \
    || die "apt-get could not install: $*"
}

# ensure_venv REQUIREMENTS-FILE: a virtual environment with exactly those pins, reinstalled
# only when the requirement files change.
ensure_venv() {
  local requirements="$1" stamp="$VENV/.requirements.sha256" digest
  command -v python3 >/dev/null || apt_install python3
  python3 -c 'import ensurepip' 2>/dev/null || apt_install python3-venv
  [ -x "$PY" ] || { say "creating virtual environment in $VENV"; python3 -m venv "$VENV"; }
  digest="$(cat "$ROOT"/requirements*.txt | sha256sum | cut -d' ' -f1)-$(basename "$requirements")"
  # The tests' environment has the runtime pins too (requirements-dev.txt includes them), so
  # `make run` (and the test that starts it) uses it as it is.
  if [ "$(basename "$requirements")" = requirements.txt ] && [ -f "$stamp" ] \
    && [ "$(cat "$stamp")" = "${digest%-*}-requirements-dev.txt" ]; then
    return 0
  fi
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$digest" ]; then
    say "installing Python packages from $(basename "$requirements")"
    "$PY" -m pip install -q --disable-pip-version-check -r "$requirements" \
      || die "pip could not install $requirements"
    echo "$digest" >"$stamp"
  fi
}

# ensure_port_free HOST PORT: die, naming what listens there, unless a server can listen on
# HOST:PORT. Else wait_for_port would take the other program for ours, the script would say
# "running: open …", and only then would the server fail to listen.
ensure_port_free() {
  local host="$1" port="$2" why listeners
  # SO_REUSEADDR as servers set it: a port with only closed connections (TIME_WAIT) is free.
  why="$("$PY" -c '
import socket, sys
try:
    family, kind, _, _, address = socket.getaddrinfo(sys.argv[1], int(sys.argv[2]), type=socket.SOCK_STREAM)[0]
    with socket.socket(family, kind) as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(address)
except OSError as error:
    sys.exit(str(error.strerror or error).lower())
' "$host" "$port" 2>&1)" && return 0
  # ss names the processes of other users only to root.
  listeners="$(ss -Hltnp "sport = :$port" 2>/dev/null | grep -o '"[^"]*",pid=[0-9]*' \
    | sed 's/"\(.*\)",pid=\([0-9]*\)/\1 (pid \2)/' | sort -u | paste -sd ',' - | sed 's/,/, /g')"
  if [ -n "$listeners" ]; then
    die "cannot serve on $host:$port ($why): $listeners listens on port $port; stop it or choose another PORT="
  elif ss -Hltn "sport = :$port" 2>/dev/null | grep -q .; then
    die "cannot serve on $host:$port ($why): another user's program listens on port $port (\`ss -ltnp 'sport = :$port'\` as root names it); stop it or choose another PORT="
  fi
  die "cannot serve on $host:$port: $why"
}

free_port() {
  "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_for_port PORT SECONDS NAME: until something listens on 127.0.0.1:PORT.
wait_for_port() {
  local port="$1" seconds="$2" name="$3" i
  for ((i = 0; i < seconds * 10; i++)); do
    "$PY" -c "import socket,sys; s=socket.socket(); s.settimeout(0.2); sys.exit(s.connect_ex(('127.0.0.1', $port)))" && return 0
    sleep 0.1
  done
  die "$name did not start listening on 127.0.0.1:$port within ${seconds}s"
}
