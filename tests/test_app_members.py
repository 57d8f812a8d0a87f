"""Member accounts, sessions, study logs, 我的学习, study buddies and access rules."""

from __future__ import annotations

import re
from datetime import date

import pytest
from conftest import add_user, login, make_app

PASSWORD = "长江黄河都是好风景"


def register(client, username="老王", password=PASSWORD, confirm=None, **extra):
    return client.post("/app/register", data={"username": username, "password": password,
                                              "confirm": confirm or password, **extra})


def study(client, **fields):
    data = {"day": date.today().isoformat(), "lesson": "courses/party-spirit/identity",
            "minutes": "30", "mode": "网上学", "reflection": "身在外地，组织就在身边。",
            **fields}
    return client.post("/app/study", data=data)


def test_register_study_and_my_study(app, client):
    response = register(client)
    # First the recovery code, shown once (tests/test_recovery.py), then on to the study log.
    assert response.status_code == 303
    assert response.headers["Location"] == "/app/recovery-code?next=/app/study"
    form = client.get("/app/study?lesson=courses/party-spirit/identity").get_data(as_text=True)
    # The lesson link fills it in.
    assert 'value="courses/party-spirit/identity" checked>' in form
    assert study(client).status_code == 303
    assert study(client, lesson="", topic="支部集中学习党章第三章", minutes="45",
                 mode="集中学").status_code == 303
    mine = client.get("/app/me").get_data(as_text=True)
    assert 'id="month-minutes">75<' in mine
    assert "支部集中学习党章第三章" in mine and "待确认" in mine
    assert "身在外地，组织就在身边。" in mine


@pytest.mark.parametrize("fields,message", [
    ({"minutes": "0"}, "学习时长应为 1 到 600 分钟。"),
    ({"minutes": "abc"}, "学习时长应为 1 到 600 分钟。"),
    ({"mode": "躺着学"}, "不是有效的选择。"),
    ({"lesson": "", "topic": ""}, "请选择一门课程，或在下面填写线下学习的内容。"),
    ({"lesson": "courses/none/none"}, "没有这门课程，请从列表中选择。"),
    ({"day": "2999-01-01"}, "学习日期不能晚于今天。"),
])
def test_study_log_errors(app, client, fields, message):
    register(client)
    response = study(client, **fields)
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert message in text and "身在外地，组织就在身边。" in text


def test_study_requires_login(client):
    response = client.get("/app/study")
    assert response.status_code == 302 and "/app/login?next=%2Fapp%2Fstudy" in response.location


@pytest.mark.parametrize("password,message", [
    ("short", "密码至少 8 个字符"),
    ("12345678", "这个密码太常见"),
    ("老王老王老王老王", "这个密码太常见"),
])
def test_weak_passwords_are_refused(app, client, password, message):
    response = register(client, password=password)
    assert response.status_code == 400 and message in response.get_data(as_text=True)


def test_long_chinese_passphrase_and_password_hash(app, client):
    passphrase = "我在深圳打工也要按时交党费" * 5
    assert register(client, password=passphrase).status_code == 303
    from sqlalchemy import select

    from forms_app import db
    from forms_app.models import User

    with app.app_context():
        stored = db.session().scalar(select(User.password_hash))
    assert stored.startswith("scrypt:") and passphrase not in stored


def test_same_message_for_unknown_user_and_wrong_password(app, client):
    add_user(app, "老张")
    wrong = login(client, "老张", "不对的密码不对的密码").get_data(as_text=True)
    unknown = login(client, "没有这个人", "不对的密码不对的密码").get_data(as_text=True)
    assert "用户名或密码不正确。" in wrong and "用户名或密码不正确。" in unknown


def test_the_sites_login_link_sends_a_signed_in_member_on(app, client):
    add_user(app, "老张")
    login(client, "老张")
    response = client.get("/app/login")
    assert response.status_code == 303 and response.headers["Location"] == "/app/me"
    page = client.get("/app/me").get_data(as_text=True)
    assert "您已经登录（用户名：老张）。" in page
    onward = client.get("/app/login?next=/app/orglife")
    assert onward.headers["Location"] == "/app/orglife"


