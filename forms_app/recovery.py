"""Account recovery without phone or e-mail (accounts are a username and a password only).

- A recovery code (恢复码) is shown once at registration, and again once whenever it is
  made anew (from 我的 with the current password, or after a reset).
- A one-time reset code (重设密码码) is made by the member's study buddy or an editor, who
  passes it on by phone or in person: 24 hours, one use, a newer one voids the older.
- GET|POST /app/recover: username + either code + a new password. Success sets the password,
  ends every other session (session_version), spends the code and signs the member in.

Codes use the tracking codes' alphabet and grouping (forms_app/tracking_code.py).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
import unicodedata
from datetime import timedelta

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required
from sqlalchemy import select, update
from werkzeug.security import generate_password_hash
from wtforms import PasswordField, StringField, SubmitField
from wtforms.validators import EqualTo

from forms_app import audit, db, tracking_code
from forms_app.extensions import client_ip
from forms_app.forms import NEW_PASSWORD, PASSWORD_RULES, USERNAME, Form, PasswordForm, required
from forms_app.members import current_password_ok, safe_next, start_session
from forms_app.models import ResetCode, User, utcnow

bp = Blueprint("recovery", __name__, url_prefix="/app")

RESET_HOURS = 24
# A code made by a POST is shown by the GET it redirects to, once, within this time.
SHOW_SECONDS = 10 * 60
ONCE_KEY = "dx_once"
FAILED = "用户名或恢复码不正确，或重设码已过期。"


# -- codes and their hashes ----------------------------------------------------------------
# A code is 16 symbols of 30 drawn by the OS (78.5 bits), not a password a person chose: a
# fast salted SHA-256 is enough, since trying 2**78 codes offline is out of reach however
# fast each try is. A slow hash (scrypt) would only make the reset page, which checks the
# recovery code and every open reset code of the account, slow for everyone.
def hash_code(code: str) -> str:
    salt = secrets.token_hex(16)
    return f"sha256${salt}${hashlib.sha256((salt + code).encode()).hexdigest()}"


_DUMMY_HASH = hash_code(tracking_code.new_code())


def code_matches(stored: str | None, code: str) -> bool:
    """Whether code is the one stored (constant-time compare). A missing hash is compared
    against a dummy, so an account without a code takes as long as one with a wrong code."""
    _, salt, digest = (stored or _DUMMY_HASH).split("$", 2)
    same = hmac.compare_digest(hashlib.sha256((salt + code).encode()).hexdigest(), digest)
    return same and stored is not None


def normalize(typed: str | None) -> str:
    """What the member typed, as a code: full-width letters from a Chinese keyboard made
    plain, spaces and dashes dropped, any case; "" when it cannot be a code."""
    return tracking_code.normalize(unicodedata.normalize("NFKC", typed or "")) or ""


# -- showing a code once --------------------------------------------------------------------
# The POST that makes a code redirects to a GET that shows it; the code itself never goes
# into the session cookie (which is signed, not encrypted, and holds no codes). The cookie
# carries a random seed once; the code is an HMAC of it under SECRET_KEY, so neither the
# cookie without the key nor the key without the cookie tells anyone the code. The GET pops
# the seed: a reload finds nothing and says the code was already shown.
def _derive(seed: str, purpose: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    mac = hmac.new(key, f"{purpose}:{seed}".encode(), hashlib.sha256).digest()
    space = len(tracking_code.ALPHABET) ** tracking_code.LENGTH
    return tracking_code.from_number(int.from_bytes(mac, "big") % space)


def issue_recovery_code(user: User) -> str:
    """Give user a new recovery code (the old one stops working); the caller commits, then
    calls show_once("recovery", seed, user.id) with the seed returned."""
    seed = secrets.token_urlsafe(16)
    user.recovery_hash = hash_code(_derive(seed, "recovery"))
    return seed


def show_once(what: str, seed: str, ident: int) -> None:
    session[ONCE_KEY] = {"what": what, "seed": seed, "id": ident, "at": time.time()}


def _pop_once(what: str, ident: int | None = None) -> tuple[str, int] | None:
    once = session.pop(ONCE_KEY, None)
    if (not isinstance(once, dict) or once.get("what") != what
            or time.time() - float(once.get("at", 0)) > SHOW_SECONDS
            or (ident is not None and once.get("id") != ident)):
        return None
    return _derive(str(once.get("seed")), what), int(once["id"])


def _home() -> str:
    return url_for("editor.queue") if current_user.is_editor else url_for("members.mine")


@bp.get("/recovery-code")
@login_required
def show_code():
    """The member's new recovery code, once. `next` is where 继续 goes."""
    next_url = safe_next(request.args.get("next"), _home())
    shown = _pop_once("recovery", current_user.id)
    user = db.session().get(User, current_user.id)
    code = shown[0] if shown and code_matches(user.recovery_hash, shown[0]) else None
    return render_template("recovery/code.html", code=code, next_url=next_url)


