"""Editors' pages about people, on the editor blueprint: study logs waiting for
confirmation, pairing members with study buddies (1+1 结对帮学), and the audit log (admins)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from forms_app import audit, db
from forms_app.editor import PAGE_SIZE, admin_required, bp, editor_required
from forms_app.extensions import client_ip
from forms_app.forms import ConfirmForm
from forms_app.models import AuditEntry, StudyLog, User
from forms_app.states import STATE_LABELS


@bp.get("/study")
@editor_required
def study_logs():
    logs = db.session().scalars(select(StudyLog).where(StudyLog.confirmed_at.is_(None))
                                .order_by(StudyLog.day, StudyLog.id).limit(200)).all()
    from forms_app.lessons import lesson_title

    return render_template("editor/study.html", logs=logs, form=ConfirmForm(),
                           lesson_title=lesson_title)


@bp.route("/people", methods=["GET", "POST"])
@editor_required
def people():
    """Pair a member with a study buddy (1+1 结对帮学)."""
    s = db.session()
    if request.method == "POST":
        # Names as typed on a phone: a space before or after is not part of a username.
        member_name = request.form.get("member", "").strip()
        buddy_name = request.form.get("buddy", "").strip()
        member = s.scalar(select(User).where(User.username == member_name))
        buddy = s.scalar(select(User).where(User.username == buddy_name)) if buddy_name else None
        if member is None or (buddy_name and buddy is None):
            missing = member_name if member is None else buddy_name
            if len(missing) > 40:  # no username is longer; the message rides in the cookie
                missing = missing[:40] + "…"
            flash(f"没有保存：找不到用户名“{missing}”。请对照下面名单里的用户名填写"
                  "（输入时会提示已有的用户名）。" if missing else
                  "没有保存：请填写流动党员的用户名。", "error")
        elif member is buddy:
            flash("没有保存：一名党员不能做自己的帮学联系人。", "error")
        else:
            member.buddy_id = buddy.id if buddy else None
            audit.record(s, current_user.username, "pair", ip=client_ip(),
                         detail=f"user {member.id} -> {buddy.id if buddy else '-'}")
            s.commit()
            flash("结对已保存。" if buddy else "已解除结对。", "success")
        return redirect(url_for("editor.people"), 303)
    members = s.scalars(select(User).where(User.role == "member")
                        .order_by(User.username).limit(500)).all()
    return render_template("editor/people.html", members=members, form=ConfirmForm())


@bp.post("/people/<int:user_id>/mobile")
@editor_required
def set_mobile(user_id: int):
    """A member is a mobile member (流动党员) or at home, only someone's study buddy: 断线提醒
    and the ledger count mobile members only."""
    s = db.session()
    member = s.get(User, user_id)
    if member is None or member.role != "member":
        flash("找不到这个党员。", "error")
        return redirect(url_for("editor.people"), 303)
    member.mobile = request.form.get("mobile") == "1"
    audit.record(s, current_user.username, "set_mobile", ip=client_ip(),
                 detail=f"user {member.id} mobile={int(member.mobile)}")
    s.commit()
    flash(f"已把 {member.username} 标为{'流动党员' if member.mobile else '在家的党员'}。",
          "success")
    return redirect(url_for("editor.people"), 303)


@bp.get("/audit")
@admin_required
def audit_log():
    before = request.args.get("before", type=int)
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(PAGE_SIZE)
    if before:
        query = query.where(AuditEntry.id < before)
    s = db.session()
    entries = s.scalars(query).all()
    # Members are logged by pseudonym; the page shows who that is while the account exists.
    return render_template("editor/audit.html", entries=entries,
                           actors=audit.actor_labels(s, entries),
                           labels=audit.ACTION_LABELS, state_labels=STATE_LABELS)