def test_logout_makes_the_old_cookie_useless(app, client):
    add_user(app, "老张")
    login(client, "老张")
    cookie = client.get_cookie("dx_session", path="/app").value
    assert client.get("/app/me").status_code == 200
    client.post("/app/logout")
    replay = app.test_client()
    replay.set_cookie("dx_session", cookie, path="/app")
    assert replay.get("/app/me").status_code == 302  # back to the login page


def test_password_change_ends_other_sessions(app):
    add_user(app, "老张")
    phone, laptop = app.test_client(), app.test_client()
    login(phone, "老张")
    login(laptop, "老张")
    response = phone.post("/app/password", data={"current": PASSWORD,
                                                 "password": "新的密码是一句长话",
                                                 "confirm": "新的密码是一句长话"})
    assert response.status_code == 303
    assert phone.get("/app/me").status_code == 200
    assert laptop.get("/app/me").status_code == 302


def test_session_cookie_flags_and_no_personal_data(app, client):
    add_user(app, "老张")
    response = login(client, "老张")
    header = response.headers["Set-Cookie"]
    assert "HttpOnly" in header and "SameSite=Lax" in header and "Path=/app" in header
    from flask.sessions import SecureCookieSessionInterface

    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    data = serializer.loads(client.get_cookie("dx_session", path="/app").value)
    assert set(data) <= {"_user_id", "_fresh", "_id", "login_at", "seen", "csrf_token",
                         "_flashes"}
    assert "老张" not in str(data)


@pytest.mark.parametrize("target,expected", [
    ("/app/study", "/app/study"),
    ("//evil.example/x", "/app/me"),
    ("https://evil.example/", "/app/me"),
    ("/\\evil.example", "/app/me"),
    ("javascript:alert(1)", "/app/me"),
])
def test_next_redirects_only_to_local_paths(app, client, target, expected):
    add_user(app, "老张")
    response = client.post("/app/login", data={"username": "老张", "password": PASSWORD,
                                               "next": target})
    assert response.headers["Location"] == expected


def test_login_failures_are_rate_limited(tmp_path, sqlite_url):
    app = make_app(tmp_path, sqlite_url, LOGIN_LIMIT="3 per minute")
    client = app.test_client()
    codes = [login(client, "nobody", "不对的密码不对的密码").status_code for _ in range(4)]
    assert codes == [400, 400, 400, 429]


def test_buddy_sees_and_confirms_only_own_pairs(app):
    add_user(app, "帮学人")
    add_user(app, "甲", buddy="帮学人")
    add_user(app, "乙")
    a, b, buddy = app.test_client(), app.test_client(), app.test_client()
    login(a, "甲")
    study(a, reflection="甲的心得")
    login(b, "乙")
    study(b, reflection="乙的心得")
    login(buddy, "帮学人")
    page = buddy.get("/app/buddy").get_data(as_text=True)
    assert "甲的心得" in page and "乙的心得" not in page
    # The tab's title is words, not the page's markup.
    assert re.search(r"<title>([^<]*)</title>", page)[1].startswith("结对帮学")
    from sqlalchemy import select

    from forms_app import db
    from forms_app.models import StudyLog

    with app.app_context():
        logs = {log.reflection: log.id for log in db.session().scalars(select(StudyLog))}
    assert buddy.post(f"/app/buddy/{logs['乙的心得']}/confirm").status_code == 404
    assert buddy.post(f"/app/buddy/{logs['甲的心得']}/confirm").status_code == 303
    assert "已确认" in a.get("/app/me").get_data(as_text=True)
    assert "待确认" in b.get("/app/me").get_data(as_text=True)
    # One member never confirms their own or another's log.
    assert b.post(f"/app/buddy/{logs['乙的心得']}/confirm").status_code == 404


ROLE_ROUTES = [
    ("get", "/app/editor/"), ("get", "/app/editor/item/1"), ("post", "/app/editor/bulk"),
    ("get", "/app/editor/study"), ("get", "/app/editor/people"),
    ("post", "/app/editor/publish"), ("get", "/app/editor/audit"),
    ("get", "/app/editor/risk"), ("get", "/app/editor/orglife"),
    ("get", "/app/editor/charts"), ("get", "/app/editor/ledger.xlsx"),
    ("get", "/app/editor/search"),
]


