"""The forms app's part of the dangxiao command: db upgrade/purge, editor add."""

from __future__ import annotations

import argparse
import getpass
import sys

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
    print("数据库已升级到最新结构。", file=sys.stderr)
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

    p = sub.add_parser("editor", help="editor accounts")
    esub = p.add_subparsers(dest="editor_command", required=True)
    a = esub.add_parser("add", help="create an editor; the password is read from stdin")
    a.add_argument("name")
    a.add_argument("--role", choices=["editor", "admin"], default="editor")
    a.set_defaults(func=editor_add)
