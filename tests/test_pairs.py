"""结对帮学, the study buddy's tools (forms_app/pairs), end to end through the test client on
SQLite and PostgreSQL: contact notes the member reads on 我的, the care card's last contact,
送学上门 logged for the member (代记) and marked so everywhere, 通报 on top of 我的 until
read, the buddy-only rule on every route, double submits, CSRF, hostile input, the
member's data and its deletion, the audit log, and the editors' 断线提醒. Then one phone in
Chromium: from the care list to the member's page to a contact note the member reads."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from conftest import PHONE, add_user, login, make_app
from sqlalchemy import func, select

from forms_app import db
from forms_app.duties.dates import cn_date
from forms_app.forms import beijing_today
from forms_app.models import AuditEntry, BuddyNotice, ContactNote, OrgLife, StudyLog, User

BUDDY, MEMBER = "帮学人", "老王"
OTHER_BUDDY, OTHER_MEMBER = "别的帮学人", "老李"
NOTE = "电话联系，在宁波工作顺利，本月参加了当地支部的主题党日。"
NOTICE = "支部要求本月学习《中国共产党章程》第三章，月底前记录学习。"
HOSTILE = '<script>alert("x")</script><b>粗体</b>'


def uid(app, name: str) -> int:
    with app.app_context():
        return db.session().scalar(select(User.id).where(User.username == name))


def count(app, model, **where) -> int:
    with app.app_context():
        query = select(func.count()).select_from(model)
        for column, value in where.items():
            query = query.where(getattr(model, column) == value)
        return db.session().scalar(query)


def signed_in(app, name: str):
    client = app.test_client()
    assert login(client, name).status_code == 303
    return client


@pytest.fixture
def pair(app):
    """帮学人 paired with 老王; 别的帮学人 with 老李. Returns (buddy client, member id)."""
    add_user(app, BUDDY)
    add_user(app, MEMBER, buddy=BUDDY)
    add_user(app, OTHER_BUDDY)
    add_user(app, OTHER_MEMBER, buddy=OTHER_BUDDY)
    return signed_in(app, BUDDY), uid(app, MEMBER)


def contact_data(**fields) -> dict:
    return {"contact-day": beijing_today().isoformat(), "contact-channel": "phone",
            "contact-note": NOTE, **fields}


def notice_data(**fields) -> dict:
    return {"notice-body": NOTICE, **fields}


def study_data(**fields) -> dict:
    return {"day": beijing_today().isoformat(), "lesson": "", "topic": "上门讲解党章第三章",
            "minutes": "40", **fields}


def text(response) -> str:
    return response.get_data(as_text=True)


def section(page: str, ident: str) -> str:
    match = re.search(rf'<section[^>]*id="{ident}".*?</section>', page, re.S)
    assert match, page[:3000]
    return match.group(0)


def test_buddy_adds_a_contact_note_and_the_member_reads_it_on_mine(app, pair):
    buddy, member_id = pair
    page = buddy.get(f"/app/buddy/{member_id}")
    assert page.status_code == 200
    assert "老王：联系记录与代记" in text(page) and "还没有联系记录。" in text(page)
    response = buddy.post(f"/app/buddy/{member_id}/contact",
                          data=contact_data(**{"contact-channel": "wechat"}))
    assert response.status_code == 303
    assert response.headers["Location"] == f"/app/buddy/{member_id}#contacts"
    after = text(buddy.get(f"/app/buddy/{member_id}"))
    assert NOTE in after and "微信" in section(after, "contacts")
    mine = text(signed_in(app, MEMBER).get("/app/me"))
    contacts = section(mine, "pair-contacts")
    assert "帮学联系人的联系记录" in contacts and NOTE in contacts
    assert f"{beijing_today().isoformat()}</strong> · 微信 · 帮学人" in contacts
    # A member without notes or notices sees no such section.
    assert 'id="pair-contacts"' not in text(signed_in(app, OTHER_MEMBER).get("/app/me"))


def test_care_card_shows_last_contact_and_links_the_member_page(app, pair):
    buddy, member_id = pair
    today = beijing_today()
    card = text(buddy.get("/app/buddy"))
    assert "还没有联系记录。" in card
    for day, channel in ((today - timedelta(days=9), "visit"), (today - timedelta(days=3),
                                                                 "cloud")):
        buddy.post(f"/app/buddy/{member_id}/contact", data=contact_data(**{
            "contact-day": day.isoformat(), "contact-channel": channel}))
    care = section(text(buddy.get("/app/buddy")), "care")
    assert f"最近联系：{cn_date(today - timedelta(days=3))}，云谈话。" in care
    assert f'<a class="button" href="/app/buddy/{member_id}">联系记录与代记</a>' in care


def test_home_study_is_marked_daiji_wherever_the_members_logs_show(app, pair):
    buddy, member_id = pair
    form = text(buddy.get(f"/app/buddy/{member_id}/study"))
    assert "替 老王 代记学习" in form and 'name="mode"' not in form
    assert 'name="reflection"' not in form
    # The way of study is fixed: a forged mode is ignored.
    response = buddy.post(f"/app/buddy/{member_id}/study", data=study_data(mode="网上学"))
    assert response.status_code == 303
    label = "代记（帮学联系人 帮学人 记录）"
    buddy_id = uid(app, BUDDY)
    with app.app_context():
        log = db.session().scalar(select(StudyLog))
        assert (log.user_id, log.mode, log.minutes) == (member_id, "送学上门", 40)
        assert log.logged_by_id == log.confirmed_by_id == buddy_id
        assert log.confirmed_at is not None and log.reflection is None
    assert label in section(text(buddy.get(f"/app/buddy/{member_id}")), "home-study")
    assert label in text(buddy.get("/app/buddy"))
    member = signed_in(app, MEMBER)
    mine = text(member.get("/app/me"))
    assert label in mine and "上门讲解党章第三章" in mine and "已确认" in mine
    assert label in text(member.get("/app/me/data"))
    exported = json.loads(member.get("/app/me/export.json").data)["study_logs"][0]
    assert exported["logged_by_buddy"] is True and exported["logged_by"] == BUDDY
    assert exported["mode"] == "送学上门"


def test_home_study_uses_the_study_forms_checks(app, pair):
    buddy, member_id = pair
    url = f"/app/buddy/{member_id}/study"
    bad = buddy.post(url, data=study_data(minutes="0"))
    assert bad.status_code == 400 and "学习时长应为 1 到 600 分钟。" in text(bad)
    bad = buddy.post(url, data=study_data(topic=""))
    assert bad.status_code == 400 and "请选择一门课程，或在下面填写线下学习的内容。" in text(bad)
    future = (beijing_today() + timedelta(days=1)).isoformat()
    bad = buddy.post(url, data=study_data(day=future))
    assert bad.status_code == 400 and "学习日期不能晚于今天。" in text(bad)
    assert count(app, StudyLog) == 0


def test_notice_on_top_of_mine_until_read_then_listed_below(app, pair):
    buddy, member_id = pair
    assert buddy.post(f"/app/buddy/{member_id}/notice",
                      data=notice_data(**{"notice-body": HOSTILE})).status_code == 303
    member = signed_in(app, MEMBER)
    mine = text(member.get("/app/me"))
    top = section(mine, "pair-notices")
    assert mine.index('id="pair-notices"') < mine.index('id="duties"')  # above 不断线
    # Plain text, never markup.
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;b&gt;粗体&lt;/b&gt;" in top
    assert "<script>alert" not in mine and "<b>粗体" not in mine
    notice_id = int(re.search(r"/app/me/notices/(\d+)/read", top)[1])
    assert "未读" in section(text(buddy.get(f"/app/buddy/{member_id}")), "notices")
    assert member.post(f"/app/me/notices/{notice_id}/read").status_code == 303
    mine = text(member.get("/app/me"))
    assert 'id="pair-notices"' not in mine
    assert "粗体" in section(mine, "pair-contacts") and 'id="read-notices"' in mine
    assert "已读（" in section(text(buddy.get(f"/app/buddy/{member_id}")), "notices")
    # Reading it twice changes nothing.
    assert member.post(f"/app/me/notices/{notice_id}/read").status_code == 303


def test_a_member_cannot_mark_another_members_notice_read(app, pair):
    buddy, member_id = pair
    buddy.post(f"/app/buddy/{member_id}/notice", data=notice_data())
    with app.app_context():
        notice_id = db.session().scalar(select(BuddyNotice.id))
    for name in (OTHER_MEMBER, BUDDY, OTHER_BUDDY):
        assert signed_in(app, name).post(f"/app/me/notices/{notice_id}/read").status_code == 404
    assert signed_in(app, MEMBER).post("/app/me/notices/999999/read").status_code == 404
    assert count(app, BuddyNotice) == 1
    with app.app_context():
        assert db.session().get(BuddyNotice, notice_id).read_at is None


def buddy_routes(app) -> list[tuple[str, str]]:
    """Every route of the app that takes a member's id (GET and POST): any added later is
    checked too."""
    routes = []
    for rule in app.url_map.iter_rules():
        if "member_id" not in rule.arguments:
            continue
        for method in sorted({"GET", "POST"} & (rule.methods or set())):
            routes.append((method, rule.rule))
    return routes


def test_another_buddy_an_editor_and_the_member_get_404_on_every_buddy_route(app, pair):
    buddy, member_id = pair
    add_user(app, "编辑甲", role="editor")
    routes = buddy_routes(app)
    assert {r for _, r in routes} >= {
        "/app/buddy/<int:member_id>", "/app/buddy/<int:member_id>/contact",
        "/app/buddy/<int:member_id>/notice", "/app/buddy/<int:member_id>/study"}
    data = {**contact_data(), **notice_data(), **study_data()}
    others = [signed_in(app, name) for name in (OTHER_BUDDY, "编辑甲", MEMBER)]
    for method, rule in routes:
        url = rule.replace("<int:member_id>", str(member_id))
        for client in others:
            response = client.open(url, method=method, data=data if method == "POST" else None)
            assert response.status_code == 404, (method, url)
        # Nobody's id: the same answer.
        assert buddy.open(rule.replace("<int:member_id>", "999999"), method=method,
                          data=data if method == "POST" else None).status_code == 404
        # The buddy's own pair passes.
        assert buddy.open(url, method=method,
                          data=data if method == "POST" else None).status_code in (200, 303)
    # What the others sent stored nothing: only the buddy's own records are there.
    posts = sum(1 for method, _ in routes if method == "POST")
    assert count(app, ContactNote) + count(app, BuddyNotice) + count(app, StudyLog) == posts
    assert count(app, ContactNote, author_id=uid(app, OTHER_BUDDY)) == 0
    # Signed out: the login page, never the member's page.
    assert app.test_client().get(f"/app/buddy/{member_id}").status_code in (302, 303)


def test_double_submit_stores_one(app, pair):
    buddy, member_id = pair
    for url, data in ((f"/app/buddy/{member_id}/contact", contact_data(**{
            "contact-form_key": "k" * 20})),
                      (f"/app/buddy/{member_id}/notice", notice_data(**{
                          "notice-form_key": "n" * 20})),
                      (f"/app/buddy/{member_id}/study", study_data(form_key="s" * 20))):
        for _ in range(2):
            assert buddy.post(url, data=data).status_code == 303
    assert (count(app, ContactNote), count(app, BuddyNotice), count(app, StudyLog)) == (1, 1, 1)
    # The form pages draw a fresh key each time they are shown.
    page = text(buddy.get(f"/app/buddy/{member_id}"))
    keys = re.findall(r'name="(?:contact|notice)-form_key" type="hidden" value="([^"]+)"', page)
    assert len(keys) == 2 and keys[0] != keys[1]


def test_hostile_input_gets_a_chinese_message_and_stores_nothing(app, pair):
    buddy, member_id = pair
    url = f"/app/buddy/{member_id}"
    cases = [
        ("/contact", contact_data(**{"contact-note": "长" * 501}), "联系情况请控制在 500 字以内。"),
        ("/contact", contact_data(**{"contact-note": " \u3000\u200b "}), "请简要写下联系情况。"),
        ("/contact", contact_data(**{"contact-channel": "fax"}), "联系方式"),
        ("/contact", contact_data(**{"contact-day": "2099-01-01"}), "联系日期不能晚于今天。"),
        ("/contact", contact_data(**{"contact-note": "坏\x00字符"}), "控制字符"),
        ("/notice", notice_data(**{"notice-body": "通" * 1001}), "通报请控制在 1000 字以内。"),
        ("/notice", notice_data(**{"notice-body": ""}), "请填写通报内容。"),
        ("/notice", notice_data(**{"notice-body": "坏\x07字符"}), "控制字符"),
    ]
    for path, data, message in cases:
        response = buddy.post(url + path, data=data)
        assert response.status_code == 400, (path, data)
        assert message in text(response), (path, message)
    assert count(app, ContactNote) == count(app, BuddyNotice) == 0
    # HTML in a note is kept as typed and shown as text on both pages.
    buddy.post(url + "/contact", data=contact_data(**{"contact-note": HOSTILE}))
    for page in (text(buddy.get(url)), text(signed_in(app, MEMBER).get("/app/me"))):
        assert "&lt;script&gt;" in page and "<script>alert" not in page


def test_csrf_less_post_is_refused(tmp_path, database_url):
    app = make_app(tmp_path, database_url, WTF_CSRF_ENABLED=True)
    try:
        add_user(app, BUDDY)
        member_id = add_user(app, MEMBER, buddy=BUDDY)
        client = app.test_client()
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                          text(client.get("/app/login")))[1]
        assert client.post("/app/login", data={"username": BUDDY, "password": "长江黄河都是好风景",
                                               "csrf_token": token}).status_code == 303
        for path, data in (("/contact", contact_data()), ("/notice", notice_data()),
                           ("/study", study_data())):
            response = client.post(f"/app/buddy/{member_id}{path}", data=data)
            assert response.status_code == 400 and "页面已过期或来源不明" in text(response)
        assert count(app, ContactNote) + count(app, BuddyNotice) + count(app, StudyLog) == 0
        page = text(client.get(f"/app/buddy/{member_id}"))
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)[1]
        assert client.post(f"/app/buddy/{member_id}/contact",
                           data={**contact_data(), "csrf_token": token}).status_code == 303
        assert count(app, ContactNote) == 1
    finally:
        db.close(app)


def test_audit_records_each_creation_without_personal_text(app, pair):
    buddy, member_id = pair
    buddy.post(f"/app/buddy/{member_id}/contact", data=contact_data())
    buddy.post(f"/app/buddy/{member_id}/notice", data=notice_data())
    buddy.post(f"/app/buddy/{member_id}/study", data=study_data())
    with app.app_context():
        entries = db.session().scalars(select(AuditEntry).where(AuditEntry.action.in_(
            ("contact_note", "buddy_notice", "home_study")))).all()
    assert sorted(e.action for e in entries) == ["buddy_notice", "contact_note", "home_study"]
    buddy_id = uid(app, BUDDY)
    for entry in entries:
        assert entry.actor == f"member:{buddy_id}"
        assert re.fullmatch(r"[a-z_]+ \d+", entry.detail)
        for private in (NOTE, NOTICE, "上门讲解", MEMBER):
            assert private not in (entry.detail or "")


def test_notes_and_notices_in_the_members_data_and_gone_with_the_account(app, pair):
    buddy, member_id = pair
    buddy.post(f"/app/buddy/{member_id}/contact", data=contact_data())
    buddy.post(f"/app/buddy/{member_id}/notice", data=notice_data())
    member = signed_in(app, MEMBER)
    page = text(member.get("/app/me/data"))
    assert NOTE in page and NOTICE in page and "帮学联系人的通报（1 条）" in page
    data = json.loads(member.get("/app/me/export.json").data)
    assert data["contact_notes"][0]["note"] == NOTE
    assert data["contact_notes"][0]["channel_label"] == "电话"
    assert data["buddy_notices"][0]["body"] == NOTICE
    assert data["buddy_notices"][0]["read_at"] is None
    # The buddy's account deleted: the member keeps the notes, without the buddy's name.
    assert buddy.post("/app/me/delete", data={"confirm": "yes"}).status_code == 303
    assert "（账号已删除）" in text(member.get("/app/me/data"))
    assert member.post("/app/me/delete", data={"confirm": "yes"}).status_code == 303
    assert count(app, ContactNote) == count(app, BuddyNotice) == 0


def test_a_contact_shows_on_the_risk_list_but_does_not_hide_a_member(app, pair):
    buddy, member_id = pair
    editor_id = add_user(app, "编辑甲", role="editor")
    assert editor_id
    today = beijing_today()
    with app.app_context():
        s = db.session()
        s.add(OrgLife(user_id=member_id, day=today - timedelta(days=200),
                      organisation="城关镇第一支部", kind="主题党日"))
        s.commit()
    editor = signed_in(app, "编辑甲")

    def listed() -> dict[str, str]:
        """Each listed member's row: name -> its last cell (the last contact)."""
        page = text(editor.get("/app/editor/risk"))
        table = page.split('aria-label="需要联系的党员"', 1)[-1].split("</table>", 1)[0]
        rows = re.findall(r"<tr><td>(.*?)</td>.*?<td>([^<]*)</td></tr>", table)
        return {name: cell for name, cell in rows if name in (MEMBER, OTHER_MEMBER)}

    assert listed() == {MEMBER: "没有记录", OTHER_MEMBER: "没有记录"}
    old = today - timedelta(days=150)
    buddy.post(f"/app/buddy/{member_id}/contact",
               data=contact_data(**{"contact-day": old.isoformat()}))
    buddy.post(f"/app/buddy/{member_id}/contact",
               data=contact_data(**{"contact-day": (old + timedelta(days=1)).isoformat()}))
    # A call is not organisational life: still listed, with the last contact beside it.
    newest = old + timedelta(days=1)
    assert listed() == {MEMBER: f"{newest.year}年{newest.month}月{newest.day}日",
                        OTHER_MEMBER: "没有记录"}
    other_id = uid(app, OTHER_MEMBER)
    with app.app_context():
        from forms_app.pairs.contacts import last_contacts

        assert last_contacts(db.session(), [member_id, other_id]) == {
            member_id: old + timedelta(days=1)}


