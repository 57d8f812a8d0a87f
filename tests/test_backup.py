"""`dangxiao db backup` while members keep submitting, `dangxiao db restore` into an empty
instance, `dangxiao db check-backup`: on SQLite and on PostgreSQL, through the real CLI
and a real server."""

from __future__ import annotations

import http.client
import http.cookiejar
import os
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from conftest import free_port, make_app
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError
from test_upgrade import fresh_database

from forms_app import db
from forms_app.migrate import head

ROOT = Path(__file__).resolve().parent.parent


def env_for(instance: Path, url: str) -> dict[str, str]:
    return {**os.environ, "DANGXIAO_INSTANCE": str(instance), "DANGXIAO_DATABASE_URL": url,
            "DANGXIAO_SUBMIT_LIMIT": "1000000 per minute",
            "DANGXIAO_SECRET_KEY": "backup-test-secret-0123456789abcdefgh"}


def dangxiao(*args: str, instance: Path, url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "generator", *args], cwd=ROOT,
                          env=env_for(instance, url), capture_output=True, text=True,
                          timeout=300)


def start_server(tmp_path: Path, instance: Path, url: str, port: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [sys.executable, "-m", "generator", "serve", "--no-build", "--port", str(port),
         "--out", str(tmp_path / "site")], cwd=ROOT, env=env_for(instance, url),
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


def submitter(port: int, acked: list[tuple[str, float]], errors: list[str],
              stop: threading.Event) -> None:
    """A member's phone: fetch the form (CSRF token), post it, note the code and the moment
    the answer that shows it arrived."""
    base = f"http://127.0.0.1:{port}/app/ask"
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), NoRedirect())
    n = 0
    while not stop.is_set():
        try:
            page = opener.open(base, timeout=10).read().decode()
            token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)[1]
            n += 1
            data = urllib.parse.urlencode({"csrf_token": token, "category": "其他",
                                           "question": f"备份期间的第 {n} 个问题"}).encode()
            opener.open(base, data=data, timeout=10)
        except urllib.error.HTTPError as reply:
            if reply.code == 303:
                acked.append((reply.headers["Location"].rsplit("/", 1)[1], time.monotonic()))
            else:
                errors.append(f"{reply.code}: {reply.read().decode()[:200]}")
        except (OSError, TypeError, http.client.HTTPException) as exc:
            errors.append(repr(exc))


def stored_codes(url: str) -> set[str]:
    engine = create_engine(url)
    with engine.connect() as conn:
        codes = set(conn.execute(text("SELECT code FROM submissions")).scalars())
    engine.dispose()
    return codes


def counts_printed(stdout: str) -> dict[str, int]:
    return {t: int(n) for t, n in (line.split("\t") for line in stdout.splitlines())}


@pytest.fixture(params=["sqlite", "postgresql"])
def two_instances(request, tmp_path: Path) -> tuple[str, str]:
    """The URLs of a source instance and of an empty one to restore into."""
    if request.param == "sqlite":
        return (f"sqlite:///{tmp_path / 'src' / 'dangxiao.sqlite3'}",
                f"sqlite:///{tmp_path / 'dst' / 'dangxiao.sqlite3'}")
    return fresh_database("dx_bk_src"), fresh_database("dx_bk_dst")


