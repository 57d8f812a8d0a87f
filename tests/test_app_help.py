"""三个必访 help requests end to end through the test client, on SQLite and PostgreSQL:
the form (contact required, nothing else), the tracking page (never the contact), the
editors' queue (first, with a 必访 badge, due in two working days), the recorded visit,
erasure, the retention purge, and Publish leaving them alone."""

from __future__ import annotations

import re
import subprocess
from datetime import timedelta

import pytest
from conftest import add_user, code_of, item_by_code, login, make_app
from sqlalchemy import func, select, text, update
from test_app_public import HOSTILE, executable

from forms_app import db
from forms_app.models import Submission, utcnow

CONTACT = "13812345678"


def help_request(client, **fields):
    data = {"category": "rights", "body": "老板拖欠了三个月工资，不知道找谁。",
            "contact": CONTACT, "name": "李四", "branch": "城关镇第二支部", **fields}
    return client.post("/app/help", data=data)


def count(app) -> int:
    with app.app_context():
        return db.session().scalar(select(func.count()).select_from(Submission))


def visit(editor, item, **fields):
    data = {"version": item.version, "visit_on": "2026-12-01", "visit_by": "支部书记王某",
            "visit_outcome": "已上门看望，帮助联系劳动监察大队，工资下周发放。", **fields}
    return editor.post(f"/app/editor/item/{item.id}/visit", data=data)


def test_the_form_needs_only_a_contact(app, client):
    page = client.get("/app/help").get_data(as_text=True)
    for words in ("遇到困难，请求走访", "生活困难", "权益受到损害", "年底不能返乡",
                  "联系方式（必填）", "称呼（选填）", "提交求助"):
        assert words in page, words
    refused = help_request(client, contact="")
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400 and count(app) == 0
    # The message stands beside the field it is about.
    assert re.search(r'id="contact"[^>]*aria-invalid="true"', page) or re.search(
        r'aria-invalid="true"[^>]*id="contact"', page)
    assert 'id="contact-err">请留下手机号码或微信号，支部才能联系到您。</p>' in page
    # Everything else may stay empty.
    response = client.post("/app/help", data={"contact": "wxid_laoli88"})
    code = code_of(response)
    assert response.headers["Location"] == f"/app/help/{code}"
    item = item_by_code(app, code)
    assert (item.kind, item.state, item.category, item.body, item.contact) == (
        "help", "received", None, "", "wxid_laoli88")
    bad = help_request(client, category="other")
    assert bad.status_code == 400 and "请从列出的情况中选择。" in bad.get_data(as_text=True)


def test_a_double_submit_stores_one_request(app, client):
    first = code_of(help_request(client, form_key="key-of-one-page"))
    second = code_of(help_request(client, form_key="key-of-one-page"))
    assert first == second and count(app) == 1


def test_hostile_text_is_shown_as_text(app, client, editor):
    code = code_of(help_request(client, body=HOSTILE, name=HOSTILE[:40]))
    page = client.get(f"/app/help/{code}").get_data(as_text=True)
    assert "&lt;script&gt;" in page and executable(page) == [] and "15838" not in page
    item = item_by_code(app, code)
    for url in (f"/app/editor/item/{item.id}", "/app/editor/"):
        assert executable(editor.get(url).get_data(as_text=True)) == [], url


def test_tracking_page_shows_the_contact_only_masked(app, client):
    code = code_of(help_request(client))
    page = client.get(f"/app/help/{code}").get_data(as_text=True)
    assert "已登记，待处理" in page and "老板拖欠了三个月工资" in page
    assert "权益受到损害" in page and "打电话或上门与您联系" in page
    # The member can check the number they left, masked as in every list.
    assert '<strong id="help-contact">138****5678</strong>' in page
    for personal in (CONTACT, "李四", "城关镇"):
        assert personal not in page
    assert 'href="/courses/law-rights/index.html"' in page and 'href="tel:12371"' in page
    assert 'href="tel:12333"' in page  # wages owed: the labour hotline the course names
    other = code_of(help_request(client, category="not_home", body="年底回不了家"))
    assert 'href="tel:12333"' not in client.get(f"/app/help/{other}").get_data(as_text=True)
    # The code look-up finds help requests too.
    found = client.post("/app/track", data={"code": code.lower()})
    assert found.status_code == 303 and found.headers["Location"] == f"/app/help/{code}"
    assert client.get("/app/help/ABCDEFGHJKMNPQRS").status_code == 404