def test_the_retention_purge_ages_out_notes_and_read_notices(app, pair):
    from forms_app.models import utcnow
    from forms_app.personal import purge_expired

    _, member_id = pair
    today, now = beijing_today(), utcnow()
    with app.app_context():
        s = db.session()
        s.add_all([
            ContactNote(user_id=member_id, day=today - timedelta(days=400), channel="phone",
                        note="很久以前的电话"),
            ContactNote(user_id=member_id, day=today - timedelta(days=30), channel="visit",
                        note="上个月上门"),
            BuddyNotice(user_id=member_id, body="去年读过的通报",
                        read_at=now - timedelta(days=400)),
            BuddyNotice(user_id=member_id, body="很久以前发、还没读的通报",
                        created_at=now - timedelta(days=500)),
        ])
        s.commit()
        assert purge_expired(s, 365) == 2
        s.commit()
        assert sorted(s.scalars(select(ContactNote.note))) == ["上个月上门"]
        # An unread 通报 is still the branch's requirement to the member: it stays.
        assert list(s.scalars(select(BuddyNotice.body))) == ["很久以前发、还没读的通报"]


# -- a phone in Chromium ---------------------------------------------------------------------
def _sign_in(page, person, name: str) -> None:
    page.get_by_label("用户名").fill(name)
    page.get_by_label("密码").fill("长江黄河都是好风景")
    person.tap(page.get_by_role("button", name="登录"))


