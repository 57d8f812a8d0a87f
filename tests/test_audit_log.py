"""The audit log: append-only in the database (no UPDATE, DELETE, REPLACE, upsert or
TRUNCATE), no answer or reason text in it, members only by pseudonym, and migration 0002
rewriting the rows written before it."""

from __future__ import annotations

import sqlite3
from datetime import date

import pytest
from alembic import command
from conftest import add_user, ask, code_of, item_by_code, login, voice
from sqlalchemy import func, select, text

from forms_app import db, migrate
from forms_app.models import AuditEntry, StudyLog, User

PASSWORD = "长江黄河都是好风景"
ONLY_SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
ONLY_POSTGRES = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


def rows(app) -> list[tuple]:
    with app.app_context():
        return [tuple(r) for r in db.session().execute(
            select(AuditEntry.id, AuditEntry.at, AuditEntry.actor, AuditEntry.ip,
                   AuditEntry.action, AuditEntry.submission_id, AuditEntry.from_state,
                   AuditEntry.to_state, AuditEntry.detail).order_by(AuditEntry.id)).all()]


def user_id(app, username: str) -> int:
    with app.app_context():
        return db.session().scalar(select(User.id).where(User.username == username))


def refused(app, statement: str, **params) -> None:
    with app.app_context():
        s = db.session()
        with pytest.raises(Exception, match="append-only"):
            s.execute(text(statement), params)
        s.rollback()


def act(client, item, action, text=None, preset=None):
    data = {"action": action, "version": item.version}
    if text is not None:
        data["text"] = text
    if preset is not None:
        data["preset"] = preset
    return client.post(f"/app/editor/item/{item.id}", data=data)


@pytest.fixture
def admin(app):
    add_user(app, "管理员", role="admin")
    client = app.test_client()
    assert login(client, "管理员").status_code == 303
    return client


# -- append-only in the database ----------------------------------------------------------

OVERWRITES = [
    "REPLACE INTO audit_log (id, at, actor, action) VALUES (:id, :at, 'x', 'forged')",
    "INSERT OR REPLACE INTO audit_log (id, at, actor, action) VALUES (:id, :at, 'x', 'forged')",
    "INSERT INTO audit_log (id, at, actor, action) VALUES (:id, :at, 'x', 'forged') "
    "ON CONFLICT(id) DO UPDATE SET actor = excluded.actor, action = excluded.action",
]


@ONLY_SQLITE
@pytest.mark.parametrize("statement", OVERWRITES)
def test_sqlite_replace_and_upsert_cannot_overwrite_a_row(app, client, editor, statement):
    code_of(ask(client))
    before = rows(app)
    first = before[0]
    refused(app, statement, id=first[0], at=first[1])
    assert rows(app) == before


@ONLY_SQLITE
@pytest.mark.parametrize("statement", OVERWRITES)
def test_sqlite_overwrite_is_refused_without_the_apps_pragmas(app, client, sqlite_url,
                                                             statement):
    """The trigger alone refuses it: also for the sqlite3 shell, which sets no
    recursive_triggers."""
    code_of(ask(client))
    before = rows(app)
    conn = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"))
    try:
        assert conn.execute("PRAGMA recursive_triggers").fetchone() == (0,)
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute(statement, {"id": before[0][0], "at": "2026-01-01 00:00:00"})
        conn.rollback()
    finally:
        conn.close()
    assert rows(app) == before


@ONLY_SQLITE
def test_sqlite_connections_fire_delete_triggers_on_replace(app):
    with app.app_context():
        assert db.session().execute(text("PRAGMA recursive_triggers")).scalar() == 1


@ONLY_SQLITE
def test_sqlite_new_rows_still_get_their_own_ids(app, client):
    """The BEFORE INSERT trigger refuses only a taken id, never an ordinary insert."""
    for _ in range(3):
        code_of(ask(client))
    with app.app_context():
        s = db.session()
        s.execute(text("INSERT INTO audit_log (at, actor, action) VALUES (:at, 'x', 'login')"),
                  {"at": "2026-01-01 00:00:00"})
        s.commit()
    assert [r[0] for r in rows(app)] == [1, 2, 3, 4]


@ONLY_POSTGRES
@pytest.mark.parametrize("statement", ["TRUNCATE audit_log",
                                       "TRUNCATE audit_log RESTART IDENTITY",
                                       "TRUNCATE submissions CASCADE"])
def test_postgres_truncate_is_refused(app, client, editor, statement):
    code_of(ask(client))
    before = rows(app)
    assert len(before) == 2
    refused(app, statement)
    assert rows(app) == before


def test_update_and_delete_are_still_refused(app, client, editor):
    """Migration 0002 drops and recreates these triggers: they must be back."""
    code_of(ask(client))
    before = rows(app)
    for statement in ("UPDATE audit_log SET actor = 'x'", "UPDATE audit_log SET detail = NULL",
                      "DELETE FROM audit_log", "DELETE FROM audit_log WHERE id = 1"):
        refused(app, statement)
    assert rows(app) == before


# -- no answer or reason text ------------------------------------------------------------