def test_queue_puts_help_first_with_a_badge(app, client, editor):
    from conftest import ask

    question = item_by_code(app, code_of(ask(client)))
    with app.app_context():  # a question that has waited much longer
        s = db.session()
        s.execute(update(Submission).where(Submission.id == question.id).values(
            due_at=question.due_at - timedelta(days=3),
            created_at=question.created_at - timedelta(days=5)))
        s.commit()
    code = code_of(help_request(client))
    item = item_by_code(app, code)
    page = editor.get("/app/editor/").get_data(as_text=True)
    rows = re.findall(r'<tr class="due-[a-z]+">.*?</tr>', page, re.S)
    assert len(rows) == 2
    assert f"#{item.id} 三个必访" in rows[0] and "必访</strong>" in rows[0]
    assert f"#{question.id} 电子信箱" in rows[1] and "已超期" in rows[1]
    assert CONTACT not in page and "138****5678" in page
    # Filtering by kind still works, and a help request's due time is shown.
    only = editor.get("/app/editor/?kind=help").get_data(as_text=True)
    assert f"#{item.id} 三个必访" in only and f"#{question.id} 电子信箱" not in only
    # Overdue help is marked like an overdue question.
    with app.app_context():
        s = db.session()
        s.execute(text("UPDATE submissions SET due_at = :d WHERE id = :i"),
                  {"d": item.due_at - timedelta(days=10), "i": item.id})
        s.commit()
    page = editor.get("/app/editor/").get_data(as_text=True)
    first = re.findall(r'<tr class="due-[a-z]+">.*?</tr>', page, re.S)[0]
    assert 'class="due-overdue"' in first and "已超期" in first and "三个必访" in first


def test_due_in_two_working_days(app, client):
    from forms_app import moderation
    from forms_app.working_days import DAY, as_utc, from_db

    item = item_by_code(app, code_of(help_request(client)))
    with app.test_request_context():
        due, _ = moderation.calendar().add(from_db(item.created_at), 2 * DAY)
    assert item.due_at == as_utc(due)
    assert item.due_at - item.created_at >= timedelta(days=2)


def test_contact_masked_until_the_audited_reveal(app, client, editor):
    item = item_by_code(app, code_of(help_request(client)))
    page = editor.get(f"/app/editor/item/{item.id}").get_data(as_text=True)
    assert CONTACT not in page and "138****5678" in page and "权益受到损害" in page
    revealed = editor.post(f"/app/editor/item/{item.id}/reveal").get_data(as_text=True)
    assert CONTACT in revealed
    assert "查看完整个人信息" in editor.get(f"/app/editor/item/{item.id}").get_data(
        as_text=True)


def test_record_visit_then_archive(app, client, editor):
    code = code_of(help_request(client))
    item = item_by_code(app, code)
    future = visit(editor, item, visit_on="2099-01-01")
    assert future.status_code == 400 and "走访日期不能晚于今天。" in future.get_data(as_text=True)
    empty = visit(editor, item, visit_by="", visit_outcome="")
    assert empty.status_code == 400 and "请填写走访情况和结果" in empty.get_data(as_text=True)
    assert item_by_code(app, code).state == "received"
    assert visit(editor, item).status_code == 303
    done = item_by_code(app, code)
    assert (done.state, str(done.visit_on), done.visit_by) == ("visited", "2026-12-01",
                                                               "支部书记王某")
    page = editor.get(f"/app/editor/item/{item.id}").get_data(as_text=True)
    assert "已走访" in page and "支部书记王某" in page and "记录走访" in page
    tracking = client.get(f"/app/help/{code}").get_data(as_text=True)
    assert "已走访" in tracking and "2026-12-01" in tracking
    assert "工资下周发放" in tracking and "支部已走访或来电" in tracking
    assert CONTACT not in tracking
    # The generic buttons never record a visit without its fields.
    bare = editor.post(f"/app/editor/item/{item.id}", data={
        "version": done.version, "action": "record_visit"})
    assert bare.status_code == 400
    assert editor.post(f"/app/editor/item/{item.id}", data={
        "version": done.version, "action": "archive"}).status_code == 303
    assert item_by_code(app, code).state == "archived"


