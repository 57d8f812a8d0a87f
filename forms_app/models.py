"""Tables of the forms app (SQLAlchemy 2). Times are naive UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask_login import UserMixin
from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    pass


class User(UserMixin, Base):
    """A member, study buddy, editor or admin. Only a username and a password hash."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(40), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(10), default="member")  # member|editor|admin
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Raised on logout and password change: every older session cookie stops working.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    # The member's 帮学联系人 (1+1 结对帮学), who sees and confirms their study logs.
    buddy_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # What the member declares for their 我的 page (forms_app/duties/dates.py): dues paid up to
    # this month (its first day), the issue date of their 《流动党员活动证》, and how often
    # they owe a 思想汇报 (12 months; 6 for a school's graduates away from school).
    dues_paid_until: Mapped[date | None] = mapped_column(Date)
    card_issued_on: Mapped[date | None] = mapped_column(Date)
    thought_every_months: Mapped[int] = mapped_column(Integer, default=12)
    # Account recovery without phone or e-mail (forms_app/recovery.py): the hash of the
    # recovery code shown once at registration; NULL once used or never made.
    recovery_hash: Mapped[str | None] = mapped_column(String(255))
    # A mobile member (流动党员), or a member at home who is only someone's study buddy:
    # set by an editor; 断线提醒 and the ledger count mobile members only.
    mobile: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())

    buddy: Mapped[User | None] = relationship(remote_side=[id])

    @property
    def is_editor(self) -> bool:
        return self.role in ("editor", "admin")

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        # The version makes every cookie issued before a logout or password change stale.
        return f"{self.id}:{self.session_version}"


