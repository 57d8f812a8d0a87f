"""forms_app/duties/dates.py: calendar months across month ends and leap days, the five- and
six-month thresholds (the day before, the day, the day after), the next 思想汇报, the
活动证's dates and dues behind across a year boundary, and the sentences for each state."""

from __future__ import annotations

from datetime import date

import pytest

from forms_app.duties import dates as duties
from forms_app.duties.dates import add_months, six_months

D = date.fromisoformat


@pytest.mark.parametrize("start,months,expected", [
    ("2026-08-31", 6, "2027-02-28"),  # into a short February
    ("2027-08-31", 6, "2028-02-29"),  # into a leap February
    ("2028-02-29", 12, "2029-02-28"),  # a leap day a year on
    ("2028-02-29", 48, "2032-02-29"),  # and four years on
    ("2028-02-29", 6, "2028-08-29"),
    ("2026-12-31", 1, "2027-01-31"),  # across the year end
    ("2026-12-31", 2, "2027-02-28"),
    ("2026-12-31", 6, "2027-06-30"),
    ("2026-01-31", 1, "2026-02-28"),
    ("2026-07-31", 5, "2026-12-31"),
    ("2026-09-30", 5, "2027-02-28"),
    ("2026-03-31", -1, "2026-02-28"),
    ("2027-01-15", -1, "2026-12-15"),
    ("2026-05-15", 0, "2026-05-15"),
    ("2026-01-01", 36, "2029-01-01"),
])
def test_add_months(start, months, expected):
    assert add_months(D(start), months) == D(expected)


@pytest.mark.parametrize("last,today,stage,days_left", [
    # Last on 31 August 2026: the warning from 31 January, the line on 28 February.
    ("2026-08-31", "2026-08-31", "ok", 181),
    ("2026-08-31", "2027-01-30", "ok", 29),
    ("2026-08-31", "2027-01-31", "warn", 28),
    ("2026-08-31", "2027-02-01", "warn", 27),
    ("2026-08-31", "2027-02-27", "warn", 1),
    ("2026-08-31", "2027-02-28", "over", 0),
    ("2026-08-31", "2027-03-01", "over", -1),
    # A leap February: the line on 29 February 2028.
    ("2027-08-31", "2028-01-30", "ok", 30),
    ("2027-08-31", "2028-01-31", "warn", 29),
    ("2027-08-31", "2028-02-28", "warn", 1),
    ("2027-08-31", "2028-02-29", "over", 0),
    ("2027-08-31", "2028-03-01", "over", -1),
    # From a leap day: warning 29 July, line 29 August 2028.
    ("2028-02-29", "2028-07-28", "ok", 32),
    ("2028-02-29", "2028-07-29", "warn", 31),
    ("2028-02-29", "2028-07-30", "warn", 30),
    ("2028-02-29", "2028-08-28", "warn", 1),
    ("2028-02-29", "2028-08-29", "over", 0),
    ("2028-02-29", "2028-08-30", "over", -1),
    # From New Year's Eve: warning 31 May, line 30 June 2027.
    ("2026-12-31", "2027-05-30", "ok", 31),
    ("2026-12-31", "2027-05-31", "warn", 30),
    ("2026-12-31", "2027-06-01", "warn", 29),
    ("2026-12-31", "2027-06-29", "warn", 1),
    ("2026-12-31", "2027-06-30", "over", 0),
    ("2026-12-31", "2027-07-01", "over", -1),
])
def test_six_month_line_thresholds(last, today, stage, days_left):
    line = six_months(D(last), D(today))
    assert (line.stage, line.days_left) == (stage, days_left)
    assert line.line == add_months(D(last), 6)
    assert line.warn_from == add_months(D(last), 5)


def test_nothing_recorded():
    line = six_months(None, D("2026-12-07"))
    assert line.stage == "none" and line.days_left is None and line.line is None
    assert line.sentence.startswith("还没有组织生活记录。")


def test_sentences_in_plain_words():
    ok = six_months(D("2026-09-05"), D("2027-01-27"))
    assert ok.sentence == "上次组织生活：2026年9月5日。距离“连续六个月没有组织生活”还有 37 天（2027年3月5日）。"
    assert ok.note == ""
    warn = six_months(D("2026-09-05"), D("2027-02-05"))
    assert warn.stage == "warn"
    assert warn.sentence == ("上次组织生活：2026年9月5日。距离“连续六个月没有组织生活”只剩 28 天（2027年3月5日）。"
                             "请尽快参加一次组织生活，或联系支部、帮学联系人说明情况。")
    assert warn.note == "如果参加过组织生活但没有记录，请补记上。"
    today = six_months(D("2026-09-05"), D("2027-03-05"))
    assert "到今天（2027年3月5日）已满六个月没有组织生活记录。" in today.sentence
    over = six_months(D("2026-09-05"), D("2027-03-15"))
    assert "到 2027年3月5日 已满六个月没有组织生活记录，已过 10 天。" in over.sentence
    assert duties.WHAT_TO_DO in over.sentence


