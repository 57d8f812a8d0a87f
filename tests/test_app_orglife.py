"""组织生活记录 and the 不断线 panel on 我的, end to end through the test client, on SQLite
and PostgreSQL: the form and its Chinese errors, CSRF, a double submit, the buddy's and an
editor's confirmation (another buddy gets 404), the panel for none / ok / warn / over, the
duties form, the member's data page, export and account deletion."""

from __future__ import annotations

import json
import re
from datetime import date, datetime

import pytest
from conftest import add_user, login, make_app
from sqlalchemy import func, select

from forms_app import db
from forms_app.forms import beijing_today
from forms_app.models import AuditEntry, OrgLife, Submission, User

ORG = "宁波港党委第三党支部"


def record(client, **fields):
    data = {"day": beijing_today().isoformat(), "organisation": ORG, "kind": "党小组会",
            **fields}
    return client.post("/app/orglife", data=data)


def rows(app) -> list[OrgLife]:
    with app.app_context():
        return list(db.session().scalars(select(OrgLife).order_by(OrgLife.id)))


def member(app, client, name="老王", buddy=None):
    add_user(app, name, buddy=buddy)
    assert login(client, name).status_code == 303


def panel_text(client) -> str:
    page = client.get("/app/me").get_data(as_text=True)
    section = page[page.index('<section class="duties"'):page.index("</section>")]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", section))


def test_record_list_and_double_submit(app, client):
    member(app, client)
    form = client.get("/app/orglife").get_data(as_text=True)
    key = re.search(r'name="form_key" type="hidden" value="([^"]+)"', form)[1]
    for kind in ("支部党员大会", "支部委员会", "党小组会", "党课", "主题党日", "其他"):
        assert f'value="{kind}"' in form
    first = record(client, day="2026-10-01", form_key=key)
    assert first.status_code == 303 and first.location == "/app/me"
    again = record(client, day="2026-10-01", form_key=key)  # the same page sent twice
    assert again.status_code == 303
    assert len(rows(app)) == 1
    assert record(client, day="2026-11-03", kind="主题党日",
                  organisation="深圳南山区流动党员党支部").status_code == 303
    listing = client.get("/app/orglife").get_data(as_text=True)
    assert listing.index("2026-11-03") < listing.index("2026-10-01")  # newest first
    assert ORG in listing and "我的组织生活记录（2 条）" in listing and "待确认" in listing
    stored = rows(app)[0]
    assert (stored.day, stored.organisation, stored.kind) == (date(2026, 10, 1), ORG, "党小组会")


@pytest.mark.parametrize("fields,field,message", [
    ({"day": "2999-01-01"}, "day", "组织生活日期不能晚于今天。"),
    ({"day": "1999-12-31"}, "day", "请填写 2000 年以后的日期。"),
    ({"day": ""}, "day", "请选择参加组织生活的日期。"),
    ({"organisation": "　 "}, "organisation", "请填写组织生活所在的党组织。"),
    ({"organisation": "支" * 101}, "organisation", "党组织名称请控制在 100 字以内。"),
    ({"kind": "饭局"}, "kind", "不是有效的选择。"),
    ({"kind": ""}, "kind", "请选择组织生活的形式。"),
])
def test_record_errors_beside_fields(app, client, fields, field, message):
    member(app, client)
    response = record(client, **fields)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f'<p class="error" id="{field}-err">{message}</p>' in page
    assert rows(app) == []


def test_record_future_day_in_beijing(app, client, monkeypatch):
    import forms_app.forms

    member(app, client)
    # 16:30 UTC on 6 December is 00:30 on 7 December in Beijing: the 7th is today there.
    monkeypatch.setattr(forms_app.forms, "utcnow", lambda: datetime(2026, 12, 6, 16, 30))
    assert record(client, day="2026-12-08").status_code == 400
    assert record(client, day="2026-12-07").status_code == 303


def test_record_needs_an_account(client):
    response = client.get("/app/orglife")
    assert response.status_code == 302 and "/app/login" in response.location


