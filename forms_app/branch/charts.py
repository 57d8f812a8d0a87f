"""图表 (issue 14, branch): three pictures for editors, drawn on the server as SVG
(forms_app/branch/chart_svg.py), each followed by a table of the same numbers.

(a) per month, the share of mailbox questions answered within two working days: of the
    questions due that month (Beijing time), how many had their first reply (答复, or 不予
    答复 with its reason) by the due time;
(b) items waiting now by how long they have waited, in working days, per kind;
(c) per month, study minutes and organisational-life records (risk.summary's numbers).

Counts only: no names, no ranking, no points. The numbers come from pure functions
(on_time_by_month, open_by_age) that tests call without the app.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import Blueprint, render_template
from markupsafe import Markup
from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from forms_app import db
from forms_app.branch import risk
from forms_app.branch.chart_svg import BLUE, GREEN, RED, Bar, Group, Row, hbars
from forms_app.duties.dates import add_months, cn_month
from forms_app.editor import editor_required
from forms_app.forms import beijing_today
from forms_app.models import AuditEntry, Submission, utcnow
from forms_app.moderation import calendar
from forms_app.states import HELP, OPEN_STATES, QUESTION, REPORT_KINDS
from forms_app.working_days import beijing

bp = Blueprint("charts", __name__, url_prefix="/app")
MONTHS = 12
# The first of these on a question is its reply: the asker reads an answer or a reason.
REPLY_ACTIONS = ("answer", "reject")
# An item waits from its arrival, or from the day its sender reopened it.
WAIT_ACTIONS = ("submit", "reopen")
# Picture (b)'s kinds: label and the submission kinds it counts.
KIND_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("信箱问题", (QUESTION,)), ("报告", REPORT_KINDS), ("三个必访求助", (HELP,)))
KIND_COLOURS = (RED, BLUE, GREEN)


@dataclass(frozen=True)
class Bucket:
    low: int
    high: int | None  # None: no upper end
    short: str  # in the picture
    label: str  # in the table


BUCKETS = (Bucket(0, 2, "0–2 天", "0–2 个工作日"), Bucket(3, 5, "3–5 天", "3–5 个工作日"),
           Bucket(6, 10, "6–10 天", "6–10 个工作日"),
           Bucket(11, None, "超过 10 天", "超过 10 个工作日"))


def percent(part: int, whole: int) -> int | None:
    """part of whole in whole per cent, halves rounded up (2 of 3 → 67); None of nothing."""
    return (200 * part + whole) // (2 * whole) if whole else None


def month_starts(today: date, months: int = MONTHS) -> list[date]:
    """The first days of the last `months` Beijing months, oldest first, this one last."""
    first = today.replace(day=1)
    return [add_months(first, -n) for n in range(months - 1, -1, -1)]


def month_of(moment: datetime) -> date:
    """The first day of the Beijing month a naive UTC moment falls in."""
    return beijing(moment).date().replace(day=1)


@dataclass(frozen=True)
class OnTime:
    start: date
    due: int  # questions due this month whose outcome is known
    in_time: int  # of those, first reply by the due time

    @property
    def label(self) -> str:
        return cn_month(self.start)

    @property
    def percent(self) -> int | None:
        return percent(self.in_time, self.due)


def on_time_by_month(rows: Iterable[tuple[datetime, datetime | None, bool]],
                     months: Sequence[date], now: datetime) -> list[OnTime]:
    """rows: (due_at, first reply or None, paused) of questions, naive UTC. A question
    counts in the Beijing month of its due time; one neither replied to nor yet due, or
    waiting for a leader's instruction (paused, its clock stopped), is not decided yet
    and is left out."""
    counts = {m: [0, 0] for m in months}
    for due_at, replied, paused in rows:
        month = counts.get(month_of(due_at))
        if month is None or (replied is None and (paused or due_at > now)):
            continue
        month[0] += 1
        if replied is not None and replied <= due_at:
            month[1] += 1
    return [OnTime(m, *counts[m]) for m in months]


def question_rows(s: Session, first: date, end: date) -> list[tuple[datetime, datetime | None,
                                                                    bool]]:
    """(due_at, first reply, paused) of the questions due from `first` to before `end`
    (Beijing days), withdrawn ones and spam left out."""
    rows = s.execute(
        select(Submission.due_at, func.min(AuditEntry.at), Submission.state)
        .outerjoin(AuditEntry, and_(AuditEntry.submission_id == Submission.id,
                                    AuditEntry.action.in_(REPLY_ACTIONS)))
        .where(Submission.kind == QUESTION, Submission.due_at >= risk._utc(first),
               Submission.due_at < risk._utc(end), Submission.state.not_in(risk.NOT_COUNTED))
        .group_by(Submission.id, Submission.due_at, Submission.state))
    return [(due, replied, state == "referred") for due, replied, state in rows]


@dataclass(frozen=True)
class AgeRow:
    bucket: Bucket
    counts: tuple[int, ...]  # per KIND_GROUPS

    @property
    def total(self) -> int:
        return sum(self.counts)


def open_by_age(rows: Iterable[tuple[str, date]], today: date,
                is_workday: Callable[[date], bool]) -> list[AgeRow]:
    """rows: (kind, Beijing day it started waiting) of items waiting now. Its age is the
    number of working days after that day up to today: 0 on the day it came, 2 on the
    day a question is due."""
    rows = list(rows)
    ages: dict[date, int] = {}
    if rows:
        earliest, day, n = min(d for _, d in rows), today, 0
        while day >= earliest:
            ages[day] = n
            n += bool(is_workday(day))
            day -= timedelta(days=1)
    group_of = {kind: i for i, (_, kinds) in enumerate(KIND_GROUPS) for kind in kinds}
    table = [[0] * len(KIND_GROUPS) for _ in BUCKETS]
    for kind, day in rows:
        if kind not in group_of:
            continue
        age = ages.get(day, 0)
        i = next(i for i, b in enumerate(BUCKETS) if b.high is None or age <= b.high)
        table[i][group_of[kind]] += 1
    return [AgeRow(b, tuple(counts)) for b, counts in zip(BUCKETS, table, strict=True)]


def open_rows(s: Session) -> list[tuple[str, date]]:
    """(kind, Beijing day it started waiting) of every question, report and help request
    still waiting for the branch."""
    kinds = [kind for _, group in KIND_GROUPS for kind in group]
    rows = s.execute(
        select(Submission.kind, Submission.created_at, func.max(AuditEntry.at))
        .outerjoin(AuditEntry, and_(AuditEntry.submission_id == Submission.id,
                                    AuditEntry.action.in_(WAIT_ACTIONS)))
        .where(Submission.kind.in_(kinds), Submission.state.in_(OPEN_STATES))
        .group_by(Submission.id, Submission.kind, Submission.created_at))
    return [(kind, beijing(max(created, since or created)).date())
            for kind, created, since in rows]


def _short_month(start: date) -> str:
    return f"{start.year}年{start.month}月"


def on_time_svg(months: Sequence[OnTime]) -> Markup:
    rows = []
    for m in months:
        if m.percent is None:
            bar = Bar(0, "没有到期的问题")
        else:
            bar = Bar(m.percent / 100, f"{m.percent}%（{m.in_time}/{m.due}）")
        rows.append(Row(_short_month(m.start), (bar,)))
    return hbars("chart-on-time", "信箱问题两个工作日内答复的比例",
                 "每月一条横条，横条越长，按时答复的比例越高；横条后写着比例和条数，"
                 "数字也见下表。", [Group(None, tuple(rows))], scale="100%")


def age_svg(rows: Sequence[AgeRow]) -> Markup:
    top = max([1, *(c for r in rows for c in r.counts)])
    groups = [Group(f"{label}（共 {sum(r.counts[i] for r in rows)} 条）", tuple(
        Row(r.bucket.short, (Bar(r.counts[i] / top, f"{r.counts[i]} 条", KIND_COLOURS[i]),))
        for r in rows)) for i, (label, _) in enumerate(KIND_GROUPS)]
    return hbars("chart-ages", "待办事项已等待的工作日",
                 "分信箱问题、报告、三个必访求助三组，每组按已等待的工作日分四档，"
                 "横条后写着条数，数字也见下表。", groups)


def activity_svg(months: Sequence[risk.Month]) -> Markup:
    most_minutes = max([1, *(m.study_minutes for m in months)])
    most_orglife = max([1, *(m.orglife for m in months)])
    rows = tuple(Row(_short_month(m.start), (
        Bar(m.study_minutes / most_minutes, f"{m.study_minutes} 分钟", RED),
        Bar(m.orglife / most_orglife, f"{m.orglife} 条", BLUE))) for m in months)
    return hbars("chart-activity", "每月学习时长和组织生活记录",
                 "每月两条横条：上面一条是学习时长（分钟），下面一条是组织生活记录（条），"
                 "横条后写着数字和单位，数字也见下表。", [Group(None, rows)],
                 legend=((RED, "学习时长（分钟）"), (BLUE, "组织生活记录（条）")))


@bp.get("/editor/charts")
@editor_required
def page():
    s = db.session()
    today, now = beijing_today(), utcnow()
    months = month_starts(today)
    on_time = on_time_by_month(question_rows(s, months[0], add_months(months[-1], 1)),
                               months, now)
    work = calendar()
    ages = open_by_age(open_rows(s), today, lambda day: work.is_workday(day)[0])
    activity = list(reversed(risk.summary(s, today, MONTHS)))
    return render_template(
        "editor/charts.html", months=MONTHS, on_time=on_time, ages=ages,
        kind_labels=[label for label, _ in KIND_GROUPS], activity=activity,
        on_time_svg=on_time_svg(on_time), age_svg=age_svg(ages),
        activity_svg=activity_svg(activity))