# -- a new recovery code from 我的 -----------------------------------------------------------
class RegenerateForm(Form):
    current = PasswordForm.current
    submit = SubmitField("重新生成恢复码")


@bp.route("/me/recovery-code", methods=["GET", "POST"])
@login_required
def regenerate():
    form = RegenerateForm()
    if form.validate_on_submit() and (user := current_password_ok(form)):
        s = db.session()
        seed = issue_recovery_code(user)
        audit.record(s, audit.actor_name(user), "recovery_code", ip=client_ip())
        s.commit()
        show_once("recovery", seed, user.id)
        flash("已生成新的恢复码，旧的恢复码已作废。", "success")
        return redirect(url_for("recovery.show_code", next=_home()), 303)
    return render_template("recovery/regenerate.html", form=form), 400 if form.errors else 200


# -- one-time reset codes from the study buddy or an editor ----------------------------------
def may_issue_for(issuer: User, member: User) -> bool:
    """A buddy for their own pairs (members only); an editor for members; an admin also for
    editors and other admins (never for themselves: they know their password)."""
    if member.id == issuer.id:
        return False
    if member.role == "member":
        return issuer.is_editor or member.buddy_id == issuer.id
    return issuer.role == "admin"


# A member sees on 我的, for this long, every reset code someone made for their account.
NOTICE_DAYS = 7


def issued_for(s, user_id: int) -> list[tuple[ResetCode, str]]:
    """Reset codes made for this account in the last NOTICE_DAYS, newest first, each with
    who made it (帮学联系人 X, 支部编辑 X): a code the member did not ask for is a warning."""
    since = utcnow() - timedelta(days=NOTICE_DAYS)
    rows = s.scalars(select(ResetCode).where(ResetCode.user_id == user_id,
                                             ResetCode.created_at >= since)
                     .order_by(ResetCode.id.desc()).limit(10)).all()
    result = []
    for row in rows:
        issuer = s.get(User, row.issued_by_id) if row.issued_by_id else None
        who = ("（账号已删除）" if issuer is None else
               f"支部编辑 {issuer.username}" if issuer.is_editor else
               f"帮学联系人 {issuer.username}")
        result.append((row, who))
    return result


@bp.post("/reset-code/<int:user_id>")
@login_required
def issue(user_id: int):
    s = db.session()
    member = s.get(User, user_id)
    issuer = s.get(User, current_user.id)
    if member is None or not may_issue_for(issuer, member):
        # Someone else's pair, or not a buddy at all: as if the account were not there.
        abort(403 if member is not None and issuer.is_editor else 404)
    now = utcnow()
    # A newer code voids the older ones still open: they expire now.
    s.execute(update(ResetCode).where(
        ResetCode.user_id == member.id, ResetCode.used_at.is_(None),
        ResetCode.expires_at > now).values(expires_at=now))
    seed = secrets.token_urlsafe(16)
    row = ResetCode(user_id=member.id, issued_by_id=issuer.id,
                    code_hash=hash_code(_derive(seed, "reset")), created_at=now,
                    expires_at=now + timedelta(hours=RESET_HOURS))
    s.add(row)
    s.flush()
    audit.record(s, audit.actor_name(issuer), "reset_code", ip=client_ip(),
                 detail=f"for {audit.actor_name(member)}")  # who for whom, never the code
    s.commit()
    show_once("reset", seed, row.id)
    default = url_for("editor.people") if issuer.is_editor else url_for("members.buddy")
    return redirect(url_for("recovery.show_reset_code",
                            next=safe_next(request.form.get("next"), default)), 303)