def test_csrf(tmp_path, database_url):
    app = make_app(tmp_path, database_url, WTF_CSRF_ENABLED=True)
    try:
        client = app.test_client()
        add_user(app, "老王")
        page = client.get("/app/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)[1]
        assert client.post("/app/login", data={"username": "老王", "password": "长江黄河都是好风景",
                                               "csrf_token": token}).status_code == 303
        refused = record(client)
        assert refused.status_code == 400
        assert "页面已过期或来源不明，未保存任何内容" in refused.get_data(as_text=True)
        assert rows(app) == []
        record_id_free = client.post("/app/orglife/1/confirm")  # confirming needs one too
        assert record_id_free.status_code == 400
        page = client.get("/app/orglife").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)[1]
        assert record(client, csrf_token=token).status_code == 303
        assert len(rows(app)) == 1
    finally:
        db.close(app)


def test_buddy_confirms_another_buddy_gets_404(app, client, editor):
    add_user(app, "帮学甲")
    add_user(app, "帮学乙")
    member(app, client, buddy="帮学甲")
    assert record(client).status_code == 303
    assert record(client, day="2026-09-01", kind="党课").status_code == 303
    first, second = (r.id for r in rows(app))

    other = app.test_client()
    login(other, "帮学乙")
    assert ORG not in other.get("/app/buddy").get_data(as_text=True)
    assert other.post(f"/app/orglife/{first}/confirm").status_code == 404
    assert other.post("/app/orglife/99999/confirm").status_code == 404
    # The member cannot confirm their own record.
    assert client.post(f"/app/orglife/{first}/confirm").status_code == 404
    assert all(r.confirmed_at is None for r in rows(app))

    buddy = app.test_client()
    login(buddy, "帮学甲")
    page = buddy.get("/app/buddy").get_data(as_text=True)
    assert "结对党员的组织生活记录" in page and ORG in page
    assert f'action="/app/orglife/{first}/confirm"' in page
    done = buddy.post(f"/app/orglife/{first}/confirm", data={"next": "/app/buddy"})
    assert done.status_code == 303 and done.location == "/app/buddy"
    with app.app_context():
        s = db.session()
        confirmed = s.get(OrgLife, first)
        assert confirmed.confirmed_at is not None
        assert confirmed.confirmed_by_id == s.scalar(
            select(User.id).where(User.username == "帮学甲"))
    # An editor sees the rest on their list and confirms it.
    listing = editor.get("/app/editor/orglife").get_data(as_text=True)
    assert f"/app/orglife/{second}/confirm" in listing
    assert f"/app/orglife/{first}/confirm" not in listing
    assert editor.post(f"/app/orglife/{second}/confirm",
                       data={"next": "/app/editor/orglife"}).location == "/app/editor/orglife"
    assert all(r.confirmed_at is not None for r in rows(app))
    with app.app_context():
        actions = db.session().scalars(select(AuditEntry.action).where(
            AuditEntry.action == "confirm_orglife")).all()
    assert len(actions) == 2
    assert "已确认" in client.get("/app/orglife").get_data(as_text=True)
    assert client.get("/app/editor/orglife").status_code == 403


@pytest.fixture
def frozen_today(monkeypatch):
    import forms_app.duties.panel

    def freeze(day: date) -> None:
        monkeypatch.setattr(forms_app.duties.panel, "beijing_today", lambda: day)

    return freeze


def add_record(app, username: str, day: date) -> None:
    with app.app_context():
        s = db.session()
        s.add(OrgLife(user_id=s.scalar(select(User.id).where(User.username == username)),
                      day=day, organisation=ORG, kind="党课"))
        s.commit()


