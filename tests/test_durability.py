"""Durability against a real server process: kill -9 under a stream of submissions, two
processes writing one SQLite file, a read-only database, an online backup."""

from __future__ import annotations

import http.client
import http.cookiejar
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from conftest import ask, free_port, make_app

ROOT = Path(__file__).resolve().parent.parent


def start_server(tmp_path: Path, url: str, port: int) -> subprocess.Popen:
    env = {**os.environ, "DANGXIAO_INSTANCE": str(tmp_path / "instance"),
           "DANGXIAO_DATABASE_URL": url, "DANGXIAO_SUBMIT_LIMIT": "1000000 per minute",
           "DANGXIAO_SECRET_KEY": "durability-test-secret-0123456789abcdef"}
    server = subprocess.Popen(
        [sys.executable, "-m", "generator", "serve", "--no-build", "--port", str(port),
         "--out", str(tmp_path / "site")], cwd=ROOT, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/app/healthz", timeout=2):
                return server
        except OSError:
            assert server.poll() is None, server.stderr.read().decode()
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.1)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def submitter(port: int, codes: list[str], errors: list[str], stop: threading.Event) -> None:
    """A member's phone: fetch the form (CSRF token), post it, note the code it shows."""
    base = f"http://127.0.0.1:{port}/app/ask"
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), NoRedirect())
    n = 0
    while not stop.is_set():
        try:
            page = opener.open(base, timeout=5).read().decode()
            token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)[1]
            n += 1
            data = urllib.parse.urlencode({"csrf_token": token, "category": "其他",
                                           "question": f"第 {n} 个问题"}).encode()
            opener.open(base, data=data, timeout=5)
        except urllib.error.HTTPError as reply:
            if reply.code == 303:
                codes.append(reply.headers["Location"].rsplit("/", 1)[1])
            else:
                errors.append(f"{reply.code}: {reply.read().decode()[:200]}")
        except (OSError, TypeError, http.client.HTTPException):
            time.sleep(0.05)  # the server is down (killed): try again later


def stored_codes(url: str) -> set[str]:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        codes = {row[0] for row in conn.execute(text("SELECT code FROM submissions"))}
    engine.dispose()
    return codes


def test_kill_9_under_a_stream_of_submissions(tmp_path: Path, database_url: str):
    port = free_port()
    codes: list[str] = []
    errors: list[str] = []
    stop = threading.Event()
    threads = [threading.Thread(target=submitter, args=(port, codes, errors, stop))
               for _ in range(4)]
    server = start_server(tmp_path, database_url, port)
    for t in threads:
        t.start()
    try:
        for round_ in range(4):
            time.sleep(random.uniform(0.8, 1.5))
            server.send_signal(signal.SIGKILL)
            server.wait()
            server.stderr.close()
            seen = len(codes)
            server = start_server(tmp_path, database_url, port)
            assert seen > round_, "no submission got through before the kill"
        time.sleep(0.5)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=10)
        server.send_signal(signal.SIGKILL)
        server.wait()
        server.stderr.close()
    assert errors == []
    assert len(codes) > 20
    missing = set(codes) - stored_codes(database_url)
    assert missing == set(), f"{len(missing)} shown codes lost"
    if database_url.startswith("sqlite"):
        path = database_url.removeprefix("sqlite:///")
        with sqlite3.connect(path) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_two_processes_write_one_sqlite_file(tmp_path: Path, sqlite_url: str):
    ports = [free_port(), free_port()]
    servers = [start_server(tmp_path, sqlite_url, p) for p in ports]
    codes: list[str] = []
    errors: list[str] = []
    stop = threading.Event()
    threads = [threading.Thread(target=submitter, args=(ports[i % 2], codes, errors, stop))
               for i in range(6)]
    for t in threads:
        t.start()
    time.sleep(3)
    stop.set()
    for t in threads:
        t.join(timeout=10)
    for server in servers:
        server.terminate()
        server.wait(timeout=10)
        server.stderr.close()
    assert errors == []  # no "database is locked" reached a member
    assert len(codes) > 20 and set(codes) <= stored_codes(sqlite_url)


def test_read_only_database_shows_not_saved_and_no_code(tmp_path: Path, sqlite_url: str):
    make_app(tmp_path, sqlite_url).extensions["db_engine"].dispose()  # creates the schema
    path = sqlite_url.removeprefix("sqlite:///")
    app = make_app(tmp_path / "ro", f"sqlite:///file:{path}?mode=ro&uri=true")
    response = ask(app.test_client())
    text = response.get_data(as_text=True)
    assert response.status_code == 503
    assert "没有保存，也没有生成查询码" in text and "Location" not in response.headers
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM submissions").fetchone()[0] == 0


def test_online_backup_during_writes_restores(tmp_path: Path, sqlite_url: str):
    app = make_app(tmp_path, sqlite_url)
    client = app.test_client()
    stop = threading.Event()

    def write() -> None:
        while not stop.is_set():
            ask(client)

    writer = threading.Thread(target=write)
    writer.start()
    time.sleep(0.5)
    backup = tmp_path / "backup.sqlite3"
    with sqlite3.connect(sqlite_url.removeprefix("sqlite:///")) as src, \
            sqlite3.connect(backup) as dst:
        src.backup(dst)
    stop.set()
    writer.join()
    with sqlite3.connect(backup) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT count(*) FROM submissions").fetchone()[0] > 0
    restored = make_app(tmp_path / "restored", f"sqlite:///{backup}")
    assert restored.test_client().get("/app/healthz").status_code == 200


@pytest.mark.parametrize("pragma,expected", [
    ("journal_mode", "wal"), ("synchronous", 2), ("foreign_keys", 1), ("busy_timeout", 10000)])
def test_every_sqlite_connection_is_durable(tmp_path, sqlite_url, pragma, expected):
    from sqlalchemy import text

    from forms_app import db

    app = make_app(tmp_path, sqlite_url)
    with app.app_context():
        assert db.session().execute(text(f"PRAGMA {pragma}")).scalar() == expected
