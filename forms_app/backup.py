"""Backups and upgrades of the forms app's database.

`dangxiao db backup FILE` copies the database out while the app runs: SQLite through its
online backup API (one consistent snapshot; in WAL mode writers go on meanwhile), PostgreSQL
through `pg_dump --format=custom`. Either way the copy is written beside FILE, checked,
fsynced and only then renamed to FILE. `dangxiao db restore FILE` loads a backup into an
empty database and refuses one that holds tables. `dangxiao db check-backup FILE` reads a
backup without a server and prints what it holds, row counts per table.

upgrade() is the Alembic upgrade made safe for SQLite databases with data in them: a
migration that changes a table's constraints copies it into a new table and drops the old
one, and with foreign keys on, dropping a table that other rows refer to fails (or
cascades). The SQLite documentation's procedure is followed: foreign keys off for the
connection, every revision in one transaction, `PRAGMA foreign_key_check` before commit.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import URL, make_url

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_MAGIC = b"PGDMP"
ENGINE_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


class BackupError(RuntimeError):
    """A backup or restore that cannot be done; the message says why, in Chinese."""


def engine_of(url: str) -> str:
    return "sqlite" if url.startswith("sqlite") else "postgresql"


def kind_of_file(path: Path) -> str | None:
    """'sqlite' or 'postgresql' by the file's first bytes, None for anything else."""
    with path.open("rb") as f:
        head = f.read(len(SQLITE_MAGIC))
    if head == SQLITE_MAGIC:
        return "sqlite"
    if head.startswith(PG_MAGIC):
        return "postgresql"
    return None


def sqlite_path(url: str) -> Path:
    return Path(make_url(url).database or "")


def libpq(url: str) -> tuple[str, dict[str, str]]:
    """The libpq form of a SQLAlchemy PostgreSQL URL, and an environment that carries its
    password (kept off the command line, where `ps` would show it)."""
    u = make_url(url)
    env = dict(os.environ)
    if u.password is not None:
        env["PGPASSWORD"] = str(u.password)
    bare = URL.create("postgresql", username=u.username, host=u.host, port=u.port,
                      database=u.database, query=u.query)  # (set() ignores password=None)
    return bare.render_as_string(hide_password=False), env


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise BackupError(f"找不到 {name}：请安装与数据库服务器同版本的 PostgreSQL 客户端"
                          "（Debian：apt-get install postgresql-client）。")
    return found


def _run(args: list[str], env: dict[str, str], what: str) -> subprocess.CompletedProcess:
    result = subprocess.run(args, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(f"{what}失败：{result.stderr.strip()}")
    return result


# -- backup ---------------------------------------------------------------------------------
def backup(url: str, dest: Path) -> None:
    """Copy the database at url into dest, atomically: dest is either the old file or a
    complete, checked backup, never half of one."""
    dest = dest.resolve()
    if not dest.parent.is_dir():
        raise BackupError(f"备份目录 {dest.parent} 不存在。")
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    try:
        if engine_of(url) == "sqlite":
            _backup_sqlite(sqlite_path(url), tmp)
        else:
            conn, env = libpq(url)
            _run([_tool("pg_dump"), "--format=custom", f"--file={tmp}", f"--dbname={conn}"],
                 env, "pg_dump 备份")
        _fsync(tmp)
        os.replace(tmp, dest)
        _fsync(dest.parent)
    except (OSError, sqlite3.Error) as exc:
        raise BackupError(f"备份失败，{dest} 没有改变：{exc}") from exc
    finally:
        tmp.unlink(missing_ok=True)


def _backup_sqlite(source: Path, tmp: Path) -> None:
    if not source.is_file():
        raise BackupError(f"数据库文件 {source} 不存在，没有可备份的数据。")
    # mode=rw: never create an empty database where the real one was expected.
    src = sqlite3.connect(f"file:{source}?mode=rw", uri=True, timeout=30)
    dst = sqlite3.connect(tmp, isolation_level=None)
    try:
        src.backup(dst)  # one step: a consistent snapshot, writers go on (WAL)
        # The copy is one self-contained file, not a WAL database with a -wal beside it.
        dst.execute("PRAGMA journal_mode=DELETE")
        result = dst.execute("PRAGMA integrity_check").fetchone()[0]
        if result != "ok":
            raise BackupError(f"备份副本未通过完整性检查：{result}")
    finally:
        dst.close()
        src.close()


# -- restore --------------------------------------------------------------------------------
def restore(url: str, source: Path) -> None:
    """Load the backup at source into the empty database at url."""
    if not source.is_file():
        raise BackupError(f"备份文件 {source} 不存在。")
    kind, target = kind_of_file(source), engine_of(url)
    if kind is None:
        raise BackupError(f"{source} 不是 dangxiao db backup 生成的备份文件"
                          "（既不是 SQLite 数据库，也不是 pg_dump 的 custom 格式）。")
    if kind != target:
        raise BackupError(
            f"{source} 是 {ENGINE_NAMES[kind]} 的备份，而当前设置的数据库是 "
            f"{ENGINE_NAMES[target]}（DATABASE_URL）。本命令只在同一种数据库之间备份和恢复，"
            "不做跨数据库迁移；请把 DATABASE_URL 设为同一种数据库再恢复。")
    if target == "sqlite":
        try:
            _restore_sqlite(source, sqlite_path(url))
        except (OSError, sqlite3.Error) as exc:
            raise BackupError(f"恢复失败：{exc}") from exc
    else:
        _refuse_nonempty_pg(url)
        conn, env = libpq(url)
        # --no-owner: the restoring user owns everything; --no-acl: the roles of the old
        # server may not exist here. Triggers and functions (the append-only audit log)
        # come with the schema, after the data.
        _run([_tool("pg_restore"), "--no-owner", "--no-acl", "--single-transaction",
              "--exit-on-error", f"--dbname={conn}", str(source)], env, "pg_restore 恢复")


def _restore_sqlite(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target, isolation_level=None, timeout=30)
    try:
        tables = dst.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'"
                             ).fetchone()[0]
        if tables:
            raise BackupError(_not_empty(str(target), tables))
        src.backup(dst)  # through SQLite: a -wal left beside the target cannot spoil it
        dst.execute("PRAGMA journal_mode=WAL")
        result = dst.execute("PRAGMA integrity_check").fetchone()[0]
        if result != "ok":
            raise BackupError(f"恢复后的数据库未通过完整性检查：{result}")
    finally:
        dst.close()
        src.close()
    _fsync(target)