@pytest.mark.parametrize("last,expected,stage", [
    (None, "还没有组织生活记录。", "none"),
    (date(2026, 9, 5), "上次组织生活：2026年9月5日。距离“连续六个月没有组织生活”还有 37 天（2027年3月5日）。", "ok"),
    (date(2026, 8, 27), "上次组织生活：2026年8月27日。距离“连续六个月没有组织生活”只剩 31 天（2027年2月27日）。"
     "请尽快参加一次组织生活，或联系支部、帮学联系人说明情况。", "warn"),
    (date(2026, 7, 1), "上次组织生活：2026年7月1日。到 2027年1月1日 已满六个月没有组织生活记录，"
     "已过 26 天。请尽快参加一次组织生活，或联系支部、帮学联系人说明情况。", "over"),
])
def test_my_page_panel(app, client, frozen_today, last, expected, stage):
    frozen_today(date(2027, 1, 27))
    member(app, client)
    if last:
        add_record(app, "老王", date(2026, 1, 1))  # an older one does not count
        add_record(app, "老王", last)
    text = panel_text(client)
    assert expected in text
    page = client.get("/app/me").get_data(as_text=True)
    assert f'class="duty {stage}" id="duty-orglife"' in page
    assert 'href="/app/orglife">记录组织生活</a>' in page
    assert 'href="/faq/six-months-no-life.html"' in page
    assert 'href="/app/report?kind=thought">写思想汇报</a>' in page
    assert 'href="/app/me/duties">更新党费和活动证信息</a>' in page
    assert ("如果参加过组织生活但没有记录，请补记上。" in text) == (stage in ("warn", "over"))
    for word in ("脱党", "积分", "排名"):
        assert word not in text


def test_my_page_study_and_reports(app, client, frozen_today):
    frozen_today(date(2027, 1, 27))
    member(app, client)
    text = panel_text(client)
    assert "还没有学习记录。" in text and "还没有通过网上党校向支部报告过。" in text
    assert "还没有通过网上党校向支部报送过思想汇报，现在就可以写一份。" in text
    assert client.post("/app/study", data={
        "day": "2026-12-01", "lesson": "", "topic": "党章第三章", "minutes": "30",
        "mode": "网上学"}).status_code == 303
    with app.app_context():
        s = db.session()
        uid = s.scalar(select(User.id).where(User.username == "老王"))
        for n, (kind, at) in enumerate((("thought", datetime(2026, 6, 30, 2)),
                                        ("departure", datetime(2026, 11, 2, 3)))):
            s.add(Submission(kind=kind, code=f"TESTCODE{n}", body="汇报", user_id=uid,
                             created_at=at, updated_at=at, due_at=at))
        s.commit()
    text = panel_text(client)
    assert "上次学习：2026年12月1日。" in text
    assert "上次报告：2026年11月2日（外出报告）。" in text
    assert "上次思想汇报：2026年6月30日。按每年一次提醒，下一次请在 2027年6月30日 前报送（还有 154 天）。" in text


def test_duties_form(app, client, frozen_today):
    frozen_today(date(2027, 1, 27))
    member(app, client)
    form = client.get("/app/me/duties").get_data(as_text=True)
    assert '<option value="2026">2026年</option>' in form and '<option value="12">12月</option>' in form
    saved = client.post("/app/me/duties", data={
        "dues_year": "2026", "dues_month": "11", "card_issued_on": "2025-03-01",
        "graduate": "y"})
    assert saved.status_code == 303 and saved.location == "/app/me"
    with app.app_context():
        user = db.session().scalar(select(User).where(User.username == "老王"))
        assert user.dues_paid_until == date(2026, 11, 1)
        assert user.card_issued_on == date(2025, 3, 1)
        assert user.thought_every_months == 6
    text = panel_text(client)
    assert ("党费已交到 2026年11月（本人填写），2026年12月到本月（2027年1月）共 2 个月还没有交。"
            in text)
    assert "活动证每年查验一次：下次查验 2027年3月1日（还有 33 天），请与支部约好。" in text
    assert "活动证用满三年要换发新证：2028年3月1日 满三年（还有 399 天）。" in text
    form = client.get("/app/me/duties").get_data(as_text=True)
    assert '<option selected value="2026">' in form or 'value="2026" selected' in form
    assert re.search(r'name="graduate"[^>]*checked', form) or "checked" in form
    # Cleared again: no dues, no card, yearly reports.
    assert client.post("/app/me/duties", data={"dues_year": "", "dues_month": ""}) \
        .status_code == 303
    with app.app_context():
        user = db.session().scalar(select(User).where(User.username == "老王"))
        assert (user.dues_paid_until, user.card_issued_on, user.thought_every_months) == \
            (None, None, 12)
    assert "活动证每年查验" not in panel_text(client)
    # A POST with only the card date leaves dues undeclared.
    assert client.post("/app/me/duties", data={"card_issued_on": "2026-01-05"}) \
        .status_code == 303
    assert "还没有填写党费交到了哪个月。" in panel_text(client)


