"""What one machine can show of several app servers: two gunicorn instances on two ports,
one PostgreSQL database, one content git remote (a bare repository) and each instance with
its own clone as its content checkout (CONTENT_REMOTE=origin). Editors approve and publish
on each; every publish ends up in the remote, a publish that races another either lands
after a rebase or tells the editor in Chinese and keeps the approval for the next try."""

from __future__ import annotations

import html
import http.cookiejar
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import PG_URL, _fresh_postgres, free_port, git
from sqlalchemy import create_engine, select

from forms_app.content_git import PUSH_REFUSED
from forms_app.models import Submission
from generator.build import DEFAULT_CONTENT

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PASSWORD = "长江黄河都是好风景"
ARTICLE = ("在外打工的日子里，我每周都在网上党校学一课。工地上休息的时候，我用手机听课程音频，"
           "遇到讨薪的难题，也从法律课里找到了办法。")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """A person's browser against one server: cookies, the CSRF token from each form page."""

    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), NoRedirect())

    def get(self, path: str) -> str:
        with self.opener.open(self.base + path, timeout=30) as reply:
            return reply.read().decode()

    def post(self, path: str, fields: dict[str, str], form_page: str | None = None) -> str:
        """Open the form page, fill it in and send it; the Location it is sent to."""
        page = self.get(form_page or path)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)[1]
        data = urllib.parse.urlencode({"csrf_token": token, **fields}).encode()
        try:
            self.opener.open(self.base + path, data=data, timeout=60)
        except urllib.error.HTTPError as reply:
            assert reply.code == 303, reply.read().decode()[:2000]
            return reply.headers["Location"]
        raise AssertionError(f"POST {path} did not redirect")

    def flashes(self, path: str = "/app/editor/") -> list[str]:
        return [html.unescape(m) for m in
                re.findall(r'<p class="flash [a-z]+" role="status">(.*?)</p>', self.get(path))]


@dataclass
class Server:
    port: int
    checkout: Path
    proc: subprocess.Popen

    def editor(self) -> Browser:
        browser = Browser(self.port)
        where = browser.post("/app/login", {"username": "编辑甲", "password": PASSWORD})
        assert "/app/login" not in where
        return browser


def start(tmp_path: Path, name: str, checkout: Path, env: dict[str, str]) -> Server:
    port = free_port()
    (tmp_path / name).mkdir(exist_ok=True)
    log = tmp_path / name / "gunicorn.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(BIN / "gunicorn"), "-c", str(ROOT / "deploy" / "gunicorn.conf.py"),
             "--bind", f"127.0.0.1:{port}", "forms_app:create_app()"],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=out,
            env={**env, "DANGXIAO_INSTANCE": str(tmp_path / name / "instance"),
                 "DANGXIAO_CONTENT_DIR": str(checkout / "content"),
                 "DANGXIAO_SITE_DIR": str(tmp_path / name / "site")})
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/app/healthz", timeout=2):
                return Server(port, checkout, proc)
        except OSError:
            assert proc.poll() is None, log.read_text(encoding="utf-8")
            assert time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.1)


def clone(remote: Path, where: Path) -> Path:
    git(remote.parent, "clone", "-q", str(remote), str(where))
    git(where, "config", "user.name", "运维")
    git(where, "config", "user.email", "ops@example.invalid")
    return where


@pytest.fixture
def two_servers(tmp_path: Path):
    """(server A, server B, the bare remote, a database engine)."""
    url = _fresh_postgres(PG_URL)
    seed = tmp_path / "seed"
    shutil.copytree(DEFAULT_CONTENT, seed / "content")
    git(seed, "init", "-q", "-b", "main")
    git(seed, "-c", "user.name=init", "-c", "user.email=init@example.invalid", "add", ".")
    git(seed, "-c", "user.name=init", "-c", "user.email=init@example.invalid",
        "commit", "-qm", "sample content")
    remote = tmp_path / "content.git"
    git(tmp_path, "clone", "-q", "--bare", str(seed), str(remote))
    env = {**os.environ, "DANGXIAO_DATABASE_URL": url, "DANGXIAO_CONTENT_REMOTE": "origin",
           "DANGXIAO_REBUILD_AFTER_PUBLISH": "false",  # one builder publishes the site
           "DANGXIAO_SECRET_KEY": "two-servers-share-this-secret-0123456789",
           "DANGXIAO_SUBMIT_LIMIT": "1000 per minute", "DANGXIAO_LOGIN_LIMIT": "1000 per minute"}
    subprocess.run([str(BIN / "dangxiao"), "db", "upgrade"], env=env, check=True,
                   capture_output=True)
    subprocess.run([str(BIN / "dangxiao"), "editor", "add", "编辑甲"], env=env, check=True,
                   input=PASSWORD + "\n", text=True, capture_output=True)
    servers = [start(tmp_path, name, clone(remote, tmp_path / f"checkout-{name}"), env)
               for name in ("a", "b")]
    engine = create_engine(url)
    yield servers[0], servers[1], remote, engine
    engine.dispose()
    for server in servers:
        server.proc.terminate()
        server.proc.wait(timeout=30)


