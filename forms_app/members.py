"""Members' own pages: register, log in and out, password, study logs, 我的学习, and the
study buddy's (帮学联系人) view of the members paired with them."""

from __future__ import annotations

import json
import secrets
import time
import unicodedata
from urllib.parse import quote, unquote

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from forms_app import audit, db, working_days
from forms_app.duties import reports
from forms_app.extensions import client_ip, login_manager
from forms_app.forms import (
    ConfirmForm,
    LoginForm,
    PasswordForm,
    RegisterForm,
    StudyForm,
    beijing_today,
    choices,
    selfcheck_note,
)
from forms_app.lessons import OFFLINE_LABEL, lesson, lesson_choices, lesson_groups, lesson_title
from forms_app.models import StudyLog, User, utcnow

bp = Blueprint("members", __name__, url_prefix="/app")
# Checked when the user is unknown, so both failures take the same time.
_DUMMY_HASH = generate_password_hash(secrets.token_hex(8))


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    ident, _, version = user_id.partition(":")
    if not ident.isdigit():
        return None
    user = db.session().get(User, int(ident))
    # A logout or password change raises session_version: older cookies stop here.
    if user is None or not user.active or str(user.session_version) != version:
        return None
    return user


@bp.before_app_request
def enforce_timeouts() -> None:
    if "_user_id" not in session:
        # Nobody is signed in. Flask-Login's strong session protection would otherwise
        # find no "_id" in an anonymous (CSRF-only) session on every request and rewrite
        # its cookie and clear a remember cookie each time: the anonymous user is set here.
        g._login_user = login_manager.anonymous_user()
        return
    if not current_user.is_authenticated:
        return
    now = time.time()
    login_at, seen = session.get("login_at", 0), session.get("seen", 0)
    too_old = now - login_at > current_app.config["SESSION_HOURS"] * 3600
    idle = current_user.is_editor and (
        now - seen > current_app.config["EDITOR_IDLE_MINUTES"] * 60)
    if too_old or idle:
        logout_user()
        session.clear()
        flash("登录已超时，请重新登录。", "error")
        return
    if now - seen > 60:  # a minute's precision is enough; not a new cookie every request
        session["seen"] = now


def _local_path(value: str) -> bool:
    # Browsers drop tabs and line breaks from a URL ("/\t/evil" is "//evil") and read a
    # backslash as a slash: any control, format or space character refuses the whole
    # value, and it must start with exactly one "/" and carry no scheme.
    return (value.startswith("/") and not value.startswith(("//", "/\\"))
            and "\\" not in value and ":" not in value.split("?", 1)[0]
            and not any(ch.isspace() or unicodedata.category(ch)[0] in "CZ" for ch in value))


def safe_next(target: str | None, default: str) -> str:
    """Where to go after a login or an action: `target` if it is a path of this site, else
    `default`. Every `next` goes through here. The value is checked as it came and after
    percent-decoding, so neither "/\t/evil.example" nor "/%09/evil.example" passes."""
    if not target or not isinstance(target, str):
        return default
    value, seen = target, set()
    while value not in seen and len(seen) < 5:  # each layer of percent-encoding
        if not _local_path(value):
            return default
        seen.add(value)
        value = unquote(value)
    return target if value in seen else default


def start_session(user: User) -> None:
    session.clear()  # a new session at login: nothing of the anonymous one carries over
    login_user(user)
    session["login_at"] = session["seen"] = time.time()


