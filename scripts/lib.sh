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
