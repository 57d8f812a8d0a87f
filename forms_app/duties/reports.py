"""Reports to the branch (外出报告, 返回报告, 思想汇报): a signed-in member sends one at
/app/report, reads it, withdraws or deletes it at /app/report/<id>.

A report is a private kind of the one queue (forms_app/states.py PRIVATE_KINDS): editors
acknowledge it there within two working days, the member's study buddy reads it, nobody
else does; it is never exported to content/, published or committed (forms_app/publish.py
exports only questions and articles).
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from forms_app import audit, db, moderation
from forms_app.duties.report_forms import BODY_LABELS, FIXED_PLACE, KIND_FIELDS, TITLES, ReportForm
from forms_app.extensions import client_ip
from forms_app.forms import ConfirmForm
from forms_app.models import AuditEntry, Submission, User
from forms_app.personal import erase, mask
from forms_app.states import DEPARTURE, KIND_LABELS, REPORT_KINDS, available
from generator.plaintext import visible

bp = Blueprint("reports", __name__, url_prefix="/app")
# What the member reads of their report's history (never who or where).
HISTORY_LABELS = {"submit": "已报告支部", "acknowledge": "支部已阅并记录",
                  "withdraw": "已撤回"}
FIXED_LABELS = {choice.value: choice.label for choice in FIXED_PLACE}


def own_reports(session: Session, user_id: int) -> list[Submission]:
    """The member's reports, newest first (deleted ones are no longer theirs)."""
    return list(session.scalars(select(Submission).where(
        Submission.user_id == user_id, Submission.kind.in_(REPORT_KINDS))
        .order_by(Submission.id.desc()).limit(500)))


def buddy_reports(session: Session, buddy_id: int) -> list[Submission]:
    """The reports of the members paired with this study buddy, newest first."""
    return list(session.scalars(
        select(Submission).join(User, Submission.user_id == User.id)
        .where(User.buddy_id == buddy_id, Submission.kind.in_(REPORT_KINDS))
        .order_by(Submission.id.desc()).limit(200)))


def export_rows(session: Session, user_id: int) -> list[dict[str, Any]]:
    """The member's reports for their export.json (times in Beijing time)."""
    from forms_app.working_days import beijing

    def when(moment):
        return beijing(moment).isoformat(timespec="seconds") if moment else None

    return [{
        "kind": item.kind, "kind_label": KIND_LABELS[item.kind], "state": item.state,
        "body": item.body, "destination": item.destination,
        "leave_on": item.leave_on.isoformat() if item.leave_on else None, "months": item.months,
        "work": item.work, "fixed_place": item.fixed_place, "instrument": item.instrument,
        "contact": item.contact, "orglife_away": item.orglife_away,
        "created_at": when(item.created_at), "updated_at": when(item.updated_at),
    } for item in own_reports(session, user_id)]


def forget_member(session: Session, user_id: int) -> None:
    """Before a member's account is deleted: their reports and the help requests they sent
    while signed in lose their text and their owner. The rows stay (the append-only audit
    log points at them), holding nothing."""
    from forms_app.help_requests import own_requests

    for item in own_reports(session, user_id) + own_requests(session, user_id):
        erase(item, text=True)
    session.execute(update(Submission).where(Submission.user_id == user_id)
                    .values(user_id=None).execution_options(synchronize_session=False))


def member_of(item: Submission) -> User | None:
    return db.session().get(User, item.user_id) if item.user_id else None


@bp.app_context_processor
def _template_helpers() -> dict[str, Any]:
    return {"REPORT_KINDS": REPORT_KINDS, "report_member": member_of,
            "my_reports": lambda: own_reports(db.session(), current_user.id),
            "paired_reports": lambda: buddy_reports(db.session(), current_user.id),
            "FIXED_LABELS": FIXED_LABELS, "report_member_name": display_member}


def _prefill(form: ReportForm) -> None:
    """From the departure helper's result: what the member answered there. Nothing is
    stored until they send the form."""
    args = request.args
    if args.get("instrument"):
        form.instrument.data = visible(args["instrument"]).strip()[:60]
    if args.get("months", "").isdigit() and 1 <= int(args["months"]) <= 120:
        form.months.data = int(args["months"])
    if args.get("fixed_place") in FIXED_LABELS:
        form.fixed_place.data = args["fixed_place"]


