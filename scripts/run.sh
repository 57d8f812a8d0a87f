#!/usr/bin/env bash
# Set up from nothing and serve the whole product on http://127.0.0.1:8000
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh run
exec .venv/bin/dangxiao serve "$@"
