"""Upgrades: a database made by the first release's schema (migration 0001), with data in
it, is brought to the newest schema by `dangxiao db upgrade` with nothing lost.

The SQLite database is the committed fixture tests/fixtures/db-0001.sqlite (made by
tests/fixtures/make_db_0001.py); on PostgreSQL the same rows are loaded into a fresh
database at 0001 by the same script."""

from __future__ import annotations

import importlib.util
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FIXTURES, PG_URL, code_of, login, make_app
from sqlalchemy import MetaData, create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from forms_app import db
from forms_app.migrate import current, head

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("make_db_0001", FIXTURES / "make_db_0001.py")
fixture_script = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fixture_script)
ROWS = fixture_script.ROWS

# Columns added after 0001 whose value in an upgraded row is not NULL.
NEW_COLUMN_DEFAULTS = {("submissions", "remove_from_site"): False,
                       ("users", "thought_every_months"): 12,
                       # every member of the first release counts as a mobile member
                       ("users", "mobile"): True}
# What migration 0002 rewrites on purpose in the audit log: members by pseudonym
# (member:<id>) instead of username, and no answer or reason text an editor typed (a
# fixed reason from the list stays).
PSEUDONYMS = {"李明": "member:4", "张帮学": "member:3", "陈小红": "member:5"}
FIXED_REASONS = {"与流动党员之声栏目主题无关"}


def expected(table: str, row: dict) -> dict:
    if table != "audit_log":
        return row
    row = {**row, "actor": PSEUDONYMS.get(row["actor"], row["actor"])}
    if row["action"] in ("answer", "reject", "request_changes") and \
            row["detail"] not in FIXED_REASONS:
        row["detail"] = None
    return row


def fresh_database(name: str) -> str:
    """An empty PostgreSQL database of this test file's own (never the shared ones)."""
    admin = create_engine(make_url(PG_URL).set(database="postgres"),
                          isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)


def dangxiao(*args: str, instance: Path, url: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DANGXIAO_INSTANCE": str(instance), "DANGXIAO_DATABASE_URL": url}
    return subprocess.run([sys.executable, "-m", "generator", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def read_all(url: str) -> dict[str, list[dict]]:
    engine = create_engine(url)
    meta = MetaData()
    try:
        with engine.connect() as conn:
            meta.reflect(conn)
            return {name: [dict(r._mapping) for r in conn.execute(
                        select(t).order_by(*t.primary_key.columns))]
                    for name, t in meta.tables.items() if name != "alembic_version"}
    finally:
        engine.dispose()


def test_the_fixture_is_the_first_release_with_its_rows():
    # Read only: the app's engine would turn the committed file into a WAL database.
    path = FIXTURES / "db-0001.sqlite"
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [("0001",)]
    tables = read_all(f"sqlite:///file:{path}?mode=ro&uri=true")
    assert set(tables) == set(ROWS)
    for name, rows in ROWS.items():
        assert tables[name] == rows, name  # the script and the committed file agree


@pytest.fixture(params=["sqlite", "postgresql"])
def old_database(request, tmp_path: Path) -> str:
    """A database at 0001 with the fixture's rows; '' means the default SQLite file."""
    if request.param == "sqlite":
        (tmp_path / "instance").mkdir()
        shutil.copyfile(FIXTURES / "db-0001.sqlite", tmp_path / "instance" / "dangxiao.sqlite3")
        return ""
    url = fresh_database("dx_bk_upgrade")
    fixture_script.make(url)
    return url


def test_db_upgrade_keeps_every_row_of_the_first_release(tmp_path: Path, old_database: str):
    url = old_database or f"sqlite:///{tmp_path / 'instance' / 'dangxiao.sqlite3'}"
    assert current(url) == "0001"
    result = dangxiao("db", "upgrade", instance=tmp_path / "instance", url=old_database)
    assert result.returncode == 0, result.stderr
    assert "数据库已升级到最新结构" in result.stderr
    assert current(url) == head()

    tables = read_all(url)
    for name, rows in ROWS.items():
        got = tables.pop(name)
        assert len(got) == len(rows), name
        for want, row in zip(rows, got, strict=True):
            want = expected(name, want)
            assert {k: row[k] for k in want} == want, (name, want["id"])
            added = {k: v for k, v in row.items() if k not in want}
            assert added == {k: NEW_COLUMN_DEFAULTS.get((name, k)) for k in added}, name
    assert {name: rows for name, rows in tables.items() if rows} == {}  # new tables: empty

    engine = create_engine(url)
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
            assert conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall() == []
        with pytest.raises(DBAPIError, match="append-only"):  # still append-only
            conn.execute(text("UPDATE audit_log SET actor = 'x' WHERE id = 1"))
    engine.dispose()

    # The app works on it: old tracking codes, old accounts and pairs, new submissions.
    app = make_app(tmp_path / "app", url)
    try:
        client = app.test_client()
        answered = client.get("/app/ask/BCDEFGHJKMNPQRST").get_data(as_text=True)
        assert "党员证明信" in answered
        assert client.get("/app/voice/DEFGHJKMNPQRSTVW").status_code == 200
        assert login(client, "李明").status_code == 303
        assert client.get("/app/me").status_code == 200
        buddy = app.test_client()
        assert login(buddy, "张帮学").status_code == 303
        assert "李明" in buddy.get("/app/buddy").get_data(as_text=True)
        code = code_of(client.post("/app/ask", data={"question": "升级之后还能提问吗？",
                                                      "category": "其他"}))
        with app.app_context():
            ids = db.session().execute(text("SELECT id, code FROM submissions")).all()
        assert (8, code) in ids
    finally:
        db.close(app)


def test_a_failed_upgrade_leaves_the_database_as_it_was(tmp_path: Path):
    """Every revision runs in one transaction: a row referring to no user (written with
    foreign keys off) fails the check before commit, and nothing of the upgrade stays."""
    from forms_app.migrate import UpgradeError, upgrade

    path = tmp_path / "old.sqlite3"
    shutil.copyfile(FIXTURES / "db-0001.sqlite", path)
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO study_logs (user_id, day, minutes, mode, created_at) "
                     "VALUES (99, '2026-11-20', 30, '网上学', '2026-11-20 20:00:00')")
    conn.close()
    with pytest.raises(UpgradeError, match="已撤销本次升级，数据库保持原样"):
        upgrade(f"sqlite:///{path}")
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [("0001",)]
        assert "remove_from_site" not in {r[1] for r in conn.execute(
            "PRAGMA table_info(submissions)")}
        assert conn.execute("SELECT count(*) FROM submissions").fetchone()[0] == 7
    conn.close()


def test_serve_upgrades_the_first_release_in_place(tmp_path: Path):
    """`dangxiao serve` (forms_app/combined.py) upgrades through migrate.upgrade, as the
    CLI does: the table rebuilds of SQLite no longer trip over rows that point at them."""
    from forms_app import combined, migrate

    path = tmp_path / "old.sqlite3"
    shutil.copyfile(FIXTURES / "db-0001.sqlite", path)
    assert "migrate.upgrade(" in Path(combined.__file__).read_text(encoding="utf-8")
    migrate.upgrade(f"sqlite:///{path}")
    assert migrate.current(f"sqlite:///{path}") == migrate.head()
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM submissions").fetchone()[0] == 7
        assert conn.execute("SELECT count(*) FROM study_logs").fetchone()[0] == 4
    conn.close()

