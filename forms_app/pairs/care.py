"""The study buddy's care list (关心名单) at the top of /app/buddy: one card per member paired
with the buddy (User.buddy_id), with their last study, last organisational life, the days
to the six-month line, the buddy's last contact and the reports waiting for the branch to
read; each card links to the buddy's page for that member (forms_app/pairs).

Cards are amber from WARN_DAYS and red from OVER_DAYS since the last organisational life; a
member with no record at all is neutral (grey), never red. Red cards come first, then amber,
then the rest, each group by name: no ranking, no points, no scores.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from forms_app.duties import dates as duties
from forms_app.duties.dates import SixMonths, cn_date
from forms_app.forms import beijing_today
from forms_app.models import OrgLife, StudyLog, Submission, User
from forms_app.pairs import contacts
from forms_app.states import KIND_LABELS, REPORT_KINDS
from forms_app.working_days import beijing

WARN_DAYS = 120
OVER_DAYS = 150
MAX_PAIRS = 500

Stage = Literal["none", "ok", "warn", "over"]
_ORDER: dict[str, int] = {"over": 0, "warn": 1, "ok": 2, "none": 2}


def stage_for(since: int | None) -> Stage:
    """The card's colour from the days since the last organisational life."""
    if since is None:
        return "none"
    return "over" if since >= OVER_DAYS else "warn" if since >= WARN_DAYS else "ok"


@dataclass(frozen=True)
class WaitingReport:
    id: int
    label: str  # 外出报告（2026年11月2日报送）


@dataclass(frozen=True)
class Card:
    user_id: int
    username: str
    last_study: date | None
    last_orglife: date | None
    six: SixMonths
    since: int | None  # days since the last organisational life
    reports: tuple[WaitingReport, ...]
    # The buddy's last contact note (forms_app/pairs/contacts.py): its day and channel.
    last_contact: date | None = None
    last_contact_channel: str | None = None

    @property
    def stage(self) -> Stage:
        return stage_for(self.since)

    @property
    def flag(self) -> str:
        """The stage in words, so that colour is never the only sign."""
        if self.stage == "over":
            return f"已满 {OVER_DAYS} 天没有组织生活记录，请尽快联系。"
        if self.stage == "warn":
            return f"已满 {WARN_DAYS} 天没有组织生活记录，请多关心。"
        return ""

    @property
    def orglife_sentence(self) -> str:
        if self.last_orglife is None:
            return "还没有组织生活记录。"
        return f"上次组织生活：{cn_date(self.last_orglife)}（已过 {self.since} 天）。"

    @property
    def line_sentence(self) -> str:
        """The six-month line in plain words; empty when there is no record."""
        six = self.six
        if six.line is None or six.days_left is None:
            return ""
        if six.days_left > 0:
            return f"离“连续六个月没有组织生活”还有 {six.days_left} 天（{cn_date(six.line)}）。"
        if six.days_left == 0:
            return f"到今天（{cn_date(six.line)}）已满六个月没有组织生活记录。"
        return (f"到 {cn_date(six.line)} 已满六个月没有组织生活记录，"
                f"已过 {-six.days_left} 天。")

    @property
    def study_sentence(self) -> str:
        if self.last_study is None:
            return "还没有学习记录。"
        return f"上次学习：{cn_date(self.last_study)}。"

    @property
    def contact_sentence(self) -> str:
        if self.last_contact is None:
            return "还没有联系记录。"
        return f"最近联系：{cn_date(self.last_contact)}，{self.last_contact_channel}。"

    @property
    def reports_sentence(self) -> str:
        return f"待支部阅的报告：{len(self.reports)} 份。"


def _last_days(s: Session, column, user_column, ids: list[int]) -> dict[int, date]:
    return dict(s.execute(select(user_column, func.max(column))
                          .where(user_column.in_(ids)).group_by(user_column)).all())


def cards(s: Session, buddy_id: int, today: date | None = None) -> list[Card]:
    """The care list of this buddy's pairs (and nobody else's), red first, then amber."""
    today = today or beijing_today()
    pairs = list(s.execute(select(User.id, User.username).where(User.buddy_id == buddy_id)
                           .order_by(User.username, User.id).limit(MAX_PAIRS)).all())
    if not pairs:
        return []
    ids = [uid for uid, _ in pairs]
    study = _last_days(s, StudyLog.day, StudyLog.user_id, ids)
    orglife = _last_days(s, OrgLife.day, OrgLife.user_id, ids)
    contacted = contacts.latest_contacts(s, ids)
    waiting: dict[int, list[WaitingReport]] = {uid: [] for uid in ids}
    for item in s.scalars(select(Submission).where(
            Submission.user_id.in_(ids), Submission.kind.in_(REPORT_KINDS),
            Submission.state == "received").order_by(Submission.id)):
        sent = cn_date(beijing(item.created_at).date())
        waiting[item.user_id].append(
            WaitingReport(item.id, f"{KIND_LABELS[item.kind]}（{sent}报送）"))
    result = []
    for uid, name in pairs:
        last = orglife.get(uid)
        result.append(Card(
            user_id=uid, username=name, last_study=study.get(uid), last_orglife=last,
            six=duties.six_months(last, today),
            since=(today - last).days if last else None,
            reports=tuple(waiting[uid]),
            last_contact=contacted[uid][0] if uid in contacted else None,
            last_contact_channel=contacted[uid][1] if uid in contacted else None))
    # sorted() is stable: within each colour the cards keep the order by name.
    return sorted(result, key=lambda card: _ORDER[card.stage])
