"""Builders for small content trees, and a build of the sample site shared by tests."""

from __future__ import annotations

import html
import os
import re
import shutil
import socket
import subprocess
import threading
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from forms_app import db
from forms_app.combined import SiteFiles
from generator.build import DEFAULT_CONTENT, DEFAULT_SITE_SRC, BuildResult, build_site

TODAY = date(2026, 11, 21)
FIXTURES = Path(__file__).parent / "fixtures"


# A phone in WeChat's browser: 360 px wide, touch, Chinese.
PHONE = {"viewport": {"width": 360, "height": 740}, "locale": "zh-CN", "has_touch": True,
         "is_mobile": True}


def write_yaml(path: Path, data: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def make_site(**overrides: Any) -> dict[str, Any]:
    data = {
        "title": "测试党校",
        "description": "测试用站点",
        "welcome": "欢迎学习。",
        "sections": ["courses", "guides", "faq", "themes", "news", "notices", "service",
                     "showcase", "voices"],
        "service": {
            "hotline": "12371",
            "hotline_note": "专人接听。",
            "centre": {"name": "服务中心", "address": "县委组织部", "hours": ["工作日"],
                       "phone": "12371"},
            "promise_days": 2,
            "promise": "两个工作日内办结。",
            "handling_steps": ["登记备案", "办结反馈"],
            "must_visit": ["生活困难的"],
            "body": "其他联系方式。",
        },
    }
    data.update(overrides)
    return data


def make_lesson(**overrides: Any) -> dict[str, Any]:
    data = {"slug": "first", "title": "第一课", "minutes": 10, "body": "学习组织关系转接。"}
    data.update(overrides)
    return data


def make_course(**overrides: Any) -> dict[str, Any]:
    data = {"title": "测试课程", "topic": "党性教育", "summary": "简介。",
            "lessons": [make_lesson()]}
    data.update(overrides)
    return data


def make_basis_doc(**overrides: Any) -> dict[str, Any]:
    data = {"title": "某通知", "cite_as": "某部门《某通知》", "issuer": "某部门",
            "date": "1994年", "kind": "中央规定", "scope": "全体党员",
            "clauses": [{"id": "第一条", "text": "党员应按月交纳党费。"},
                        {"id": "第二条", "label": "第二条（领证）", "text": "到支部领证。"}]}
    data.update(overrides)
    return data


def cite(doc: str = "notice", clause: str = "第一条") -> dict[str, str]:
    return {"doc": doc, "clause": clause}


def make_faq(**overrides: Any) -> dict[str, Any]:
    data = {"question": "党费怎么交?", "answer": "按月交纳。", "basis": [cite()],
            "reviewed_on": "2026-11-01", "tags": ["党费"]}
    data.update(overrides)
    return data


def make_guide(**overrides: Any) -> dict[str, Any]:
    data = {"title": "活动证", "summary": "怎么领。", "body": "到支部领取。",
            "basis": [cite(clause="第二条")], "reviewed_on": "2026-11-01"}
    data.update(overrides)
    return data


def make_news(**overrides: Any) -> dict[str, Any]:
    data = {"title": "网上党校开通", "date": "2026-11-02", "summary": "开通了。",
            "body": "正文。"}
    data.update(overrides)
    return data


def make_notice(**overrides: Any) -> dict[str, Any]:
    data = {"title": "年审通知", "date": "2026-11-10", "body": "请年审。"}
    data.update(overrides)
    return data


def make_theme(**overrides: Any) -> dict[str, Any]:
    data = {"week": "2026-W47", "topic": "组织生活", "intro": "本周学习。",
            "materials": [{"ref": "faq/dues"}], "questions": ["你怎么看?"]}
    data.update(overrides)
    return data


def make_voice(**overrides: Any) -> dict[str, Any]:
    data = {"title": "我的体会", "author": "一名党员", "date": "2026-11-05", "body": "有收获。"}
    data.update(overrides)
    return data


def make_showcase(**overrides: Any) -> dict[str, Any]:
    data = {"title": "先锋", "name": "张三", "branch": "东风村党支部", "date": "2026-10-01",
            "summary": "事迹。", "body": "正文。"}
    data.update(overrides)
    return data


@pytest.fixture
def content_tree(tmp_path: Path) -> Path:
    """A small valid content tree: one item of every type."""
    root = tmp_path / "content"
    write_yaml(root / "site.yaml", make_site())
    write_yaml(root / "basis" / "notice.yaml", make_basis_doc())
    write_yaml(root / "courses" / "basics.yaml", make_course())
    write_yaml(root / "guides" / "card.yaml", make_guide())
    write_yaml(root / "faq" / "dues.yaml", make_faq())
    write_yaml(root / "news" / "launch.yaml", make_news())
    write_yaml(root / "notices" / "check.yaml", make_notice())
    write_yaml(root / "showcase" / "zhang.yaml", make_showcase())
    write_yaml(root / "themes" / "w47.yaml", make_theme())
    write_yaml(root / "voices" / "2026-11-05-mine.yaml", make_voice())
    return root


@pytest.fixture(scope="session")
def sample_site(tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    """The sample content of the repository, built once into a temporary folder."""
    base = tmp_path_factory.mktemp("sample")
    content = base / "content"
    shutil.copytree(DEFAULT_CONTENT, content)
    return build_site(content, base / "site", work=base / "docs", site_src=DEFAULT_SITE_SRC,
                      today=TODAY)


@pytest.fixture(scope="session")
def site_url(sample_site: BuildResult):
    """The sample site served over HTTP on 127.0.0.1, as dangxiao serve serves it."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, SiteFiles(sample_site.out), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def search_titles(page) -> list[str]:
    """The titles of the results type_search brought, online (the app's page) or offline
    (Material's list; jieba's zero-width spaces taken out, a person does not see them)."""
    if "/app/search" in page.url:
        return page.locator("a.search-hit").all_inner_texts()
    return [t.replace("\u200b", "") for t in
            page.locator(".md-search-result__article h1").all_inner_texts()]


def type_search(page, query: str) -> None:
    """Open the site's search (header button) and type query as a member would, waiting
    until results show or about 15 s have passed. Online the box is a form that sends the
    words to the app (forms_app/search.py): the page of results is waited for; in the
    offline copy Material's own search answers in place."""
    page.locator("label.md-header__button[for='__search']").click()
    box = page.locator("input.md-search__input")
    if page.locator("form.dx-search-form").count():
        box.fill(query)
        box.press("Enter")
        page.wait_for_url("**/app/search?*")
        return
    results = page.locator(".md-search-result__item")
    box.press_sequentially(query)
    # Material searches on the key event that ends an IME composition: End stands in. The
    # worker indexes in the background, so a person may have to press again: so does this.
    for _ in range(60):
        box.press("End")
        page.wait_for_timeout(250)
        if results.count():
            break


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (no browser download)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run",
                  # A phone set to Chinese: date fields read 2026/12/07, not 12/07/2026.
                  "--lang=zh-CN",
                  # Media in the tours play without a tap (a person taps play).
                  "--autoplay-policy=no-user-gesture-required"],
        )
        yield chromium
        chromium.close()


# -- the forms app -------------------------------------------------------------------------
# Every database test runs on SQLite and on the PostgreSQL server at 127.0.0.1:5432
# (scripts/postgres.sh starts one); an absent server fails the run, it is never skipped.
PG_URL = os.environ.get("DANGXIAO_TEST_DATABASE_URL",
                        "postgresql+psycopg://postgres:postgres@127.0.0.1:5432/dangxiao_test")


def _fresh_postgres(url: str) -> str:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    except Exception as exc:  # noqa: BLE001
        pytest.fail(f"PostgreSQL at {url} is expected (scripts/postgres.sh starts it): {exc}")
    finally:
        engine.dispose()
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'instance' / 'dangxiao.sqlite3'}"
    return _fresh_postgres(PG_URL)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'instance' / 'dangxiao.sqlite3'}"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now (for servers the tests start)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_app(tmp_path: Path, url: str, **config: Any):
    from forms_app import create_app, migrate

    (tmp_path / "instance").mkdir(parents=True, exist_ok=True)
    app = create_app({
        "TESTING": True, "INSTANCE_PATH": tmp_path / "instance", "DATABASE_URL": url,
        "SECRET_KEY": "test-secret-key-of-enough-length-000", "WTF_CSRF_ENABLED": False,
        "SUBMIT_LIMIT": "1000 per minute", "LOGIN_LIMIT": "1000 per minute",
        "LOOKUP_LIMIT": "1000 per minute", "REBUILD_AFTER_PUBLISH": False,
        "FULL_BUILD_DELAY": 0,
        "CONTENT_DIR": str(DEFAULT_CONTENT), **config})
    migrate.upgrade(url)
    return app