def test_backup_while_submitting_then_restore_has_every_acknowledged_row(
        tmp_path: Path, two_instances: tuple[str, str]):
    src, dst = two_instances
    src_dir, dst_dir = tmp_path / "src", tmp_path / "dst"
    port = free_port()
    server = start_server(tmp_path, src_dir, src, port)
    acked: list[tuple[str, float]] = []
    errors: list[str] = []
    stop = threading.Event()
    threads = [threading.Thread(target=submitter, args=(port, acked, errors, stop))
               for _ in range(3)]
    for t in threads:
        t.start()
    try:
        deadline = time.monotonic() + 60
        while len(acked) < 30:
            assert not errors and time.monotonic() < deadline, errors
            time.sleep(0.05)
        began = time.monotonic()
        backup = dangxiao("db", "backup", str(tmp_path / "nightly.dump"), instance=src_dir,
                          url=src)
        ended = time.monotonic()
        seen, deadline = len(acked), time.monotonic() + 60
        while len(acked) < seen + 10 and time.monotonic() < deadline:
            time.sleep(0.05)  # members are still served after it
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=20)
        server.terminate()
        server.wait(timeout=20)
        server.stderr.close()
    assert backup.returncode == 0, backup.stderr
    assert errors == []
    before = {code for code, at in acked if at < began}
    during = [code for code, at in acked if began <= at < ended]
    print(f"\n{src.split(':')[0]}: {len(before)} codes before the backup, {len(during)} during "
          f"its {ended - began:.2f} s, {len(acked)} in all; "
          f"{(tmp_path / 'nightly.dump').stat().st_size} bytes")
    assert during, "members were served while the backup ran"
    assert not list(tmp_path.glob(".nightly.dump.*"))  # no temporary file left

    checked = dangxiao("db", "check-backup", str(tmp_path / "nightly.dump"), instance=dst_dir,
                       url=dst)
    assert checked.returncode == 0, checked.stderr
    assert f"数据库结构为最新版本（{head()}）" in checked.stderr
    assert counts_printed(checked.stdout) == counts_printed(backup.stdout)

    restored = dangxiao("db", "restore", str(tmp_path / "nightly.dump"), instance=dst_dir,
                        url=dst)
    assert restored.returncode == 0, restored.stderr
    assert "数据库结构为最新版本" in restored.stderr
    assert counts_printed(restored.stdout) == counts_printed(backup.stdout)
    codes = stored_codes(dst)
    assert before - codes == set(), "codes acknowledged before the backup began are missing"
    assert codes <= stored_codes(src)
    assert len(codes) == counts_printed(backup.stdout)["submissions"]

    # A second restore into the now full instance is refused and changes nothing.
    again = dangxiao("db", "restore", str(tmp_path / "nightly.dump"), instance=dst_dir,
                     url=dst)
    assert again.returncode == 1 and "不是空的" in again.stderr, again.stderr
    assert stored_codes(dst) == codes

    # The restored database keeps the audit log append-only, and the app runs on it.
    engine = create_engine(dst)
    statements = ["UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log"]
    if engine.dialect.name == "postgresql":
        statements.append("TRUNCATE audit_log")
    for statement in statements:
        with engine.connect() as conn, pytest.raises(DBAPIError, match="append-only"):
            conn.execute(text(statement))
    engine.dispose()
    app = make_app(tmp_path / "app", dst)
    try:
        assert app.test_client().get(f"/app/ask/{sorted(before)[0]}").status_code == 200
    finally:
        db.close(app)


def test_restore_refuses_what_it_cannot_restore(tmp_path: Path):
    sqlite_instance = tmp_path / "a"
    assert dangxiao("db", "upgrade", instance=sqlite_instance, url="").returncode == 0
    sqlite_backup = tmp_path / "a.sqlite3"
    assert dangxiao("db", "backup", str(sqlite_backup), instance=sqlite_instance,
                    url="").returncode == 0
    pg = fresh_database("dx_bk_src")
    assert dangxiao("db", "upgrade", instance=tmp_path / "p", url=pg).returncode == 0
    pg_backup = tmp_path / "p.dump"
    assert dangxiao("db", "backup", str(pg_backup), instance=tmp_path / "p",
                    url=pg).returncode == 0
    empty_pg = fresh_database("dx_bk_dst")
    junk = tmp_path / "junk.txt"
    junk.write_text("这不是备份\n", encoding="utf-8")

    cases = [
        (sqlite_backup, tmp_path / "x", empty_pg, "不做跨数据库迁移"),
        (pg_backup, tmp_path / "y", "", "不做跨数据库迁移"),
        (junk, tmp_path / "z", "", "不是 dangxiao db backup 生成的备份文件"),
        (tmp_path / "missing.dump", tmp_path / "z", "", "不存在"),
        (sqlite_backup, sqlite_instance, "", "不是空的"),  # the source itself
        (pg_backup, tmp_path / "p", pg, "不是空的"),
    ]
    for backup_file, instance, url, message in cases:
        result = dangxiao("db", "restore", str(backup_file), instance=instance, url=url)
        assert result.returncode == 1 and message in result.stderr, (backup_file, result)
    assert not (tmp_path / "y" / "dangxiao.sqlite3").exists()
    junk_check = dangxiao("db", "check-backup", str(junk), instance=tmp_path / "z", url="")
    assert junk_check.returncode == 1 and "不是" in junk_check.stderr

    # A damaged backup: check-backup says so instead of printing counts.
    broken = tmp_path / "broken.dump"
    broken.write_bytes(pg_backup.read_bytes()[: pg_backup.stat().st_size // 2])
    result = dangxiao("db", "check-backup", str(broken), instance=tmp_path / "z", url="")
    assert result.returncode == 1 and "无法完整读取" in result.stderr, result.stderr

    # Backing up a SQLite database that is not there creates nothing.
    missing = dangxiao("db", "backup", str(tmp_path / "none.sqlite3"),
                       instance=tmp_path / "nothing", url="")
    assert missing.returncode == 1 and "不存在" in missing.stderr
    assert not (tmp_path / "nothing" / "dangxiao.sqlite3").exists()


def test_the_libpq_form_keeps_the_password_off_the_command_line():
    from forms_app.backup import libpq

    conn, env = libpq("postgresql+psycopg://dangxiao:p%40ss%3Aw@db.example:5433/dx"
                      "?sslmode=require")
    assert conn == "postgresql://dangxiao@db.example:5433/dx?sslmode=require"
    assert env["PGPASSWORD"] == "p@ss:w"
