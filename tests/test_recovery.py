"""Account recovery without phone or e-mail (forms_app/recovery.py): the recovery code shown
once, one-time reset codes from the study buddy or an editor, and /app/recover."""

from __future__ import annotations

import re
from datetime import timedelta

from conftest import PHONE, add_user, login, make_app
from sqlalchemy import select, update
from tour_support import Person

from forms_app import db
from forms_app.models import AuditEntry, ResetCode, User, utcnow
from forms_app.recovery import FAILED

PASSWORD = "长江黄河都是好风景"
NEW = "山高水长总有归期"


def register(client, username="老王"):
    return client.post("/app/register", data={"username": username, "password": PASSWORD,
                                              "confirm": PASSWORD})


def shown_code(page: str) -> str | None:
    """The code on a page as a member reads it (groups of four with dashes), or None."""
    found = re.search(r'<p class="code"[^>]*>(.*?)</p>', page, re.S)
    return re.sub(r"<[^>]+>", "", found[1]) if found else None


def recover(client, code, username="老王", password=NEW, confirm=None):
    return client.post("/app/recover", data={"username": username, "code": code,
                                             "password": password,
                                             "confirm": confirm or password})


def account(app, username="老王") -> User:
    with app.app_context():
        return db.session().scalar(select(User).where(User.username == username))


def issue(client, member_id: int, next_url="/app/buddy"):
    """Make a reset code as the signed-in client; returns (POST response, code or None)."""
    response = client.post(f"/app/reset-code/{member_id}", data={"next": next_url})
    if response.status_code != 303:
        return response, None
    return response, shown_code(client.get(response.headers["Location"]).get_data(as_text=True))


def registered(app, client) -> str:
    """Register 老王 and read the recovery code from the page after it."""
    response = register(client)
    assert response.status_code == 303
    assert response.headers["Location"] == "/app/recovery-code?next=/app/study"
    code = shown_code(client.get(response.headers["Location"]).get_data(as_text=True))
    assert code and re.fullmatch(r"[2-9A-Z]{4}(-[2-9A-Z]{4}){3}", code)
    return code


def test_registration_shows_the_code_once(app, client):
    response = register(client)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    code = shown_code(page)
    assert "忘记密码时，用它自己重设密码。请抄在纸上或存进手机备忘录，不要告诉别人；本站只显示这一次。" in page
    assert 'href="/app/study"' in page and "我已记下，继续" in page
    # Only a hash is stored, and the session cookie never holds the code.
    stored = account(app).recovery_hash
    assert stored and code.replace("-", "") not in stored
    from flask.sessions import SecureCookieSessionInterface

    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    cookie = serializer.loads(client.get_cookie("dx_session", path="/app").value)
    assert code.replace("-", "") not in str(cookie) and code not in str(cookie)
    # A reload shows it no more.
    again = client.get("/app/recovery-code").get_data(as_text=True)
    assert shown_code(again) is None and "已经显示过" in again
    assert client.get("/app/recovery-code").status_code == 200


def test_recovery_code_resets_the_password_once_and_ends_old_sessions(app, client):
    code = registered(app, client)
    client.post("/app/logout")
    laptop = app.test_client()
    assert login(laptop, "老王").status_code == 303
    assert laptop.get("/app/me").status_code == 200
    # Typed in lower case, with spaces instead of dashes, on a full-width keyboard: all fine.
    typed = " ".join(code.lower().split("-"))
    typed = typed[:5] + typed[5:].translate({ord(c): ord(c) + 0xFEE0 for c in "abcdef"})
    response = recover(client, typed)
    assert response.status_code == 303
    assert response.headers["Location"] == "/app/recovery-code?next=/app/me"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "密码已重设" in page
    new_code = shown_code(page)
    assert new_code and new_code != code
    assert client.get("/app/me").status_code == 200  # signed in
    assert laptop.get("/app/me").status_code == 302  # the old session has ended
    assert login(app.test_client(), "老王").status_code == 400  # the old password
    assert login(app.test_client(), "老王", NEW).status_code == 303
    # The old code is spent: a second use fails, and changes nothing.
    before = account(app)
    other = app.test_client()
    response = recover(other, code, password="又一个新的密码口令")
    assert response.status_code == 400 and FAILED in response.get_data(as_text=True)
    after = account(app)
    assert (after.password_hash, after.session_version, after.recovery_hash) == (
        before.password_hash, before.session_version, before.recovery_hash)
    assert recover(other, new_code, password="又一个新的密码口令").status_code == 303


