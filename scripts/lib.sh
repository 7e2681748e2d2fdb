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

# The address a server of ours listens on for HOST (python -c "$LISTEN_ADDRESS" HOST PORT
# defines listen_address), resolved as apps/core/serve.py does: IPv4 when a name has both.
LISTEN_ADDRESS='
import socket, sys
def listen_address():
    found = socket.getaddrinfo(sys.argv[1], int(sys.argv[2]), type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    family, _, _, _, address = min(found, key=lambda info: info[0] != socket.AF_INET)
    return family, address
'

# host_port HOST PORT: the two as an address is written, an IPv6 address in brackets
# ([::1]:8000; "::1:8000" reads as another address).
host_port() {
  case "$1" in
    *:*) printf '[%s]:%s' "$1" "$2" ;;
    *) printf '%s:%s' "$1" "$2" ;;
  esac
}

# ensure_port_free HOST PORT: die, naming what listens there, unless a server can listen on
# HOST:PORT. Else wait_for_port would take the other program for ours, the script would say
# "running: open …", and only then would the server fail to listen.
ensure_port_free() {
  local host="$1" port="$2" why listeners where
  # SO_REUSEADDR as servers set it: a port with only closed connections (TIME_WAIT) is free.
  why="$("$PY" -c "$LISTEN_ADDRESS"'
try:
    family, address = listen_address()
    with socket.socket(family, socket.SOCK_STREAM) as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(address)
except OSError as error:
    sys.exit(str(error.strerror or error).lower())
' "$host" "$port" 2>&1)" && return 0
  where="$(host_port "$host" "$port")"
  # ss names the processes of other users only to root.
  listeners="$(ss -Hltnp "sport = :$port" 2>/dev/null | grep -o '"[^"]*",pid=[0-9]*' \
    | sed 's/"\(.*\)",pid=\([0-9]*\)/\1 (pid \2)/' | sort -u | paste -sd ',' - | sed 's/,/, /g')"
  if [ -n "$listeners" ]; then
    die "cannot serve on $where ($why): $listeners listens on port $port; stop it or choose another PORT="
  elif ss -Hltn "sport = :$port" 2>/dev/null | grep -q .; then
    die "cannot serve on $where ($why): another user's program listens on port $port (\`ss -ltnp 'sport = :$port'\` as root names it); stop it or choose another PORT="
  fi
  die "cannot serve on $where: $why"
}

free_port() {
  "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_for_port HOST PORT SECONDS NAME: until a server listening on HOST:PORT accepts
# connections. One listening on a wildcard address (0.0.0.0, ::) is reached on the loopback
# address of its family.
wait_for_port() {
  local host="$1" port="$2" seconds="$3" name="$4"
  "$PY" -c "$LISTEN_ADDRESS"'
import ipaddress, time
family, address = listen_address()
if ipaddress.ip_address(address[0].partition("%")[0]).is_unspecified:
    address = ("::1", *address[1:]) if family == socket.AF_INET6 else ("127.0.0.1", address[1])
deadline = time.monotonic() + float(sys.argv[3])
while time.monotonic() < deadline:
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.2)
        if probe.connect_ex(address) == 0:
            sys.exit(0)
    time.sleep(0.1)
sys.exit(1)
' "$host" "$port" "$seconds" 2>/dev/null \
    || die "$name did not start listening on $host port $port within ${seconds}s"
}

# server_url HOST PORT: the address to open for a server listening on HOST:PORT: HOST itself
# (an IPv6 address in brackets), or for a wildcard address the loopback address of its family.
server_url() {
  local host="$1" port="$2"
  case "$host" in
    0.0.0.0) host=127.0.0.1 ;;
    ::) host="[::1]" ;;
    *:*) host="[${host//%/%25}]" ;;  # an IPv6 address; its scope id's % written %25 (RFC 6874)
  esac
  printf 'http://%s:%s/\n' "$host" "$port"
}
