"""The editors' members-at-risk page (断线提醒, /app/editor/risk): members without
organisational life for 150 days or more, reports and help requests waiting, and a
monthly summary in counts only."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

from conftest import add_user, login
from sqlalchemy import select

from forms_app import db, tracking_code
from forms_app.branch import risk
from forms_app.duties.dates import add_months, cn_month
from forms_app.forms import beijing_today
from forms_app.models import AuditEntry, OrgLife, StudyLog, Submission, User, utcnow
from forms_app.working_days import BEIJING

URL = "/app/editor/risk"


def _uid(s, name: str) -> int:
    return s.scalar(select(User.id).where(User.username == name))


def orglife(app, name: str, day: date) -> None:
    with app.app_context():
        s = db.session()
        s.add(OrgLife(user_id=_uid(s, name), day=day, organisation="城关镇第一支部",
                      kind="主题党日"))
        s.commit()


def study(app, name: str, day: date, minutes: int = 30) -> None:
    with app.app_context():
        s = db.session()
        s.add(StudyLog(user_id=_uid(s, name), day=day, minutes=minutes, mode="网上学",
                       topic="学习党章"))
        s.commit()


def item(app, kind: str, state: str = "received", due_at: datetime | None = None,
         created_at: datetime | None = None, **fields) -> int:
    with app.app_context():
        s = db.session()
        now = utcnow()
        sub = Submission(kind=kind, state=state, code=tracking_code.new_code(),
                         body=fields.pop("body", "正文"), due_at=due_at or now + timedelta(days=2),
                         created_at=created_at or now, **fields)
        s.add(sub)
        s.commit()
        return sub.id


def answer(app, item_id: int, at: datetime) -> None:
    with app.app_context():
        s = db.session()
        s.add(AuditEntry(at=at, actor="编辑甲", action="answer", submission_id=item_id,
                         from_state="received", to_state="answered"))
        s.commit()


def rows(page: str) -> list[list[str]]:
    """The at-risk table: the cells of each body row."""
    table = page.split('aria-label="需要联系的党员"', 1)[1].split("</table>", 1)[0]
    body = table.split("<tbody>", 1)[1]
    return [re.findall(r"<td>(.*?)</td>", row) for row in re.findall(r"<tr>(.*?)</tr>", body)]


def test_149_days_not_listed_150_listed_and_none_recorded_listed(app, editor):
    today = beijing_today()
    for name in ("一四九", "一五零", "没记录"):
        add_user(app, name)
    orglife(app, "一四九", today - timedelta(days=149))
    orglife(app, "一五零", today - timedelta(days=150))
    orglife(app, "一五零", today - timedelta(days=400))  # an older one does not count
    response = editor.get(URL)
    assert response.status_code == 200
    listed = {r[0]: r for r in rows(response.get_data(as_text=True))}
    assert set(listed) == {"一五零", "没记录"}
    assert listed["一五零"][3] == "150"
    assert listed["没记录"][2:4] == ["没有记录", "—"]
    with app.app_context():
        found = risk.at_risk(db.session(), today)
    assert [(m.username, m.days) for m in found] == [("没记录", None), ("一五零", 150)]


def test_order_buddy_and_last_study(app, editor):
    today = beijing_today()
    add_user(app, "帮学人")
    add_user(app, "老王", buddy="帮学人")
    add_user(app, "老李")
    add_user(app, "老赵")
    add_user(app, "编辑乙", role="editor")  # not a member: never listed
    orglife(app, "老王", today - timedelta(days=200))
    orglife(app, "老李", today - timedelta(days=300))
    orglife(app, "帮学人", today)
    study(app, "老王", today - timedelta(days=3))
    study(app, "老王", today - timedelta(days=10))
    page = editor.get(URL).get_data(as_text=True)
    table = rows(page)
    assert [r[0] for r in table] == ["老赵", "老李", "老王"]  # none first, then longest ago
    wang = table[2]
    from forms_app.duties.dates import cn_date

    assert wang == ["老王", "帮学人", cn_date(today - timedelta(days=200)), "200",
                    cn_date(today - timedelta(days=3)), "没有记录"]
    assert table[1][1] == "未结对" and table[1][4] == "没有记录"
    for word in ("排名", "积分", "得分", "分数", "名次"):
        assert word not in page


def test_members_get_403_and_visitors_go_to_login(app):
    add_user(app, "老李")
    member = app.test_client()
    login(member, "老李")
    assert member.get(URL).status_code == 403
    anonymous = app.test_client().get(URL)
    assert anonymous.status_code in (302, 303)
    assert anonymous.headers["Location"].startswith("/app/login")


def test_the_editors_nav_links_the_page(editor):
    assert f'href="{URL}"' in editor.get("/app/editor/").get_data(as_text=True)


def test_reports_and_help_requests_waiting(app, editor):
    past, future = utcnow() - timedelta(hours=1), utcnow() + timedelta(days=1)
    item(app, "departure", due_at=past)
    item(app, "departure", due_at=future)
    item(app, "return", due_at=past)
    item(app, "thought", due_at=future)
    item(app, "thought", state="acknowledged", due_at=past)  # read: not waiting
    item(app, "departure", state="withdrawn", due_at=past)
    item(app, "question", due_at=past)  # not a report
    item(app, "help", due_at=past)
    item(app, "help", due_at=future)
    item(app, "help", due_at=future)
    item(app, "help", state="visited", due_at=past)
    page = editor.get(URL).get_data(as_text=True)
    assert "共 4 份待阅，其中 2 份已超过两个工作日。" in page
    assert "外出报告</a>：2 份待阅，1 份超期" in page
    assert "返回报告</a>：1 份待阅，1 份超期" in page
    assert "思想汇报</a>：1 份待阅，0 份超期" in page
    assert "共 3 条待走访，其中 1 条已超过两个工作日。" in page
    # The links open the queue filtered to what waits, and the queue shows just those.
    assert "/app/editor/?kind=departure&amp;state=received" in page
    assert "/app/editor/?kind=help&amp;state=received" in page
    queue = editor.get("/app/editor/?kind=departure&state=received").get_data(as_text=True)
    assert queue.count('href="/app/editor/item/') == 2


def _utc(day: date, hour: int = 12) -> datetime:
    return datetime.combine(day, time(hour), BEIJING).astimezone(UTC).replace(tzinfo=None)


def test_monthly_summary_of_a_small_seeded_month(app, editor):
    first = add_months(beijing_today().replace(day=1), -2)
    before, after = first - timedelta(days=1), add_months(first, 1)
    add_user(app, "老李")
    orglife(app, "老李", first)
    orglife(app, "老李", first + timedelta(days=14))
    orglife(app, "老李", before)  # the month before
    study(app, "老李", first, 30)
    study(app, "老李", first + timedelta(days=5), 45)
    study(app, "老李", after, 99)  # the month after
    # 00:30 on the first in Beijing is still the day before in UTC: it counts in this month.
    item(app, "departure", state="acknowledged", created_at=_utc(first, 0) +
         timedelta(minutes=30))
    item(app, "thought", created_at=_utc(first + timedelta(days=3)))
    item(app, "return", state="withdrawn", created_at=_utc(first + timedelta(days=3)))
    item(app, "return", created_at=_utc(first, 0) - timedelta(minutes=30))  # month before
    item(app, "help", state="visited", created_at=_utc(first + timedelta(days=2)))
    item(app, "help", state="spam", created_at=_utc(first + timedelta(days=2)))
    # Three questions answered this month: two by their due time, one late.
    for late in (False, False, True):
        due = _utc(first + timedelta(days=10))
        q = item(app, "question", state="answered", due_at=due,
                 created_at=due - timedelta(days=2))
        answer(app, q, due + timedelta(hours=1) if late else due - timedelta(hours=1))
    q = item(app, "question", state="answered", due_at=_utc(after + timedelta(days=3)))
    answer(app, q, _utc(after))  # next month's
    with app.app_context():
        months = risk.summary(db.session(), beijing_today())
    assert len(months) == 6 and months[0].start == beijing_today().replace(day=1)
    month = next(m for m in months if m.start == first)
    assert (month.orglife, month.study_minutes, month.reports, month.help, month.answered,
            month.answered_in_time) == (2, 75, 2, 1, 3, 2)
    page = editor.get(URL).get_data(as_text=True)
    assert (f'<th scope="row">{cn_month(first)}</th><td>2</td><td>75</td><td>2</td>'
            f"<td>1</td><td>3</td><td>2</td>") in page
    assert '<div class="scroll" role="region" aria-label="近六个月情况" tabindex="0">' in page
    assert len(re.findall(r'<th scope="row">\d{4}年\d{1,2}月</th>', page)) == 6


def test_no_personal_data_beyond_usernames(app, editor):
    add_user(app, "老李")
    with app.app_context():
        uid = _uid(db.session(), "老李")
    secrets = {"contact": "13812345678", "name": "张三丰", "branch": "东风村党支部",
               "destination": "宁波市鄞州区", "work": "港口装卸",
               "body": "这是一份思想汇报的正文", "orglife_away": "参加主题党日三次"}
    item(app, "departure", user_id=uid, **secrets)
    item(app, "help", contact="wx_laoli_2026", body="家里遇到困难需要走访")
    orglife(app, "老李", beijing_today() - timedelta(days=200))
    page = editor.get(URL).get_data(as_text=True)
    assert "老李" in page
    for value in (*secrets.values(), "wx_laoli_2026", "家里遇到困难", "城关镇第一支部",
                  "主题党日"):
        assert value not in page
