"""Extensions shared by the blueprints; each is bound to an app in create_app."""

from __future__ import annotations

from flask import request
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()
login_manager = LoginManager()
login_manager.login_view = "members.login"
login_manager.login_message = "请先登录。"
login_manager.session_protection = "strong"


def client_ip() -> str:
    """The client's address; X-Forwarded-For counts only behind TRUSTED_PROXIES (ProxyFix)."""
    return request.remote_addr or "unknown"
