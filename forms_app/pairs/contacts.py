"""联系记录: the study buddy notes each contact with a paired member (电话, 微信, 云谈话,
上门): the day, how, and a short note the member reads on their 我的 page.

`last_contacts` and `latest_contacts` give the care list (forms_app/pairs/care.py) and the
editors' 断线提醒 (forms_app/branch/risk.py) the last contact per member.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session
from wtforms import DateField, RadioField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, ValidationError

from forms_app.forms import VISIBLE, Form, Honeypot, beijing_today, required
from forms_app.models import ContactNote

CHANNELS = {"phone": "电话", "wechat": "微信", "cloud": "云谈话", "visit": "上门"}
NOTE_MAX = 500
EARLIEST = date(2000, 1, 1)
LIST_LIMIT = 200


def _day_ok(form: Form, field: DateField) -> None:
    if field.data and field.data > beijing_today():
        raise ValidationError("联系日期不能晚于今天。")
    if field.data and field.data < EARLIEST:
        raise ValidationError("请填写 2000 年以后的日期。")


class ContactForm(Honeypot, Form):
    day = DateField("联系日期", validators=[InputRequired("请选择联系日期。"), _day_ok])
    channel = RadioField("联系方式", choices=[SelectChoice(k, v) for k, v in CHANNELS.items()],
                         validators=[InputRequired("请选择联系方式。")])
    note = TextAreaField("联系情况（结对党员本人能看到）", filters=VISIBLE, validators=[
        required("请简要写下联系情况。"),
        Length(max=NOTE_MAX, message=f"联系情况请控制在 {NOTE_MAX} 字以内。")])
    submit = SubmitField("保存联系记录")


def channel_label(code: str) -> str:
    return CHANNELS.get(code, code)


def add(s: Session, form: ContactForm, member_id: int, author_id: int) -> ContactNote:
    note = ContactNote(user_id=member_id, author_id=author_id, day=form.day.data,
                       channel=form.channel.data, note=form.note.data.strip(),
                       form_key=form.form_key.data or None)
    s.add(note)
    return note


def notes_for(s: Session, member_id: int, limit: int | None = LIST_LIMIT) -> list[ContactNote]:
    """The member's contact notes, newest first; limit None for all (their data page)."""
    return list(s.scalars(select(ContactNote).where(ContactNote.user_id == member_id)
                          .order_by(ContactNote.day.desc(), ContactNote.id.desc())
                          .limit(limit)))


def last_contacts(session: Session, user_ids) -> dict[int, date]:
    """The day of each member's last contact note, for those who have one."""
    ids = list(user_ids)
    if not ids:
        return {}
    return dict(session.execute(
        select(ContactNote.user_id, func.max(ContactNote.day))
        .where(ContactNote.user_id.in_(ids)).group_by(ContactNote.user_id)).all())


def latest_contacts(session: Session, user_ids) -> dict[int, tuple[date, str]]:
    """Each member's last contact as (day, channel label): the newest note of the last
    day (the one recorded last when a day has several)."""
    ids = list(user_ids)
    if not ids:
        return {}
    last = (select(ContactNote.user_id, func.max(ContactNote.day).label("day"))
            .where(ContactNote.user_id.in_(ids)).group_by(ContactNote.user_id).subquery())
    rows = session.execute(
        select(ContactNote.user_id, ContactNote.day, ContactNote.channel)
        .join(last, and_(ContactNote.user_id == last.c.user_id, ContactNote.day == last.c.day))
        .order_by(ContactNote.id.desc()))
    result: dict[int, tuple[date, str]] = {}
    for uid, day, channel in rows:
        result.setdefault(uid, (day, channel_label(channel)))
    return result


def export(notes: list[ContactNote], iso) -> list[dict]:
    """The member's contact notes for their export.json; `iso` writes Beijing time."""
    return [{"day": n.day.isoformat(), "channel": n.channel,
             "channel_label": channel_label(n.channel), "note": n.note,
             "buddy": n.author.username if n.author else None,
             "created_at": iso(n.created_at)} for n in notes]