class Submission(Base):
    """One item of the moderated queue: a mailbox question (kind question), a 流动党员之声
    article (voice), a member's private report to the branch (departure, return, thought)
    or a 三个必访 help request (help). Private kinds are never exported or published."""

    __tablename__ = "submissions"
    __table_args__ = (
        # The queue: open items oldest-due first, paged by (due_at, id).
        Index("ix_submissions_queue", "state", "due_at", "id"),
        Index("ix_submissions_kind_queue", "kind", "state", "due_at", "id"),
        Index("ix_submissions_due", "due_at", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    code: Mapped[str] = mapped_column(String(16), unique=True)
    # The random key of the form page it came from: a double submit finds the first one.
    form_key: Mapped[str | None] = mapped_column(String(32), unique=True)
    state: Mapped[str] = mapped_column(String(24), default="received")
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # Questions: when the answer is due; articles: when they arrived (for ordering).
    due_at: Mapped[datetime] = mapped_column(DateTime)
    # While a question waits for a leader's instruction (呈报批示) the clock stops; the
    # working seconds it had left are kept here and counted again on its return.
    paused_remaining: Mapped[int | None] = mapped_column(Integer)
    calendar_uncertain: Mapped[bool] = mapped_column(Boolean, default=False)

    title: Mapped[str | None] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(String(20))
    # Personal data: optional, masked in lists, erased on request or after retention.
    name: Mapped[str | None] = mapped_column(String(40))
    branch: Mapped[str | None] = mapped_column(String(100))
    contact: Mapped[str | None] = mapped_column(String(100))
    author: Mapped[str | None] = mapped_column(String(40))
    allow_publish: Mapped[bool] = mapped_column(Boolean, default=False)
    consent: Mapped[bool] = mapped_column(Boolean, default=False)
    personal_erased_at: Mapped[datetime | None] = mapped_column(DateTime)

    answer: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    published_path: Mapped[str | None] = mapped_column(String(200))
    published_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Answered questions: the text the public FAQ will show, personal data removed and
    # confirmed by an editor (forms_app/pii.py); nothing is published before that.
    public_title: Mapped[str | None] = mapped_column(String(100))
    public_question: Mapped[str | None] = mapped_column(Text)
    public_answer: Mapped[str | None] = mapped_column(Text)
    # The clauses of content/basis/ the answer rests on, as the editor picked them with the
    # public text: JSON [{"doc": ..., "clause": ...}, ...] (forms_app/basis_pick.py). NULL
    # on an item confirmed before migration 0004: it needs a pick before it is published.
    public_basis: Mapped[str | None] = mapped_column(Text)
    public_confirmed_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Why the last Publish refused to export this item; it stays in the queue.
    publish_error: Mapped[str | None] = mapped_column(Text)
    # Erased by the member after it was published: the next Publish removes its file.
    remove_from_site: Mapped[bool] = mapped_column(Boolean, default=False)

    # Reports to the branch: the signed-in member who sent it (their account's deletion
    # deletes it). A departure report's destination is a city, never an address.
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True)
    destination: Mapped[str | None] = mapped_column(String(40))
    months: Mapped[int | None] = mapped_column(Integer)
    work: Mapped[str | None] = mapped_column(String(40))
    fixed_place: Mapped[bool | None] = mapped_column(Boolean)
    instrument: Mapped[str | None] = mapped_column(String(60))  # the helper's outcome
    leave_on: Mapped[date | None] = mapped_column(Date)  # a departure report's leaving day
    orglife_away: Mapped[str | None] = mapped_column(Text)  # a return report's
    # 三个必访: the visit or call an editor recorded.
    visit_on: Mapped[date | None] = mapped_column(Date)
    visit_by: Mapped[str | None] = mapped_column(String(40))
    visit_outcome: Mapped[str | None] = mapped_column(Text)


class StudyLog(Base):
    __tablename__ = "study_logs"
    __table_args__ = (Index("ix_study_logs_user_day", "user_id", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    form_key: Mapped[str | None] = mapped_column(String(32), unique=True)
    lesson: Mapped[str | None] = mapped_column(String(120))  # courses/<course>/<lesson>
    topic: Mapped[str | None] = mapped_column(String(200))  # offline study, free text
    minutes: Mapped[int] = mapped_column(Integer)
    mode: Mapped[str] = mapped_column(String(10))
    reflection: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    confirmed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime)
    # 送学上门: the study buddy logged this session for a member without a phone (代记).
    logged_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    confirmed_by: Mapped[User | None] = relationship(foreign_keys=[confirmed_by_id])
    logged_by: Mapped[User | None] = relationship(foreign_keys=[logged_by_id])


class OrgLife(Base):
    """组织生活记录: organisational life a member attended while away; optionally
    confirmed by their study buddy or an editor."""

    __tablename__ = "org_life"
    __table_args__ = (Index("ix_org_life_user_day", "user_id", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    organisation: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(12))  # forms_app/duties/dates.py ORGLIFE_KINDS
    form_key: Mapped[str | None] = mapped_column(String(32), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    confirmed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    confirmed_by: Mapped[User | None] = relationship(foreign_keys=[confirmed_by_id])


class ContactNote(Base):
    """A study buddy's note of a contact with a paired member (电话, 微信, 云谈话, 上门):
    the day and a short note, which the member can read on their 我的 page."""

    __tablename__ = "contact_notes"
    __table_args__ = (Index("ix_contact_notes_user_day", "user_id", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    day: Mapped[date] = mapped_column(Date)
    channel: Mapped[str] = mapped_column(String(10))  # phone|wechat|cloud|visit
    note: Mapped[str] = mapped_column(String(500))
    form_key: Mapped[str | None] = mapped_column(String(32), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    author: Mapped[User | None] = relationship(foreign_keys=[author_id])


class BuddyNotice(Base):
    """通报: the branch's study requirement as the study buddy passed it on to a member;
    shown on the member's 我的 page until they mark it read."""

    __tablename__ = "buddy_notices"
    __table_args__ = (Index("ix_buddy_notices_user", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    form_key: Mapped[str | None] = mapped_column(String(32), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(DateTime)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    author: Mapped[User | None] = relationship(foreign_keys=[author_id])


class ResetCode(Base):
    """A one-time password reset code an editor or the member's buddy issued: only its
    hash is kept; it works once, for 24 hours (forms_app/recovery.py)."""

    __tablename__ = "reset_codes"
    __table_args__ = (Index("ix_reset_codes_user", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    issued_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))
    code_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)


class AuditEntry(Base):
    """Append-only: who did what to which item, from which state to which. No route
    updates or deletes a row; it never holds a password, a full phone number or a code."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(40))
    ip: Mapped[str | None] = mapped_column(String(45))
    action: Mapped[str] = mapped_column(String(30))
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"), index=True)
    from_state: Mapped[str | None] = mapped_column(String(24))
    to_state: Mapped[str | None] = mapped_column(String(24))
    detail: Mapped[str | None] = mapped_column(Text)


class SearchMiss(Base):
    """A search that found nothing, so editors know which FAQ to write (/app/editor/search):
    the words and the day, counted; no address, no account. Kept SEARCH_MISS_DAYS days
    (forms_app/search.py, purged by `dangxiao db purge`)."""

    __tablename__ = "search_misses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    query: Mapped[str] = mapped_column(String(100))
    day: Mapped[date] = mapped_column(Date)
    count: Mapped[int] = mapped_column(Integer, default=1)
    __table_args__ = (Index("ix_search_misses_query_day", "query", "day", unique=True),
                      Index("ix_search_misses_day", "day"))