@bp.get("/reset-code")
@login_required
def show_reset_code():
    """The reset code just made, once, to its issuer, with whom it is for."""
    next_url = safe_next(request.args.get("next"), _home())
    shown = _pop_once("reset")
    s = db.session()
    row = s.get(ResetCode, shown[1]) if shown else None
    ok = (row is not None and row.issued_by_id == current_user.id and row.used_at is None
          and row.expires_at > utcnow() and code_matches(row.code_hash, shown[0]))
    member = s.get(User, row.user_id) if ok else None
    return render_template("recovery/reset_code.html", code=shown[0] if ok else None,
                           row=row if ok else None, member=member, next_url=next_url)


# -- the reset page --------------------------------------------------------------------------
class RecoverForm(Form):
    summary_title = "还没有重设密码"
    username = StringField("用户名", render_kw=USERNAME, validators=[required("请填写用户名。")])
    code = StringField("恢复码或重设码", render_kw={"autocomplete": "off",
                                                 "autocapitalize": "characters",
                                                 "spellcheck": "false"},
                       validators=[required("请填写恢复码或重设码。")])
    password = PasswordField("新密码", render_kw=NEW_PASSWORD, validators=PASSWORD_RULES)
    confirm = PasswordField("再输入一次新密码", render_kw=NEW_PASSWORD, validators=[
        EqualTo("password", message="两次输入的密码不一致。")])
    submit = SubmitField("重设密码")


def _spend(s, user: User, code: str) -> str | None:
    """Use up code for user if it is their recovery code or an open reset code; returns
    what it was for the audit log, or None (nothing changed). The same hash work is done
    whether or not the account exists, and a code is spent by a conditional UPDATE, so two
    requests with one code cannot both succeed."""
    now = utcnow()
    open_codes = list(s.scalars(select(ResetCode).where(
        ResetCode.user_id == (user.id if user else 0), ResetCode.used_at.is_(None),
        ResetCode.expires_at > now)))
    is_recovery = code_matches(user.recovery_hash if user else None, code)
    matches = [r for r in open_codes if code_matches(r.code_hash, code)]
    if user is None or not user.active or not code:
        return None
    if is_recovery:
        spent = s.execute(update(User).where(User.id == user.id,
                                             User.recovery_hash == user.recovery_hash)
                          .values(recovery_hash=None))
        how = "recovery code"
    elif matches:
        spent = s.execute(update(ResetCode).where(
            ResetCode.id == matches[0].id, ResetCode.used_at.is_(None),
            ResetCode.expires_at > now).values(used_at=now))
        issuer = s.get(User, matches[0].issued_by_id) if matches[0].issued_by_id else None
        how = f"reset code from {audit.actor_name(issuer) if issuer else '-'}"
    else:
        return None
    if spent.rowcount != 1:
        s.rollback()
        return None
    # Every other open reset code of the account goes too.
    s.execute(update(ResetCode).where(ResetCode.user_id == user.id,
                                      ResetCode.used_at.is_(None),
                                      ResetCode.expires_at > now).values(expires_at=now))
    return how


@bp.route("/recover", methods=["GET", "POST"])
def recover():
    form = RecoverForm()
    if form.validate_on_submit():
        s = db.session()
        user = s.scalar(select(User).where(User.username == form.username.data.strip()))
        how = _spend(s, user, normalize(form.code.data))
        if how is None:
            audit.record(s, "anonymous", "password_reset_failed", ip=client_ip())
            s.commit()
            form.code.errors.append(FAILED)
        else:
            s.refresh(user)  # as the conditional UPDATEs left it
            user.password_hash = generate_password_hash(form.password.data)
            user.session_version += 1  # every session of the account, anywhere, ends
            # The member may have lost the old recovery code too: a new one, shown once.
            seed = issue_recovery_code(user)
            audit.record(s, audit.actor_name(user), "password_reset", ip=client_ip(),
                         detail=how)
            s.commit()
            start_session(user)
            show_once("recovery", seed, user.id)
            flash("密码已重设，您已登录；其他设备上的登录已失效。原来的恢复码已作废，"
                  "请记下下面的新恢复码。", "success")
            return redirect(url_for("recovery.show_code", next=_home()), 303)
    return render_template("recovery/recover.html", form=form), 400 if form.errors else 200
