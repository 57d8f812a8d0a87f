#!/usr/bin/env bash
# Set up from nothing and run every test (extra arguments go to pytest).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
bash scripts/postgres.sh
.venv/bin/ruff check .
exec .venv/bin/python -m pytest "$@"