@bp.route("/register", methods=["GET", "POST"])
def register():
    form = RegisterForm()
    if form.validate_on_submit():
        s = db.session()
        user = User(username=form.username.data.strip(),
                    password_hash=generate_password_hash(form.password.data), role="member")
        from forms_app import recovery  # the recovery code, shown once on the next page

        seed = recovery.issue_recovery_code(user)
        s.add(user)
        try:
            s.commit()
        except IntegrityError:
            s.rollback()
            form.username.errors.append("这个用户名已被使用，请换一个。")
        else:
            start_session(user)
            recovery.show_once("recovery", seed, user.id)
            flash("注册成功，欢迎！", "success")
            target = safe_next(request.args.get("next"), url_for("members.study"))
            return redirect(url_for("recovery.show_code", next=target), 303)
    return render_template("members/register.html", form=form), 400 if form.errors else 200


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if request.method == "GET" and current_user.is_authenticated:
        # The site's pages cannot know who is signed in: their 登录 link lands here.
        flash(f"您已经登录（用户名：{current_user.username}）。", "success")
        default = url_for("editor.queue") if current_user.is_editor else url_for("members.mine")
        return redirect(safe_next(request.args.get("next"), default), 303)
    if request.method == "GET":
        form.next.data = safe_next(request.args.get("next"), "")
    if form.validate_on_submit():
        s = db.session()
        user = s.scalar(select(User).where(User.username == form.username.data.strip()))
        ok = check_password_hash(user.password_hash if user else _DUMMY_HASH,
                                 form.password.data)
        if user is not None and ok and user.active:
            audit.record(s, audit.actor_name(user), "login", ip=client_ip())
            s.commit()
            start_session(user)
            default = url_for("editor.queue") if user.is_editor else url_for("members.mine")
            return redirect(safe_next(form.next.data, default), 303)
        audit.record(s, "anonymous", "login_failed", ip=client_ip())
        s.commit()
        form.password.errors.append("用户名或密码不正确。")
    return render_template("members/login.html", form=form), 400 if form.errors else 200


@bp.post("/logout")
@login_required
def logout():
    s = db.session()
    user = s.get(User, current_user.id)
    user.session_version += 1  # the old cookie, even if kept somewhere, is now useless
    audit.record(s, audit.actor_name(user), "logout", ip=client_ip())
    s.commit()
    logout_user()
    session.clear()
    flash("您已退出登录。", "success")
    return redirect(url_for("members.login"), 303)


def current_password_ok(form) -> User | None:
    """The signed-in user when the form's current password is theirs; otherwise the field
    gets its error and None comes back (password change, a new recovery code)."""
    user = db.session().get(User, current_user.id)
    if check_password_hash(user.password_hash, form.current.data):
        return user
    form.current.errors.append("当前密码不正确。")
    return None


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password():
    form = PasswordForm()
    if form.validate_on_submit() and (user := current_password_ok(form)):
        s = db.session()
        user.password_hash = generate_password_hash(form.password.data)
        user.session_version += 1  # every other session of this user ends
        audit.record(s, audit.actor_name(user), "password", ip=client_ip())
        s.commit()
        start_session(user)
        flash("密码已修改，其他设备上的登录已失效。", "success")
        return redirect(url_for("members.mine"), 303)
    return render_template("members/password.html", form=form), 400 if form.errors else 200


@bp.route("/study", methods=["GET", "POST"])
@login_required
def study():
    form = StudyForm()
    form.lesson.choices = choices(lesson_choices())
    if request.method == "GET":
        form.day.data = form.day.data or beijing_today()  # members are in Beijing's day
        form.lesson.data = request.args.get("lesson", "")
        # Come from a lesson's 记录学习: studied online, for about the lesson's time (both
        # shown, to change).
        came_from = lesson(form.lesson.data)
        if came_from:
            form.minutes.data = form.minutes.data or came_from.minutes
            form.mode.data = form.mode.data or "网上学"
        # A lesson's self-check (answered in the browser) starts the reflection.
        form.reflection.data = form.reflection.data or selfcheck_note(
            request.args.get("selfcheck"))
        if not form.form_key.data:
            form.form_key.data = secrets.token_urlsafe(16)
    if form.validate_on_submit():
        s = db.session()
        duplicate = form.form_key.data and s.scalar(
            select(StudyLog).where(StudyLog.form_key == form.form_key.data))
        if not duplicate:
            s.add(StudyLog(user_id=current_user.id, day=form.day.data,
                           lesson=form.lesson.data or None,
                           topic=(form.topic.data or "").strip() or None,
                           minutes=form.minutes.data, mode=form.mode.data,
                           reflection=(form.reflection.data or "").strip() or None,
                           form_key=form.form_key.data or None))
            s.commit()
        flash("学习记录已保存。", "success")
        # 我的学习 then offers the way back to the lesson on the site.
        return redirect(url_for("members.mine", lesson=form.lesson.data or None), 303)
    return render_template("members/study.html", form=form, groups=lesson_groups(),
                           offline_label=OFFLINE_LABEL), 400 if form.errors else 200