ANSWER = "张三同志，您的手机13812345678已登记，请到城关镇第一支部找王书记办理转接。"
REASON = "文中写了李四的身份证号，不宜公开，请删去后再投。"
CHANGES = "请把第二段里老李的住址（幸福路8号）删去。"


def test_answer_and_free_reasons_stay_out_of_the_audit_log(app, client, editor):
    question = item_by_code(app, code_of(ask(client)))
    rejected = item_by_code(app, code_of(voice(client)))
    changed = item_by_code(app, code_of(voice(client)))
    preset = item_by_code(app, code_of(voice(client)))
    bulk = item_by_code(app, code_of(voice(client)))
    assert act(editor, question, "answer", text=ANSWER).status_code == 303
    assert act(editor, rejected, "reject", text=REASON).status_code == 303
    assert act(editor, changed, "request_changes", text=CHANGES).status_code == 303
    assert act(editor, preset, "reject", preset="内容与已发表文章重复").status_code == 303
    assert editor.post("/app/editor/bulk", data={
        "action": "reject", "reason": "作者王五的电话是13987654321",
        "item": [f"{bulk.id}:{bulk.version}"]}).status_code == 303
    # The member still gets the text: it is on the item, only not in the log.
    assert item_by_code(app, question.code).answer == ANSWER
    assert item_by_code(app, rejected.code).reason == REASON
    details = {(r[4], r[5]): r[8] for r in rows(app) if r[4] not in ("submit", "login")}
    assert details == {("answer", question.id): None, ("reject", rejected.id): None,
                       ("request_changes", changed.id): None,
                       ("reject", preset.id): "内容与已发表文章重复", ("reject", bulk.id): None}
    logged = repr(rows(app))
    for fragment in ("13812345678", "13987654321", "张三", "李四", "王五", "幸福路"):
        assert fragment not in logged


# -- members by pseudonym ----------------------------------------------------------------

def study(client, reflection="身在外地，组织就在身边。"):
    return client.post("/app/study", data={
        "day": date.today().isoformat(), "lesson": "courses/party-spirit/identity",
        "minutes": "30", "mode": "网上学", "reflection": reflection})


def test_member_actions_are_recorded_under_a_pseudonym(app, client, editor):
    add_user(app, "帮学人")
    assert client.post("/app/register", data={"username": "老王", "password": PASSWORD,
                                              "confirm": PASSWORD}).status_code == 303
    client.post("/app/logout")
    assert login(client, "老王").status_code == 303
    assert study(client).status_code == 303
    assert client.get("/app/me/export").get_json()["username"] == "老王"
    assert client.post("/app/password", data={"current": PASSWORD, "password": "新的密码是一句长话",
                                              "confirm": "新的密码是一句长话"}).status_code == 303
    wang_id, helper_id = user_id(app, "老王"), user_id(app, "帮学人")
    with app.app_context():
        s = db.session()
        s.get(User, wang_id).buddy_id = helper_id
        log_id = s.scalar(select(func.max(StudyLog.id)))
        s.commit()
    buddy = app.test_client()
    login(buddy, "帮学人")
    assert buddy.post(f"/app/buddy/{log_id}/confirm").status_code == 303
    wang, helper = f"member:{wang_id}", f"member:{helper_id}"
    actions = [(r[2], r[4]) for r in rows(app)]
    assert actions == [("编辑甲", "login"), (wang, "logout"), (wang, "login"),
                       (wang, "export"), (wang, "password"), (helper, "login"),
                       (helper, "confirm_study")]
    assert client.post("/app/me/delete", data={"confirm": "yes"}).status_code == 303
    assert [(r[2], r[4], r[8]) for r in rows(app)][-1] == (wang, "erase", "account deleted")
    assert "老王" not in repr(rows(app)) and "帮学人" not in repr(rows(app))


def test_an_editor_confirming_keeps_their_name(app, editor):
    add_user(app, "老王")
    member = app.test_client()
    login(member, "老王")
    study(member)
    with app.app_context():
        log_id = db.session().scalar(select(func.max(StudyLog.id)))
    assert editor.post(f"/app/buddy/{log_id}/confirm").status_code == 303
    assert ("编辑甲", "confirm_study") in [(r[2], r[4]) for r in rows(app)]


def test_the_audit_page_shows_readable_labels(app, client, admin):
    add_user(app, "老王")
    member = app.test_client()
    login(member, "老王")
    code_of(ask(client))
    login(client, "没有这个人", "不对的密码不对的密码")
    page = admin.get("/app/editor/audit").get_data(as_text=True)
    assert "<td>老王</td>" in page and "<td>管理员</td>" in page
    assert "<td>投稿人（凭查询码）</td>" in page and "<td>未登录的访客</td>" in page
    assert "member:" not in page
    wang = user_id(app, "老王")
    assert member.post("/app/me/delete", data={"confirm": "yes"}).status_code == 303
    page = admin.get("/app/editor/audit").get_data(as_text=True)
    assert "老王" not in page
    assert page.count(f"<td>已删除的成员（编号 {wang}）</td>") == 2  # the login, the erase


