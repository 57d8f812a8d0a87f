"""Extensions shared by the blueprints; each is bound to an app in create_app."""

from __future__ import annotations

import time

from flask import request
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect
from limits.storage.memory import MemoryStorage

csrf = CSRFProtect()
login_manager = LoginManager()
login_manager.login_view = "members.login"
login_manager.login_message = "这一步需要登录。"
login_manager.login_message_category = "info"  # a note, not a success (nor an error)
login_manager.session_protection = "strong"


def client_ip() -> str:
    """The client's address; X-Forwarded-For counts only behind TRUSTED_PROXIES (ProxyFix)."""
    return request.remote_addr or "unknown"


class SweptMemoryStorage(MemoryStorage):
    """Flask-Limiter's in-process storage (`swept-memory://`, the default) without a timer
    thread: limits' MemoryStorage starts a new thread 10 ms after every hit to drop expired
    counters, which under gunicorn cost about a fifth of a rate-limited request's CPU time
    (bench/forms_bench.py). A counter is checked for expiry whenever it is read, so the
    limits stay exact; the sweep only frees memory, and runs inline at most every
    SWEEP_SECONDS. Counts stay per process: give several workers a shared storage (Redis)."""

    STORAGE_SCHEME = ["swept-memory"]
    SWEEP_SECONDS = 10.0
    _next_sweep = 0.0

    # Replaces MemoryStorage's private hook that starts the timer (name-mangled there).
    def _MemoryStorage__schedule_expiry(self) -> None:
        now = time.time()
        if now >= self._next_sweep:
            self._next_sweep = now + self.SWEEP_SECONDS
            self._MemoryStorage__expire_events()
