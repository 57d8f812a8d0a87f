"""The forms app: mailbox questions, 流动党员之声 articles and study logs, one queue.

`create_app(test_config=None)`: settings, then the database, then extensions, then one
blueprint per audience (public forms, members, editors). Every route lives under /app/.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from flask import Flask, abort, current_app, render_template, request
from flask_limiter import Limiter
from flask_wtf.csrf import CSRFError, generate_csrf
from limits.errors import StorageError
from markupsafe import Markup
from redis.exceptions import RedisError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from forms_app import db, moderation, settings, working_days
from forms_app.extensions import client_ip, csrf, login_manager
from forms_app.states import COUNT_STATES, KIND_LABELS, KIND_STATES, STATE_LABELS
from generator.markup import render_markdown

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parent.parent

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")

# Which setting limits which view, for which methods (per client IP).
POST, ALL = ["POST"], None
RATE_LIMITS = {
    "public.ask": ("SUBMIT_LIMIT", POST),
    "public.voice": ("SUBMIT_LIMIT", POST),
    "help.form": ("SUBMIT_LIMIT", POST),
    "members.register": ("SUBMIT_LIMIT", POST),
    "members.study": ("SUBMIT_LIMIT", POST),
    "orglife.record": ("SUBMIT_LIMIT", POST),
    "reports.report": ("SUBMIT_LIMIT", POST),
    "pairs.contact": ("SUBMIT_LIMIT", POST),
    "pairs.notice": ("SUBMIT_LIMIT", POST),
    "pairs.home_study_log": ("SUBMIT_LIMIT", POST),
    "pairs.read_notice": ("SUBMIT_LIMIT", POST),
    "members.login": ("LOGIN_LIMIT", POST),
    # Guessing a recovery or reset code, or the password that makes a new one: like login.
    "recovery.recover": ("LOGIN_LIMIT", POST),
    "recovery.regenerate": ("LOGIN_LIMIT", POST),
    "public.lookup": ("LOOKUP_LIMIT", POST),
    # Guessing tracking codes by URL is limited like the look-up form.
    "public.track": ("LOOKUP_LIMIT", ALL),
    "public.member_action": ("LOOKUP_LIMIT", ALL),
    "help.track": ("LOOKUP_LIMIT", ALL),
    "help.member_action": ("LOOKUP_LIMIT", ALL),
}

ERROR_MESSAGES = {
    400: "请求无效，未保存任何内容。",
    403: "您没有权限访问这个页面。",
    404: "没有找到这个页面，或查询码不正确。",
    405: "不支持这种访问方式。",
    409: "这条内容刚被其他人处理过，请刷新后再看。",
    413: "提交的内容太长，未保存。请删减后再提交。",
    429: "操作太频繁，请稍后再试。",
    500: "服务器出了点问题，未保存。请稍后再试。",
    503: "暂时无法保存，请稍后再试。",
}
LIMITER_DOWN_POST = ("暂时无法提交：您填写的内容没有保存，也没有生成查询码。"
                     "请过几分钟再提交，或拨打服务热线 12371。")
LIMITER_DOWN_GET = "暂时无法查询，请过几分钟再试，或拨打服务热线 12371。"
CONTROL_CHARACTERS_MESSAGE = (
    "提交的内容里有无法保存的控制字符（如空字符），未保存任何内容。"
    "请删去这些字符（常见于从别处复制来的文字）后重新提交。")

# C0 controls except tab, LF and CR; DEL; lone surrogates. PostgreSQL refuses NUL in text,
# and none of them is anything a person typed.
_REFUSED_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
HSTS = "max-age=31536000"


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    # The instance folder holds config.toml, the SQLite file and the calendar overrides.
    instance = (test_config or {}).get("INSTANCE_PATH") or os.environ.get(
        "DANGXIAO_INSTANCE") or PROJECT_ROOT / "instance"
    app = Flask(__name__, instance_path=str(Path(instance).resolve()),
                static_url_path="/app/static")
    values = settings.load(Path(app.instance_path), test_config)
    settings.validate(values)
    app.config.update(values)
    production = app.config["ENV"] == "production"
    app.config.update(
        SESSION_COOKIE_NAME="dx_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=production,
        SESSION_COOKIE_PATH="/app",
        # A member may take a while to write an article: the form stays valid for hours.
        WTF_CSRF_TIME_LIMIT=6 * 3600,
        WTF_CSRF_SSL_STRICT=production,
        RATELIMIT_STORAGE_URI=app.config["RATELIMIT_STORAGE_URI"],
        RATELIMIT_HEADERS_ENABLED=False,
        # A limit storage that fails (Redis down) refuses the request with a 503 below:
        # never counted nowhere (swallowed) nor per worker (in-memory fallback), which would
        # let a flood through unlimited.
        RATELIMIT_SWALLOW_ERRORS=False,
        RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=False,
        WTF_I18N_ENABLED=False,
    )
    if test_config:
        app.config.update(test_config)
    # The calendar overrides are read and checked now: a broken file stops start-up here
    # instead of failing the first question. Changes later are picked up while running.
    calendar = working_days.OverrideFile(working_days.override_path(
        app.config["CALENDAR_OVERRIDES"], app.instance_path))
    try:
        app.extensions["dx_calendar"] = calendar.load()
    except working_days.CalendarFileError as exc:
        raise settings.ConfigError(f"日历覆盖文件有误，拒绝启动：{exc}") from None
    if app.config["TRUSTED_PROXIES"]:
        n = int(app.config["TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore

    db.init_app(app)
    moderation.init_app(app)
    csrf.init_app(app)
    login_manager.init_app(app)

    from forms_app import editor, editor_people, members, public  # noqa: F401 (routes)

    app.register_blueprint(public.bp)
    app.register_blueprint(members.bp)
    app.register_blueprint(editor.bp)
    from forms_app import help_requests

    app.register_blueprint(help_requests.bp)
    from forms_app.duties import orglife
    from forms_app.duties import panel as my_duties

    app.register_blueprint(orglife.bp)
    app.register_blueprint(my_duties.bp)
    from forms_app.branch import risk
    from forms_app.duties import reports

    app.register_blueprint(reports.bp)
    app.register_blueprint(risk.bp)
    from forms_app import recovery, search

    app.register_blueprint(search.bp)
    app.register_blueprint(recovery.bp)
    from forms_app.branch import charts, ledger

    app.register_blueprint(charts.bp)
    app.register_blueprint(ledger.bp)
    from forms_app import pairs  # 结对帮学: the buddy's contact notes, 通报 and 代记

    app.register_blueprint(pairs.bp)

    limiter = Limiter(key_func=client_ip, app=app)
    # Every limit is a route's own (RATE_LIMITS), checked by its decorator. Flask-Limiter's
    # before_request hook checks only default, application and meta limits, of which there
    # are none: it would only cost each request of every page a pass over nothing.
    # (Not there at all when RATELIMIT_ENABLED is off.)
    hooks = app.before_request_funcs.get(None, [])
    if limiter._check_request_limit in hooks:
        hooks.remove(limiter._check_request_limit)
    for endpoint, (setting, methods) in RATE_LIMITS.items():
        limit = limiter.limit(lambda s=setting: current_app.config[s], methods=methods)
        app.view_functions[endpoint] = limit(app.view_functions[endpoint])
    app.extensions["dx_limiter"] = limiter

    _register_template_helpers(app)
    _register_error_pages(app)
    app.before_request(_limit_fields)
    app.before_request(_refuse_control_characters)
    app.after_request(_relative_location)
    app.after_request(_security_headers)
    return app


def _limit_fields() -> None:
    # Every value counts, and every file part: 3,000 repeats of one name are 3,000 fields.
    # (Werkzeug also bounds multipart parts by the same setting.)
    if request.method == "POST":
        parts = sum(len(values) for _, values in request.form.lists())
        parts += sum(len(files) for _, files in request.files.lists())
        if parts > current_app.config["MAX_FORM_PARTS"]:
            abort(413)


def refused_character(text: str) -> bool:
    """Whether text holds a character no form accepts (a control character but tab, CR and
    LF; DEL; a lone surrogate)."""
    return _REFUSED_CHARACTERS.search(text) is not None


def _refuse_control_characters():
    """Every POSTed field, on every database: one such character refuses the request
    before any view sees it, so nothing is stored and the member is told why."""
    if request.method != "POST":
        return None
    texts = [text for name, values in request.form.lists() for text in (name, *values)]
    texts += [name for name, _ in request.files.lists()]
    texts += [f.filename or "" for _, files in request.files.lists() for f in files]
    if any(refused_character(text) for text in texts):
        log.warning("refused POST with control characters: %s", request.path)
        return render_template("error.html", code=400,
                               message=CONTROL_CHARACTERS_MESSAGE), 400
    return None


def _relative_location(response):
    """Redirects never name a host: Werkzeug builds some (the slash redirect of /app, for
    one) from the request's Host header, which anyone can set. The app never sends a
    person to another host, so every absolute Location becomes the path on this one."""
    location = response.headers.get("Location")
    if location:
        parts = urlsplit(location)
        if parts.scheme or parts.netloc:
            path = "/" + parts.path.lstrip("/\\")  # one leading slash: never //host
            response.headers["Location"] = urlunsplit(("", "", path, parts.query,
                                                       parts.fragment))
    return response


def csrf_field() -> Markup:
    """The hidden CSRF token every form carries (CSRFProtect checks it on every POST)."""
    return Markup('<input name="csrf_token" type="hidden" value="%s">') % generate_csrf()


def _register_template_helpers(app: Flask) -> None:
    from forms_app import tracking_code, working_days
    from forms_app.personal import ERASED_TEXT, has_personal, mask, mask_piece, mask_text
    from generator.plaintext import display_title

    app.jinja_env.globals.update(KIND_LABELS=KIND_LABELS, STATE_LABELS=STATE_LABELS,
                                 COUNT_STATES=COUNT_STATES, KIND_STATES=KIND_STATES,
                                 csrf_field=csrf_field)
    app.jinja_env.filters["code"] = tracking_code.display
    app.jinja_env.filters["mask"] = mask
    # Free text in editors' lists and pages: personal data masked until an audited reveal.
    app.jinja_env.filters["mask_personal"] = lambda text, item: mask_text(
        text, [v for v in (item.name, item.branch, item.contact) if v])
    app.jinja_env.filters["mask_piece"] = mask_piece
    # A member's title as the site shows it (generator/plaintext.py): one line, no tags.
    app.jinja_env.filters["plain_title"] = display_title
    app.jinja_env.globals["has_personal"] = has_personal
    app.jinja_env.globals["ERASED_TEXT"] = ERASED_TEXT
    # content/voices/x.yaml is the site's /voices/x.html (the site is served at the root).
    app.jinja_env.filters["site_page"] = lambda rel: "/" + rel.removesuffix(".yaml") + ".html"
    app.jinja_env.filters["member_md"] = lambda text: Markup(render_markdown(text))
    app.jinja_env.filters["bj"] = lambda t, fmt="%Y-%m-%d %H:%M": (
        working_days.beijing(t).strftime(fmt) if t else "")


def _register_error_pages(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        log.warning("refused POST without a valid CSRF token: %s %s", request.path,
                    exc.description)
        return render_template("error.html", code=400, message=(
            "页面已过期或来源不明，未保存任何内容。请返回上一页，刷新后重新提交。")), 400

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        code = exc.code or 500
        return render_template("error.html", code=code,
                               message=ERROR_MESSAGES.get(code, exc.name)), code

    @app.errorhandler(OperationalError)
    def database_unavailable(exc: OperationalError):
        # Disk full, read-only file, a lock held too long: nothing was committed.
        log.error("database refused a request on %s: %s", request.path, exc)
        return render_template("error.html", code=503, message=(
            "暂时无法保存，您提交的内容没有保存，也没有生成查询码。请稍后重新提交。")), 503

    @app.errorhandler(RedisError)
    @app.errorhandler(StorageError)
    def limiter_unavailable(exc: Exception):
        # The rate-limit storage is down: nothing was read or stored, no code was made.
        log.error("rate-limit storage refused a request on %s: %s", request.path, exc)
        message = (LIMITER_DOWN_POST if request.method == "POST" else LIMITER_DOWN_GET)
        return render_template("error.html", code=503, message=message), 503, {
            "Retry-After": "60"}

    @app.errorhandler(Exception)
    def crash(exc: Exception):
        log.exception("unhandled error on %s", request.path)
        return render_template("error.html", code=500, message=ERROR_MESSAGES[500]), 500


def _security_headers(response):
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Frame-Options"] = "DENY"
    if current_app.config["ENV"] == "production":
        response.headers["Strict-Transport-Security"] = HSTS
    if not request.path.startswith("/app/static/"):
        # Tracking pages, queues and forms are private: no shared or browser cache.
        response.headers["Cache-Control"] = "no-store"
    return response
