"""What the second attack on the forms app found, one test (or a few) per finding.

Redirects after login that a browser turns into another host; redirects built from the
request's Host; the calendar overrides read only at the first question; the form-field
limit that counted names, not values; NUL and other control characters that reached
PostgreSQL; required fields "filled" with invisible characters; HSTS in production.
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from conftest import add_user, ask, login, make_app, voice
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from forms_app import db, moderation, working_days
from forms_app.members import safe_next
from forms_app.models import StudyLog, Submission, User
from forms_app.settings import ConfigError
from forms_app.working_days import BEIJING, beijing

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "长江黄河都是好风景"
DEFAULT = "/app/me"


# -- 1. next= only ever leads to a path of this site ---------------------------------------

HOSTILE_NEXT = [
    "/\t/evil.example",            # what ?next=/%09/evil.example arrives as
    "/\n/evil.example", "/\r/evil.example", "/x\r\nSet-Cookie: a=b", "\t/evil.example",
    "/%09/evil.example", "/%0a/evil.example", "/%0D%0A/evil.example",
    "/%2F/evil.example", "/%5Cevil.example", "/%5C/evil.example",
    "//evil.example", "///evil.example", "/\\evil.example", "\\\\evil.example",
    "https://evil.example/", "javascript:alert(1)", "evil.example", "app/me",
    " /app/me", "/app/me ", "/ /evil.example", "/\u3000/evil.example", "/\u200b/evil.example",
    "/\x00/evil.example", "/\x7f/evil.example", "/\u2028/evil.example", "/%E2%80%A8x",
    "", None,
]


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_safe_next_refuses_anything_but_a_local_path(target):
    assert safe_next(target, DEFAULT) == DEFAULT


@pytest.mark.parametrize("target", [
    "/app/study", "/app/study?lesson=courses/law-rights/unpaid-wages", "/app/buddy",
    "/app/editor/?kind=question&state=open", "/app/study?lesson=courses%2Fx%2Fy",
    "/courses/index.html#top",
])
def test_safe_next_keeps_local_paths(target):
    assert safe_next(target, DEFAULT) == target


def _login_page_next(client, raw_query: str) -> str:
    page = client.get(f"/app/login?{raw_query}").get_data(as_text=True)
    match = re.search(r'<input[^>]*name="next"[^>]*>', page)
    assert match, page
    return re.search(r'value="([^"]*)"', match[0])[1] if 'value="' in match[0] else ""


@pytest.mark.parametrize("raw_query", [
    "next=/%09/evil.example", "next=/%0a/evil.example", "next=/%0d/evil.example",
    "next=/%0d%0aSet-Cookie:%20x=1", "next=%09//evil.example", "next=/%5C/evil.example",
])
def test_login_next_from_the_link_never_leaves_the_site(app, raw_query):
    """The attacker's link: the login page carries next in a hidden field; after a
    successful login the member is sent to 我的学习, not to another host and not a 500."""
    add_user(app, "老张")
    client = app.test_client()
    import html

    hidden = html.unescape(_login_page_next(client, raw_query))
    response = client.post("/app/login", data={"username": "老张", "password": PASSWORD,
                                               "next": hidden})
    assert response.status_code == 303
    assert response.headers["Location"] == DEFAULT


@pytest.mark.parametrize("target", ["/\t/evil.example", "/\r\n/evil.example", "/x\ny"])
def test_login_next_posted_directly_never_leaves_the_site(app, target):
    add_user(app, "老张")
    response = app.test_client().post("/app/login", data={
        "username": "老张", "password": PASSWORD, "next": target})
    assert (response.status_code, response.headers["Location"]) == (303, DEFAULT)


@pytest.mark.parametrize("target", ["/\t/evil.example", "/%09/evil.example", "//evil.example",
                                    "/\r\n/x"])
def test_register_next_never_leaves_the_site(app, target):
    from urllib.parse import quote

    response = app.test_client().post(f"/app/register?next={quote(target)}", data={
        "username": "新党员", "password": PASSWORD, "confirm": PASSWORD})
    assert (response.status_code, response.headers["Location"]) == (
        303, "/app/recovery-code?next=/app/study")  # the recovery code first, then study


@pytest.mark.parametrize("target", ["/\t/evil.example", "/%09/evil.example", "/\r\n/x"])
def test_buddy_confirm_next_never_leaves_the_site(app, target):
    add_user(app, "帮学人")
    add_user(app, "甲", buddy="帮学人")
    member, buddy = app.test_client(), app.test_client()
    login(member, "甲")
    assert member.post("/app/study", data={
        "day": date.today().isoformat(), "lesson": "courses/party-spirit/identity",
        "minutes": "30", "mode": "网上学"}).status_code == 303
    with app.app_context():
        log_id = db.session().scalar(select(StudyLog.id))
    login(buddy, "帮学人")
    response = buddy.post(f"/app/buddy/{log_id}/confirm", data={"next": target})
    assert (response.status_code, response.headers["Location"]) == (303, "/app/buddy")
    ok = buddy.post(f"/app/buddy/{log_id}/confirm", data={"next": "/app/me"})
    assert ok.headers["Location"] == "/app/me"


# -- 2. redirects never carry the request's Host --------------------------------------------

@pytest.mark.parametrize("proxies,headers", [
    (0, {"Host": "evil.example"}),
    (1, {"Host": "dangxiao.example.cn", "X-Forwarded-Host": "evil.example"}),
    (1, {"Host": "evil.example", "X-Forwarded-Host": "evil.example",
         "X-Forwarded-Proto": "https"}),
])
def test_slash_redirect_does_not_use_the_request_host(tmp_path, sqlite_url, proxies, headers):
    app = make_app(tmp_path, sqlite_url, TRUSTED_PROXIES=proxies)
    client = app.test_client()
    response = client.get("/app", headers=headers)
    assert response.status_code == 308
    assert response.headers["Location"] == "/app/"
    response = client.get("/app?x=1", headers=headers)
    assert response.headers["Location"] == "/app/?x=1"
    # The login redirect of a protected page stays relative as well.
    response = client.get("/app/study", headers=headers)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/app/login?next=")
    assert "evil" not in response.headers["Location"]
    db.close(app)


# -- 3. calendar overrides: read and checked at start-up, picked up while running ----------

BROKEN_CALENDARS = [
    # (file text, line, field, words of the message)
    ("2027:\n  holidays: ['2027-01-01'\n  workdays: []\n", 3, None, "YAML"),
    ("2027:\n  holiday: ['2027-01-01']\n", 2, "2027.holiday", "holidays"),
    ("2027:\n  holidays:\n    - '2027-01-01'\n    - '2027-02-30'\n", 4, "2027.holidays[1]",
     "日期"),
    ("2027:\n  workdays: ['2027-02-14', 'tomorrow']\n", 2, "2027.workdays[1]", "日期"),
    ("2027:\n  holidays: ['2027-02-12..2027-02-06']\n", 2, "2027.holidays[0]", "日期"),
    ("next year:\n  holidays: []\n", 1, "next year", "年份"),
    ("2027:\n  holidays: '2027-01-01'\n", 2, "2027.holidays", "列表"),
    ("- 2027\n", 1, None, "年份"),
    ("2027: [1, 2]\n", 1, "2027", "holidays"),
]


def _app_with_calendar(tmp_path: Path, text: str, **config):
    (tmp_path / "instance").mkdir(parents=True, exist_ok=True)
    (tmp_path / "instance" / "calendar.yaml").write_text(text, encoding="utf-8")
    return make_app(tmp_path, f"sqlite:///{tmp_path / 'instance' / 'dangxiao.sqlite3'}",
                    **config)


@pytest.mark.parametrize("text,line,field,words", BROKEN_CALENDARS)
def test_broken_calendar_stops_start_up_naming_file_line_and_field(tmp_path, text, line,
                                                                   field, words):
    with pytest.raises(ConfigError) as caught:
        _app_with_calendar(tmp_path, text)
    message = str(caught.value)
    path = tmp_path / "instance" / "calendar.yaml"
    assert f"{path}:{line}:" in message, message
    if field:
        assert f" {field}: " in message, message
    assert words in message
    assert re.search(r"[\u4e00-\u9fff]", message) and "拒绝启动" in message


def test_calendar_setting_points_at_another_file(tmp_path):
    broken = tmp_path / "elsewhere.yaml"
    broken.write_text("2027:\n  holidays: ['2027-13-01']\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape(f"{broken}:2:")):
        make_app(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite3'}",
                 CALENDAR_OVERRIDES=str(broken))


def test_cli_reports_a_broken_calendar_in_one_chinese_line(tmp_path):
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "calendar.yaml").write_text("2027:\n  holidays: ['2027-02-30']\n",
                                            encoding="utf-8")
    env = {**os.environ, "DANGXIAO_INSTANCE": str(instance),
           "DANGXIAO_DATABASE_URL": f"sqlite:///{instance / 'x.sqlite3'}"}
    done = subprocess.run([sys.executable, "-m", "generator", "db", "upgrade"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert f"{instance / 'calendar.yaml'}:2:" in done.stderr
    assert "2027.holidays[0]" in done.stderr and "拒绝启动" in done.stderr


def _beijing_today() -> date:
    return datetime.now(BEIJING).date()


def _holidays_from_today(days: int) -> str:
    today = _beijing_today()
    # A run may cross New Year, as the State Council's schedules sometimes do.
    return f"{today.year}:\n  holidays: ['{today}..{today + timedelta(days=days)}']\n"


def _touch(path: Path, text: str, step: int) -> None:
    path.write_text(text, encoding="utf-8")
    stamp = path.stat().st_mtime + step  # a new mtime, whatever the file system's precision
    os.utime(path, (stamp, stamp))


def test_calendar_changes_are_picked_up_and_a_broken_file_keeps_the_last_good(
        tmp_path, database_url, monkeypatch, caplog):
    monkeypatch.setattr(working_days.OverrideFile, "CHECK_SECONDS", 0.0)
    app = make_app(tmp_path, database_url)  # no calendar.yaml yet: the package's calendar
    path = tmp_path / "instance" / "calendar.yaml"
    client = app.test_client()
    today = _beijing_today()

    def due_date(code_response) -> date:
        assert code_response.status_code == 303, code_response.get_data(as_text=True)[:500]
        with app.app_context():
            due = db.session().scalar(select(Submission.due_at)
                                      .order_by(Submission.id.desc()).limit(1))
        return beijing(due).date()

    # Two working days ahead: within a fortnight, whatever the season.
    assert due_date(ask(client)) < today + timedelta(days=20)

    # A file added while running: twenty days of holidays from today push the due date.
    _touch(path, _holidays_from_today(20), 1)
    assert due_date(ask(client)) > today + timedelta(days=20)

    # Broken while running: never a 500, the last good calendar stays, a warning is logged.
    with caplog.at_level(logging.WARNING):
        _touch(path, "2027:\n  holidays: ['not a date']\n", 2)
        assert due_date(ask(client)) > today + timedelta(days=20)
        assert due_date(ask(client)) > today + timedelta(days=20)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING
                and "calendar" in r.getMessage()]
    assert len(warnings) == 1  # once per change, not once per question
    assert str(path) in warnings[0].getMessage()

    # Fixed again: the new calendar counts at once, no restart.
    _touch(path, _holidays_from_today(0), 3)
    assert due_date(ask(client)) < today + timedelta(days=20)
    # Removed: back to the package's calendar.
    _touch(path, _holidays_from_today(20), 4)
    assert due_date(ask(client)) > today + timedelta(days=20)
    path.unlink()
    assert due_date(ask(client)) < today + timedelta(days=20)
    db.close(app)


def test_calendar_is_looked_at_only_every_few_seconds(tmp_path, sqlite_url, monkeypatch):
    assert 0 < working_days.OverrideFile.CHECK_SECONDS <= 10
    monkeypatch.setattr(working_days.OverrideFile, "CHECK_SECONDS", 3600.0)
    app = make_app(tmp_path, sqlite_url)
    with app.app_context():
        first = moderation.calendar()
        (tmp_path / "instance" / "calendar.yaml").write_text(
            "2027:\n  holidays: ['2027-01-04']\n", encoding="utf-8")
        # Within the check interval the same calendar answers without a stat per question.
        assert moderation.calendar() is first
    db.close(app)


# -- 4. the form-field limit counts values and files, not names ------------------------------

def test_repeated_field_counts_every_value(app, client):
    many = [("question", "重复的字段")] * 3000
    body = "&".join(f"{k}={v}" for k, v in many).encode()
    response = client.post("/app/ask", data=body,
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413
    just_over = client.post("/app/ask", data=MultiDict([("question", "一个问题")] * 51))
    assert just_over.status_code == 413
    with app.app_context():
        assert db.session().scalar(select(func.count()).select_from(Submission)) == 0
    fine = client.post("/app/ask", data=MultiDict(
        [("question", "我在外地打工半年，组织关系要不要转？")] + [("extra", "x")] * 40))
    assert fine.status_code == 303


# Werkzeug stops parsing at the limit and leaves the files it had spooled to the garbage
# collector, which warns; the response is what counts here.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.filterwarnings("ignore::ResourceWarning")
def test_file_parts_count_too(app, client):
    from io import BytesIO

    data = MultiDict([("question", "一个问题")] * 20 +
                     [("upload", (BytesIO(b"x"), f"f{i}.txt")) for i in range(35)])
    response = client.post("/app/ask", data=data, content_type="multipart/form-data")
    assert response.status_code == 413


# -- 5. control characters and invisible "answers" ------------------------------------------

CONTROL_MESSAGE = "控制字符"


def _count(app, model) -> int:
    with app.app_context():
        return db.session().scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("field", ["question", "name", "branch", "contact", "category",
                                   "form_key", "website"])
def test_control_characters_in_ask_are_refused_on_every_database(app, client, field):
    for char in ["\x00", "\x01", "\x08", "\x0b", "\x0c", "\x1b", "\x1f", "\x7f"]:
        value = f"问题{char}内容" if field != "form_key" else f"k{char}"
        response = ask(client, **{field: value})
        assert response.status_code == 400, (field, char)
        page = response.get_data(as_text=True)
        assert CONTROL_MESSAGE in page and "未保存" in page
    assert _count(app, Submission) == 0


def test_tabs_and_line_breaks_are_fine(app, client):
    response = ask(client, question="第一行\r\n第二行\n\t缩进的第三行")
    assert response.status_code == 303


def test_nul_in_other_forms_is_refused(app, client):
    assert voice(client, body="正文" * 30 + "\x00").status_code == 400
    assert voice(client, title="标\x00题").status_code == 400
    assert _count(app, Submission) == 0
    # Login looks the name up in the database: PostgreSQL refuses NUL with an error.
    add_user(app, "老张")
    response = client.post("/app/login", data={"username": "老张\x00", "password": PASSWORD})
    assert response.status_code == 400 and CONTROL_MESSAGE in response.get_data(as_text=True)
    response = client.post("/app/register", data={"username": "新\x00人", "password": PASSWORD,
                                                  "confirm": PASSWORD})
    assert response.status_code == 400 and CONTROL_MESSAGE in response.get_data(as_text=True)
    assert _count(app, User) == 1
    login(client, "老张")
    response = client.post("/app/study", data={
        "day": date.today().isoformat(), "lesson": "", "topic": "线下\x00学习",
        "minutes": "30", "mode": "集中学"})
    assert response.status_code == 400 and CONTROL_MESSAGE in response.get_data(as_text=True)
    assert _count(app, StudyLog) == 0
    # The field's name counts as well as its value.
    response = ask(client, **{"x\x00": "y"})
    assert response.status_code == 400


@pytest.mark.parametrize("text", ["\ud800", "a\udfffb", "\x00", "\x7f", "\x1b[2J"])
def test_control_check_covers_lone_surrogates(text):
    from forms_app import refused_character

    assert refused_character(text)


@pytest.mark.parametrize("text", ["普通文字", "tab\there", "a\r\nb", "emoji 😀", "\u3000全角"])
def test_control_check_lets_text_through(text):
    from forms_app import refused_character

    assert not refused_character(text)


INVISIBLE = ["\u3000\u200b", "\u200b", "   ", "\u3000\u3000", "\ufeff", "\u2060\u200d",
             "\u200e\u200f", "\u200c \u3000"]


@pytest.mark.parametrize("blank", INVISIBLE)
def test_invisible_question_counts_as_empty(app, client, blank):
    response = ask(client, question=blank)
    assert response.status_code == 400
    assert "请填写您的问题。" in response.get_data(as_text=True)
    assert _count(app, Submission) == 0


def test_invisible_article_fields_count_as_empty(app, client):
    response = voice(client, title="\u200b\u3000", author="\ufeff", body="\u200b" * 60)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    for message in ("请填写标题。", "请填写署名", "请填写正文。"):
        assert message in page
    assert _count(app, Submission) == 0


def test_invisible_revision_counts_as_empty(app):
    from forms_app.forms import ReviseForm

    with app.test_request_context(method="POST"):
        form = ReviseForm(formdata=MultiDict({"title": "\u3000\u200b", "body": "\u2060" * 80}))
        assert not form.validate()
        assert form.title.errors == ["请填写标题。"]
        assert form.body.errors == ["请填写正文。"]


def test_invisible_study_topic_counts_as_empty(app, client):
    add_user(app, "老张")
    login(client, "老张")
    response = client.post("/app/study", data={
        "day": date.today().isoformat(), "lesson": "", "topic": "\u200b\u3000",
        "minutes": "30", "mode": "集中学"})
    assert response.status_code == 400
    assert "请选择一门课程，或在下面填写线下学习的内容。" in response.get_data(as_text=True)
    assert _count(app, StudyLog) == 0


def test_visible_text_with_invisible_edges_is_kept(app, client):
    assert ask(client, question="\u200b我想问党费怎么交\u3000").status_code == 303


# -- 6 (app part). HSTS in production -------------------------------------------------------

def test_hsts_only_in_production(tmp_path):
    dev = make_app(tmp_path / "dev", f"sqlite:///{tmp_path / 'dev' / 'instance' / 'x.sqlite3'}")
    assert "Strict-Transport-Security" not in dev.test_client().get("/app/healthz").headers
    db.close(dev)
    prod = make_app(tmp_path / "prod", f"sqlite:///{tmp_path / 'prod' / 'instance' / 'x.sqlite3'}",
                    ENV="production")
    response = prod.test_client().get("/app/healthz")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
    db.close(prod)


def test_limits_hold_with_one_check_a_request_and_can_be_switched_off(tmp_path):
    """The submission limit is checked once per request by its route (Flask-Limiter's
    before_request pass over no limits is dropped): the 4th question in a minute is
    refused and not stored. An operator who switches limiting off (RATELIMIT_ENABLED)
    still gets an app that starts and stores questions."""
    from sqlalchemy import func, select

    from forms_app import db
    from forms_app.models import Submission

    limited = make_app(tmp_path / "a", f"sqlite:///{tmp_path / 'a.sqlite3'}",
                       SUBMIT_LIMIT="3 per minute")
    client = limited.test_client()
    answers = [ask(client, question=f"第 {i} 个问题：党费怎么交？").status_code
               for i in range(4)]
    assert answers == [303, 303, 303, 429]
    with limited.app_context():
        assert db.session().scalar(select(func.count(Submission.id))) == 3
    db.close(limited)

    off = make_app(tmp_path / "b", f"sqlite:///{tmp_path / 'b.sqlite3'}",
                   SUBMIT_LIMIT="1 per minute", RATELIMIT_ENABLED=False)
    client = off.test_client()
    assert [ask(client).status_code for _ in range(3)] == [303, 303, 303]
    db.close(off)
