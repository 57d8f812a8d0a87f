"""The study buddy's care list at the top of /app/buddy (forms_app/pairs/care.py), end to end
through the test client on SQLite and PostgreSQL: amber from 120 and red from 150 days since
the last organisational life, red first then amber, a member with no record in neutral
words, the reports waiting counted and linked, and another buddy's member never shown."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest
from conftest import add_user, login
from sqlalchemy import select

from forms_app import db
from forms_app.models import OrgLife, StudyLog, Submission, User
from forms_app.pairs import care

TODAY = date(2026, 12, 7)
BUDDY = "帮学人"


@pytest.fixture(autouse=True)
def frozen_today(monkeypatch):
    monkeypatch.setattr(care, "beijing_today", lambda: TODAY)


def user_id(app, name: str) -> int:
    with app.app_context():
        return db.session().scalar(select(User.id).where(User.username == name))


def add_orglife(app, name: str, day: date) -> None:
    with app.app_context():
        s = db.session()
        s.add(OrgLife(user_id=s.scalar(select(User.id).where(User.username == name)),
                      day=day, organisation="宁波港党委第三党支部", kind="党课"))
        s.commit()


def add_study(app, name: str, day: date) -> None:
    with app.app_context():
        s = db.session()
        s.add(StudyLog(user_id=s.scalar(select(User.id).where(User.username == name)),
                       day=day, topic="党章第三章", minutes=30, mode="网上学"))
        s.commit()


def add_submission(app, name: str, kind: str, state: str, n: int) -> int:
    at = datetime(2026, 11, 2, 3)
    with app.app_context():
        s = db.session()
        item = Submission(kind=kind, code=f"CARECODE{n}", body="汇报", state=state,
                          user_id=s.scalar(select(User.id).where(User.username == name)),
                          created_at=at, updated_at=at, due_at=at)
        s.add(item)
        s.commit()
        return item.id


def buddy_client(app, name: str = BUDDY):
    client = app.test_client()
    assert login(client, name).status_code == 303
    return client


def care_section(client) -> str:
    page = client.get("/app/buddy")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    match = re.search(r'<section class="duties" id="care".*?</section>', text, re.S)
    assert match, text[:3000]
    return match.group(0)


def card(section: str, uid: int) -> str:
    """One member's card: from its opening tag to the next card or the list's end."""
    start = section.index(f'id="care-{uid}"')
    end = section.find('<li class="duty ', start)
    return section[start:end if end != -1 else len(section)]


@pytest.mark.parametrize("days,stage", [(0, "ok"), (119, "ok"), (120, "warn"), (149, "warn"),
                                        (150, "over"), (200, "over")])
def test_thresholds(app, days, stage):
    add_user(app, BUDDY)
    add_user(app, "老王", buddy=BUDDY)
    add_orglife(app, "老王", TODAY - timedelta(days=400))  # an older one does not count
    add_orglife(app, "老王", TODAY - timedelta(days=days))
    section = care_section(buddy_client(app))
    uid = user_id(app, "老王")
    assert f'<li class="duty {stage}" id="care-{uid}">' in section
    last = TODAY - timedelta(days=days)
    assert (f"上次组织生活：{last.year}年{last.month}月{last.day}日（已过 {days} 天）。"
            in section)
    assert ("已满 150 天没有组织生活记录，请尽快联系。" in section) == (stage == "over")
    assert ("已满 120 天没有组织生活记录，请多关心。" in section) == (stage == "warn")


def test_stage_boundaries():
    assert [care.stage_for(d) for d in (None, 0, 119, 120, 149, 150)] == [
        "none", "ok", "ok", "warn", "warn", "over"]


def test_card_in_plain_words(app):
    add_user(app, BUDDY)
    add_user(app, "老王", buddy=BUDDY)
    add_orglife(app, "老王", date(2026, 9, 5))
    add_study(app, "老王", date(2026, 11, 30))
    add_study(app, "老王", date(2026, 12, 1))
    section = care_section(buddy_client(app))
    assert "<strong>老王</strong>" in section
    assert "上次组织生活：2026年9月5日（已过 93 天）。" in section
    assert "离“连续六个月没有组织生活”还有 88 天（2027年3月5日）。" in section
    assert "上次学习：2026年12月1日。" in section
    assert "待支部阅的报告：0 份。" in section
    for word in ("积分", "排名", "得分", "分数", "脱党"):
        assert word not in section


def test_past_the_line(app):
    add_user(app, BUDDY)
    add_user(app, "老王", buddy=BUDDY)
    add_orglife(app, "老王", date(2026, 5, 1))
    section = care_section(buddy_client(app))
    assert "上次组织生活：2026年5月1日（已过 220 天）。" in section
    assert "到 2026年11月1日 已满六个月没有组织生活记录，已过 36 天。" in section


def test_no_record_is_neutral(app):
    add_user(app, BUDDY)
    add_user(app, "老王", buddy=BUDDY)
    section = care_section(buddy_client(app))
    uid = user_id(app, "老王")
    assert f'<li class="duty none" id="care-{uid}">' in section
    text = card(section, uid)
    assert "还没有组织生活记录。" in text and "还没有学习记录。" in text
    assert "已过" not in text and "已满" not in text and "over" not in text


def test_order_red_then_amber_then_the_rest(app):
    add_user(app, BUDDY)
    for name in ("甲", "乙", "丙", "丁", "戊"):
        add_user(app, name, buddy=BUDDY)
    add_orglife(app, "甲", TODAY - timedelta(days=10))  # ok
    add_orglife(app, "丙", TODAY - timedelta(days=151))  # over
    add_orglife(app, "丁", TODAY - timedelta(days=121))  # warn
    add_orglife(app, "戊", TODAY - timedelta(days=300))  # over
    # 乙 has no record: neutral, with the rest
    section = care_section(buddy_client(app))
    order = [int(i) for i in re.findall(r'id="care-(\d+)"', section)]
    stages = dict(zip(order, re.findall(r'<li class="duty (\w+)" id="care-', section), strict=True))
    ids = {name: user_id(app, name) for name in ("甲", "乙", "丙", "丁", "戊")}
    assert len(order) == 5
    assert [stages[i] for i in order[:3]] == ["over", "over", "warn"]
    assert set(order[:2]) == {ids["丙"], ids["戊"]}
    assert order[2] == ids["丁"]
    assert set(order[3:]) == {ids["甲"], ids["乙"]}


def test_reports_waiting_counted_and_linked(app):
    add_user(app, BUDDY)
    add_user(app, "老王", buddy=BUDDY)
    waiting = [add_submission(app, "老王", "departure", "received", 1),
               add_submission(app, "老王", "thought", "received", 2)]
    read = add_submission(app, "老王", "return", "acknowledged", 3)
    gone = add_submission(app, "老王", "thought", "withdrawn", 4)
    client = buddy_client(app)
    section = care_section(client)
    assert "待支部阅的报告：2 份。" in section
    assert f'<a href="/app/report/{waiting[0]}">外出报告（2026年11月2日报送）</a>' in section
    assert f'<a href="/app/report/{waiting[1]}">思想汇报（2026年11月2日报送）</a>' in section
    assert f"/app/report/{read}" not in section and f"/app/report/{gone}" not in section
    for ident in waiting:
        assert client.get(f"/app/report/{ident}").status_code == 200


def test_another_buddys_member_never_shown(app):
    add_user(app, BUDDY)
    add_user(app, "别的帮学人")
    add_user(app, "老王", buddy=BUDDY)
    add_user(app, "老李", buddy="别的帮学人")
    add_orglife(app, "老李", TODAY - timedelta(days=200))
    theirs = add_submission(app, "老李", "departure", "received", 1)
    section = care_section(buddy_client(app))
    assert "老王" in section and "老李" not in section
    assert f"/app/report/{theirs}" not in section
    assert f'id="care-{user_id(app, "老李")}"' not in section
    other = care_section(buddy_client(app, "别的帮学人"))
    assert "老李" in other and "老王" not in other
    with app.app_context():
        names = [c.username for c in care.cards(db.session(), user_id(app, BUDDY), TODAY)]
    assert names == ["老王"]


def test_no_pairs_page_as_before(app):
    add_user(app, "老王")
    client = buddy_client(app, "老王")
    page = client.get("/app/buddy").get_data(as_text=True)
    assert 'id="care"' not in page and "结对党员近况" not in page
    assert "暂时没有需要您确认的学习记录。" in page


def add_contact(app, name: str, day: date, channel: str) -> None:
    from forms_app.models import ContactNote

    with app.app_context():
        s = db.session()
        s.add(ContactNote(user_id=s.scalar(select(User.id).where(User.username == name)),
                          author_id=s.scalar(select(User.id).where(User.username == BUDDY)),
                          day=day, channel=channel, note="电话联系，一切都好。"))
        s.commit()


def test_last_contact_on_the_card_and_the_link_to_the_members_page(app):
    add_user(app, BUDDY)
    add_user(app, "老王", buddy=BUDDY)
    add_user(app, "老张", buddy=BUDDY)
    add_contact(app, "老王", date(2026, 11, 20), "visit")
    add_contact(app, "老王", date(2026, 12, 1), "phone")
    add_contact(app, "老王", date(2026, 12, 1), "wechat")  # the later one of that day
    add_contact(app, "老王", date(2026, 11, 25), "cloud")  # recorded late, older day
    section = care_section(buddy_client(app))
    wang, zhang = user_id(app, "老王"), user_id(app, "老张")
    assert "最近联系：2026年12月1日，微信。" in card(section, wang)
    assert "还没有联系记录。" in card(section, zhang)
    assert "电话联系，一切都好。" not in section  # the note itself stays on the member page
    for uid in (wang, zhang):
        assert f'href="/app/buddy/{uid}">联系记录与代记</a>' in card(section, uid)
