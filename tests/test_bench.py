"""The generator benchmark still runs, and its no-op re-render rewrites nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench" / "generator_bench.py"


def test_generator_bench_runs_on_a_small_site():
    out = subprocess.run([sys.executable, str(BENCH), "--one", "30"], check=True,
                         capture_output=True, text=True, timeout=300).stdout
    result = json.loads(out.strip().splitlines()[-1])
    assert result["pages"] >= 30
    assert result["rewritten"] == 0
    assert result["files"] > 30