def test_buddy_taps_from_the_care_list_to_a_contact_note_the_member_reads(live, browser,
                                                                            tmp_path):
    from tour_support import Person

    app, base = live
    add_user(app, BUDDY)
    member_id = add_user(app, MEMBER, buddy=BUDDY)
    context = browser.new_context(**PHONE)
    try:
        page = context.new_page()
        buddy = Person(page, base)
        page.goto(base + "/app/buddy")  # not signed in: the login page, then back
        buddy.look()
        _sign_in(page, buddy, BUDDY)
        page.wait_for_url("**/app/buddy")
        card = page.locator(f"#care-{member_id}")
        assert "还没有联系记录。" in card.inner_text()
        buddy.tap(card.get_by_role("link", name="联系记录与代记"))
        page.wait_for_url(f"**/app/buddy/{member_id}")
        page.get_by_label("联系情况（结对党员本人能看到）").fill(NOTE)
        buddy.tap(page.get_by_label("微信"), navigates=False)
        assert page.get_by_label("微信").is_checked()
        page.screenshot(path=str(tmp_path / "pair-member.png"), full_page=True)
        buddy.tap(page.get_by_role("button", name="保存联系记录"))
        assert NOTE in page.locator("#contact-notes").inner_text()
        buddy.tap(page.get_by_role("link", name="返回结对党员名单"))
        assert f"最近联系：{cn_date(beijing_today())}，微信。" in \
            page.locator(f"#care-{member_id}").inner_text()
    finally:
        context.close()
    context = browser.new_context(**PHONE)
    try:
        page = context.new_page()
        member = Person(page, base)
        page.goto(base + "/app/me")
        member.look()
        _sign_in(page, member, MEMBER)
        page.wait_for_url("**/app/me")
        assert NOTE in page.locator("#pair-contacts").inner_text()
        page.screenshot(path=str(tmp_path / "pair-mine.png"), full_page=True)
    finally:
        context.close()