def submit_voice(server: Server, title: str) -> str:
    where = Browser(server.port).post("/app/voice", {
        "title": title, "author": "在深圳的老李", "body": ARTICLE, "consent": "y"})
    return where.rsplit("/", 1)[1]


def item(engine, code: str) -> Submission:
    with engine.connect() as conn:
        return conn.execute(select(Submission).where(Submission.code == code)).one()


def approve(editor: Browser, engine, code: str) -> None:
    row = item(engine, code)
    page = f"/app/editor/item/{row.id}"
    version = re.search(r'name="version" type="hidden" value="(\d+)"', editor.get(page))[1]
    editor.post(page, {"action": "approve", "version": version}, form_page=page)
    assert item(engine, code).state == "approved"


def publish(editor: Browser) -> list[str]:
    editor.post("/app/editor/publish", {})
    return editor.flashes()


def remote_files(remote: Path) -> set[str]:
    return set(git(remote, "ls-tree", "-r", "--name-only", "main", "content/voices")
               .splitlines())


def file_of(engine, code: str) -> str:
    row = item(engine, code)
    return f"content/{row.published_path}"


def test_each_server_publishes_into_the_one_remote(two_servers):
    a, b, remote, engine = two_servers
    first, second = submit_voice(a, "在工地上学党课"), submit_voice(b, "在码头上学党课")
    on_a, on_b = a.editor(), b.editor()
    approve(on_a, engine, first)
    assert "已发布 1 条到网站。" in publish(on_a)
    approve(on_b, engine, second)
    assert "已发布 1 条到网站。" in publish(on_b)

    assert item(engine, first).state == item(engine, second).state == "published"
    both = {file_of(engine, first), file_of(engine, second)}
    assert both <= remote_files(remote)
    # B pulled A's publish before writing its own: its checkout has both, and so does the
    # remote's history, one commit by the editor for each.
    assert all((b.checkout / path).is_file() for path in both)
    log = git(remote, "log", "--format=%an %s", "main").splitlines()
    assert [line.split(" ", 1)[0] for line in log[:2]] == ["编辑甲", "编辑甲"]
    assert "在码头上学党课" in git(remote, "show", f"main:{file_of(engine, second)}")


