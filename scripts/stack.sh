#!/usr/bin/env bash
# The production stack on this machine: nginx (deploy/nginx.conf) on https://127.0.0.1:8443
# with a self-signed certificate, gunicorn (deploy/gunicorn.conf.py), the machine's PostgreSQL
# and a private redis-server; state in .stack/. Usage: scripts/stack.sh up|down|status
# (up takes --no-build; settings by environment, see scripts/stack.py).
set -euo pipefail
cd "$(dirname "$0")/.."
[ "${1:-}" = up ] && bash scripts/setup.sh stack
exec .venv/bin/python scripts/stack.py "$@"
