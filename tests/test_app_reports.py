"""Reports to the branch (外出报告, 返回报告, 思想汇报): sent by a signed-in member, read by
them and their study buddy only, acknowledged by an editor, withdrawn, deleted, purged, and
never published."""

from __future__ import annotations

import json
import re
import subprocess
from datetime import timedelta

import pytest
from conftest import add_user, login, make_app
from sqlalchemy import func, select, update

from forms_app import db
from forms_app.models import Submission, utcnow

DEPARTURE = {"kind": "departure", "destination": "宁波市鄞州区", "months": "6",
             "work": "港口装卸", "fixed_place": "yes", "instrument": "转移正式组织关系",
             "contact": "13812345678", "body": "打算在宁波干两年，想就近参加组织生活。"}
RETURN = {"kind": "return", "body": "在宁波港干了八个月装卸，春节前回村。",
          "orglife_away": "参加宁波流动党员党支部主题党日三次。"}
THOUGHT = {"kind": "thought", "body": "在外一年，越来越体会到组织就在身边。"}


def member(app, name="老李", buddy=None):
    add_user(app, name, buddy=buddy)
    client = app.test_client()
    assert login(client, name).status_code == 303
    return client


def send(client, fields):
    return client.post("/app/report", data=fields)


def report_id(response) -> int:
    assert response.status_code == 303, response.get_data(as_text=True)[:3000]
    location = response.headers["Location"]
    assert re.fullmatch(r"/app/report/\d+", location), location
    return int(location.rsplit("/", 1)[1])


def stored(app, **where) -> list[Submission]:
    with app.app_context():
        query = select(Submission).order_by(Submission.id)
        for name, value in where.items():
            query = query.where(getattr(Submission, name) == value)
        return list(db.session().scalars(query))


@pytest.mark.parametrize("fields", [DEPARTURE, RETURN, THOUGHT], ids=lambda f: f["kind"])
def test_each_kind_end_to_end(app, fields):
    client = member(app)
    form = client.get(f"/app/report?kind={fields['kind']}").get_data(as_text=True)
    assert "报告支部" in form and 'name="form_key"' in form
    ident = report_id(send(client, fields))
    page = client.get(f"/app/report/{ident}").get_data(as_text=True)
    assert fields["body"] in page and "已登记，待处理" in page and "前阅知" in page
    [item] = stored(app)
    assert item.kind == fields["kind"] and item.state == "received" and item.user_id
    assert item.due_at > item.created_at  # due in two working days, like a question
    if fields["kind"] == "departure":
        assert (item.destination, item.months, item.work, item.fixed_place,
                item.instrument) == ("宁波市鄞州区", 6, "港口装卸", True, "转移正式组织关系")
        assert "宁波市鄞州区" in page and "相对固定" in page
    if fields["kind"] == "return":
        assert item.orglife_away == RETURN["orglife_away"] and "主题党日三次" in page
    mine = client.get("/app/me").get_data(as_text=True)
    assert "向支部报告" in mine and f"/app/report/{ident}" in mine
    label = {"departure": "外出报告", "return": "返回报告", "thought": "思想汇报"}
    assert re.search(label[fields["kind"]] + r" · 已登记，待处理", mine)


def test_departure_leaving_day_is_kept_and_shown(app):
    from forms_app.forms import beijing_today

    client = member(app)
    leave = beijing_today() + timedelta(days=10)
    ident = report_id(send(client, {**DEPARTURE, "leave_on": leave.isoformat()}))
    [item] = stored(app)
    assert item.leave_on == leave
    page = client.get(f"/app/report/{ident}").get_data(as_text=True)
    assert f"<dt>外出日期</dt><dd>{leave.year}年{leave.month}月{leave.day}日</dd>" in page
    far = beijing_today() + timedelta(days=400)
    response = send(client, {**DEPARTURE, "leave_on": far.isoformat(), "form_key": "k2"})
    assert response.status_code == 400
    assert "外出日期请填写一年以内的日子" in response.get_data(as_text=True)
    assert len(stored(app)) == 1