@pytest.mark.parametrize("fields,field,message", [
    ({"dues_year": "2026", "dues_month": ""}, "dues_year",
     "请同时选择年份和月份；都不填表示不记录党费。"),
    ({"dues_year": "1990", "dues_month": "1"}, "dues_year", "请从列表中选择年份。"),
    ({"dues_year": "", "dues_month": "13"}, "dues_month", "请从列表中选择月份。"),
    ({"card_issued_on": "2999-01-01"}, "card_issued_on", "发证日期不能晚于今天。"),
    ({"card_issued_on": "1990-01-01"}, "card_issued_on", "请填写 1994 年以后的日期。"),
])
def test_duties_form_errors(app, client, fields, field, message):
    member(app, client)
    response = client.post("/app/me/duties", data={"dues_year": "", "dues_month": "",
                                                   **fields})
    assert response.status_code == 400
    assert f'<p class="error" id="{field}-err">{message}</p>' in response.get_data(as_text=True)


def test_data_page_export_and_deletion(app, client):
    member(app, client)
    assert record(client, day="2026-10-01").status_code == 303
    assert client.post("/app/me/duties", data={
        "dues_year": "2026", "dues_month": "10", "card_issued_on": "2025-03-01"}
    ).status_code == 303
    page = client.get("/app/me/data").get_data(as_text=True)
    assert "组织生活记录（1 条）" in page and ORG in page
    assert "2026年10月" in page and "2025-03-01" in page and "每年一次" in page
    data = json.loads(client.get("/app/me/export.json").get_data(as_text=True))
    assert data["org_life"][0] | {"created_at": None} == {
        "day": "2026-10-01", "organisation": ORG, "kind": "党小组会", "confirmed": False,
        "confirmed_at": None, "created_at": None}
    assert (data["dues_paid_until"], data["card_issued_on"], data["thought_every_months"]) \
        == ("2026-10", "2025-03-01", 12)
    assert "组织生活记录" in client.post("/app/me/delete").get_data(as_text=True)
    assert client.post("/app/me/delete", data={"confirm": "yes"}).status_code == 303
    with app.app_context():  # gone with the account (ON DELETE CASCADE)
        assert db.session().scalar(select(func.count()).select_from(OrgLife)) == 0


def test_pages_are_in_chinese(app, client, editor):
    from test_app_defects import ENGLISH, HALF_WIDTH_BRACKET, visible_text

    add_user(app, "帮学甲")
    member(app, client, buddy="帮学甲")
    assert record(client).status_code == 303
    assert client.post("/app/me/duties", data={
        "dues_year": "2026", "dues_month": "1", "card_issued_on": "2020-03-01"}
    ).status_code == 303
    buddy = app.test_client()
    login(buddy, "帮学甲")
    pages = {url: client.get(url) for url in ("/app/orglife", "/app/me", "/app/me/duties",
                                              "/app/me/data", "/app/")}
    pages["/app/buddy"] = buddy.get("/app/buddy")
    pages["/app/editor/orglife"] = editor.get("/app/editor/orglife")
    pages["errors"] = record(client, day="", organisation="", kind="")
    for url, response in pages.items():
        assert response.status_code in (200, 400), url
        text = visible_text(response.get_data(as_text=True))
        assert not ENGLISH.findall(text), (url, ENGLISH.findall(text))
        assert not HALF_WIDTH_BRACKET.search(text), url
    assert "记录组织生活" in pages["/app/"].get_data(as_text=True)
