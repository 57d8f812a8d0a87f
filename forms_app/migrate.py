"""Alembic, driven from code: `dangxiao db upgrade` and `dangxiao serve` call upgrade()."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import event

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # Alembic's ini interpolation would read % in a password as a placeholder.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


class UpgradeError(Exception):
    """An upgrade that was undone; the message is the Chinese an operator reads."""


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at url to the newest schema (creating it if empty).

    On SQLite a migration that changes a table copies it and drops the old one; with
    foreign keys on, that DROP fails when other rows point at the table (or, with ON
    DELETE CASCADE, silently deletes them). So, as SQLite's documentation prescribes for
    schema changes: foreign keys off for this connection, every revision in one
    transaction, and PRAGMA foreign_key_check clean before it commits."""
    from forms_app.db import make_engine

    if not url.startswith("sqlite"):
        command.upgrade(alembic_config(url), revision)
        return
    engine = make_engine(url)
    # After the app's own pragmas (foreign_keys=ON), before any transaction: only then
    # does SQLite take the setting.
    event.listen(engine, "connect", lambda dbapi, _record: dbapi.execute(
        "PRAGMA foreign_keys=OFF"))
    try:
        with engine.connect() as conn, conn.begin():
            config = alembic_config(url)
            config.attributes["connection"] = conn
            command.upgrade(config, revision)
            broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise UpgradeError(
                    f"有 {len(broken)} 行引用了不存在的行（例如表 {broken[0][0]}），"
                    "已撤销本次升级，数据库保持原样；请先修正这些行再升级。")
    finally:
        engine.dispose()


def current(url: str) -> str | None:
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import inspect

    from forms_app.db import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return None
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def head() -> str:
    """The newest revision of forms_app/migrations."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