def test_wrong_code_and_unknown_user_get_one_message_and_change_nothing(app, client):
    code = registered(app, client)
    before = account(app)
    wrong = recover(app.test_client(), "ABCD-EFGH-JKMN-PQRS")
    unknown = recover(app.test_client(), code, username="没有这个人")
    garbled = recover(app.test_client(), "不是恢复码")
    for response in (wrong, unknown, garbled):
        assert response.status_code == 400
        text = response.get_data(as_text=True)
        assert FAILED in text and "没有这个人" not in text.split("<form", 1)[0]
    # Under the field and in the summary at the top; the same for every kind of failure.
    assert [r.get_data(as_text=True).count(FAILED) for r in (wrong, unknown, garbled)] == [2] * 3
    after = account(app)
    assert (after.password_hash, after.session_version, after.recovery_hash) == (
        before.password_hash, before.session_version, before.recovery_hash)
    # The password rules are the registration's; a refused password spends no code.
    weak = recover(app.test_client(), code, password="12345678")
    assert weak.status_code == 400 and "这个密码太常见" in weak.get_data(as_text=True)
    mismatch = recover(app.test_client(), code, confirm="另一个不一样的密码")
    assert "两次输入的密码不一致。" in mismatch.get_data(as_text=True)
    assert account(app).recovery_hash == before.recovery_hash
    assert recover(app.test_client(), code).status_code == 303


def test_a_disabled_account_cannot_be_recovered(app, client):
    code = registered(app, client)
    with app.app_context():
        s = db.session()
        s.execute(update(User).where(User.username == "老王").values(active=False))
        s.commit()
    response = recover(app.test_client(), code)
    assert response.status_code == 400 and FAILED in response.get_data(as_text=True)


def test_buddy_reset_code_works_once_and_a_newer_voids_the_older(app):
    add_user(app, "帮学人")
    member_id = add_user(app, "老王", buddy="帮学人")
    buddy = app.test_client()
    login(buddy, "帮学人")
    page = buddy.get("/app/buddy").get_data(as_text=True)
    assert f'action="/app/reset-code/{member_id}"' in page and "生成重设密码码" in page
    response, first = issue(buddy, member_id)
    assert response.headers["Location"].startswith("/app/reset-code?next=")
    assert first and re.fullmatch(r"[2-9A-Z]{4}(-[2-9A-Z]{4}){3}", first)
    # Shown once to the issuer: a reload says so.
    assert shown_code(buddy.get("/app/reset-code").get_data(as_text=True)) is None
    _, second = issue(buddy, member_id)
    assert second != first
    phone = app.test_client()
    login(phone, "老王")
    assert recover(app.test_client(), first).status_code == 400  # voided by the newer one
    member = app.test_client()
    response = recover(member, second)
    assert response.status_code == 303
    assert member.get("/app/me").status_code == 200
    assert phone.get("/app/me").status_code == 302
    assert recover(app.test_client(), second, password="又一个新的密码口令").status_code == 400
    with app.app_context():
        rows = db.session().scalars(select(ResetCode).order_by(ResetCode.id)).all()
        assert [r.used_at is not None for r in rows] == [False, True]


def test_the_member_is_told_of_every_reset_code_made_for_them(app):
    """A buddy could make a code and use it: the member sees it on 我的 for a week."""
    add_user(app, "帮学人")
    member_id = add_user(app, "老王", buddy="帮学人")
    member = app.test_client()
    login(member, "老王")
    assert "重设密码码" not in member.get("/app/me").get_data(as_text=True)
    buddy = app.test_client()
    login(buddy, "帮学人")
    issue(buddy, member_id)
    page = member.get("/app/me").get_data(as_text=True)
    notice = re.search(r'<p class="flash error" role="alert" id="reset-notice-\d+">(.*?)</p>',
                       page).group(1)
    assert notice.startswith("帮学联系人 帮学人 于 ") and "（24 小时内有效）" in notice
    assert "如果不是您请他生成的，请马上修改密码并告诉支部。" in notice
    with app.app_context():
        s = db.session()
        s.execute(update(ResetCode).values(created_at=ResetCode.created_at - timedelta(days=8)))
        s.commit()
    assert "重设密码码" not in member.get("/app/me").get_data(as_text=True)


