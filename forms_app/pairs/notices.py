"""通报: the study buddy passes the branch's study requirement on to a paired member. It
shows at the top of the member's 我的 page, as plain text, until they tap 已读; read ones
stay listed, smaller, further down (the latest READ_SHOWN of them)."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from wtforms import SubmitField, TextAreaField
from wtforms.validators import Length

from forms_app.forms import VISIBLE, Form, Honeypot, required
from forms_app.models import BuddyNotice, utcnow

BODY_MAX = 1000
LIST_LIMIT = 200
READ_SHOWN = 10


class NoticeForm(Honeypot, Form):
    body = TextAreaField("通报内容（结对党员会在“我的”页面最上方看到）", filters=VISIBLE,
                         validators=[required("请填写通报内容。"), Length(
                             max=BODY_MAX, message=f"通报请控制在 {BODY_MAX} 字以内。")])
    submit = SubmitField("发出通报")


def add(s: Session, form: NoticeForm, member_id: int, author_id: int) -> BuddyNotice:
    notice = BuddyNotice(user_id=member_id, author_id=author_id, body=form.body.data.strip(),
                         form_key=form.form_key.data or None)
    s.add(notice)
    return notice


def for_member(s: Session, member_id: int, limit: int | None = LIST_LIMIT) -> list[BuddyNotice]:
    """Every notice to the member, newest first (the buddy's page, the member's data)."""
    return list(s.scalars(select(BuddyNotice).where(BuddyNotice.user_id == member_id)
                          .order_by(BuddyNotice.id.desc()).limit(limit)))


def unread(s: Session, member_id: int) -> list[BuddyNotice]:
    return list(s.scalars(select(BuddyNotice).where(
        BuddyNotice.user_id == member_id, BuddyNotice.read_at.is_(None))
        .order_by(BuddyNotice.id.desc()).limit(LIST_LIMIT)))


def read(s: Session, member_id: int, limit: int = READ_SHOWN) -> list[BuddyNotice]:
    return list(s.scalars(select(BuddyNotice).where(
        BuddyNotice.user_id == member_id, BuddyNotice.read_at.is_not(None))
        .order_by(BuddyNotice.read_at.desc(), BuddyNotice.id.desc()).limit(limit)))


def mark_read(s: Session, notice_id: int, member_id: int) -> bool | None:
    """Mark the member's own notice read: True if it was unread, False if already read,
    None if there is no such notice of theirs (someone else's is never touched)."""
    notice = s.get(BuddyNotice, notice_id)
    if notice is None or notice.user_id != member_id:
        return None
    done = s.execute(update(BuddyNotice).where(
        BuddyNotice.id == notice_id, BuddyNotice.read_at.is_(None))
        .values(read_at=utcnow()))
    return bool(done.rowcount)


def export(notices: list[BuddyNotice], iso) -> list[dict]:
    """The member's notices for their export.json; `iso` writes Beijing time."""
    return [{"body": n.body, "buddy": n.author.username if n.author else None,
             "created_at": iso(n.created_at), "read_at": iso(n.read_at)} for n in notices]
