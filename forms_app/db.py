"""The database: one engine per app, one session per request, durable SQLite settings."""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)

# Seconds a writer waits for another's lock before SQLite gives up with "locked".
BUSY_TIMEOUT_MS = 10_000


def database_url(app: Flask) -> str:
    url = app.config.get("DATABASE_URL") or ""
    if url:
        return url
    return f"sqlite:///{Path(app.instance_path) / 'dangxiao.sqlite3'}"


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """Every SQLite connection: WAL, fsync on every commit, a busy timeout, foreign keys,
    recursive triggers.

    WAL with synchronous=FULL makes a commit durable once it returns, so a tracking code
    shown to a member survives kill -9 and power loss. recursive_triggers makes the rows
    that REPLACE (and INSERT OR REPLACE) delete fire DELETE triggers: a second guard of the
    append-only audit log beside its BEFORE INSERT trigger (migration 0002).
    """
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA recursive_triggers=ON")
    cursor.close()


def _sqlite_begin(conn) -> None:
    # A POST (or a command) writes: take the write lock up front so two writers queue on
    # busy_timeout instead of one failing on a lock upgrade. Pages only read: a deferred
    # BEGIN lets them run beside a writer.
    reading = has_request_context() and request.method in ("GET", "HEAD")
    conn.exec_driver_sql("BEGIN" if reading else "BEGIN IMMEDIATE")


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000,
                                                  "isolation_level": None})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True)


def init_app(app: Flask) -> None:
    url = database_url(app)
    if url.startswith("sqlite"):
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    engine = make_engine(url)
    app.extensions["db_engine"] = engine
    app.extensions["db_sessions"] = sessionmaker(engine, expire_on_commit=False)
    app.teardown_appcontext(_close_session)


def close(app: Flask) -> None:
    """Close the group writer's kept connection and lock file, then every connection of
    the app's engine."""
    writer = app.extensions.get("dx_writer")
    if writer is not None:
        writer.close()
    app.extensions["db_engine"].dispose()


def engine() -> Engine:
    return current_app.extensions["db_engine"]


def session() -> Session:
    """The request's session, opened on first use and closed when the request ends."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["db_sessions"]()
    return g.db_session


def end_request_transaction() -> None:
    """Commit what the request's session has open, releasing SQLite's write lock that a
    POST's BEGIN IMMEDIATE took (loading the signed-in member is enough to open one).
    Called before handing work to the group writer, which would otherwise wait on the
    lock its own request holds until the busy timeout."""
    s = g.get("db_session")
    if s is not None and s.in_transaction():
        s.commit()


def _close_session(_exc: BaseException | None) -> None:
    s = g.pop("db_session", None)
    if s is not None:
        s.close()