def test_member_says_the_trouble_is_not_over(app, client, editor):
    code = code_of(help_request(client))
    item = item_by_code(app, code)
    page = client.get(f"/app/help/{code}").get_data(as_text=True)
    assert "问题还没解决" not in page  # nothing to reopen before a visit
    refused = client.post(f"/app/help/{code}", data={"action": "reopen"})
    assert "未能完成" in client.get(refused.headers["Location"]).get_data(as_text=True)
    assert item_by_code(app, code).state == "received"
    assert visit(editor, item).status_code == 303
    visited = item_by_code(app, code)
    with app.app_context():  # the visit was days ago: the new due date starts now
        db.session().execute(update(Submission).where(Submission.id == item.id).values(
            due_at=utcnow() - timedelta(days=5)))
        db.session().commit()
    page = client.get(f"/app/help/{code}").get_data(as_text=True)
    assert ">问题还没解决，请再联系我</button>" in page
    response = client.post(f"/app/help/{code}", data={"action": "reopen"})
    assert response.status_code == 303
    again = item_by_code(app, code)
    assert again.state == "received" and again.version == visited.version + 1
    assert again.due_at > utcnow() + timedelta(hours=1)  # two working days from now
    assert str(again.visit_on) == "2026-12-01"  # the first visit stays on record
    tracking = client.get(f"/app/help/{code}").get_data(as_text=True)
    assert "已告诉支部问题还没解决" in tracking and "您说问题还没解决" in tracking
    queue = editor.get("/app/editor/").get_data(as_text=True)
    assert f"#{item.id}" in queue
    assert visit(editor, again, visit_on="2026-12-03").status_code == 303
    assert item_by_code(app, code).state == "visited"


def test_two_editors_record_the_same_visit(app, client, editor):
    add_user(app, "编辑乙", role="editor")
    other = app.test_client()
    login(other, "编辑乙")
    item = item_by_code(app, code_of(help_request(client)))
    assert visit(editor, item).status_code == 303
    second = visit(other, item, visit_by="副书记张某")
    assert second.status_code == 409
    assert "这条内容刚被其他编辑处理过，您的操作没有保存" in second.get_data(as_text=True)
    assert item_by_code(app, item.code).visit_by == "支部书记王某"


def test_members_cannot_record_visits(app, client):
    item = item_by_code(app, code_of(help_request(client)))
    assert visit(client, item).status_code in (302, 401)
    add_user(app, "老李")
    login(client, "老李")
    assert visit(client, item).status_code == 403
    assert item_by_code(app, item.code).state == "received"


def test_member_withdraws_and_erases(app, client, editor):
    code = code_of(help_request(client))
    item = item_by_code(app, code)
    visit(editor, item)
    page = client.get(f"/app/help/{code}").get_data(as_text=True)
    assert "撤回</button>" not in page  # visited: nothing left to withdraw
    ask_first = client.post(f"/app/help/{code}", data={"action": "erase"})
    assert ask_first.status_code == 200 and "不能恢复" in ask_first.get_data(as_text=True)
    assert item_by_code(app, code).personal_erased_at is None
    client.post(f"/app/help/{code}", data={"action": "erase", "confirm": "yes"})
    gone = item_by_code(app, code)
    assert (gone.contact, gone.name, gone.branch, gone.visit_outcome) == (None,) * 4
    assert "三个月工资" not in gone.body and gone.personal_erased_at is not None
    page = client.get(f"/app/help/{code}").get_data(as_text=True)
    assert "已删除" in page and "三个月工资" not in page and "工资下周发放" not in page

    fresh = code_of(help_request(client))
    assert client.post(f"/app/help/{fresh}", data={"action": "withdraw"}).status_code == 303
    assert item_by_code(app, fresh).state == "withdrawn"
    assert "已撤回" in client.get(f"/app/help/{fresh}").get_data(as_text=True)


