"""Members at risk (issue 14, branch): members without organisational life for 150 days or
more, reports and 三个必访 help requests waiting, and a monthly summary in counts only.

No ranking, no points, no scores: the list is ordered by how long ago the last
organisational life was, so the branch contacts the longest silent first. Usernames are
account names; nothing else about a member (no contact, no text they wrote) is shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from flask import Blueprint, render_template
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, aliased

from forms_app import db
from forms_app.duties.dates import add_months, cn_date, cn_month
from forms_app.editor import editor_required
from forms_app.forms import beijing_today
from forms_app.models import (
    AuditEntry,
    ContactNote,
    OrgLife,
    StudyLog,
    Submission,
    User,
    utcnow,
)
from forms_app.states import HELP, KIND_LABELS, QUESTION, REPORT_KINDS
from forms_app.working_days import BEIJING

bp = Blueprint("risk", __name__, url_prefix="/app")
RISK_DAYS = 150
SUMMARY_MONTHS = 6
LIST_LIMIT = 500
# A report or help request withdrawn by its sender, or marked spam, was never a real one.
NOT_COUNTED = ("withdrawn", "spam")


@dataclass(frozen=True)
class AtRisk:
    username: str
    buddy: str | None
    last_orglife: date | None
    days: int | None  # since last_orglife; None when there is no record at all
    last_study: date | None
    last_contact: date | None  # the buddy's last contact note (forms_app/pairs/contacts.py)


def at_risk(s: Session, today: date, limit: int = LIST_LIMIT) -> list[AtRisk]:
    """Members (role member) whose last organisational life (as forms_app.duties.orglife.last_day
    finds it: the latest org_life day) is RISK_DAYS or more before today, or who have none;
    those without a record first, then the longest ago first. A contact by the study buddy
    does not take a member off the list (a call is not organisational life, and the
    six-month line is about organisational life); the list shows the last contact beside
    it, so the branch sees who is being looked after and who is not."""
    last_org = (select(OrgLife.user_id, func.max(OrgLife.day).label("day"))
                .group_by(OrgLife.user_id).subquery())
    last_study = (select(StudyLog.user_id, func.max(StudyLog.day).label("day"))
                  .group_by(StudyLog.user_id).subquery())
    last_contact = (select(ContactNote.user_id, func.max(ContactNote.day).label("day"))
                    .group_by(ContactNote.user_id).subquery())
    buddy = aliased(User)
    rows = s.execute(
        select(User.username, buddy.username, last_org.c.day, last_study.c.day,
               last_contact.c.day)
        .outerjoin(buddy, User.buddy_id == buddy.id)
        .outerjoin(last_org, last_org.c.user_id == User.id)
        .outerjoin(last_study, last_study.c.user_id == User.id)
        .outerjoin(last_contact, last_contact.c.user_id == User.id)
        .where(User.role == "member", User.mobile.is_(True),
               or_(last_org.c.day.is_(None),
                   last_org.c.day <= today - timedelta(days=RISK_DAYS)))
        .order_by(last_org.c.day.is_not(None), last_org.c.day, User.username)
        .limit(limit)).all()
    return [AtRisk(name, buddy_name, org, (today - org).days if org else None, study,
                   contact)
            for name, buddy_name, org, study, contact in rows]


@dataclass(frozen=True)
class Waiting:
    kind: str
    count: int
    overdue: int


def waiting(s: Session, kinds: tuple[str, ...], now: datetime) -> list[Waiting]:
    """Per kind: items still 'received' (not yet acted on), and how many are past due."""
    rows = dict(s.execute(
        select(Submission.kind, func.count()).where(Submission.kind.in_(kinds),
                                                    Submission.state == "received")
        .group_by(Submission.kind)).all())
    late = dict(s.execute(
        select(Submission.kind, func.count()).where(Submission.kind.in_(kinds),
                                                    Submission.state == "received",
                                                    Submission.due_at < now)
        .group_by(Submission.kind)).all())
    return [Waiting(k, rows.get(k, 0), late.get(k, 0)) for k in kinds]


@dataclass(frozen=True)
class Month:
    start: date  # its first day, Beijing time
    orglife: int
    study_minutes: int
    reports: int
    help: int
    answered: int
    answered_in_time: int

    @property
    def label(self) -> str:
        return cn_month(self.start)


def _utc(day: date) -> datetime:
    """Beijing midnight at the start of day, as the naive UTC the database holds."""
    return datetime.combine(day, time(), BEIJING).astimezone(UTC).replace(tzinfo=None)


def _month(s: Session, start: date) -> Month:
    end = add_months(start, 1)
    t0, t1 = _utc(start), _utc(end)

    def count(query) -> int:
        return int(s.scalar(query) or 0)

    arrived = (Submission.created_at >= t0, Submission.created_at < t1,
               Submission.state.not_in(NOT_COUNTED))
    # A question counts in the month of its (first) answer: 'answer' rows of the audit log.
    answers = (select(AuditEntry.submission_id, func.min(AuditEntry.at).label("at"))
               .where(AuditEntry.action == "answer", AuditEntry.submission_id.is_not(None))
               .group_by(AuditEntry.submission_id).subquery())
    answered = (select(func.count()).select_from(answers)
                .join(Submission, Submission.id == answers.c.submission_id)
                .where(Submission.kind == QUESTION, answers.c.at >= t0, answers.c.at < t1))
    return Month(
        start=start,
        orglife=count(select(func.count()).select_from(OrgLife)
                      .where(OrgLife.day >= start, OrgLife.day < end)),
        study_minutes=count(select(func.sum(StudyLog.minutes))
                            .where(StudyLog.day >= start, StudyLog.day < end)),
        reports=count(select(func.count()).select_from(Submission)
                      .where(Submission.kind.in_(REPORT_KINDS), *arrived)),
        help=count(select(func.count()).select_from(Submission)
                   .where(Submission.kind == HELP, *arrived)),
        answered=count(answered),
        answered_in_time=count(answered.where(answers.c.at <= Submission.due_at)),
    )


def summary(s: Session, today: date, months: int = SUMMARY_MONTHS) -> list[Month]:
    """The last `months` Beijing months, this one (so far) first."""
    first = today.replace(day=1)
    return [_month(s, add_months(first, -n)) for n in range(months)]


@bp.get("/editor/risk")
@editor_required
def page():
    s = db.session()
    today = beijing_today()
    now = utcnow()
    reports = waiting(s, REPORT_KINDS, now)
    help_waiting = waiting(s, (HELP,), now)[0]
    return render_template(
        "editor/risk.html", members=at_risk(s, today), limit=LIST_LIMIT,
        risk_days=RISK_DAYS, reports=reports,
        reports_total=sum(w.count for w in reports),
        reports_overdue=sum(w.overdue for w in reports),
        help=help_waiting, months=summary(s, today), cn_date=cn_date,
        kind_labels=KIND_LABELS)