def test_anonymous_goes_to_login_and_back(app):
    client = app.test_client()
    response = client.get("/app/report?kind=thought")
    assert response.status_code == 302 and "/app/login" in response.headers["Location"]
    add_user(app, "老李")
    response = client.post("/app/login", data={
        "username": "老李", "password": "长江黄河都是好风景",
        "next": "/app/report?kind=thought"})
    assert response.headers["Location"] == "/app/report?kind=thought"
    assert send(app.test_client(), THOUGHT).status_code == 302  # anonymous: nothing stored
    assert stored(app) == []


def test_choose_page_lists_the_three_kinds(app):
    page = member(app).get("/app/report").get_data(as_text=True)
    for label in ("外出报告", "返回报告", "思想汇报"):
        assert label in page


@pytest.mark.parametrize("fields,field,message", [
    ({**DEPARTURE, "destination": ""}, "destination", "请填写外出去向"),
    ({**DEPARTURE, "months": ""}, "months", "请填写预计在外几个月。"),
    ({**DEPARTURE, "months": "200"}, "months", "预计在外时间应为 1 到 120 个月。"),
    ({**DEPARTURE, "work": ""}, "work", "请填写从事的工作"),
    ({**DEPARTURE, "fixed_place": ""}, "fixed_place", "请选择工作地点是否固定。"),
    ({**RETURN, "body": "　"}, "body", "请写一写在外期间的主要情况。"),
    ({**THOUGHT, "body": ""}, "body", "请填写思想汇报的内容。"),
])
def test_validation_messages_beside_fields(app, fields, field, message):
    client = member(app)
    response = send(client, fields)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert re.search(rf'<p class="error" id="{field}-err">[^<]*{re.escape(message)}', page), page
    assert stored(app) == []


@pytest.mark.parametrize("destination,problem", [
    ("宁波市鄞州区中山东路 188 号", "详细地址"),
    ("宁波市海曙区某某小区3栋", "详细地址"),
    ("鄞州区天童南路", "详细地址"),
    ("13812345678", "电话号码"),
    ("宁波 138 1234 5678", "电话号码"),
])
def test_destination_refuses_an_address_or_a_phone(app, destination, problem):
    response = send(member(app), {**DEPARTURE, "destination": destination})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and problem in page and "写到城市或区县" in page
    assert stored(app) == []


@pytest.mark.parametrize("destination", ["宁波", "宁波市鄞州区", "台州市路桥区", "南京市鼓楼区",
                                         "广东省深圳市"])
def test_destination_takes_a_city_or_county(app, destination):
    report_id(send(member(app), {**DEPARTURE, "destination": destination}))


def test_helper_prefills_the_departure_form(app):
    client = member(app)
    page = client.get("/app/report?kind=departure&instrument=%E8%BD%AC%E7%A7%BB%E6%AD%A3%E5%BC%8F"
                      "%E7%BB%84%E7%BB%87%E5%85%B3%E7%B3%BB&months=6&fixed_place=no"
                      ).get_data(as_text=True)
    assert 'value="转移正式组织关系"' in page and 'name="months"' in page
    assert re.search(r'name="months"[^>]*value="6"|value="6"[^>]*name="months"', page)
    assert re.search(r'value="no" checked|checked[^>]*value="no"', page)
    assert stored(app) == []  # nothing until it is sent


def test_double_submit_stores_one(app):
    client = member(app)
    page = client.get("/app/report?kind=thought").get_data(as_text=True)
    key = re.search(r'name="form_key" type="hidden" value="([^"]+)"', page)[1]
    first = report_id(send(client, {**THOUGHT, "form_key": key}))
    second = report_id(send(client, {**THOUGHT, "form_key": key}))
    assert first == second and len(stored(app)) == 1