@bp.get("/me")
@login_required
def mine():
    s = db.session()
    logs = s.scalars(select(StudyLog).where(StudyLog.user_id == current_user.id)
                     .order_by(StudyLog.day.desc(), StudyLog.id.desc()).limit(200)).all()
    first = beijing_today().replace(day=1)  # this month in Beijing, not on the server
    month = s.scalar(select(func.coalesce(func.sum(StudyLog.minutes), 0)).where(
        StudyLog.user_id == current_user.id, StudyLog.day >= first)) or 0
    # Only a lesson of the site is linked: the value came through a URL.
    back = lesson(request.args.get("lesson"))
    from forms_app import recovery
    from forms_app.duties import panel as my_duties  # 不断线: the duties panel at the top
    from forms_app.pairs import care

    return render_template("members/mine.html", logs=logs, month_minutes=month,
                           pairs=care.cards(s, current_user.id),
                           lesson_title=lesson_title, form=ConfirmForm(), back=back,
                           resets=recovery.issued_for(s, current_user.id),
                           **my_duties.panel_context(s, s.get(User, current_user.id)))


def _own_logs() -> list[StudyLog]:
    return list(db.session().scalars(select(StudyLog).where(
        StudyLog.user_id == current_user.id).order_by(StudyLog.day.desc(), StudyLog.id.desc())))


@bp.get("/me/data")
@login_required
def my_data():
    """Everything the app keeps about the member, readable, with the JSON file to keep."""
    from forms_app.duties import orglife

    return render_template("members/data.html", logs=_own_logs(), lesson_title=lesson_title,
                           orglife=orglife.own_records(db.session(), current_user.id, None))


def _beijing_iso(moment) -> str | None:
    return working_days.beijing(moment).isoformat(timespec="seconds") if moment else None


def _duties_export(s, user: User) -> dict:
    """组织生活记录 and what the member declared for 我的 (forms_app/duties/panel.py)."""
    from forms_app.duties import orglife

    return {
        "org_life": orglife.export(orglife.own_records(s, user.id, None), _beijing_iso),
        "dues_paid_until": (user.dues_paid_until.strftime("%Y-%m")
                            if user.dues_paid_until else None),
        "card_issued_on": user.card_issued_on.isoformat() if user.card_issued_on else None,
        "thought_every_months": user.thought_every_months,
    }


def _pairs_export(s, user: User) -> dict:
    """The study buddy's contact notes and 通报 about the member (forms_app/pairs)."""
    from forms_app.pairs import contacts, notices

    return {
        "contact_notes": contacts.export(contacts.notes_for(s, user.id, None), _beijing_iso),
        "buddy_notices": notices.export(notices.for_member(s, user.id, None), _beijing_iso),
    }