def test_two_publishes_at_the_same_moment_both_land(two_servers):
    a, b, remote, engine = two_servers
    codes = [submit_voice(a, "在工地上学党课"), submit_voice(b, "在码头上学党课")]
    on_a, on_b = a.editor(), b.editor()
    for code in codes:
        approve(on_a, engine, code)
    start = threading.Barrier(2)
    said: dict[str, list[str]] = {}

    def press(name: str, editor: Browser) -> None:
        editor.get("/app/editor/publish")
        start.wait()
        said[name] = publish(editor)

    threads = [threading.Thread(target=press, args=pair) for pair in (("a", on_a), ("b", on_b))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    # Each editor reads either that the two went out, or nothing was left (the other server
    # had published them), or the Chinese refusal; a refused editor presses again.
    for name, editor in (("a", on_a), ("b", on_b)):
        assert said[name], said
        if PUSH_REFUSED in said[name]:
            assert any(m in publish(editor) for m in ("已发布 2 条到网站。", "没有待发布的内容。"))
        else:
            assert any(m in said[name] for m in ("已发布 2 条到网站。", "没有待发布的内容。")), said
    assert {file_of(engine, c) for c in codes} <= remote_files(remote)
    assert all(item(engine, c).state == "published" for c in codes)
    for server in (a, b):  # neither checkout is left mid-rebase or with stray changes
        assert git(server.checkout, "status", "--porcelain") == ""


OTHER_SERVER_HOOK = """#!{python}
# Another server publishes between this server's commit and its push (once).
import os, pathlib, subprocess, sys
for name in ("GIT_DIR", "GIT_INDEX_FILE", "GIT_WORK_TREE", "GIT_PREFIX"):
    os.environ.pop(name, None)
done = pathlib.Path({done!r})
if done.exists():
    sys.exit(0)
done.touch()
names = subprocess.run(["git", "diff-tree", "--no-commit-id", "--name-only", "-r", "HEAD"],
                       capture_output=True, text=True, check=True).stdout.split()
other = {other!r}
subprocess.run(["git", "-C", other, "pull", "-q", "origin", "main"], check=True)
target = pathlib.Path(other, {path!r} or names[0])
target.parent.mkdir(parents=True, exist_ok=True)
target.write_text({text!r}, encoding="utf-8")
subprocess.run(["git", "-C", other, "add", "-A"], check=True)
subprocess.run(["git", "-C", other, "commit", "-qm", "另一台服务器的发布"], check=True)
subprocess.run(["git", "-C", other, "push", "-q", "origin", "HEAD:main"], check=True)
"""


def other_server_pushes_first(tmp_path: Path, remote: Path, server: Server, path: str,
                              text: str) -> Path:
    """A post-commit hook in server's checkout: another clone pushes path (or, empty, the
    file this server just committed) with text before this server's push."""
    other = clone(remote, tmp_path / "checkout-other")
    hook = server.checkout / ".git" / "hooks" / "post-commit"
    hook.write_text(OTHER_SERVER_HOOK.format(python=sys.executable, done=str(tmp_path / "hooked"),
                                             other=str(other), path=path, text=text),
                    encoding="utf-8")
    hook.chmod(0o755)
    return other


def test_push_refused_after_a_publish_elsewhere_rebases_and_lands(two_servers, tmp_path):
    a, b, remote, engine = two_servers
    code = submit_voice(b, "在码头上学党课")
    on_b = b.editor()
    approve(on_b, engine, code)
    news = "content/news/other-server.yaml"
    other_server_pushes_first(tmp_path, remote, b, news,
                              "title: 另一台服务器\ndate: '2026-11-02'\nsummary: 摘要。\n"
                              "body: 正文。\n")
    assert "已发布 1 条到网站。" in publish(on_b)
    assert (tmp_path / "hooked").exists()  # the other push did happen in between
    assert {news, file_of(engine, code)} <= set(
        git(remote, "ls-tree", "-r", "--name-only", "main").splitlines())
    subjects = git(remote, "log", "--format=%s", "-2", "main").splitlines()
    assert subjects[0].startswith("发布 1 条") and subjects[1] == "另一台服务器的发布"
    assert item(engine, code).state == "published"


def test_conflicting_publish_tells_the_editor_and_keeps_the_approval(two_servers, tmp_path):
    a, b, remote, engine = two_servers
    code = submit_voice(b, "在码头上学党课")
    on_b = b.editor()
    approve(on_b, engine, code)
    # The other server wrote the same file differently: the rebase cannot settle it.
    other_server_pushes_first(tmp_path, remote, b, "",
                              "title: 别人的版本\nauthor: 某人\ndate: '2026-11-05'\n"
                              "body: 另一个版本的正文。\n")
    said = publish(on_b)
    assert PUSH_REFUSED in said, said
    assert not any("已发布" in m for m in said)
    assert item(engine, code).state == "approved"  # still waiting, nothing marked
    assert git(b.checkout, "status", "--porcelain") == ""
    assert git(b.checkout, "rev-parse", "HEAD") == git(remote, "rev-parse", "main")

    # The editor presses again: this time it lands, with this item's own text.
    assert "已发布 1 条到网站。" in publish(on_b)
    assert item(engine, code).state == "published"
    published = git(remote, "show", f"main:{file_of(engine, code)}")
    assert "在码头上学党课" in published and "别人的版本" not in published
