"""组织生活记录: a member records the organisational life they attended while away; their
study buddy (帮学联系人) or an editor may confirm a record. The six-month line these
records feed is computed in forms_app/duties/dates.py and shown on 我的 (forms_app/duties/panel.py).
"""

from __future__ import annotations

import secrets
from datetime import date

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import Session
from wtforms import DateField, RadioField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, ValidationError

from forms_app import db
from forms_app.duties.dates import ORGLIFE_KINDS, SIX_MONTHS_FAQ
from forms_app.editor import editor_required
from forms_app.forms import VISIBLE, ConfirmForm, Form, Honeypot, beijing_today, required
from forms_app.models import OrgLife, User

bp = Blueprint("orglife", __name__, url_prefix="/app")
EARLIEST = date(2000, 1, 1)


def _day_ok(form: Form, field: DateField) -> None:
    if field.data and field.data > beijing_today():
        raise ValidationError("组织生活日期不能晚于今天。")
    if field.data and field.data < EARLIEST:
        raise ValidationError("请填写 2000 年以后的日期。")


class OrgLifeForm(Honeypot, Form):
    day = DateField("参加组织生活的日期", validators=[
        InputRequired("请选择参加组织生活的日期。"), _day_ok])
    organisation = StringField("组织生活所在的党组织", filters=VISIBLE, validators=[
        required("请填写组织生活所在的党组织。"),
        Length(max=100, message="党组织名称请控制在 100 字以内。")])
    kind = RadioField("组织生活的形式", choices=[SelectChoice(k) for k in ORGLIFE_KINDS],
                      validators=[InputRequired("请选择组织生活的形式。")])
    submit = SubmitField("保存组织生活记录")


def own_records(s: Session, user_id: int, limit: int | None = 200) -> list[OrgLife]:
    """The member's records, newest first; limit None for all (their data page)."""
    return list(s.scalars(select(OrgLife).where(OrgLife.user_id == user_id)
                          .order_by(OrgLife.day.desc(), OrgLife.id.desc()).limit(limit)))


def last_day(s: Session, user_id: int) -> date | None:
    return s.scalar(select(OrgLife.day).where(OrgLife.user_id == user_id)
                    .order_by(OrgLife.day.desc()).limit(1))


def for_buddy(s: Session, buddy_id: int) -> list[OrgLife]:
    """The records of the members paired with this buddy, unconfirmed first."""
    return list(s.scalars(
        select(OrgLife).join(User, OrgLife.user_id == User.id)
        .where(User.buddy_id == buddy_id)
        .order_by(OrgLife.confirmed_at.is_not(None), OrgLife.day.desc(), OrgLife.id.desc())
        .limit(200)))


def export(records: list[OrgLife], iso) -> list[dict]:
    """The member's records for export.json; `iso` writes a time in Beijing time."""
    return [{"day": r.day.isoformat(), "organisation": r.organisation, "kind": r.kind,
             "confirmed": r.confirmed_at is not None, "confirmed_at": iso(r.confirmed_at),
             "created_at": iso(r.created_at)} for r in records]


@bp.route("/orglife", methods=["GET", "POST"])
@login_required
def record():
    form = OrgLifeForm()
    if request.method == "GET":
        form.day.data = form.day.data or beijing_today()
        if not form.form_key.data:
            form.form_key.data = secrets.token_urlsafe(16)
    s = db.session()
    if form.validate_on_submit():
        duplicate = form.form_key.data and s.scalar(
            select(OrgLife).where(OrgLife.form_key == form.form_key.data))
        if not duplicate:
            s.add(OrgLife(user_id=current_user.id, day=form.day.data,
                          organisation=form.organisation.data.strip(), kind=form.kind.data,
                          form_key=form.form_key.data or None))
            s.commit()
        flash("组织生活记录已保存。", "success")
        # 我的 shows the six-month line counted from it at once.
        return redirect(url_for("members.mine"), 303)
    return render_template("members/orglife.html", form=form,
                           records=own_records(s, current_user.id),
                           faq=SIX_MONTHS_FAQ), 400 if form.errors else 200


@bp.post("/orglife/<int:record_id>/confirm")
@login_required
def confirm(record_id: int):
    from forms_app.members import confirm_record

    return confirm_record(OrgLife, record_id, "confirm_orglife", "组织生活记录",
                          "org_life")


@bp.get("/editor/orglife")
@editor_required
def editor_list():
    items = db.session().scalars(select(OrgLife).where(OrgLife.confirmed_at.is_(None))
                                 .order_by(OrgLife.day, OrgLife.id).limit(200)).all()
    return render_template("editor/orglife.html", items=items, form=ConfirmForm())