@bp.get("/me/export.json")
@login_required
def export_mine():
    """A member's own data as a JSON file to keep (PIPL: the right to a copy): UTF-8 as it
    is, times in Beijing time with their offset, downloaded rather than shown."""
    s = db.session()
    logs = _own_logs()
    user = current_user
    data = {
        "username": user.username,
        "created_at": _beijing_iso(user.created_at),
        "buddy": user.buddy.username if user.buddy else None,
        "study_logs": [{
            "day": log.day.isoformat(), "lesson": log.lesson,
            "lesson_title": lesson_title(log.lesson) if log.lesson else None,
            "topic": log.topic, "minutes": log.minutes, "mode": log.mode,
            "reflection": log.reflection, "confirmed": log.confirmed_at is not None,
            "confirmed_at": _beijing_iso(log.confirmed_at),
            # 代记: logged by the study buddy at a 送学上门 visit (forms_app/pairs).
            "logged_by_buddy": log.logged_by_id is not None,
            "logged_by": log.logged_by.username if log.logged_by else None,
            "created_at": _beijing_iso(log.created_at)} for log in logs],
        **_duties_export(s, user),
        "reports": reports.export_rows(s, user.id),
        **_pairs_export(s, user),
    }
    audit.record(s, audit.actor_name(user), "export", ip=client_ip(), detail="own data")
    s.commit()
    body = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    name = f"网上党校学习记录-{beijing_today().isoformat()}.json"
    fallback = f"dangxiao-study-{beijing_today().isoformat()}.json"
    return Response(body.encode("utf-8"), mimetype="application/json", headers={
        "Content-Disposition": (f'attachment; filename="{fallback}"; '
                                f"filename*=UTF-8''{quote(name)}")})


# The download's first address, kept for links and bookmarks made before /me/data.
bp.add_url_rule("/me/export", endpoint="export_mine_legacy", view_func=export_mine)


@bp.post("/me/delete")
@login_required
def delete_account():
    """The member's account and every study log in it, gone from the database. The audit
    log names the member only by pseudonym (audit.actor_name), so its rows, which no one
    may change, keep no trace of the username once the account row is gone."""
    s = db.session()
    user = s.get(User, current_user.id)
    if user.is_editor:
        abort(403)
    if request.form.get("confirm") != "yes":
        # It cannot be undone: one more page says what goes, and asks (no script needed).
        return render_template("members/delete.html", form=ConfirmForm())
    audit.record(s, audit.actor_name(user), "erase", ip=client_ip(), detail="account deleted")
    reports.forget_member(s, user.id)  # their reports' rows stay, emptied (the audit log)
    s.delete(user)
    s.commit()
    logout_user()
    session.clear()
    flash("您的账号和学习记录已全部删除。", "success")
    return redirect(url_for("public.index"), 303)


@bp.get("/buddy")
@login_required
def buddy():
    logs = db.session().scalars(
        select(StudyLog).join(User, StudyLog.user_id == User.id)
        .where(User.buddy_id == current_user.id)
        .order_by(StudyLog.confirmed_at.is_not(None), StudyLog.day.desc()).limit(200)).all()
    from forms_app.duties import orglife  # the pairs' 组织生活记录, confirmed here too
    from forms_app.pairs import care

    return render_template("members/buddy.html", logs=logs, lesson_title=lesson_title,
                           form=ConfirmForm(),
                           orglife=orglife.for_buddy(db.session(), current_user.id),
                           care=care.cards(db.session(), current_user.id))


def confirm_record(model, record_id: int, action: str, what: str, detail: str):
    """A study buddy confirms their own pairs' records (study logs, 组织生活); an editor
    any. Anyone else learns nothing, not even that the record exists. Confirming twice
    keeps the first confirmation."""
    s = db.session()
    record = s.get(model, record_id)
    if record is None or not (current_user.is_editor or
                              record.user.buddy_id == current_user.id):
        abort(404)
    if record.confirmed_at is None:
        record.confirmed_at, record.confirmed_by_id = utcnow(), current_user.id
        audit.record(s, audit.actor_name(current_user), action, ip=client_ip(),
                     detail=f"{detail} {record.id}")
        s.commit()
        flash(f"已确认这条{what}。", "success")
    return redirect(safe_next(request.form.get("next"), url_for("members.buddy")), 303)


@bp.post("/buddy/<int:log_id>/confirm")
@login_required
def confirm(log_id: int):
    return confirm_record(StudyLog, log_id, "confirm_study", "学习记录", "study_log")