def test_a_reset_code_expires_after_24_hours(app):
    add_user(app, "帮学人")
    member_id = add_user(app, "老王", buddy="帮学人")
    buddy = app.test_client()
    login(buddy, "帮学人")
    _, code = issue(buddy, member_id)
    with app.app_context():
        s = db.session()
        row = s.scalar(select(ResetCode))
        assert timedelta(hours=23, minutes=59) < row.expires_at - row.created_at <= timedelta(
            hours=24)
        # A day later: the clock is moved by moving the code's expiry into the past.
        s.execute(update(ResetCode).values(expires_at=utcnow() - timedelta(seconds=1)))
        s.commit()
    response = recover(app.test_client(), code)
    assert response.status_code == 400 and FAILED in response.get_data(as_text=True)
    assert login(app.test_client(), "老王").status_code == 303  # the password is unchanged


def test_who_may_issue_reset_codes(app, editor):
    add_user(app, "帮学人")
    add_user(app, "另一个帮学人")
    member_id = add_user(app, "老王", buddy="帮学人")
    add_user(app, "老李", buddy="另一个帮学人")
    editor_id = add_user(app, "编辑乙", role="editor")
    admin_id = add_user(app, "管理员", role="admin")
    other, plain = app.test_client(), app.test_client()
    login(other, "另一个帮学人")
    login(plain, "老李")
    assert other.post(f"/app/reset-code/{member_id}").status_code == 404  # not their pair
    assert plain.post(f"/app/reset-code/{member_id}").status_code == 404  # a member
    assert plain.post("/app/reset-code/99999").status_code == 404
    assert app.test_client().post(f"/app/reset-code/{member_id}").status_code == 302  # login
    # Editors issue for members, from the people page; for editors only an admin does.
    people = editor.get("/app/editor/people").get_data(as_text=True)
    assert f'action="/app/reset-code/{member_id}"' in people
    response, code = issue(editor, member_id, "/app/editor/people")
    assert code and "老王" in editor.get("/app/editor/people").get_data(as_text=True)
    assert editor.post(f"/app/reset-code/{editor_id}").status_code == 403
    assert editor.post(f"/app/reset-code/{admin_id}").status_code == 403
    admin = app.test_client()
    login(admin, "管理员")
    assert issue(admin, editor_id)[1]
    assert admin.post(f"/app/reset-code/{admin_id}").status_code == 403  # not for oneself
    editor_a = account(app, "编辑甲").id
    with app.app_context():
        assert db.session().scalar(select(ResetCode).where(
            ResetCode.user_id == member_id)).issued_by_id == editor_a
    assert recover(app.test_client(), code).status_code == 303


def test_regenerating_needs_the_password_and_voids_the_old_code(app, client):
    old = registered(app, client)
    page = client.get("/app/me").get_data(as_text=True)
    assert 'href="/app/me/recovery-code"' in page and "重新生成恢复码" in page
    wrong = client.post("/app/me/recovery-code", data={"current": "不对的密码不对的密码"})
    assert wrong.status_code == 400 and "当前密码不正确。" in wrong.get_data(as_text=True)
    assert client.get("/app/recovery-code").status_code == 200
    response = client.post("/app/me/recovery-code", data={"current": PASSWORD})
    assert response.status_code == 303
    new = shown_code(client.get(response.headers["Location"]).get_data(as_text=True))
    assert new and new != old
    assert recover(app.test_client(), old).status_code == 400
    assert recover(app.test_client(), new).status_code == 303


def test_audit_log_records_who_for_whom_never_the_code(app, client):
    add_user(app, "帮学人")
    code = registered(app, client)
    member_id = account(app).id
    with app.app_context():
        s = db.session()
        s.execute(update(User).where(User.id == member_id).values(
            buddy_id=account(app, "帮学人").id))
        s.commit()
    client.post("/app/me/recovery-code", data={"current": PASSWORD})
    page = client.get("/app/recovery-code").get_data(as_text=True)
    codes = [code, shown_code(page)]
    buddy = app.test_client()
    login(buddy, "帮学人")
    codes.append(issue(buddy, member_id)[1])
    recover(app.test_client(), "ABCD-EFGH-JKMN-PQRS")
    member = app.test_client()
    recover(member, codes[-1])
    codes.append(shown_code(member.get("/app/recovery-code").get_data(as_text=True)))
    with app.app_context():
        entries = db.session().scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    rows = [(e.actor, e.action, e.detail) for e in entries]
    buddy_id = account(app, "帮学人").id
    assert (f"member:{member_id}", "recovery_code", None) in rows
    assert (f"member:{buddy_id}", "reset_code", f"for member:{member_id}") in rows
    assert ("anonymous", "password_reset_failed", None) in rows
    assert (f"member:{member_id}", "password_reset",
            f"reset code from member:{buddy_id}") in rows
    logged = " ".join(str(e.detail) + e.actor for e in entries)
    for shown in filter(None, codes):
        assert shown not in logged and shown.replace("-", "") not in logged