def test_every_editor_route_is_in_the_role_table(app):
    """A new editor page cannot be forgotten here: every /app/editor/ rule of the app, its
    parameters as 1, is checked by test_role_by_route below (or is a POST of a page that
    is)."""
    covered = {url for _, url in ROLE_ROUTES}
    missing = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/app/editor"):
            continue
        url = re.sub(r"<(?:[^:>]+:)?[^>]+>", "1", rule.rule)
        if url not in covered and not any(url.startswith(c.rstrip("/") + "/")
                                          for c in covered if c != "/app/editor/"):
            missing.append(rule.rule)
    assert missing == [], missing


@pytest.mark.parametrize("method,url", ROLE_ROUTES)
def test_role_by_route(app, method, url):
    add_user(app, "党员")
    add_user(app, "编辑", role="editor")
    add_user(app, "管理员", role="admin")
    anonymous, member, editor, admin = (app.test_client() for _ in range(4))
    login(member, "党员")
    login(editor, "编辑")
    login(admin, "管理员")
    assert getattr(anonymous, method)(url).status_code == 302  # to the login page
    assert getattr(member, method)(url).status_code == 403
    editor_status = getattr(editor, method)(url).status_code
    admin_status = getattr(admin, method)(url).status_code
    if url == "/app/editor/audit":
        assert (editor_status, admin_status) == (403, 200)
    else:
        assert editor_status not in (302, 403) and admin_status not in (302, 403)


def test_member_exports_and_deletes_own_data(app, client):
    register(client)
    study(client)
    exported = client.get("/app/me/export").get_json()
    assert exported["username"] == "老王" and exported["study_logs"][0]["minutes"] == 30
    # It asks first, and nothing is deleted until the member confirms.
    first = client.post("/app/me/delete")
    assert first.status_code == 200 and "不能恢复" in first.get_data(as_text=True)
    assert client.get("/app/me").status_code == 200  # still signed in, still there
    assert client.post("/app/me/delete", data={"confirm": "yes"}).status_code == 303
    from sqlalchemy import func, select

    from forms_app import db
    from forms_app.models import StudyLog, User

    with app.app_context():
        s = db.session()
        assert s.scalar(select(func.count()).select_from(User)) == 0
        assert s.scalar(select(func.count()).select_from(StudyLog)) == 0


def test_idle_editor_must_log_in_again(tmp_path, sqlite_url):
    app = make_app(tmp_path, sqlite_url, EDITOR_IDLE_MINUTES=0)
    add_user(app, "编辑", role="editor")
    add_user(app, "党员")
    editor, member = app.test_client(), app.test_client()
    login(editor, "编辑")
    login(member, "党员")
    assert editor.get("/app/editor/").status_code == 302  # idle longer than 0 minutes
    assert member.get("/app/me").status_code == 200  # members have no idle limit


def test_disabled_account_loses_its_sessions(app, client):
    add_user(app, "老张")
    login(client, "老张")
    from sqlalchemy import update

    from forms_app import db
    from forms_app.models import User

    with app.app_context():
        db.session().execute(update(User).values(active=False))
        db.session().commit()
    assert client.get("/app/me").status_code == 302


def test_purge_erases_old_personal_data_only(app, client):
    from datetime import timedelta

    from conftest import ask, code_of, item_by_code
    from sqlalchemy import update

    from forms_app import db
    from forms_app.models import Submission, utcnow
    from forms_app.personal import purge_expired

    old, recent = code_of(ask(client)), code_of(ask(client))
    with app.app_context():
        s = db.session()
        s.execute(update(Submission).where(Submission.code == old).values(
            state="archived", updated_at=utcnow() - timedelta(days=400)))
        s.execute(update(Submission).where(Submission.code == recent).values(state="archived"))
        s.commit()
        assert purge_expired(s, 365) == 1
        s.commit()
    assert item_by_code(app, old).contact is None
    assert item_by_code(app, recent).contact == "13812345678"
