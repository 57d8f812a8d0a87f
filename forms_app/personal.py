"""Personal data: masking for lists, erasure on request or after the retention period."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from forms_app.models import BuddyNotice, ContactNote, ResetCode, Submission, utcnow
from forms_app.states import HELP, REPORT_KINDS

PHONE = re.compile(r"1[3-9]\d{9}")
PERSONAL_FIELDS = ("name", "branch", "contact", "author")
CLOSED_STATES = ("answered", "published", "rejected", "spam", "withdrawn", "archived",
                 "acknowledged", "visited")
# What a report to the branch says about the member besides its text (forms_app/duties/reports.py).
REPORT_FIELDS = ("destination", "months", "work", "fixed_place", "instrument",
                 "orglife_away")
# What the branch wrote down about a 三个必访 visit is about the member's trouble too.
HELP_FIELDS = ("visit_outcome",)


def mask(value: str | None) -> str:
    """138****5678 for phone numbers anywhere in the text; names keep their first
    character; anything else shows only its first and last character."""
    if not value:
        return ""
    if PHONE.search(value):
        return PHONE.sub(lambda m: m[0][:3] + "****" + m[0][-4:], value)
    if "@" in value:
        user, _, host = value.partition("@")
        return f"{user[:1]}***@{host}"
    if len(value) <= 2:
        return value[:1] + "*"
    return value[:1] + "*" * (len(value) - 2) + value[-1:]


def mask_text(text: str | None, names: list[str] | tuple[str, ...] = ()) -> str:
    """Free text as editors' lists and pages show it: the personal data forms_app/pii.py
    finds masked like a phone in a list (138****5678, 王*明), the rest as written. The full
    text is shown only after an audited reveal."""
    from forms_app import pii

    return "".join(mask_piece(piece) if found else piece
                   for piece, found in pii.marked(text or "", names))


def mask_piece(piece: str) -> str:
    """One piece of personal data masked: a number in any spelling as 138****5678, other
    text by its first and last character."""
    digits = re.sub(r"\D", "", piece)
    if len(digits) == 13 and digits.startswith("86"):  # +86 / 0086 before a mobile
        digits = digits[2:]
    if len(digits) >= 7:
        return digits[:3] + "****" + digits[-4:]
    return mask(piece)


def has_personal(item: Submission) -> bool:
    """Whether an editor's page of item holds personal data a reveal would show."""
    from forms_app import pii

    names = [v for v in (item.name, item.branch, item.contact) if v]
    # A report to the branch names its member (their username, masked until a reveal).
    return bool(names or item.author or item.user_id is not None
                or pii.find_personal(item.body or "", names)
                or pii.find_personal(item.title or "", names))


ERASED_TEXT = "（内容已应提交人要求删除）"


def erase(item: Submission, text: bool = False) -> None:
    """Remove the personal data of one submission; with text (the member's own request),
    also everything written about it: the text, the answer, the reason and the public
    version with the clauses picked for it. An item already on the site is taken off it
    by the next Publish, and an erased item is never published (forms_app/publish.py)."""
    for name in PERSONAL_FIELDS:
        setattr(item, name, None)
    if text:
        item.body = ERASED_TEXT
        if item.title:
            item.title = ERASED_TEXT
        for name in ("answer", "reason", "public_title", "public_question", "public_answer",
                     "public_basis", "publish_error"):
            if getattr(item, name) is not None:
                setattr(item, name, ERASED_TEXT if name in ("answer", "reason") else None)
        for name in (*REPORT_FIELDS, *HELP_FIELDS):
            setattr(item, name, None)
        item.public_confirmed_at = None
        item.allow_publish = False
        item.consent = False
        if item.published_path:
            item.remove_from_site = True
    item.personal_erased_at = utcnow()


def purge_expired(session: Session, retention_days: int) -> int:
    """Erase personal data of closed items older than the retention period; a report to
    the branch or a 三个必访 help request is about the member as a whole, so its text goes
    too."""
    cutoff = utcnow() - timedelta(days=retention_days)
    items = session.scalars(select(Submission).where(
        Submission.state.in_(CLOSED_STATES), Submission.updated_at < cutoff,
        Submission.personal_erased_at.is_(None))).all()
    for item in items:
        erase(item, text=item.kind in (*REPORT_KINDS, HELP))
    from forms_app.search import purge_misses  # searches that found nothing: 90 days

    return len(items) + _purge_care_records(session, cutoff) + purge_misses(session)


def _purge_care_records(session: Session, cutoff) -> int:
    """What others wrote about a member ages out too: a buddy's contact notes older than
    the retention period, 通报 read that long ago, and reset codes expired that long ago.
    (The member's own records — study, organisational life — go with their account.)"""
    from forms_app.working_days import beijing

    removed = 0
    for statement in (
            delete(ContactNote).where(ContactNote.day < beijing(cutoff).date()),
            delete(BuddyNotice).where(BuddyNotice.read_at < cutoff),
            delete(ResetCode).where(ResetCode.expires_at < cutoff)):
        removed += session.execute(statement.execution_options(
            synchronize_session=False)).rowcount or 0
    return removed