def test_a_new_account_on_a_deleted_members_id_is_not_shown_as_the_actor(app, admin):
    """SQLite hands the highest id out again once its row is gone."""
    add_user(app, "老王")
    member = app.test_client()
    login(member, "老王")
    member.post("/app/me/delete", data={"confirm": "yes"})
    add_user(app, "小李")
    newcomer = app.test_client()
    login(newcomer, "小李")
    page = admin.get("/app/editor/audit").get_data(as_text=True)
    assert page.count("<td>小李</td>") == 1  # only the newcomer's own login
    assert page.count("<td>已删除的成员（编号") == 2


# -- migration 0002 on rows written before it --------------------------------------------

def test_migration_pseudonymises_and_removes_text_from_old_rows(tmp_path, database_url):
    if database_url.startswith("sqlite"):
        (tmp_path / "instance").mkdir(parents=True, exist_ok=True)
    migrate.upgrade(database_url, "0001")
    engine = db.make_engine(database_url)
    at = "2026-11-20 08:00:00"
    try:
        with engine.begin() as conn:
            for ident, name, role in [(1, "老王", "member"), (2, "编辑甲", "editor"),
                                      (3, "member", "member")]:
                conn.execute(text(
                    "INSERT INTO users (id, username, password_hash, role, active, "
                    "session_version, created_at) VALUES (:i, :n, 'x', :r, true, 1, :at)"),
                    {"i": ident, "n": name, "r": role, "at": "2026-11-01 00:00:00"})
            conn.execute(text(
                "INSERT INTO submissions (id, kind, code, state, version, created_at, "
                "updated_at, due_at, calendar_uncertain, body, allow_publish, consent) "
                "VALUES (1, 'voice', 'C1', 'rejected', 2, :at, :at, :at, false, 'b', "
                "false, false)"), {"at": at})
            for actor, action, detail in [
                    ("老王", "login", None), ("老王", "export", "own data"),
                    ("编辑甲", "login", None), ("编辑甲", "answer", ANSWER),
                    ("编辑甲", "reject", REASON), ("编辑甲", "request_changes", CHANGES),
                    ("编辑甲", "reject", "内容与已发表文章重复"),
                    ("编辑甲", "publish", "content/voices/x.yaml"),
                    ("member", "submit", None), ("anonymous", "login_failed", None),
                    ("已删除的某人", "login", None)]:
                conn.execute(text(
                    "INSERT INTO audit_log (at, actor, action, submission_id, detail) "
                    "VALUES (:at, :actor, :action, 1, :detail)"),
                    {"at": at, "actor": actor, "action": action, "detail": detail})
        migrate.upgrade(database_url, "0002")
        assert migrate.current(database_url) == "0002"
        with engine.connect() as conn:
            got = conn.execute(text("SELECT actor, action, detail FROM audit_log ORDER BY id")
                               ).all()
        assert [tuple(r) for r in got] == [
            ("member:1", "login", None), ("member:1", "export", "own data"),
            ("编辑甲", "login", None), ("编辑甲", "answer", None), ("编辑甲", "reject", None),
            ("编辑甲", "request_changes", None), ("编辑甲", "reject", "内容与已发表文章重复"),
            ("编辑甲", "publish", "content/voices/x.yaml"),
            ("member", "submit", None), ("anonymous", "login_failed", None),
            ("已删除的某人", "login", None)]
        # The triggers are back after the one-time rewrite, and the new ones are there.
        with engine.connect() as conn:
            for statement in ("UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log",
                              "TRUNCATE audit_log" if engine.dialect.name != "sqlite"
                              else "REPLACE INTO audit_log (id, at, actor, action) "
                                   "VALUES (1, '2026-01-01', 'x', 'forged')"):
                with pytest.raises(Exception, match="append-only"):
                    conn.execute(text(statement))
                conn.rollback()
    finally:
        engine.dispose()


def triggers(url: str) -> set[str]:
    engine = db.make_engine(url)
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                query = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
            else:
                query = ("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal "
                         "AND tgrelid = 'audit_log'::regclass")
            return set(conn.execute(text(query)).scalars())
    finally:
        engine.dispose()


def test_migration_downgrades_and_upgrades_again(tmp_path, database_url):
    if database_url.startswith("sqlite"):
        (tmp_path / "instance").mkdir(parents=True, exist_ok=True)
        old = {"audit_log_no_update", "audit_log_no_delete"}
        new = old | {"audit_log_no_replace"}
    else:
        old = {"audit_log_no_change"}
        new = old | {"audit_log_no_truncate"}
    migrate.upgrade(database_url, "0002")
    assert triggers(database_url) == new
    command.downgrade(migrate.alembic_config(database_url), "0001")
    assert migrate.current(database_url) == "0001" and triggers(database_url) == old
    migrate.upgrade(database_url, "0002")
    assert migrate.current(database_url) == "0002" and triggers(database_url) == new
    # Later revisions keep them (a batch rebuild of audit_log would drop them silently).
    migrate.upgrade(database_url)
    assert triggers(database_url) == new