def test_guessing_codes_is_rate_limited(tmp_path, sqlite_url):
    app = make_app(tmp_path, sqlite_url, LOGIN_LIMIT="3 per minute")
    try:
        client = app.test_client()
        codes = [recover(client, "ABCD-EFGH-JKMN-PQRS").status_code for _ in range(4)]
        assert codes == [400, 400, 400, 429]
        assert client.get("/app/recover").status_code == 200  # only sending is limited
    finally:
        db.close(app)


def test_recovery_forms_need_a_csrf_token(tmp_path, sqlite_url):
    app = make_app(tmp_path, sqlite_url, WTF_CSRF_ENABLED=True)
    try:
        add_user(app, "帮学人")
        member_id = add_user(app, "老王", buddy="帮学人")
        buddy = app.test_client()
        page = buddy.get("/app/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)[1]
        buddy.post("/app/login", data={"username": "帮学人", "password": PASSWORD,
                                       "csrf_token": token})
        assert buddy.get("/app/me").status_code == 200
        assert buddy.post(f"/app/reset-code/{member_id}").status_code == 400
        assert buddy.post("/app/me/recovery-code", data={"current": PASSWORD}).status_code == 400
        assert recover(app.test_client(), "ABCD-EFGH-JKMN-PQRS").status_code == 400
        with app.app_context():
            assert db.session().scalar(select(ResetCode)) is None
    finally:
        db.close(app)


# -- in Chromium, on a 360-px phone -------------------------------------------------------
def test_member_registers_forgets_and_recovers_on_a_phone(live, browser, tmp_path):
    app, base = live
    context = browser.new_context(**PHONE)
    try:
        page = context.new_page()
        member = Person(page, base)
        page.goto(base + "/app/register")  # the one address opened by URL
        member.look()
        page.get_by_label("用户名").fill("宁波老李")
        page.get_by_label("密码", exact=True).fill(PASSWORD)
        page.get_by_label("再输入一次密码").fill(PASSWORD)
        member.tap(page.get_by_role("button", name="注册"))
        page.wait_for_url("**/app/recovery-code**")
        code = page.locator("#recovery-code").inner_text().strip()
        assert re.fullmatch(r"[2-9A-Z]{4}(-[2-9A-Z]{4}){3}", code)
        assert "本站只显示这一次" in page.locator("main").inner_text()
        page.screenshot(path=str(tmp_path / "recovery-code.png"), full_page=True)
        member.tap(page.get_by_role("link", name="我已记下，继续"))
        page.wait_for_url("**/app/study")
        member.tap(page.get_by_role("button", name="退出"))
        page.wait_for_url("**/app/login")
        member.tap(page.locator("header").get_by_role("link", name="登录"))
        member.tap(page.get_by_role("link", name="忘记密码？"))
        page.wait_for_url("**/app/recover")
        page.get_by_label("用户名").fill("宁波老李")
        page.get_by_label("恢复码或重设码").fill(code.lower().replace("-", " "))
        page.get_by_label("新密码", exact=True).fill(NEW)
        page.get_by_label("再输入一次新密码").fill(NEW)
        page.screenshot(path=str(tmp_path / "recover.png"), full_page=True)
        member.tap(page.get_by_role("button", name="重设密码"))
        page.wait_for_url("**/app/recovery-code**")
        text = page.locator("main").inner_text()
        assert "密码已重设，您已登录" in text
        assert page.locator("#recovery-code").inner_text().strip() != code
        member.tap(page.get_by_role("link", name="我已记下，继续"))
        page.wait_for_url("**/app/me")
        assert page.get_by_role("heading", name="我的学习").is_visible()
    finally:
        context.close()
