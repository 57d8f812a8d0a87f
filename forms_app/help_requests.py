"""三个必访 help requests: a mobile member in hardship, whose rights were harmed, or who
cannot go home at year end asks the branch for a visit or a call. No account needed; a
contact is required here only. The request is a private kind of the one queue (first, with
a 必访 badge, due in two working days); the editor records the visit or call (date, who,
outcome) and the member reads the date and outcome on the tracking page. Never exported,
published or committed (forms_app/publish.py exports questions and articles only)."""

from __future__ import annotations

import secrets
from datetime import date

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from wtforms import (
    DateField,
    HiddenField,
    RadioField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, InputRequired, Length, Optional, ValidationError

from forms_app import audit, db, moderation
from forms_app.extensions import client_ip, login_manager
from forms_app.forms import VISIBLE, ConfirmForm, Form, Honeypot, beijing_today, required
from forms_app.models import AuditEntry, Submission
from forms_app.personal import erase
from forms_app.states import ACTIONS, HELP, OPEN_STATES, available

bp = Blueprint("help", __name__)

CATEGORIES = {"hardship": "生活困难", "rights": "权益受到损害", "not_home": "年底不能返乡"}
LAW_COURSE = "/courses/law-rights/index.html"
CONFLICT_MESSAGE = "这条内容刚被其他编辑处理过，您的操作没有保存。请看最新状态后再决定。"


class HelpForm(Honeypot, Form):
    category = RadioField(
        "遇到的情况（选填）", choices=[SelectChoice(k, v) for k, v in CATEGORIES.items()],
        validate_choice=False,
        validators=[Optional(), AnyOf(list(CATEGORIES), message="请从列出的情况中选择。")])
    body = TextAreaField("发生了什么（选填）", filters=VISIBLE, validators=[
        Optional(), Length(max=2000, message="请控制在 2000 字以内。")])
    contact = StringField("联系方式（必填）", filters=VISIBLE, validators=[
        required("请留下手机号码或微信号，支部才能联系到您。"),
        Length(min=5, max=100, message="请填写完整的手机号码或微信号（5 到 100 个字）。")])
    name = StringField("称呼（选填）", validators=[
        Optional(), Length(max=40, message="称呼请控制在 40 字以内。")])
    branch = StringField("所在党组织（选填）", validators=[
        Optional(), Length(max=100, message="党组织名称请控制在 100 字以内。")])
    submit = SubmitField("提交求助")


def _not_future(form: Form, field: DateField) -> None:
    if field.data and field.data > beijing_today():
        raise ValidationError("走访日期不能晚于今天。")


class VisitForm(Form):
    """The editor's record of the visit or call; version guards against conflicts."""

    # Own ids: the item page's action form has a version field and a submit button too.
    version = HiddenField(validators=[InputRequired()], id="visit-version")
    visit_on = DateField("走访或通话日期", validators=[
        InputRequired("请选择走访或通话的日期。"), _not_future])
    visit_by = StringField("走访人", filters=VISIBLE, validators=[
        required("请填写是谁走访或通话的，例如“支部书记王某”。"),
        Length(max=40, message="走访人请控制在 40 字以内。")])
    visit_outcome = TextAreaField("走访情况和结果", filters=VISIBLE, validators=[
        required("请填写走访情况和结果，求助人会看到。"),
        Length(max=2000, message="请控制在 2000 字以内。")])
    submit = SubmitField("保存走访记录", id="visit-submit")


def track_url(code: str) -> str:
    return url_for("help.track", code=code)


def own_requests(session, user_id: int) -> list[Submission]:
    """The help requests a member sent while signed in, newest first."""
    return list(session.scalars(select(Submission).where(
        Submission.user_id == user_id, Submission.kind == HELP)
        .order_by(Submission.id.desc()).limit(100)))


@bp.app_context_processor
def _helpers() -> dict:
    def visit_form(item: Submission) -> VisitForm:
        # After a refused POST the editor sees what they typed with the errors beside it.
        return g.get("dx_visit_form") or VisitForm(version=item.version,
                                                   visit_on=beijing_today())

    return {"help_visit_form": visit_form, "HELP_CATEGORIES": CATEGORIES,
            "my_help_requests": lambda: own_requests(db.session(), current_user.id),
            "help_track_url": track_url}


@bp.route("/app/help", methods=["GET", "POST"])
def form():
    form = HelpForm()
    if form.validate_on_submit():
        item = moderation.create(HELP, {
            "category": form.category.data or None,
            "body": (form.body.data or "").strip(),
            "contact": form.contact.data.strip(),
            "name": (form.name.data or "").strip() or None,
            "branch": (form.branch.data or "").strip() or None,
            "form_key": form.form_key.data or None,
            # A signed-in member finds the request again on 我的, without the code.
            "user_id": (current_user.id if current_user.is_authenticated
                        and not current_user.is_editor else None),
        }, client_ip())
        return redirect(track_url(item.code), 303)
    if request.method == "GET" and request.args.get("category") in CATEGORIES:
        form.category.data = request.args["category"]
    if not form.form_key.data:
        form.form_key.data = secrets.token_urlsafe(16)
    return render_template("help/form.html", form=form), 400 if form.errors else 200


def _item_or_404(code: str) -> Submission:
    item = moderation.by_code(db.session(), HELP, code)
    if item is None:
        abort(404)
    return item


@bp.get("/app/help/<code>")
def track(code: str):
    item = _item_or_404(code)
    history = db.session().scalars(
        select(AuditEntry).where(AuditEntry.submission_id == item.id,
                                 AuditEntry.action.in_(audit.PUBLIC_LABELS))
        .order_by(AuditEntry.id)).all()
    return render_template("help/track.html", item=item, history=history,
                           labels=audit.PUBLIC_LABELS, law_course=LAW_COURSE,
                           actions=available(item.kind, item.state, by_member=True),
                           form=ConfirmForm())


@bp.post("/app/help/<code>")
def member_action(code: str):
    """The member withdraws the request or erases it (CSRFProtect checked the token)."""
    item = _item_or_404(code)
    action = request.form.get("action", "")
    session = db.session()
    if action == "erase" and request.form.get("confirm") != "yes":
        return render_template("help/erase.html", item=item, form=ConfirmForm())
    if action == "erase":
        erase(item, text=True)
        audit.record(session, "member", "erase", ip=client_ip(), item=item)
        session.commit()
        flash("您的求助内容和联系方式已删除。", "success")
    elif action in ACTIONS and ACTIONS[action].by_member:
        if moderation.by_member(session, item, action, client_ip()):
            flash("已告诉支部问题还没解决，支部会再联系您。" if action == "reopen"
                  else "已撤回，支部不会再按这条求助联系您。", "success")
        else:
            flash("状态已经变化，未能完成这个操作。", "error")
    else:
        abort(400)
    return redirect(track_url(item.code), 303)


@bp.post("/app/editor/item/<int:item_id>/visit")
def record_visit(item_id: int):
    """The editor records the visit or call: date (not in the future), who, outcome."""
    from forms_app import editor

    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not current_user.is_editor:
        abort(403)
    s = db.session()
    item = s.get(Submission, item_id)
    if item is None or item.kind != HELP:
        abort(404)
    form = VisitForm()
    if not form.validate_on_submit() or not (form.version.data or "").isdigit():
        g.dx_visit_form = form
        return editor._render_item(item, status=400)
    visit_on: date = form.visit_on.data
    try:
        moderation.apply(s, item.id, "record_visit", int(form.version.data),
                         current_user.username, client_ip(), extra={
                             "visit_on": visit_on, "visit_by": form.visit_by.data.strip(),
                             "visit_outcome": form.visit_outcome.data.strip()})
    except moderation.Conflict:
        s.expire_all()
        flash(CONFLICT_MESSAGE, "error")
        return editor._render_item(s.get(Submission, item_id), status=409)
    except moderation.NotAllowed:
        flash("当前状态下不能“记录走访”。", "error")
        return editor._render_item(item, status=409)
    flash("已记录走访。", "success")
    return redirect(url_for("editor.item", item_id=item.id), 303)


def open_first(session, limit: int) -> list[Submission]:
    """Open help requests, oldest due first: the editors' queue shows them before anything
    else (forms_app/editor.py)."""
    return list(session.scalars(
        select(Submission).where(Submission.kind == HELP, Submission.state.in_(OPEN_STATES))
        .order_by(Submission.due_at, Submission.id).limit(limit)).all())