def test_csrf_missing_is_refused_and_nothing_stored(tmp_path, database_url):
    app = make_app(tmp_path, database_url, WTF_CSRF_ENABLED=True)
    try:
        add_user(app, "老李")
        client = app.test_client()
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                          client.get("/app/login").get_data(as_text=True))[1]
        client.post("/app/login", data={"username": "老李", "password": "长江黄河都是好风景",
                                        "csrf_token": token})
        response = client.post("/app/report", data=THOUGHT)
        assert response.status_code == 400
        assert "未保存任何内容" in response.get_data(as_text=True)
        assert stored(app) == []
        page = client.get("/app/report?kind=thought").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)[1]
        report_id(client.post("/app/report", data={**THOUGHT, "csrf_token": token}))
    finally:
        db.close(app)


def test_only_the_member_and_their_buddy_read_it(app):
    add_user(app, "帮学人")
    add_user(app, "别的帮学人")
    owner = member(app, "老李", buddy="帮学人")
    other = member(app, "老王", buddy="别的帮学人")
    ident = report_id(send(owner, DEPARTURE))
    report_id(send(other, {**THOUGHT, "body": "老王的思想汇报"}))
    assert other.get(f"/app/report/{ident}").status_code == 404
    assert other.post(f"/app/report/{ident}", data={"action": "withdraw"}).status_code == 404
    assert app.test_client().get(f"/app/report/{ident}").status_code == 302  # to login
    buddy, stranger = app.test_client(), app.test_client()
    login(buddy, "帮学人")
    login(stranger, "别的帮学人")
    listing = buddy.get("/app/buddy").get_data(as_text=True)
    assert f"/app/report/{ident}" in listing and "老王的思想汇报" not in listing
    page = buddy.get(f"/app/report/{ident}").get_data(as_text=True)
    assert DEPARTURE["body"] in page and "帮学联系人" in page
    assert "13812345678" not in page and "138****5678" in page  # the contact, masked
    assert buddy.post(f"/app/report/{ident}", data={"action": "withdraw"}).status_code == 404
    assert stranger.get(f"/app/report/{ident}").status_code == 404
    assert f"/app/report/{ident}" not in stranger.get("/app/buddy").get_data(as_text=True)
    assert stored(app, id=ident)[0].state == "received"


def test_editor_sees_it_masked_and_acknowledges(app, editor):
    owner = member(app)
    ident = report_id(send(owner, DEPARTURE))
    queue = editor.get("/app/editor/").get_data(as_text=True)
    assert f"#{ident} 外出报告" in queue and "13812345678" not in queue
    item = stored(app, id=ident)[0]
    page = editor.get(f"/app/editor/item/{ident}").get_data(as_text=True)
    assert "报告人" in page and "宁波市鄞州区" in page and "阅知期限" in page
    assert "13812345678" not in page and "138****5678" in page
    assert "已阅并记录" in page and "不予采用" not in page and "老李" not in page
    revealed = editor.post(f"/app/editor/item/{ident}/reveal").get_data(as_text=True)
    assert "老李" in revealed and "13812345678" in revealed  # audited, like any reveal
    assert "老*" in queue and "老李" not in queue
    response = editor.post(f"/app/editor/item/{ident}", data={
        "version": item.version, "action": "acknowledge"})
    assert response.status_code == 303
    assert stored(app, id=ident)[0].state == "acknowledged"
    mine = owner.get(f"/app/report/{ident}").get_data(as_text=True)
    assert re.search(r'id="report-state">支部已阅（\d{4}-\d\d-\d\d \d\d:\d\d）', mine)
    assert "支部已阅并记录" in mine and ">撤回<" not in mine


def test_acknowledging_with_a_reply_the_member_and_buddy_read(app, editor):
    add_user(app, "帮学人")
    owner = member(app, buddy="帮学人")
    ident = report_id(send(owner, DEPARTURE))
    item = stored(app, id=ident)[0]
    page = editor.get(f"/app/editor/item/{ident}").get_data(as_text=True)
    assert "给这位党员的简短回复" in page
    reply = "已收到。到宁波后请与<b>当地</b>流动党员党支部联系。"
    response = editor.post(f"/app/editor/item/{ident}", data={
        "version": item.version, "action": "acknowledge", "text": reply})
    assert response.status_code == 303
    assert stored(app, id=ident)[0].answer == reply
    escaped = "已收到。到宁波后请与&lt;b&gt;当地&lt;/b&gt;流动党员党支部联系。"
    for reader in (owner, login_client(app, "帮学人")):
        shown = reader.get(f"/app/report/{ident}").get_data(as_text=True)
        assert "支部的回复" in shown and escaped in shown
        # The reply comes first, before the facts of the report.
        assert shown.index("支部的回复") < shown.index('id="report-facts"')
    assert "支部已回复" in owner.get("/app/me").get_data(as_text=True)