def test_sentences_do_not_restate_the_rule():
    """The rules differ in whom they bind and what follows: the page links the FAQ."""
    texts = [six_months(D("2026-01-01"), D(t)).sentence
             for t in ("2026-03-01", "2026-06-10", "2026-07-01", "2027-01-01")]
    texts += [duties.dues(D("2026-01-01"), D("2026-12-01")).sentence]
    for text in texts:
        for word in ("脱党", "组织处理", "处分", "开除"):
            assert word not in text


@pytest.mark.parametrize("last,every,today,due,overdue", [
    (None, 12, "2026-12-07", None, True),
    ("2026-03-10", 12, "2026-12-07", "2027-03-10", False),
    ("2026-03-10", 6, "2026-12-07", "2026-09-10", True),
    ("2026-08-31", 6, "2027-02-27", "2027-02-28", False),
    ("2026-08-31", 6, "2027-02-28", "2027-02-28", True),
    ("2027-02-28", 12, "2028-02-28", "2028-02-28", True),
])
def test_next_thought_report(last, every, today, due, overdue):
    thought = duties.next_thought(D(last) if last else None, every, D(today))
    assert thought.due == (D(due) if due else None)
    assert thought.overdue is overdue


def test_thought_sentences():
    never = duties.next_thought(None, 12, D("2026-12-07"))
    assert never.sentence == "还没有通过网上党校向支部报送过思想汇报，现在就可以写一份。"
    late = duties.next_thought(D("2026-03-10"), 6, D("2026-12-07"))
    assert late.sentence == "上次思想汇报：2026年3月10日。按每半年一次提醒，2026年9月10日 已到期，请尽快报送。"
    soon = duties.next_thought(D("2026-03-10"), 12, D("2026-12-07"))
    assert soon.sentence == ("上次思想汇报：2026年3月10日。按每年一次提醒，"
                             "下一次请在 2027年3月10日 前报送（还有 93 天）。")


@pytest.mark.parametrize("issued,today,check,renewal", [
    ("2025-12-07", "2026-12-07", "2026-12-07", "2028-12-07"),  # the anniversary is today
    ("2025-12-08", "2026-12-07", "2026-12-08", "2028-12-08"),  # tomorrow
    ("2025-12-06", "2026-12-07", "2027-12-06", "2028-12-06"),  # yesterday: next year's
    ("2026-12-07", "2026-12-07", "2027-12-07", "2029-12-07"),  # issued today
    ("2024-02-29", "2026-12-07", "2027-02-28", "2027-02-28"),  # a leap day's anniversary
    ("2024-02-29", "2028-01-10", "2028-02-29", "2027-02-28"),
    ("2020-05-01", "2026-12-07", "2027-05-01", "2023-05-01"),  # long past renewal
])
def test_card_check_and_renewal(issued, today, check, renewal):
    card = duties.card(D(issued), D(today))
    assert (card.next_check, card.renewal) == (D(check), D(renewal))


def test_card_sentences():
    card = duties.card(D("2025-03-01"), D("2026-12-07"))
    assert card.check_sentence == "活动证每年查验一次：下次查验 2027年3月1日（还有 84 天），请与支部约好。"
    assert card.renewal_sentence == "活动证用满三年要换发新证：2028年3月1日 满三年（还有 450 天）。"
    old = duties.card(D("2020-05-01"), D("2026-12-07"))
    assert old.renewal_sentence == "活动证已于 2023年5月1日 用满三年，请及时到支部换发新证。"
    assert "就是今天" in duties.card(D("2025-12-07"), D("2026-12-07")).check_sentence


@pytest.mark.parametrize("paid,today,behind", [
    ("2026-11-01", "2027-01-05", 2),  # across the year boundary
    ("2026-12-01", "2027-01-01", 1),
    ("2026-12-01", "2026-12-31", 0),
    ("2027-01-01", "2027-01-31", 0),
    ("2027-03-01", "2027-01-31", -2),  # paid ahead
    ("2025-12-01", "2027-01-02", 13),
])
def test_dues_behind(paid, today, behind):
    assert duties.dues(D(paid), D(today)).behind == behind


def test_dues_sentences():
    assert duties.dues(None, D("2026-12-07")).behind is None
    assert "还没有填写" in duties.dues(None, D("2026-12-07")).sentence
    assert duties.dues(D("2026-12-01"), D("2026-12-07")).sentence == \
        "党费已交到 2026年12月（本人填写），本月不欠交。"
    assert duties.dues(D("2026-11-01"), D("2026-12-07")).sentence == \
        "党费已交到 2026年11月（本人填写），本月（2026年12月）的还没有交。请按时交纳；有困难请向支部说明。"
    assert duties.dues(D("2026-10-01"), D("2027-01-07")).sentence == (
        "党费已交到 2026年10月（本人填写），2026年11月到本月（2027年1月）共 3 个月还没有交。"
        "请按时交纳；有困难请向支部说明。")