def test_an_editor_pairs_by_names_as_typed_and_is_told_which_name_is_unknown(app, pair):
    """The people page offers the usernames as suggestions; a space typed before or after
    a name is not part of it; an unknown name is named in the message and nothing
    changes."""
    add_user(app, "编辑甲", role="editor")
    editor = signed_in(app, "编辑甲")
    page = text(editor.get("/app/editor/people"))
    assert 'list="usernames"' in page
    options = re.findall(r'<option value="([^"]*)">', section_of(page, "usernames"))
    assert {MEMBER, BUDDY, OTHER_MEMBER, OTHER_BUDDY} <= set(options)

    def pair_up(member: str, buddy: str) -> str:
        response = editor.post("/app/editor/people", data={"member": member, "buddy": buddy})
        assert response.status_code == 303
        return text(editor.get(response.headers["Location"]))

    page = pair_up(f" {MEMBER} ", "老张头")
    assert "没有保存：找不到用户名“老张头”" in page
    assert buddy_of(app, MEMBER) == BUDDY  # unchanged
    page = pair_up(f" {MEMBER}", f"{OTHER_BUDDY} ")
    assert "结对已保存。" in page and buddy_of(app, MEMBER) == OTHER_BUDDY
    page = pair_up(MEMBER, MEMBER)
    assert "一名党员不能做自己的帮学联系人" in page and buddy_of(app, MEMBER) == OTHER_BUDDY
    page = pair_up("  ", BUDDY)
    assert "请填写流动党员的用户名" in page
    page = pair_up("<b>" * 2000, BUDDY)  # shown as text, cut to a username's length
    assert "找不到用户名“" + "&lt;b&gt;" * 13 + "&lt;…”" in page and "<b>" not in page


def section_of(page: str, datalist_id: str) -> str:
    match = re.search(rf'<datalist id="{datalist_id}">.*?</datalist>', page, re.S)
    assert match, page[:2000]
    return match.group(0)


def buddy_of(app, name: str) -> str | None:
    with app.app_context():
        s = db.session()
        member = s.scalar(select(User).where(User.username == name))
        return member.buddy.username if member.buddy else None