def login_client(app, name):
    client = app.test_client()
    assert login(client, name).status_code == 303
    return client


def test_overdue_report_is_marked_in_the_queue(app, editor):
    ident = report_id(send(member(app), THOUGHT))
    with app.app_context():
        s = db.session()
        s.execute(update(Submission).where(Submission.id == ident).values(
            due_at=utcnow() - timedelta(hours=1)))
        s.commit()
    queue = editor.get("/app/editor/").get_data(as_text=True)
    row = re.search(rf'<tr class="due-(\w+)">(?:(?!</tr>).)*#{ident} 思想汇报', queue, re.S)
    assert row and row[1] == "overdue" and "已超期" in queue


def test_withdraw_then_delete(app, editor):
    client = member(app)
    ident = report_id(send(client, DEPARTURE))
    response = client.post(f"/app/report/{ident}", data={"action": "withdraw"})
    assert response.status_code == 303 and stored(app, id=ident)[0].state == "withdrawn"
    assert "报告已撤回" in client.get(f"/app/report/{ident}").get_data(as_text=True)
    confirm = client.post(f"/app/report/{ident}", data={"action": "delete"})
    assert confirm.status_code == 200 and "不能恢复" in confirm.get_data(as_text=True)
    assert stored(app, id=ident)[0].body == DEPARTURE["body"]  # asked first, nothing yet
    response = client.post(f"/app/report/{ident}", data={"action": "delete", "confirm": "yes"})
    assert response.status_code == 303
    [item] = stored(app, id=ident)
    assert DEPARTURE["body"] not in (item.body or "") and item.user_id is None
    assert (item.destination, item.work, item.contact, item.instrument, item.months) == (
        None, None, None, None, None)
    assert client.get(f"/app/report/{ident}").status_code == 404
    assert f"/app/report/{ident}" not in client.get("/app/me").get_data(as_text=True)
    assert "宁波市鄞州区" not in editor.get(f"/app/editor/item/{ident}").get_data(as_text=True)


def test_deleting_an_open_report_withdraws_it_first(app):
    client = member(app)
    ident = report_id(send(client, THOUGHT))
    client.post(f"/app/report/{ident}", data={"action": "delete", "confirm": "yes"})
    [item] = stored(app, id=ident)
    assert item.state == "withdrawn" and THOUGHT["body"] not in item.body


def test_data_page_export_and_account_deletion(app):
    client = member(app)
    report_id(send(client, DEPARTURE))
    report_id(send(client, THOUGHT))
    data = client.get("/app/me/data").get_data(as_text=True)
    assert "向支部的报告（2 份）" in data and "宁波市鄞州区" in data and THOUGHT["body"] in data
    exported = json.loads(client.get("/app/me/export.json").get_data(as_text=True))
    kinds = sorted(r["kind"] for r in exported["reports"])
    assert kinds == ["departure", "thought"]
    assert any(r["destination"] == "宁波市鄞州区" for r in exported["reports"])
    response = client.post("/app/me/delete", data={"confirm": "yes"})
    assert response.status_code == 303
    items = stored(app)
    assert len(items) == 2 and all(i.user_id is None for i in items)
    assert all(THOUGHT["body"] not in i.body and i.destination is None for i in items)


def test_purge_erases_old_closed_reports(app):
    from forms_app.personal import purge_expired

    client = member(app)
    old, recent, open_ = (report_id(send(client, f)) for f in (DEPARTURE, THOUGHT, RETURN))
    with app.app_context():
        s = db.session()
        s.execute(update(Submission).where(Submission.id.in_([old, open_])).values(
            updated_at=utcnow() - timedelta(days=400)))
        s.execute(update(Submission).where(Submission.id.in_([old, recent])).values(
            state="acknowledged"))
        s.commit()
        assert purge_expired(s, 365) == 1
        s.commit()
    erased = stored(app, id=old)[0]
    assert erased.destination is None and DEPARTURE["body"] not in erased.body
    assert erased.contact is None and erased.personal_erased_at is not None
    assert stored(app, id=recent)[0].body == THOUGHT["body"]
    assert stored(app, id=open_)[0].body == RETURN["body"]  # still open: kept


