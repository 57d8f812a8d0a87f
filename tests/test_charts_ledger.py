"""The editors' 图表 (/app/editor/charts: three SVG pictures, each with its table) and 台账
(/app/editor/ledger.xlsx: one row per member, an audited download), on SQLite and
PostgreSQL, with "now" frozen at 2026-12-07 12:00 in Beijing (a Monday)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
import zipfile
from datetime import UTC, date, datetime, time, timedelta
from io import BytesIO

import openpyxl
import pytest
from conftest import add_user, login, make_app
from sqlalchemy import func, select

from forms_app import db, tracking_code
from forms_app.branch import charts, ledger
from forms_app.models import AuditEntry, ContactNote, OrgLife, StudyLog, Submission, User
from forms_app.working_days import BEIJING

CHARTS, LEDGER = "/app/editor/charts", "/app/editor/ledger.xlsx"
TODAY = date(2026, 12, 7)
SVG = "{http://www.w3.org/2000/svg}"


def bj(day: date, hour: int = 12, minute: int = 0) -> datetime:
    """A Beijing wall-clock time as the naive UTC the database holds."""
    return (datetime.combine(day, time(hour, minute), BEIJING).astimezone(UTC)
            .replace(tzinfo=None))


NOW = bj(TODAY)


@pytest.fixture(autouse=True)
def frozen(monkeypatch):
    for module in (charts, ledger):
        monkeypatch.setattr(module, "beijing_today", lambda: TODAY)
        monkeypatch.setattr(module, "utcnow", lambda: NOW)


def _uid(s, name: str) -> int:
    return s.scalar(select(User.id).where(User.username == name))


def add(app, *rows) -> None:
    with app.app_context():
        s = db.session()
        s.add_all(rows)
        s.commit()


def item(app, kind: str, state: str = "received", due_at: datetime | None = None,
         created_at: datetime | None = None, user: str | None = None) -> int:
    with app.app_context():
        s = db.session()
        sub = Submission(kind=kind, state=state, code=tracking_code.new_code(), body="正文",
                         due_at=due_at or NOW + timedelta(days=2),
                         created_at=created_at or NOW,
                         user_id=_uid(s, user) if user else None)
        s.add(sub)
        s.commit()
        return sub.id


def log(app, item_id: int, action: str, at: datetime) -> None:
    add(app, AuditEntry(at=at, actor="编辑甲", action=action, submission_id=item_id))


def svgs(page: str) -> list[ET.Element]:
    """Every picture on the page, parsed as XML (it fails on SVG that is not well formed)."""
    return [ET.fromstring(svg) for svg in re.findall(r"<svg\b.*?</svg>", page, re.S)]


def texts(svg: ET.Element) -> list[str]:
    return [t.text or "" for t in svg.iter(f"{SVG}text")]


# -- (a) mailbox questions answered within two working days --------------------------------
def seed_questions(app) -> None:
    nov10, nov20 = date(2026, 11, 10), date(2026, 11, 20)
    log(app, item(app, "question", "answered", due_at=bj(nov10)), "answer",
        bj(nov10, 11))  # on time
    log(app, item(app, "question", "rejected", due_at=bj(nov20)), "reject",
        bj(nov20, 9))  # a reason given in time is a reply in time
    # Due 2026-11-30 23:30 in Beijing = 15:30 UTC: November's, and never answered.
    late = item(app, "question", due_at=bj(date(2026, 11, 30), 23, 30))
    # Due 00:30 on 1 December in Beijing (still 30 November in UTC): December's.
    log(app, item(app, "question", "answered", due_at=bj(date(2026, 12, 1), 0, 30)),
        "answer", bj(date(2026, 11, 30), 20))
    item(app, "question", "withdrawn", due_at=bj(nov10))  # not counted
    item(app, "question", "spam", due_at=bj(nov10))  # not counted
    item(app, "question", "referred", due_at=bj(nov20))  # clock stopped: not decided yet
    item(app, "question", due_at=bj(date(2026, 12, 9)))  # not due yet: not decided yet
    log(app, item(app, "question", "answered", due_at=bj(date(2026, 10, 15))), "answer",
        bj(date(2026, 10, 16)))  # late
    log(app, late, "answer", bj(date(2026, 12, 2)))  # answered, but late


def test_on_time_share_per_month_on_known_data(app, editor):
    seed_questions(app)
    with app.app_context():
        months = charts.month_starts(TODAY)
        rows = charts.question_rows(db.session(), months[0], date(2027, 1, 1))
    assert months[0] == date(2026, 1, 1) and months[-1] == date(2026, 12, 1)
    found = {m.start: (m.due, m.in_time, m.percent)
             for m in charts.on_time_by_month(rows, months, NOW)}
    assert found[date(2026, 11, 1)] == (3, 2, 67)
    assert found[date(2026, 12, 1)] == (1, 1, 100)
    assert found[date(2026, 10, 1)] == (1, 0, 0)
    assert found[date(2026, 9, 1)] == (0, 0, None)
    page = editor.get(CHARTS).get_data(as_text=True)
    assert ('<tr><th scope="row">2026年11月</th><td>3</td><td>2</td><td>67%</td></tr>'
            in page)
    assert '<tr><th scope="row">2026年9月</th><td>0</td><td>0</td><td>—</td></tr>' in page
    on_time = svgs(page)[0]
    words = texts(on_time)
    assert "67%（2/3）" in words and "100%（1/1）" in words and "0%（0/1）" in words
    assert words.count("没有到期的问题") == 9
    assert on_time.find(f"{SVG}title").text == "信箱问题两个工作日内答复的比例"


def test_on_time_share_as_a_pure_function():
    months = [date(2026, 11, 1)]
    due = bj(date(2026, 11, 30), 23, 30)
    rows = [(due, due, False), (due, due + timedelta(seconds=1), False), (due, None, False),
            (due, None, True), (bj(date(2026, 12, 1), 0, 30), None, False)]
    [month] = charts.on_time_by_month(rows, months, NOW)
    assert (month.due, month.in_time, month.percent, month.label) == (3, 1, 33, "2026年11月")
    assert charts.percent(1, 8) == 13 and charts.percent(0, 0) is None


# -- (b) items waiting, by working days ----------------------------------------------------
def test_open_items_by_age(app, editor):
    item(app, "question", created_at=bj(TODAY, 9))  # today: 0
    # 23:30 on 30 November in Beijing: Dec 1-4 and 7 are five working days.
    item(app, "question", "referred", created_at=bj(date(2026, 11, 30), 23, 30))
    # 00:30 on 3 December in Beijing (2 December in UTC): Dec 4 and 7, two working days.
    item(app, "departure", created_at=bj(date(2026, 12, 3), 0, 30))
    item(app, "thought", created_at=bj(date(2026, 11, 20)))  # eleven working days
    item(app, "return", "acknowledged", created_at=bj(date(2026, 11, 2)))  # done
    item(app, "help", created_at=bj(date(2026, 11, 25)))  # eight working days
    reopened = item(app, "help", created_at=bj(date(2026, 10, 1)))
    log(app, reopened, "reopen", bj(date(2026, 12, 4)))  # waits again from 4 December
    item(app, "voice", created_at=bj(date(2026, 10, 1)))  # not a kind of this picture
    item(app, "question", "spam", created_at=bj(date(2026, 10, 1)))
    page = editor.get(CHARTS).get_data(as_text=True)
    for label, cells in (("0–2 个工作日", (1, 1, 1, 3)), ("3–5 个工作日", (1, 0, 0, 1)),
                         ("6–10 个工作日", (0, 0, 1, 1)), ("超过 10 个工作日", (0, 1, 0, 1))):
        row = f'<tr><th scope="row">{label}</th>' + "".join(f"<td>{n}</td>" for n in cells)
        assert row + "</tr>" in page, label
    ages = svgs(page)[1]
    words = texts(ages)
    assert {"信箱问题（共 2 条）", "报告（共 2 条）", "三个必访求助（共 2 条）"} <= set(words)
    assert words.count("1 条") == 6 and words.count("0 条") == 6


def test_age_buckets_as_a_pure_function():
    weekdays = lambda day: day.weekday() < 5  # noqa: E731
    rows = [("question", TODAY), ("question", date(2026, 12, 3)),
            ("departure", date(2026, 12, 2)), ("help", date(2026, 11, 23)),
            ("thought", date(2026, 11, 20)), ("voice", date(2026, 1, 1))]
    table = charts.open_by_age(rows, TODAY, weekdays)
    assert [r.counts for r in table] == [(2, 0, 0), (0, 1, 0), (0, 0, 1), (0, 1, 0)]
    assert [r.total for r in charts.open_by_age([], TODAY, weekdays)] == [0, 0, 0, 0]


# -- (c) study minutes and organisational life per month -----------------------------------
def test_study_minutes_and_orglife_per_month(app, editor):
    add_user(app, "老李")
    with app.app_context():
        uid = _uid(db.session(), "老李")
    add(app, *(StudyLog(user_id=uid, day=day, minutes=minutes, mode="网上学", topic="学习党章")
               for day, minutes in ((date(2026, 11, 3), 30), (date(2026, 11, 30), 45),
                                    (date(2026, 12, 1), 20), (date(2025, 12, 1), 99))),
        *(OrgLife(user_id=uid, day=day, organisation="城关镇第一支部", kind="主题党日")
          for day in (date(2026, 11, 10), date(2026, 11, 20), date(2026, 10, 5))))
    page = editor.get(CHARTS).get_data(as_text=True)
    assert '<tr><th scope="row">2026年11月</th><td>75</td><td>2</td></tr>' in page
    assert '<tr><th scope="row">2026年12月</th><td>20</td><td>0</td></tr>' in page
    assert '<tr><th scope="row">2026年10月</th><td>0</td><td>1</td></tr>' in page
    assert "2025年12月" not in page  # twelve months: January to December 2026
    activity = svgs(page)[2]
    words = texts(activity)
    assert {"75 分钟", "2 条", "20 分钟", "学习时长（分钟）", "组织生活记录（条）"} <= set(words)
    assert words.count("2026年11月") == 1 and len([w for w in words if "年" in w]) == 12
    # No name on the page: counts only, and no ranking words.
    assert "老李" not in page
    for word in ("排名", "积分", "得分", "名次"):
        assert word not in page


def test_pictures_are_well_formed_light_and_phone_sized(editor):
    response = editor.get(CHARTS)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    pictures = svgs(page)
    assert len(pictures) == 3
    for svg in pictures:
        assert svg.get("width") == "100%" and svg.get("viewBox").startswith("0 0 360 ")
        assert svg.get("role") == "img" and svg.find(f"{SVG}desc") is not None
        for element in svg.iter():
            assert "style" not in element.attrib  # the CSP allows no inline style
    assert page.count('<table class="counts">') == 3
    assert "<script" not in page.split("<main", 1)[-1].split("</main>", 1)[0]
    assert not re.search(r'(src|href)="(https?:)?//', page)


# -- who may see them ----------------------------------------------------------------------
def test_members_and_buddies_are_refused_and_nothing_is_logged(app):
    add_user(app, "帮学人")
    add_user(app, "老王", buddy="帮学人")
    for name in ("老王", "帮学人"):
        client = app.test_client()
        login(client, name)
        assert client.get(CHARTS).status_code in (403, 404)
        assert client.get(LEDGER).status_code in (403, 404)
    anonymous = app.test_client().get(LEDGER)
    assert anonymous.status_code in (302, 303)
    assert anonymous.headers["Location"].startswith("/app/login")
    with app.app_context():
        assert db.session().scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "export_ledger")) == 0


def test_nav_links_charts_and_pages_link_the_ledger(editor):
    assert f'href="{CHARTS}"' in editor.get("/app/editor/").get_data(as_text=True)
    for url in (CHARTS, "/app/editor/risk"):
        page = editor.get(url).get_data(as_text=True)
        assert f'href="{LEDGER}"' in page and "下载台账" in page


# -- the ledger ----------------------------------------------------------------------------
FORMULA = "=HYPERLINK(1)"


def seed_ledger(app) -> None:
    add_user(app, "帮学人")
    add_user(app, "老王", buddy="帮学人")
    add_user(app, FORMULA, buddy="老王")
    add_user(app, "编辑乙", role="editor")  # not a member: no row
    with app.app_context():
        s = db.session()
        wang, buddy = _uid(s, "老王"), _uid(s, "帮学人")
    add(app,
        ContactNote(user_id=wang, author_id=buddy, day=date(2026, 11, 2), channel="phone",
                    note="电话聊了近况"),
        ContactNote(user_id=wang, author_id=buddy, day=date(2026, 12, 1), channel="wechat",
                    note="微信问候"),
        OrgLife(user_id=wang, day=date(2026, 10, 5), organisation="宁波港党委", kind="党课"),
        OrgLife(user_id=wang, day=date(2026, 11, 20), organisation="宁波港党委",
                kind="主题党日"),
        *(StudyLog(user_id=wang, day=day, minutes=minutes, mode="网上学", topic="学习党章")
          for day, minutes in ((date(2026, 3, 1), 60), (date(2026, 12, 1), 30),
                               (date(2025, 12, 31), 200))))  # last year's: not counted
    item(app, "departure", "acknowledged", created_at=bj(date(2026, 5, 4)), user="老王")
    item(app, "thought", created_at=bj(date(2026, 11, 12)), user="老王")
    item(app, "thought", "withdrawn", created_at=bj(date(2026, 11, 30)), user="老王")
    item(app, "departure", "acknowledged", created_at=bj(date(2025, 6, 1)), user="老王")


def workbook(response) -> openpyxl.Workbook:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return openpyxl.load_workbook(BytesIO(response.data))


def test_ledger_rows_and_values(app, editor):
    seed_ledger(app)
    response = editor.get(LEDGER)
    book = workbook(response)
    assert response.mimetype == ledger.XLSX
    assert book.sheetnames == ["台账", "统计口径"]
    sheet = book["台账"]
    assert sheet["A1"].value.startswith(
        "年度学习目标为支部在本站设置的数字（当前 32 学时，每学时按 45 分钟计），"
        "不是本站收录文件的规定")
    assert [c.value for c in sheet[2]] == list(ledger.HEADERS)
    rows = {r[0]: r for r in sheet.iter_rows(min_row=3, values_only=True)}
    assert set(rows) == {"帮学人", "老王", FORMULA}
    day = lambda d: datetime.combine(d, time())  # noqa: E731 - openpyxl reads datetimes
    assert rows["老王"] == ("老王", "帮学人", day(date(2026, 12, 1)), day(date(2026, 11, 20)),
                           1, 0, 1, day(date(2026, 11, 12)), 90, 2.0, 0.0625)
    assert rows["帮学人"] == ("帮学人", "未结对", "无记录", "无记录", 0, 0, 0, "无记录", 0, 0.0,
                            0.0)
    assert rows[FORMULA][1] == "老王"
    rules = {r[0]: r[1] for r in book["统计口径"].iter_rows(values_only=True)}
    assert rules["生成时间（北京时间）"] == "2026-12-07 12:00"
    assert rules["导出人"] == "编辑甲" and rules["党员人数"] == 3
    assert "不是本站收录文件的规定" in rules["年度学习目标"]


def test_formula_looking_usernames_stay_text(app, editor):
    for name in (FORMULA, "+1手机", "-减号", "@SUM(A1)"):
        add_user(app, name)
    response = editor.get(LEDGER)
    sheet = workbook(response)["台账"]
    cells = {c.value: c for c in sheet["A"][2:]}
    assert set(cells) == {FORMULA, "+1手机", "-减号", "@SUM(A1)"}
    for cell in cells.values():
        assert cell.data_type == "s" and cell.quotePrefix
    xml = zipfile.ZipFile(BytesIO(response.data)).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in xml and "<f " not in xml


def test_every_download_is_audited_named_and_not_cached(app, editor):
    seed_ledger(app)
    for n in (1, 2):
        response = editor.get(LEDGER)
        assert response.status_code == 200
        with app.app_context():
            entries = list(db.session().scalars(select(AuditEntry).where(
                AuditEntry.action == "export_ledger")))
        assert len(entries) == n
    assert entries[-1].actor == "编辑甲" and entries[-1].submission_id is None
    assert "老王" not in (entries[-1].detail or "")
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert 'filename="ledger-2026-12-07.xlsx"' in disposition
    assert "filename*=UTF-8''%E5%8F%B0%E8%B4%A6-2026-12-07.xlsx" in disposition
    assert response.headers["Cache-Control"] == "no-store"


def test_the_target_is_a_setting(tmp_path, database_url):
    app = make_app(tmp_path, database_url, STUDY_TARGET_HOURS=20, MINUTES_PER_STUDY_HOUR=40)
    try:
        add_user(app, "编辑甲", role="editor")
        add_user(app, "老王")
        with app.app_context():
            uid = _uid(db.session(), "老王")
        add(app, StudyLog(user_id=uid, day=date(2026, 2, 1), minutes=200, mode="集中学",
                          topic="党课"))
        editor = app.test_client()
        login(editor, "编辑甲")
        sheet = workbook(editor.get(LEDGER))["台账"]
        assert "当前 20 学时，每学时按 40 分钟计" in sheet["A1"].value
        assert [c.value for c in sheet[3]][-3:] == [200, 5.0, 0.25]
    finally:
        db.close(app)


def test_a_member_at_home_is_left_out_of_the_ledger_and_the_risk_list(app, editor):
    """A study buddy at home (the seeds' 同一村民小组 party member) is a member too, not a
    mobile one: once an editor says so, 断线提醒 and the ledger leave them out."""
    seed_ledger(app)
    with app.app_context():
        buddy_id = _uid(db.session(), "帮学人")
    risk_before = editor.get("/app/editor/risk").get_data(as_text=True)
    assert "帮学人" in risk_before
    member = app.test_client()
    add_user(app, "普通党员")
    login(member, "普通党员")
    assert member.post(f"/app/editor/people/{buddy_id}/mobile",
                       data={"mobile": "0"}).status_code == 403
    response = editor.post(f"/app/editor/people/{buddy_id}/mobile", data={"mobile": "0"})
    assert response.status_code == 303
    page = editor.get("/app/editor/people").get_data(as_text=True)
    assert "已把 帮学人 标为在家的党员。" in page and "否，在家" in page
    rows = {r[0] for r in workbook(editor.get(LEDGER))["台账"].iter_rows(min_row=3,
                                                                        values_only=True)}
    assert "帮学人" not in rows and "老王" in rows
    assert "帮学人" not in editor.get("/app/editor/risk").get_data(as_text=True)
    with app.app_context():
        s = db.session()
        assert s.scalar(select(AuditEntry.detail).where(AuditEntry.action == "set_mobile")) \
            == f"user {buddy_id} mobile=0"
    editor.post(f"/app/editor/people/{buddy_id}/mobile", data={"mobile": "1"})
    assert "帮学人" in editor.get("/app/editor/risk").get_data(as_text=True)
