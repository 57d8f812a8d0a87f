"""The study buddy's page per paired member, /app/buddy/<member_id> (reached from the
member's card on the care list): contact notes, 通报 and 送学上门 (代记); and the member's
已读 button for a 通报 on their 我的 page.

Who may: the member's own buddy (User.buddy_id), nobody else. Another buddy, an editor
who is not the buddy, the member themself: 404 on every route here, GET and POST alike,
so that nobody learns whether an id is someone's pair. Editors see members' records in
their own pages (断线提醒, the queue); writing in a member's name is the buddy's alone.
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from forms_app import audit, db
from forms_app.extensions import client_ip
from forms_app.forms import beijing_today, choices
from forms_app.lessons import OFFLINE_LABEL, lesson_choices, lesson_groups, lesson_title
from forms_app.models import BuddyNotice, ContactNote, StudyLog, User
from forms_app.pairs import contacts, home_study, notices

bp = Blueprint("pairs", __name__, url_prefix="/app")


def paired_member(member_id: int) -> User:
    """The member paired with the signed-in user, or 404 for anyone else's."""
    member = db.session().get(User, member_id)
    if member is None or member.id == current_user.id or member.buddy_id != current_user.id:
        abort(404)
    return member


def _key() -> str:
    return secrets.token_urlsafe(16)


# Two forms on one page: each has its prefix (contact-note, notice-body, ...). A form shown
# fresh gets a new form key; one sent is read from the POST.
def _contact_form(sent: bool = False) -> contacts.ContactForm:
    if sent:
        return contacts.ContactForm(prefix="contact")
    form = contacts.ContactForm(prefix="contact", formdata=None)
    form.day.data, form.form_key.data = beijing_today(), _key()
    return form


def _notice_form(sent: bool = False) -> notices.NoticeForm:
    if sent:
        return notices.NoticeForm(prefix="notice")
    form = notices.NoticeForm(prefix="notice", formdata=None)
    form.form_key.data = _key()
    return form


def _page(member: User, contact_form, notice_form, status: int = 200):
    s = db.session()
    return render_template(
        "pairs/member.html", member=member, contact_form=contact_form,
        notice_form=notice_form, notes=contacts.notes_for(s, member.id),
        notices=notices.for_member(s, member.id),
        home_logs=home_study.logged_for(s, member.id), lesson_title=lesson_title,
        channel_label=contacts.channel_label), status


def _save(model, form_key: str | None, make, action: str, what: str) -> None:
    """Add the record made by `make`, audit it (ids only: the note, the topic and the
    notice are the member's, not the log's) and commit, unless this form page was sent
    before (its form_key is stored): a double submit, even two at once, stores one."""
    s = db.session()
    if form_key and s.scalar(select(model.id).where(model.form_key == form_key)):
        return
    record = make(s)
    try:
        s.flush()
    except IntegrityError:  # the same page, sent twice at the same moment
        s.rollback()
        return
    audit.record(s, audit.actor_name(current_user), action, ip=client_ip(),
                 detail=f"{what} {record.id}")
    s.commit()


@bp.get("/buddy/<int:member_id>")
@login_required
def member(member_id: int):
    return _page(paired_member(member_id), _contact_form(), _notice_form())


@bp.post("/buddy/<int:member_id>/contact")
@login_required
def contact(member_id: int):
    person = paired_member(member_id)
    form = _contact_form(sent=True)
    if not form.validate():
        return _page(person, form, _notice_form(), 400)
    _save(ContactNote, form.form_key.data,
          lambda s: contacts.add(s, form, person.id, current_user.id),
          "contact_note", "contact_note")
    flash("联系记录已保存，结对党员在“我的”页面能看到。", "success")
    return redirect(url_for("pairs.member", member_id=person.id) + "#contacts", 303)


@bp.post("/buddy/<int:member_id>/notice")
@login_required
def notice(member_id: int):
    person = paired_member(member_id)
    form = _notice_form(sent=True)
    if not form.validate():
        return _page(person, _contact_form(), form, 400)
    _save(BuddyNotice, form.form_key.data,
          lambda s: notices.add(s, form, person.id, current_user.id),
          "buddy_notice", "buddy_notice")
    flash("通报已发出，结对党员打开“我的”页面就能看到。", "success")
    return redirect(url_for("pairs.member", member_id=person.id) + "#notices", 303)


@bp.route("/buddy/<int:member_id>/study", methods=["GET", "POST"])
@login_required
def home_study_log(member_id: int):
    person = paired_member(member_id)
    form = home_study.HomeStudyForm()
    form.lesson.choices = choices(lesson_choices())
    if request.method == "GET":
        form.day.data = beijing_today()
        form.form_key.data = _key()
    if form.validate_on_submit():
        _save(StudyLog, form.form_key.data,
              lambda s: home_study.add(s, form, person.id, current_user.id),
              "home_study", "study_log")
        flash("代记的学习记录已保存（送学上门）。", "success")
        return redirect(url_for("pairs.member", member_id=person.id) + "#home-study", 303)
    return render_template("pairs/home_study.html", member=person, form=form,
                           groups=lesson_groups(), offline_label=OFFLINE_LABEL,
                           mode=home_study.MODE), 400 if form.errors else 200


@bp.post("/me/notices/<int:notice_id>/read")
@login_required
def read_notice(notice_id: int):
    s = db.session()
    done = notices.mark_read(s, notice_id, current_user.id)
    if done is None:  # not the member's own notice: as if there were none
        abort(404)
    s.commit()
    if done:
        flash("已标为已读。", "success")
    return redirect(url_for("members.mine"), 303)


@bp.app_context_processor
def _template_helpers() -> dict[str, Any]:
    def mine(fetch):
        return lambda: fetch(db.session(), current_user.id)

    return {"pair_unread_notices": mine(notices.unread),
            "pair_read_notices": mine(notices.read),
            "pair_contact_notes": mine(contacts.notes_for),
            "pair_all_notices": mine(lambda s, uid: notices.for_member(s, uid, None)),
            "pair_all_contact_notes": mine(lambda s, uid: contacts.notes_for(s, uid, None)),
            "contact_channel": contacts.channel_label,
            "logged_by_label": home_study.logged_by_label}