def test_publish_writes_nothing_for_a_report(publishing):
    app_, editor, repo = publishing
    client = member(app_)
    secret = "只给支部看的思想汇报甲乙丙"
    for fields in (DEPARTURE, RETURN, THOUGHT):
        report_id(send(client, {**fields, "body": secret}))
    with app_.app_context():
        ident = db.session().scalar(select(func.min(Submission.id)))
        version = db.session().get(Submission, ident).version
    editor.post(f"/app/editor/item/{ident}", data={"version": version,
                                                   "action": "acknowledge"})
    page = editor.get("/app/editor/publish").get_data(as_text=True)
    assert secret not in page
    editor.post("/app/editor/publish")
    grep = subprocess.run(["grep", "-r", "-l", secret, str(repo / "content")],
                          capture_output=True, text=True)
    assert grep.stdout == ""
    grep = subprocess.run(["grep", "-r", "-l", "宁波市鄞州区", str(repo / "content")],
                          capture_output=True, text=True)
    assert grep.stdout == ""
    log = subprocess.run(["git", "log", "-p", "--all"], cwd=repo, capture_output=True,
                         text=True).stdout
    assert secret not in log and "港口装卸" not in log
    assert all(i.published_path is None for i in stored(app_))


def test_a_withdrawn_report_is_not_counted_as_sent_on_my_page(app):
    client = member(app)
    before = client.get("/app/me").get_data(as_text=True)
    assert "还没有通过网上党校向支部报送过思想汇报" in before
    ident = report_id(send(client, THOUGHT))
    sent = client.get("/app/me").get_data(as_text=True)
    assert "上次思想汇报" in sent and "上次报告" in sent
    client.post(f"/app/report/{ident}", data={"action": "withdraw"})
    after = client.get("/app/me").get_data(as_text=True)
    assert "上次思想汇报" not in after and "上次报告" not in after
    assert "还没有通过网上党校向支部报送过思想汇报" in after


def test_queue_counts_show_each_kind_only_its_own_states(app, editor):
    from forms_app.states import KIND_STATES

    assert KIND_STATES["departure"] == {"received", "acknowledged", "withdrawn"}
    assert "visited" in KIND_STATES["help"] and "visited" not in KIND_STATES["question"]
    ident = report_id(send(member(app), DEPARTURE))
    item = stored(app, id=ident)[0]
    editor.post(f"/app/editor/item/{ident}", data={"version": item.version,
                                                    "action": "acknowledge"})
    queue = editor.get("/app/editor/?state=all").get_data(as_text=True)
    row = re.search(r'<tr><th scope="row">外出报告</th>(.*?)</tr>', queue).group(1)
    cells = re.findall(r"<td>(.*?)</td>", row)
    header = re.search(r'<tr><th scope="col">类别</th>(.*?)</tr>', queue).group(1)
    names = re.findall(r'<th scope="col">(.*?)</th>', header)
    shown = dict(zip(names, cells, strict=True))
    assert ">1</a>" in shown["支部已阅"] and ">0</a>" in shown["已登记，待处理"]
    assert "不适用" in shown["已答复"] and "不适用" in shown["已走访"]


def test_bulk_actions_offered_only_where_the_kind_has_them(app, editor):
    reports = editor.get("/app/editor/?kind=departure").get_data(as_text=True)
    assert "批量采用" not in reports and 'id="bulk-reason"' not in reports
    everything = editor.get("/app/editor/").get_data(as_text=True)
    assert "批量采用" in everything and "批量归档" in everything
    voices = editor.get("/app/editor/?kind=voice").get_data(as_text=True)
    assert "批量采用" in voices
