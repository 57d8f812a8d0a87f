"""Public forms, no account needed: the mailbox (/app/ask), 流动党员之声 (/app/voice),
tracking pages, the privacy notice and the health check."""

from __future__ import annotations

import re
import secrets
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select, text

from forms_app import audit, db, moderation, publish, tracking_code
from forms_app.extensions import client_ip
from forms_app.forms import CATEGORIES, AskForm, ConfirmForm, LookupForm, ReviseForm, VoiceForm
from forms_app.models import AuditEntry, Submission
from forms_app.personal import erase
from forms_app.states import ACTIONS, HELP, QUESTION, VOICE, available
from generator.plaintext import visible

bp = Blueprint("public", __name__, url_prefix="/app")
URL_KIND = {QUESTION: "ask", VOICE: "voice"}


def track_url(item: Submission | moderation.Created, kind: str | None = None) -> str:
    if (kind or item.kind) == HELP:  # 三个必访 (forms_app/help_requests.py)
        return url_for("help.track", code=item.code)
    return url_for("public.track", kind=URL_KIND[kind or item.kind], code=item.code)


@bp.get("/healthz")
def healthz():
    db.session().execute(text("SELECT 1"))
    return {"status": "ok"}


@bp.get("/")
def index():
    return render_template("public/index.html")


@bp.get("/privacy")
def privacy():
    return render_template("public/privacy.html")


def _fresh_key(form: Any) -> None:
    if not form.form_key.data:
        form.form_key.data = secrets.token_urlsafe(16)


@bp.route("/ask", methods=["GET", "POST"])
def ask():
    form = AskForm()
    if form.validate_on_submit():
        item = moderation.create(
            QUESTION, {
                "body": form.question.data.strip(), "category": form.category.data,
                "name": (form.name.data or "").strip() or None,
                "branch": (form.branch.data or "").strip() or None,
                "contact": (form.contact.data or "").strip() or None,
                "allow_publish": bool(form.allow_publish.data),
                "form_key": form.form_key.data or None,
            }, client_ip())
        return redirect(track_url(item, QUESTION), 303)
    if request.method == "GET" and request.args.get("category") in {c.value for c in CATEGORIES}:
        form.category.data = request.args["category"]  # from a FAQ or guide page's 向支部提问
    if request.method == "GET" and request.args.get("question"):
        # The departure helper's 向支部提问 starts the question with the member's situation;
        # it is text in a textarea like any other, and nothing is stored until they send it.
        form.question.data = visible(request.args["question"])[:2000]
    _fresh_key(form)
    return render_template("public/ask.html", form=form), 400 if form.errors else 200


@bp.route("/voice", methods=["GET", "POST"])
def voice():
    form = VoiceForm()
    if form.preview.data and form.is_submitted():
        # Store nothing; beside the preview only real problems of what was written (a
        # body too short, a title too long), not the consent or a field not filled in yet:
        # the member has not tried to send it.
        form.validate()
        form.consent.errors = []
        for field in (form.title, form.author):
            if not (field.data or "").strip():
                field.errors = []
        return render_template("public/voice.html", form=form,
                               preview=(form.body.data or "").strip())
    if form.validate_on_submit():
        item = moderation.create(
            VOICE, {
                "title": form.title.data.strip(), "body": form.body.data.strip(),
                "author": form.author.data.strip(), "consent": True,
                "form_key": form.form_key.data or None,
            }, client_ip())
        return redirect(track_url(item, VOICE), 303)
    _fresh_key(form)
    return render_template("public/voice.html", form=form, preview=None), (
        400 if form.errors else 200)


@bp.route("/track", methods=["GET", "POST"])
def lookup():
    form = LookupForm()
    if form.validate_on_submit():
        for kind in (QUESTION, VOICE, HELP):
            item = moderation.by_code(db.session(), kind, form.code.data)
            if item is not None:
                return redirect(track_url(item), 303)
        typed = re.sub(r"[\s\-–—_.]", "", form.code.data or "")
        if len(typed) != tracking_code.LENGTH:  # a code cut short or run on: say so
            form.code.errors.append(
                f"查询码是 {tracking_code.LENGTH} 位字母和数字（如 ABCD-EFGH-JKMN-PQRS），"
                f"您输入了 {len(typed)} 位，请核对后再试。")
        else:
            form.code.errors.append("没有找到这个查询码，请核对后再试。")
    return render_template("public/lookup.html", form=form), 404 if form.errors else 200


def _item_or_404(kind: str, code: str) -> Submission:
    item = moderation.by_code(db.session(), kind, code)
    if item is None:
        abort(404)
    return item


@bp.get("/<any(ask, voice):kind>/<code>")
def track(kind: str, code: str):
    kind = QUESTION if kind == "ask" else VOICE
    item = _item_or_404(kind, code)
    history = db.session().scalars(
        select(AuditEntry).where(AuditEntry.submission_id == item.id,
                                 AuditEntry.action.in_(audit.PUBLIC_LABELS))
        .order_by(AuditEntry.id)).all()
    revise = ReviseForm(obj=item) if item.state == "changes_requested" else None
    return render_template("public/track.html", item=item, history=history,
                           labels=audit.PUBLIC_LABELS,
                           actions=available(item.kind, item.state, by_member=True),
                           form=ConfirmForm(), revise=revise)


@bp.post("/<any(ask, voice):kind>/<code>")
def member_action(kind: str, code: str):
    """The member withdraws the item, erases their personal data, or sends a revision."""
    kind = QUESTION if kind == "ask" else VOICE
    item = _item_or_404(kind, code)
    action = request.form.get("action", "")
    session = db.session()
    # CSRFProtect has already refused any POST without a valid token.
    if action == "erase" and request.form.get("confirm") != "yes":
        # Deleting cannot be undone: one more page says what goes, and asks (no script).
        return render_template("public/erase.html", item=item, form=ConfirmForm())
    if action == "erase":
        on_site = bool(item.published_path)
        erase(item, text=True)
        audit.record(session, "member", "erase", ip=client_ip(), item=item)
        session.commit()
        taken_down = publish.take_down(session, client_ip()) if on_site else []
        flash("您的个人信息和内容已删除。" + (
            "网站上公开的内容已撤下，网站更新需要几秒钟。" if taken_down else ""), "success")
    elif action == "revise":
        revise = ReviseForm()
        if not revise.validate_on_submit():
            return render_template("public/track.html", item=item, history=[], actions=[],
                                   labels=audit.PUBLIC_LABELS,
                                   form=ConfirmForm(), revise=revise), 400
        try:
            moderation.revise(session, item, revise.title.data.strip(),
                              revise.body.data.strip(), client_ip())
        except (moderation.Conflict, moderation.NotAllowed):
            flash("这篇稿件的状态已经变化，未能提交修改。", "error")
        else:
            flash("修改已提交，编辑会再次审核。", "success")
    elif action in ACTIONS and ACTIONS[action].by_member:
        if moderation.by_member(session, item, action, client_ip()):
            flash("已撤回，编辑部不会再处理这条内容。", "success")
        else:
            flash("状态已经变化，未能完成这个操作。", "error")
    else:
        abort(400)
    return redirect(track_url(item), 303)
