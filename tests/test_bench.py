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


def test_plain_mailbox_of_the_load_bench_checks_csrf_and_stores_durably(tmp_path, monkeypatch):
    """bench/load_bench.py compares the app with bench/plain_mailbox_app.py: the plain one
    must do the same work a mailbox does (CSRF, validation, a durable row) to be fair."""
    import importlib
    import re
    import sqlite3

    db = tmp_path / "plain.sqlite3"
    monkeypatch.setenv("PLAIN_MAILBOX_DB", str(db))
    plain = importlib.import_module("bench.plain_mailbox_app")
    try:
        client = plain.app.test_client()
        page = client.get("/app/ask").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)[1]
        assert client.post("/app/ask", data={"category": "党费", "question": "无令牌"}
                           ).status_code == 400
        sent = client.post("/app/ask", data={"csrf_token": token, "category": "党费",
                                             "question": "外出务工期间党费怎么交？"})
        assert sent.status_code == 303
        assert "外出务工期间党费怎么交" in client.get(sent.headers["Location"]).get_data(
            as_text=True)
        conn = sqlite3.connect(db)
        try:
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            assert conn.execute("SELECT question FROM questions").fetchall() == [
                ("外出务工期间党费怎么交？",)]
        finally:
            conn.close()
    finally:
        plain.Session.remove()
        plain.engine.dispose()


def test_publish_bench_approves_and_publishes_through_the_app(tmp_path):
    """bench/site_bench.py's publish (used by bench/publish_bench.py too) approves a new
    article at the version it has and publishes it; the site then serves it and its search
    index lists it (publish_to_visible polls until both, giving up after 300 s)."""
    sys.path.insert(0, str(BENCH.parent.parent))
    from bench import site_bench

    seconds = site_bench.publish_to_visible(tmp_path)
    assert seconds < 300, "the published article was never served and found"
    assert any("港口夜班的学习时间" in path.read_text(encoding="utf-8")
               for path in (tmp_path / "content" / "voices").glob("*.yaml"))
