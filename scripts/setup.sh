#!/usr/bin/env bash
# Sets up everything the project needs from nothing, on Debian with Python 3.11+:
# system packages (through apt-get, as root or with sudo) and a virtual environment in
# .venv with the project installed. Usage: scripts/setup.sh [run|test|stack]
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-run}
PY=${PYTHON:-python3}

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
apt_updated=no
apt_install() {
  [ $# -eq 0 ] && return 0
  echo "安装系统软件包: $*" >&2
  if [ "$apt_updated" = no ]; then as_root apt-get update -qq; apt_updated=yes; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

"$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
  echo "需要 Python 3.11 或更高版本" >&2; exit 1; }

missing=()
"$PY" -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3-venv)
command -v git >/dev/null || missing+=(git)
# The build draws each weekly theme's poster with a Chinese font (generator/share.py); the
# browser tests' screenshots use it too.
[ -d /usr/share/fonts/opentype/noto ] || missing+=(fonts-noto-cjk)
if [ "$mode" = test ]; then
  # Browser tests drive Debian's Chromium.
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  # The tests read the posters' QR codes with pyzbar, which loads libzbar.
  { ldconfig -p || /sbin/ldconfig -p; } 2>/dev/null | grep 'libzbar\.so\.0' >/dev/null ||
    missing+=(libzbar0)
fi
if [ "$mode" = test ] || [ "$mode" = stack ]; then
  # The production stack (scripts/stack.sh, tests/test_stack.py): the nginx sample
  # (deploy/nginx.conf) with a self-signed certificate, a private redis-server that
  # holds the rate limits every gunicorn worker counts against, and a private PostgreSQL
  # server (initdb, pg_ctl) that the fault tests may restart.
  command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
  command -v openssl >/dev/null || missing+=(openssl)
  command -v redis-server >/dev/null || missing+=(redis-server)
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
fi
apt_install "${missing[@]}"

[ -x .venv/bin/python ] || "$PY" -m venv .venv
extras=""
[ "$mode" = test ] && extras="[test]"
[ "$mode" = stack ] && extras="[stack]"
# The test extras hold the stack's too: a test set-up needs no second install.
if [ "$mode" = stack ] && [ -f .venv/.installed-test ] && [ ! pyproject.toml -nt .venv/.installed-test ]; then
  mode=test; extras="[test]"
fi
stamp=".venv/.installed-$mode"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install -q --disable-pip-version-check -e ".$extras"
  touch "$stamp"
fi