def test_purge_clears_old_help_requests(app, client, editor):
    from forms_app.personal import purge_expired

    old, recent = code_of(help_request(client)), code_of(help_request(client))
    for code in (old, recent):
        visit(editor, item_by_code(app, code))
    with app.app_context():
        s = db.session()
        s.execute(update(Submission).where(Submission.code == old).values(
            updated_at=utcnow() - timedelta(days=400)))
        s.commit()
        assert purge_expired(s, 365) == 1
        s.commit()
    gone, kept = item_by_code(app, old), item_by_code(app, recent)
    assert (gone.contact, gone.name, gone.branch, gone.visit_outcome) == (None,) * 4
    assert "三个月工资" not in gone.body
    assert kept.contact == CONTACT and "三个月工资" in kept.body and kept.visit_outcome


def test_privacy_notice_names_the_help_form(client):
    page = client.get("/app/privacy").get_data(as_text=True)
    assert "三个必访求助" in page and "手机号码或微信号" in page


def test_the_app_cards_lead_to_the_form(client):
    page = client.get("/app/").get_data(as_text=True)
    assert '<a href="/app/help"><strong>遇到困难，请求走访</strong>' in page


def test_the_site_leads_to_the_form(sample_site):
    for rel in ("index.html", "service/index.html", "faq/must-visit.html"):
        html = (sample_site.out / rel).read_text(encoding="utf-8")
        assert re.search(r'href="/app/help"[^>]*>(<strong>)?遇到困难，请求走访', html), rel


@pytest.fixture
def csrf_app(tmp_path, database_url):
    app = make_app(tmp_path, database_url, WTF_CSRF_ENABLED=True)
    yield app
    db.close(app)


def test_without_a_csrf_token_nothing_is_stored(csrf_app):
    client = csrf_app.test_client()
    response = help_request(client)
    assert response.status_code == 400 and count(csrf_app) == 0
    assert "页面已过期或来源不明，未保存任何内容" in response.get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                      client.get("/app/help").get_data(as_text=True))[1]
    assert help_request(client, csrf_token=token).status_code == 303 and count(csrf_app) == 1


def test_publish_writes_nothing_for_help_requests(publishing):
    app, editor, repo = publishing
    client = app.test_client()
    marker = "求助内容只给支部看的标记文字"
    for _ in range(2):
        item = item_by_code(app, code_of(help_request(client, body=marker)))
        visit(editor, item)
    archived = item_by_code(app, item.code)
    editor.post(f"/app/editor/item/{archived.id}", data={"version": archived.version,
                                                         "action": "archive"})
    editor.post("/app/editor/publish", follow_redirects=True)
    thread = app.extensions.get("dx_rebuild")
    if thread:
        thread.join(timeout=300)
    found = subprocess.run(["grep", "-rlF", marker, str(repo / "content")],
                           capture_output=True, text=True)
    assert found.stdout == ""
    for needle in (marker, CONTACT):
        log = subprocess.run(["git", "-C", str(repo), "log", "-p", "--all", "-S", needle],
                             capture_output=True, text=True, check=True)
        assert log.stdout == "", needle
    with app.app_context():
        assert db.session().scalar(select(func.count()).select_from(Submission).where(
            Submission.kind == "help", Submission.published_path.is_not(None))) == 0


def test_a_signed_in_member_finds_the_request_on_my_page(app):
    add_user(app, "老李")
    member = app.test_client()
    assert login(member, "老李").status_code == 303
    code = code_of(help_request(member))
    item = item_by_code(app, code)
    assert item.user_id is not None
    mine = member.get("/app/me").get_data(as_text=True)
    assert "我的求助" in mine and f'href="/app/help/{code}"' in mine
    # Someone else signed in does not see it; an anonymous request is nobody's.
    add_user(app, "老王")
    other = app.test_client()
    login(other, "老王")
    assert code not in other.get("/app/me").get_data(as_text=True)
    anonymous = code_of(help_request(app.test_client(), body="另一件事"))
    assert item_by_code(app, anonymous).user_id is None
    # Deleting the account erases what the member sent while signed in.
    assert member.post("/app/me/delete", data={"confirm": "yes"}).status_code == 303
    gone = item_by_code(app, code)
    assert gone.user_id is None and gone.contact is None and "拖欠" not in gone.body
    assert item_by_code(app, anonymous).body == "另一件事"