@pytest.fixture
def app(tmp_path: Path, database_url: str):
    app = make_app(tmp_path, database_url)
    yield app
    db.close(app)


@pytest.fixture
def live(tmp_path: Path, sqlite_url: str):
    """The app served over HTTP on 127.0.0.1 for Chromium, on SQLite (what a phone is shown
    does not depend on the database): (app, base URL)."""
    import threading

    from werkzeug.serving import make_server

    app = make_app(tmp_path, sqlite_url)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    db.close(app)


@pytest.fixture
def client(app):
    return app.test_client()


def add_user(app, username: str, role: str = "member", password: str = "长江黄河都是好风景",
             buddy: str | None = None):
    from sqlalchemy import select
    from werkzeug.security import generate_password_hash

    from forms_app import db
    from forms_app.models import User

    with app.app_context():
        s = db.session()
        user = User(username=username, password_hash=generate_password_hash(password),
                    role=role)
        if buddy:
            user.buddy_id = s.scalar(select(User.id).where(User.username == buddy))
        s.add(user)
        s.commit()
        return user.id


def login(client, username: str, password: str = "长江黄河都是好风景"):
    return client.post("/app/login", data={"username": username, "password": password})


@pytest.fixture
def editor(app):
    """A test client signed in as the editor 编辑甲."""
    add_user(app, "编辑甲", role="editor")
    client = app.test_client()
    assert login(client, "编辑甲").status_code == 303
    return client