def _not_empty(where: str, tables: int) -> str:
    return (f"目标数据库 {where} 不是空的（已有 {tables} 张表），拒绝恢复，以免覆盖其中的数据。"
            "请换一个空的实例目录（DANGXIAO_INSTANCE）或新建一个空数据库再恢复。")


def _refuse_nonempty_pg(url: str) -> None:
    from sqlalchemy import create_engine
    from sqlalchemy.exc import OperationalError

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            tables = conn.execute(text(
                "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND n.nspname NOT IN "
                "('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'"
            )).scalar_one()
    except OperationalError as exc:
        raise BackupError(f"无法连接目标数据库：{exc.orig or exc}。请先建立一个空数据库"
                          "（例如 createdb），并检查 DATABASE_URL。") from exc
    finally:
        engine.dispose()
    if tables:
        raise BackupError(_not_empty(make_url(url).database or url, tables))


# -- what a database or a backup holds -------------------------------------------------------
def table_counts(url: str) -> dict[str, int]:
    """Rows per table of the database at url (alembic_version left out)."""
    from forms_app.db import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            names = sorted(n for n in inspect(conn).get_table_names() if n != "alembic_version")
            return {n: conn.execute(text(f'SELECT count(*) FROM "{n}"')).scalar_one()
                    for n in names}
    finally:
        engine.dispose()


def inspect_backup(path: Path) -> tuple[str, str | None, dict[str, int]]:
    """(kind, schema revision, rows per table) of a backup file, read without a server.
    SQLite: integrity_check first. pg_dump: every data block is read (pg_restore -f -)."""
    kind = kind_of_file(path) if path.is_file() else None
    if kind == "sqlite":
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            result = conn.execute("PRAGMA integrity_check").fetchone()[0]
            if result != "ok":
                raise BackupError(f"备份文件未通过完整性检查：{result}")
            names = sorted(r[0] for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%'"))
            revision = None
            if "alembic_version" in names:
                names.remove("alembic_version")
                row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
                revision = row[0] if row else None
            return kind, revision, {n: conn.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0]
                                    for n in names}
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"备份文件无法读取：{exc}") from exc
        finally:
            conn.close()
    if kind == "postgresql":
        return kind, *_pg_dump_counts(path)
    raise BackupError(f"{path} 不是 dangxiao db backup 生成的备份文件。")


COPY = re.compile(r"^COPY (?:[\w\"]+\.)?\"?(\w+)\"? \(.*\) FROM stdin;$")


def _pg_dump_counts(path: Path) -> tuple[str | None, dict[str, int]]:
    # The SQL script pg_restore writes holds each table's rows as a COPY block, one line a
    # row (newlines inside values are escaped) and \. at its end.
    proc = subprocess.Popen([_tool("pg_restore"), "--data-only", "--file=-", str(path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            encoding="utf-8")
    counts: dict[str, int] = {}
    revision, table = None, None
    assert proc.stdout is not None
    for line in proc.stdout:
        line = line.rstrip("\n")
        if table is None:
            m = COPY.match(line)
            if m:
                table = m[1]
                counts[table] = 0
        elif line == "\\.":
            table = None
        else:
            counts[table] += 1
            if table == "alembic_version":
                revision = line.split("\t")[0]
    stderr = proc.stderr.read() if proc.stderr else ""
    if proc.wait() != 0 or table is not None:
        raise BackupError(f"备份文件无法完整读取：{stderr.strip() or '数据不完整'}")
    counts.pop("alembic_version", None)
    return revision, dict(sorted(counts.items()))


# -- upgrade --------------------------------------------------------------------------------