@bp.route("/report", methods=["GET", "POST"])
@login_required
def report():
    kind = request.values.get("kind", "")
    if kind not in REPORT_KINDS:
        if request.method == "POST":
            abort(400)
        return render_template("reports/choose.html")
    form = ReportForm()
    form.body.label.text = BODY_LABELS[kind]
    if form.validate_on_submit():
        fields: dict[str, Any] = {"body": (form.body.data or "").strip(),
                                  "user_id": current_user.id,
                                  "form_key": form.form_key.data or None}
        if kind == DEPARTURE:
            fields.update(destination=form.destination.data.strip(), months=form.months.data,
                          leave_on=form.leave_on.data,
                          work=form.work.data.strip(),
                          fixed_place=form.fixed_place.data == "yes",
                          instrument=(form.instrument.data or "").strip() or None,
                          contact=(form.contact.data or "").strip() or None)
        elif kind == "return":
            fields["orglife_away"] = (form.orglife_away.data or "").strip() or None
        item = moderation.create(kind, fields, client_ip())
        return redirect(url_for("reports.view", report_id=item.id), 303)
    if request.method == "GET":
        form.kind.data = kind
        _prefill(form)
        form.form_key.data = secrets.token_urlsafe(16)
    return render_template("reports/form.html", form=form, kind=kind, title=TITLES[kind],
                           fields=[form[name] for name in KIND_FIELDS[kind]]), (
        400 if form.errors else 200)


def _readable(report_id: int) -> tuple[Submission, bool]:
    """The report and whether the one reading is its member (else their study buddy);
    anyone else gets 404, as if it did not exist."""
    item = db.session().get(Submission, report_id)
    if item is None or item.kind not in REPORT_KINDS or item.user_id is None:
        abort(404)
    if item.user_id == current_user.id:
        return item, True
    owner = member_of(item)
    if owner is None or owner.buddy_id != current_user.id:
        abort(404)
    return item, False


@bp.get("/report/<int:report_id>")
@login_required
def view(report_id: int):
    item, own = _readable(report_id)
    history = db.session().scalars(
        select(AuditEntry).where(AuditEntry.submission_id == item.id,
                                 AuditEntry.action.in_(HISTORY_LABELS))
        .order_by(AuditEntry.id)).all()
    return render_template(
        "reports/view.html", item=item, own=own, history=history, labels=HISTORY_LABELS,
        owner=None if own else member_of(item), form=ConfirmForm(),
        can_withdraw=own and bool(available(item.kind, item.state, by_member=True)))


@bp.post("/report/<int:report_id>")
@login_required
def member_action(report_id: int):
    """The member withdraws their report, or deletes it (after a confirmation page)."""
    item, own = _readable(report_id)
    if not own:
        abort(404)
    action = request.form.get("action", "")
    s = db.session()
    actor = audit.actor_name(current_user)
    if action == "delete" and request.form.get("confirm") != "yes":
        return render_template("reports/delete.html", item=item, form=ConfirmForm())
    if action == "delete":
        if item.state == "received":  # nobody should act on a report that is gone
            try:
                moderation.apply(s, item.id, "withdraw", item.version, actor, client_ip())
            except (moderation.Conflict, moderation.NotAllowed):
                s.rollback()
        item = s.get(Submission, report_id)
        erase(item, text=True)
        item.user_id = None
        audit.record(s, actor, "erase", ip=client_ip(), item=item, detail="report deleted")
        s.commit()
        flash("报告已删除。", "success")
        return redirect(url_for("members.mine"), 303)
    if action == "withdraw":
        try:
            moderation.apply(s, item.id, "withdraw", item.version, actor, client_ip())
        except (moderation.Conflict, moderation.NotAllowed):
            flash("报告的状态已经变化，未能撤回。", "error")
        else:
            flash("报告已撤回，支部不会再处理。", "success")
        return redirect(url_for("reports.view", report_id=item.id), 303)
    abort(400)


def display_member(item: Submission, revealed: bool) -> str:
    """The member's username on the editor's page: masked until an audited reveal."""
    owner = member_of(item)
    if owner is None:
        return "（已删除）"
    return owner.username if revealed else mask(owner.username)