def ask(client, **fields: Any):
    data = {"question": "我在外地打工半年，组织关系要不要转？", "category": "组织关系",
            "name": "张三", "branch": "城关镇第一支部", "contact": "13812345678",
            **fields}
    return client.post("/app/ask", data=data)


VOICE_BODY = ("离开家乡到城里打工已经三年了，每个月我都坚持在网上党校学习一课。\n\n"
              "这里的课程贴近我们的生活，遇到法律问题也知道去哪里咨询。**感谢支部的关心**。")


def voice(client, **fields: Any):
    data = {"title": "在外打工也不忘学习", "author": "在深圳的老李", "body": VOICE_BODY,
            "consent": "y", **fields}
    return client.post("/app/voice", data=data)


def code_of(response) -> str:
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    return response.headers["Location"].rsplit("/", 1)[1]


def item_by_code(app, code: str):
    from sqlalchemy import select

    from forms_app import db
    from forms_app.models import Submission

    with app.app_context():
        return db.session().scalar(select(Submission).where(Submission.code == code))


# -- publishing into a git work tree -------------------------------------------------------
def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                          text=True).stdout.strip()


@pytest.fixture
def content_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    shutil.copytree(DEFAULT_CONTENT, repo / "content")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "-c", "user.name=init", "-c", "user.email=init@example.invalid", "add", ".")
    git(repo, "-c", "user.name=init", "-c", "user.email=init@example.invalid",
        "commit", "-qm", "sample content")
    return repo


@pytest.fixture
def publishing(tmp_path, database_url, content_repo):
    app = make_app(tmp_path, database_url, CONTENT_DIR=str(content_repo / "content"),
                   SITE_DIR=str(tmp_path / "site"), REBUILD_AFTER_PUBLISH=True)
    add_user(app, "编辑甲", role="editor")
    editor = app.test_client()
    login(editor, "编辑甲")
    yield app, editor, content_repo
    db.close(app)


def confirm_public(app, editor, code, **edits):
    """The editor checks the public text on the item page and confirms it as proposed."""
    item = item_by_code(app, code)
    page = editor.get(f"/app/editor/item/{item.id}").get_data(as_text=True)
    assert "公开前核对" in page
    proposed = {name: html.unescape(re.search(
        rf'<textarea[^>]*name="{name}"[^>]*>\s*(.*?)</textarea>', page, re.S)[1])
        for name in ("question", "answer")}
    proposed["title"] = html.unescape(re.search(r'<input[^>]*name="title"[^>]*value="([^"]*)"',
                                                page)[1])
    response = editor.post(f"/app/editor/item/{item.id}/public", data={
        "version": item.version, **proposed, **edits})
    assert response.status_code == 303, response.get_data(as_text=True)[:3000]
    return proposed


# -- the production stack (scripts/stack.sh) ---------------------------------------------
def stack_env(base: Path, database: str | None, **extra: str) -> dict[str, str]:
    """The environment for scripts/stack.sh: state under base, ports of its own (never the
    defaults). With a database name, a fresh database of that name on the machine's
    PostgreSQL beside the tests'; with None, the stack's own private PostgreSQL server (on
    a port of its own), which a test may restart."""
    ports = {"STACK_DIR": str(base / "state"), "STACK_PORT": str(free_port()),
             "STACK_HTTP_PORT": str(free_port()), "STACK_APP_PORT": str(free_port()),
             "STACK_REDIS_PORT": str(free_port()), "STACK_PG_PORT": str(free_port())}
    env = {k: v for k, v in os.environ.items() if k != "STACK_DATABASE_URL"}
    if database is None:
        return {**env, **ports, **extra}
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    url = make_url(PG_URL)
    engine = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
    engine.dispose()
    return {**env, **ports, "STACK_DATABASE_URL": url.set(database=database).render_as_string(
        hide_password=False), **extra}
