"""The forms app's part of the dangxiao command: db upgrade/purge/backup/restore/check-backup,
editor add."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from sqlalchemy.exc import IntegrityError, OperationalError
from werkzeug.security import generate_password_hash


def _app():
    from forms_app import create_app

    return create_app()


def _unreachable(exc: OperationalError) -> int:
    print(f"无法打开数据库：{exc.orig or exc}。请检查 DATABASE_URL 设置"
          "（instance/config.toml 或环境变量 DANGXIAO_DATABASE_URL），以及数据库是否在运行。",
          file=sys.stderr)
    return 1


def db_upgrade(_args: argparse.Namespace) -> int:
    from forms_app import migrate
    from forms_app.db import database_url

    app = _app()
    try:
        migrate.upgrade(database_url(app))
    except OperationalError as exc:
        return _unreachable(exc)
    except migrate.UpgradeError as exc:
        print(exc, file=sys.stderr)
        return 1
    print("数据库已升级到最新结构。", file=sys.stderr)
    return 0


def _print_counts(counts: dict[str, int]) -> None:
    for table, n in counts.items():
        print(f"{table}\t{n}")
    sys.stdout.flush()


def _revision_note(revision: str | None) -> str:
    from forms_app.migrate import head

    if revision == head():
        return f"数据库结构为最新版本（{revision}）"
    if revision is None:
        return "没有数据库结构版本（alembic_version），这不是本应用的数据库"
    return f"数据库结构为旧版本 {revision}，恢复后请运行 dangxiao db upgrade"


def db_backup(args: argparse.Namespace) -> int:
    from forms_app import backup
    from forms_app.db import database_url

    dest = Path(args.file)
    try:
        backup.backup(database_url(_app()), dest)
        kind, revision, counts = backup.inspect_backup(dest)
    except backup.BackupError as exc:
        print(exc, file=sys.stderr)
        return 1
    _print_counts(counts)
    print(f"已备份到 {dest}（{dest.stat().st_size} 字节，{backup.ENGINE_NAMES[kind]}，"
          f"{sum(counts.values())} 行，{_revision_note(revision)}）。", file=sys.stderr)
    return 0


def db_restore(args: argparse.Namespace) -> int:
    from forms_app import backup, migrate
    from forms_app.db import database_url

    url = database_url(_app())
    try:
        backup.restore(url, Path(args.file))
        counts = backup.table_counts(url)
        revision = migrate.current(url)
    except backup.BackupError as exc:
        print(exc, file=sys.stderr)
        return 1
    except OperationalError as exc:
        return _unreachable(exc)
    _print_counts(counts)
    print(f"已从 {args.file} 恢复，共 {sum(counts.values())} 行；{_revision_note(revision)}。",
          file=sys.stderr)
    return 0


def db_check_backup(args: argparse.Namespace) -> int:
    from forms_app import backup

    try:
        kind, revision, counts = backup.inspect_backup(Path(args.file))
    except backup.BackupError as exc:
        print(exc, file=sys.stderr)
        return 1
    _print_counts(counts)
    print(f"备份可以读取：{backup.ENGINE_NAMES[kind]}，{len(counts)} 张表，"
          f"{sum(counts.values())} 行，{_revision_note(revision)}。", file=sys.stderr)
    return 0


def db_purge(_args: argparse.Namespace) -> int:
    from forms_app import db
    from forms_app.personal import purge_expired

    app = _app()
    with app.app_context():
        n = purge_expired(db.session(), app.config["RETENTION_DAYS"])
        db.session().commit()
    print(f"已删除 {n} 条过期的个人信息。", file=sys.stderr)
    return 0


def _read_password() -> str:
    if sys.stdin.isatty():
        return getpass.getpass("密码：")
    return sys.stdin.readline().rstrip("\n")


def editor_add(args: argparse.Namespace) -> int:
    from forms_app import db
    from forms_app.forms import password_problem
    from forms_app.models import User

    password = _read_password()
    problem = password_problem(password, args.name)
    if problem:
        print(problem, file=sys.stderr)
        return 1
    from forms_app import migrate

    app = _app()
    url = db.database_url(app)
    try:
        # On a fresh install the database does not exist yet: create it (or bring it to
        # the newest schema) first, as `dangxiao db upgrade` and `dangxiao serve` do.
        fresh = migrate.current(url) is None
        migrate.upgrade(url)
        if fresh:
            print("数据库还没有建立，已先建立数据库。", file=sys.stderr)
        with app.app_context():
            s = db.session()
            s.add(User(username=args.name, password_hash=generate_password_hash(password),
                       role=args.role))
            try:
                s.commit()
            except IntegrityError:
                print(f"用户 {args.name} 已存在。", file=sys.stderr)
                return 1
    except OperationalError as exc:
        return _unreachable(exc)
    print(f"已创建{'管理员' if args.role == 'admin' else '编辑'} {args.name}。", file=sys.stderr)
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("db", help="the forms app's database")
    dbsub = p.add_subparsers(dest="db_command", required=True)
    dbsub.add_parser("upgrade", help="create or migrate the database (Alembic)").set_defaults(
        func=db_upgrade)
    dbsub.add_parser("purge", help="erase personal data past RETENTION_DAYS").set_defaults(
        func=db_purge)
    b = dbsub.add_parser("backup", help="copy the database into FILE while the app runs")
    b.add_argument("file")
    b.set_defaults(func=db_backup)
    r = dbsub.add_parser("restore", help="load a backup FILE into an empty database")
    r.add_argument("file")
    r.set_defaults(func=db_restore)
    c = dbsub.add_parser("check-backup", help="read a backup FILE and print its row counts")
    c.add_argument("file")
    c.set_defaults(func=db_check_backup)

    p = sub.add_parser("editor", help="editor accounts")
    esub = p.add_subparsers(dest="editor_command", required=True)
    a = esub.add_parser("add", help="create an editor; the password is read from stdin")
    a.add_argument("name")
    a.add_argument("--role", choices=["editor", "admin"], default="editor")
    a.set_defaults(func=editor_add)
