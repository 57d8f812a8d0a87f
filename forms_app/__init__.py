"""The forms app: mailbox questions, 流动党员之声 articles and study logs, one queue.

`create_app(test_config=None)`: settings, then the database, then extensions, then one
blueprint per audience (public forms, members, editors). Every route lives under /app/.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from flask import Flask, abort, current_app, render_template, request
from flask_limiter import Limiter
from flask_wtf.csrf import CSRFError, generate_csrf
from markupsafe import Markup
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from forms_app import db, moderation, settings
from forms_app.extensions import client_ip, csrf, login_manager
from forms_app.states import KIND_LABELS, STATE_LABELS
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
    "members.register": ("SUBMIT_LIMIT", POST),
    "members.study": ("SUBMIT_LIMIT", POST),
    "members.login": ("LOGIN_LIMIT", POST),
    "public.lookup": ("LOOKUP_LIMIT", POST),
    # Guessing tracking codes by URL is limited like the look-up form.
    "public.track": ("LOOKUP_LIMIT", ALL),
    "public.member_action": ("LOOKUP_LIMIT", ALL),
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
        WTF_I18N_ENABLED=False,
    )
    if test_config:
        app.config.update(test_config)
    if app.config["TRUSTED_PROXIES"]:
        n = int(app.config["TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore

    db.init_app(app)
    moderation.init_app(app)
    csrf.init_app(app)
    login_manager.init_app(app)

    from forms_app import editor, members, public

    app.register_blueprint(public.bp)
    app.register_blueprint(members.bp)
    app.register_blueprint(editor.bp)

    limiter = Limiter(key_func=client_ip, app=app)
    for endpoint, (setting, methods) in RATE_LIMITS.items():
        limit = limiter.limit(lambda s=setting: current_app.config[s], methods=methods)
        app.view_functions[endpoint] = limit(app.view_functions[endpoint])
    app.extensions["dx_limiter"] = limiter

    _register_template_helpers(app)
    _register_error_pages(app)
    app.before_request(_limit_fields)
    app.after_request(_security_headers)
    return app


def _limit_fields() -> None:
    # Werkzeug bounds multipart parts; url-encoded forms are counted here.
    if request.method == "POST" and len(request.form) > current_app.config["MAX_FORM_PARTS"]:
        abort(413)


def csrf_field() -> Markup:
    """The hidden CSRF token every form carries (CSRFProtect checks it on every POST)."""
    return Markup('<input name="csrf_token" type="hidden" value="%s">') % generate_csrf()


def _register_template_helpers(app: Flask) -> None:
    from forms_app import tracking_code, working_days
    from forms_app.personal import mask

    app.jinja_env.globals.update(KIND_LABELS=KIND_LABELS, STATE_LABELS=STATE_LABELS,
                                 csrf_field=csrf_field)
    app.jinja_env.filters["code"] = tracking_code.display
    app.jinja_env.filters["mask"] = mask
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

    @app.errorhandler(Exception)
    def crash(exc: Exception):
        log.exception("unhandled error on %s", request.path)
        return render_template("error.html", code=500, message=ERROR_MESSAGES[500]), 500


def _security_headers(response):
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Frame-Options"] = "DENY"
    if not request.path.startswith("/app/static/"):
        # Tracking pages, queues and forms are private: no shared or browser cache.
        response.headers["Cache-Control"] = "no-store"
    return response
