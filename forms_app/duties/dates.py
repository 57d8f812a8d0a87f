"""A member's duties as dates: the six-month line for organisational life, the next
思想汇报, the 活动证's yearly check and three-year renewal, and dues. Pure date arithmetic
and the plain Chinese sentences the 我的 page shows for each state; no Flask, no database.

Every `today` is the member's day in Beijing (forms_app.forms.beijing_today). The rules'
wording stays on the site: the sentences link the FAQ entry rather than restate a rule
(the central one and the school's differ in whom they bind and what follows).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from typing import Literal

# 组织生活记录's kinds, as the member picks them (forms_app/models.py OrgLife.kind).
ORGLIFE_KINDS: tuple[str, ...] = (
    "支部党员大会", "支部委员会", "党小组会", "党课", "主题党日", "其他")
# The site's page on six months without organisational life, dues or assigned work.
SIX_MONTHS_FAQ = "/faq/six-months-no-life.html"
DUES_FAQ = "/faq/dues-while-away.html"
CARD_FAQ = "/faq/card-check-renew.html"
REPORT_FAQ = "/faq/report-each-year.html"
WARN_AFTER_MONTHS = 5
LINE_MONTHS = 6
CARD_VALID_MONTHS = 36
WHAT_TO_DO = "请尽快参加一次组织生活，或联系支部、帮学联系人说明情况。"

Stage = Literal["none", "ok", "warn", "over"]


def add_months(d: date, n: int) -> date:
    """`d` moved by `n` calendar months; a day past the end of the target month becomes its
    last day (2026-08-31 + 6 → 2027-02-28, 2027-08-31 + 6 → 2028-02-29)."""
    index = d.year * 12 + (d.month - 1) + n
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def cn_date(d: date) -> str:
    """2027年3月5日"""
    return f"{d.year}年{d.month}月{d.day}日"


def cn_month(d: date) -> str:
    """2027年3月"""
    return f"{d.year}年{d.month}月"


@dataclass(frozen=True)
class SixMonths:
    """Where a member stands against six months without organisational life."""

    stage: Stage
    last: date | None = None
    line: date | None = None  # six calendar months after the last one
    warn_from: date | None = None  # five calendar months after the last one
    days_left: int | None = None  # negative once the line is passed

    @property
    def sentence(self) -> str:
        if self.stage == "none" or self.last is None or self.line is None:
            return ("还没有组织生活记录。参加组织生活后请在这里记一笔，"
                    "就能看到离“连续六个月没有组织生活”还有多久。")
        assert self.days_left is not None
        last = f"上次组织生活：{cn_date(self.last)}。"
        line = f"距离“连续六个月没有组织生活”{{}} {self.days_left} 天（{cn_date(self.line)}）。"
        if self.stage == "ok":
            return last + line.format("还有")
        if self.stage == "warn":
            return last + line.format("只剩") + WHAT_TO_DO
        if self.days_left == 0:
            return f"{last}到今天（{cn_date(self.line)}）已满六个月没有组织生活记录。" + WHAT_TO_DO
        return (f"{last}到 {cn_date(self.line)} 已满六个月没有组织生活记录，"
                f"已过 {-self.days_left} 天。" + WHAT_TO_DO)

    @property
    def note(self) -> str:
        """A second line for warn and over: a record may only be missing, not the life."""
        if self.stage in ("warn", "over"):
            return "如果参加过组织生活但没有记录，请补记上。"
        return ""


def six_months(last: date | None, today: date) -> SixMonths:
    """ok before five months, warn from add_months(last, 5), over from the line on."""
    if last is None:
        return SixMonths("none")
    line = add_months(last, LINE_MONTHS)
    warn_from = add_months(last, WARN_AFTER_MONTHS)
    days_left = (line - today).days
    stage: Stage = "ok" if today < warn_from else "warn" if today < line else "over"
    return SixMonths(stage, last, line, warn_from, days_left)


@dataclass(frozen=True)
class Thought:
    """The next 思想汇报: `due` is None when none was ever sent (due now)."""

    every_months: int
    last: date | None
    due: date | None
    today: date

    @property
    def overdue(self) -> bool:
        return self.due is None or self.due <= self.today

    @property
    def sentence(self) -> str:
        how_often = "每半年" if self.every_months == 6 else "每年" if self.every_months == 12 \
            else f"每 {self.every_months} 个月"
        if self.last is None or self.due is None:
            return "还没有通过网上党校向支部报送过思想汇报，现在就可以写一份。"
        last = f"上次思想汇报：{cn_date(self.last)}。"
        if self.due <= self.today:
            return f"{last}按{how_often}一次提醒，{cn_date(self.due)} 已到期，请尽快报送。"
        days = (self.due - self.today).days
        return (f"{last}按{how_often}一次提醒，下一次请在 {cn_date(self.due)} 前报送"
                f"（还有 {days} 天）。")


def next_thought(last: date | None, every_months: int, today: date) -> Thought:
    due = add_months(last, every_months) if last else None
    return Thought(every_months, last, due, today)


@dataclass(frozen=True)
class Card:
    """The 流动党员活动证: checked every year after issue, renewed after three years."""

    issued: date
    next_check: date  # the next anniversary of issue on or after today
    renewal: date  # add_months(issued, 36)
    today: date

    @property
    def check_sentence(self) -> str:
        days = (self.next_check - self.today).days
        when = "就是今天" if days == 0 else f"还有 {days} 天"
        return f"活动证每年查验一次：下次查验 {cn_date(self.next_check)}（{when}），请与支部约好。"

    @property
    def renewal_sentence(self) -> str:
        days = (self.renewal - self.today).days
        if days > 0:
            return f"活动证用满三年要换发新证：{cn_date(self.renewal)} 满三年（还有 {days} 天）。"
        return f"活动证已于 {cn_date(self.renewal)} 用满三年，请及时到支部换发新证。"


def card(issued: date, today: date) -> Card:
    years = max(1, today.year - issued.year)
    check = add_months(issued, 12 * years)
    while check < today:
        years += 1
        check = add_months(issued, 12 * years)
    return Card(issued, check, add_months(issued, CARD_VALID_MONTHS), today)


@dataclass(frozen=True)
class Dues:
    """Dues the member declared paid up to `paid_until` (a month); `behind` months short of
    the current month (0 when paid up, negative when paid ahead)."""

    paid_until: date | None
    behind: int | None
    today: date

    @property
    def sentence(self) -> str:
        if self.paid_until is None or self.behind is None:
            return "还没有填写党费交到了哪个月。填上后，这里会提醒您有没有欠交。"
        paid = f"党费已交到 {cn_month(self.paid_until)}（本人填写）"
        if self.behind <= 0:
            return paid + "，本月不欠交。"
        if self.behind == 1:
            owed = f"本月（{cn_month(self.today)}）的还没有交。"
        else:
            first = add_months(self.paid_until, 1)
            owed = (f"{cn_month(first)}到本月（{cn_month(self.today)}）"
                    f"共 {self.behind} 个月还没有交。")
        return f"{paid}，{owed}请按时交纳；有困难请向支部说明。"


def months_between(earlier: date, later: date) -> int:
    return (later.year - earlier.year) * 12 + later.month - earlier.month


def dues(paid_until: date | None, today: date) -> Dues:
    if paid_until is None:
        return Dues(None, None, today)
    return Dues(paid_until.replace(day=1), months_between(paid_until, today), today)
