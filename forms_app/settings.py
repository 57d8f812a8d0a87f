"""Every setting of the forms app, declared once: name, default and help.

A setting is read, last one wins, from these defaults, then `instance/config.toml`, then
the environment variable `DANGXIAO_<NAME>`, then the test mapping given to create_app.
The README's settings table is checked against SETTINGS by a test.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEV_SECRET = "dev-only-not-secret"


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("ENV", "development",
            "`production` refuses to start without a real SECRET_KEY and marks cookies Secure"),
    Setting("SECRET_KEY", DEV_SECRET,
            "signs sessions and CSRF tokens; at least 32 random characters in production"),
    Setting("DATABASE_URL", "",
            "SQLAlchemy URL; empty means SQLite at instance/dangxiao.sqlite3"),
    Setting("CONTENT_DIR", "",
            "content folder that Publish writes into; empty means the project's content/"),
    Setting("SITE_DIR", "",
            "built site that Publish rebuilds and /app/search reads; empty means the "
            "project's site/"),
    Setting("REBUILD_AFTER_PUBLISH", True, "rebuild the site in the background after Publish"),
    Setting("CONTENT_REMOTE", "",
            "git remote (a name in the content checkout, or a URL) that Publish pulls from "
            "(--rebase) before it writes and pushes to after it commits; empty means commit "
            "locally only. See docs/scaling.md"),
    Setting("FULL_BUILD_AFTER_PUBLISH", True,
            "after Publish put the new pages in (seconds), then rebuild the whole site so "
            "every page's navigation lists them; off: only the new pages"),
    Setting("FULL_BUILD_DELAY", 120,
            "seconds of quiet after the last Publish before that whole-site rebuild starts "
            "(a Publish meanwhile starts the wait again), so that publishes in a row each "
            "take seconds instead of waiting behind it; 0: at once"),
    Setting("RATELIMIT_STORAGE_URI", "swept-memory://",
            "Flask-Limiter storage: swept-memory:// counts in each process; give several "
            "workers a shared one, e.g. redis://127.0.0.1:6379"),
    Setting("SUBMIT_LIMIT", "10 per hour; 3 per minute",
            "submissions (ask, voice, study, register) per client IP"),
    Setting("LOGIN_LIMIT", "10 per 15 minutes", "login attempts per client IP"),
    Setting("LOOKUP_LIMIT", "30 per minute", "tracking-code look-ups per client IP"),
    Setting("TRUSTED_PROXIES", 0,
            "number of reverse proxies whose X-Forwarded-For is believed (nginx: 1)"),
    Setting("MAX_CONTENT_LENGTH", 64 * 1024, "largest request body in bytes (413 above)"),
    Setting("MAX_FORM_PARTS", 50, "most form fields in one request (413 above)"),
    Setting("EDITOR_IDLE_MINUTES", 30, "an editor idle this long must log in again"),
    Setting("SESSION_HOURS", 12, "any session ends this long after login"),
    Setting("ANSWER_WORKING_DAYS", 2, "working days within which a question is answered"),
    Setting("CALENDAR_OVERRIDES", "",
            "YAML of holidays/workdays for years chinese-calendar does not know yet; "
            "empty means instance/calendar.yaml"),
    Setting("RETENTION_DAYS", 365,
            "personal data of closed items older than this is purged by `dangxiao db purge`"),
    Setting("STUDY_TARGET_HOURS", 32,
            "the branch's own yearly study target in study hours, shown in the ledger "
            "(台账) as the branch's number, not as a rule of the source documents"),
    Setting("MINUTES_PER_STUDY_HOUR", 45, "minutes that make one study hour (学时)"),
)

NAMES = {s.name for s in SETTINGS}


def _coerce(value: str, default: Any) -> Any:
    if isinstance(default, bool):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(default, int):
        return int(value)
    return value


def load(instance_path: Path, test_config: dict[str, Any] | None = None) -> dict[str, Any]:
    """The effective settings: defaults < instance config < environment < test mapping."""
    values: dict[str, Any] = {s.name: s.default for s in SETTINGS}
    config_file = instance_path / "config.toml"
    if config_file.is_file():
        with config_file.open("rb") as f:
            for key, value in tomllib.load(f).items():
                if key.upper() in NAMES:
                    values[key.upper()] = value
    for s in SETTINGS:
        env = os.environ.get(f"DANGXIAO_{s.name}")
        if env is not None:
            values[s.name] = _coerce(env, s.default)
    if test_config:
        values.update(test_config)
    return values


class ConfigError(RuntimeError):
    """The settings cannot run the app; the message says which one and why."""


def validate(values: dict[str, Any]) -> None:
    if values.get("ENV") == "production":
        key = str(values.get("SECRET_KEY") or "")
        if key == DEV_SECRET or len(key) < 32:
            raise ConfigError(
                "生产环境必须设置 DANGXIAO_SECRET_KEY（至少 32 个随机字符），拒绝启动。")
