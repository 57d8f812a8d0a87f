"""The production stack as scripts/stack.sh runs it: Debian's nginx with deploy/nginx.conf
over HTTPS, gunicorn (2 workers), PostgreSQL and Redis, on ports of its own. What a phone
receives through nginx, that nothing of the repository is reachable, that the limits are
counted once across workers, and what survives faults under a stream of submissions."""

from __future__ import annotations

import gzip
import http.client
import os
import random
import re
import shutil
import signal
import ssl
import subprocess
import urllib.parse
from pathlib import Path

import pytest
from conftest import stack_env

from bench.fault_bench import (
    APP_DOWN,
    NOT_SAVED,
    NOT_SUBMITTED,
    TOKEN,
    run_faults,
    table,
)
from scripts.stack import Stack

ROOT = Path(__file__).resolve().parent.parent
LESSON = "/courses/party-spirit/identity.html"
TLS = ssl.create_default_context()
TLS.check_hostname, TLS.verify_mode = False, ssl.CERT_NONE


def stack_sh(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(["bash", "scripts/stack.sh", *args], cwd=ROOT, env=env, text=True,
                          capture_output=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory):
    base = tmp_path_factory.mktemp("stack")
    # The stack's own PostgreSQL server, so that the faults can restart it for real.
    env = stack_env(base, None, DANGXIAO_SUBMIT_LIMIT="3 per minute")
    printed = stack_sh(env, "up")
    running = Stack.from_env(env)
    running.printed = printed
    running.env = env
    yield running
    stack_sh(env, "down")
    shutil.rmtree(running.pg_data, ignore_errors=True)  # the private server's data


def get(stack: Stack, path: str, source: str = "127.0.0.1", method: str = "GET",
        **headers: str) -> http.client.HTTPResponse:
    conn = http.client.HTTPSConnection("127.0.0.1", stack.port, context=TLS, timeout=15,
                                       source_address=(source, 0))
    conn.request(method, path, body=headers.pop("body", None), headers=headers)
    response = conn.getresponse()
    response.body = response.read()
    conn.close()
    return response


def test_up_says_where_everything_is_and_is_idempotent(stack: Stack):
    for line in (f"https://127.0.0.1:{stack.port}/", "bash scripts/stack.sh down",
                 f"127.0.0.1:{stack.redis_port}", stack.database_url):
        assert line in stack.printed
    before = {name: stack.pid(name) for name in ("nginx", "gunicorn", "redis", "postgres")}
    assert all(before.values()) and len(stack.worker_pids()) == 2
    again = stack_sh(stack.env, "up", "--no-build")
    assert {name: stack.pid(name) for name in before} == before
    assert again.count("运行中") == 4


def test_gzip_static_serves_the_built_twins(stack: Stack):
    bundle = next(stack.site.glob("assets/javascripts/bundle.*.min.js")).name
    for path in ("/index.html", LESSON, "/search/search_index.json",
                 f"/assets/javascripts/{bundle}"):
        twin = stack.site / (path.lstrip("/") + ".gz")
        assert twin.is_file(), twin
        response = get(stack, path, **{"Accept-Encoding": "gzip"})
        assert response.status == 200, path
        assert response.headers["Content-Encoding"] == "gzip", path
        assert response.body == twin.read_bytes(), path  # the file itself, not gzip on the fly
        assert gzip.decompress(response.body) == (stack.site / path.lstrip("/")).read_bytes()
        plain = get(stack, path)
        assert "Content-Encoding" not in plain.headers
        assert plain.body == (stack.site / path.lstrip("/")).read_bytes()


def test_caching_headers_as_the_sample_documents(stack: Stack):
    bundle = next(stack.site.glob("assets/javascripts/bundle.*.min.js")).name
    expected = {f"/assets/javascripts/{bundle}": "public, max-age=31536000, immutable",
                "/assets/css/dangxiao.css": "public, max-age=3600",
                "/": "no-cache", LESSON: "no-cache", "/search/search_index.json": "no-cache",
                "/events.ics": "no-cache", "/feed.xml": "no-cache", "/app/ask": "no-store",
                "/app/track": "no-store"}
    for path, cache in expected.items():
        response = get(stack, path)
        assert response.status == 200, path
        assert response.headers["Cache-Control"] == cache, path


def test_every_answer_carries_the_security_headers(stack: Stack):
    policy = (stack.site / ".csp").read_text(encoding="utf-8").strip()
    pages = [("/", 200), (LESSON, 200), ("/nothing.html", 404), ("/courses", 301),
             ("/app/ask", 200), ("/app/healthz", 200), ("/app/nothing", 404),
             ("/app/ask/ABCDEFGHJKMNPQRS", 404), ("/app/me", 302), ("/.git/HEAD", 404)]
    for path, status in pages:
        response = get(stack, path)
        assert response.status == status, path
        csp = response.headers.get_all("Content-Security-Policy")
        assert csp and len(csp) == 1, path
        directives = {part.split()[0]: part.split()[1:] for part in csp[0].split(";")
                      if part.strip()}
        assert directives["frame-ancestors"] == ["'none'"], path
        assert directives["object-src"] == ["'none'"], path
        assert "'unsafe-inline'" not in csp[0], path
        if not path.startswith("/app/"):
            assert csp[0] == policy, path
        assert response.headers["Strict-Transport-Security"] == "max-age=31536000", path
        assert response.headers["X-Content-Type-Options"] == "nosniff", path
        assert response.headers["X-Frame-Options"] == "DENY", path
        assert response.headers["Referrer-Policy"] == "same-origin", path
    # A 404 is the site's Chinese page, from nginx and from the app.
    assert "<h1>没有找到这个页面" in get(stack, "/nothing.html").body.decode()
    assert "没有找到这个页面" in get(stack, "/app/nothing").body.decode()


def test_nothing_of_the_repository_is_reachable(stack: Stack):
    secret = (stack.state / "secret_key").read_text(encoding="utf-8").strip()
    key = (stack.state / "tls" / "dangxiao.key").read_bytes()
    paths = ["/.git/HEAD", "/.git/config", "/instance/", "/instance/config.toml",
             "/content/site.yaml", "/content/", "/.site.pages/", "/.site.media/",
             "/.site.share/", "/.site.lock", "/.csp", "/.nginx-csp.conf", "/.venv/bin/python",
             "/.stack/secret_key", "/secret_key", "/tls/dangxiao.key", "/nginx.conf",
             "/pyproject.toml", "/README.md", "/deploy/nginx.conf", "/scripts/stack.sh",
             "/forms_app/__init__.py", "/site/index.html", "/../secret_key",
             "/%2e%2e/secret_key", "/assets/../../secret_key", "/app/../../secret_key",
             "/app/static/../../instance/", "/index.html/../../.git/HEAD"]
    for path in paths:
        conn = http.client.HTTPSConnection("127.0.0.1", stack.port, context=TLS, timeout=15)
        conn.putrequest("GET", path, skip_accept_encoding=True)
        conn.endheaders()
        response = conn.getresponse()
        body = response.read()
        conn.close()
        assert response.status in (400, 403, 404), (path, response.status)
        assert secret.encode() not in body and key not in body, path
        assert b"[core]" not in body and b"ref: refs/" not in body, path


def _submit(stack: Stack, source: str, n: int, **headers: str) -> http.client.HTTPResponse:
    form = get(stack, "/app/ask", source=source, **headers)
    cookie = form.headers["Set-Cookie"].split(";", 1)[0]
    token = TOKEN.search(form.body.decode())[1]
    body = urllib.parse.urlencode({"csrf_token": token, "category": "其他",
                                   "question": f"限流测试第 {n} 个问题：党费可以在外地交吗？"})
    return get(stack, "/app/ask", source=source, method="POST", body=body, **{
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie,
        "Referer": f"{stack.url}/app/ask", **headers})


def test_the_submission_limit_is_counted_once_across_workers(stack: Stack):
    """SUBMIT_LIMIT is 3 per minute here. Three questions are answered by one worker while
    the other is stopped; then that one is stopped and the other, which has counted
    nothing itself, refuses the fourth: the count lives in Redis."""
    first, second = stack.worker_pids()
    source = f"127.3.{random.randrange(250)}.{random.randrange(1, 250)}"
    os.kill(first, signal.SIGSTOP)
    try:
        answers = [_submit(stack, source, n) for n in (1, 2, 3)]
    finally:
        os.kill(first, signal.SIGCONT)
    assert [r.status for r in answers] == [303, 303, 303]
    os.kill(second, signal.SIGSTOP)
    try:
        fourth = _submit(stack, source, 4)
        other_member = _submit(stack, "127.3.250.1", 1)
    finally:
        os.kill(second, signal.SIGCONT)
    assert fourth.status == 429
    assert "操作太频繁，请稍后再试" in fourth.body.decode()
    assert "Location" not in fourth.headers
    assert other_member.status == 303  # the limit is per member (address), not for everyone
    # A forged X-Forwarded-For does not make a new member: nginx appends the real address.
    forged = _submit(stack, source, 5, **{"X-Forwarded-For": "203.0.113.9"})
    assert forged.status == 429


def test_faults_under_a_stream_of_submissions_lose_no_acknowledged_one(
        stack: Stack, tmp_path: Path):
    results = run_faults(stack, tmp_path)
    print()
    print(table(results))
    assert [r.phase for r in results] == ["worker_kill9", "app_kill9", "postgres_terminate",
                                          "postgres_restart", "redis_stopped",
                                          "sqlite_disk_full"]
    expected = {"worker_kill9": {APP_DOWN}, "app_kill9": {APP_DOWN},
                # A request whose connection is cut mid-transaction, or that comes while the
                # server restarts: the app's 503, not saved.
                "postgres_terminate": {NOT_SAVED}, "postgres_restart": {NOT_SAVED},
                "redis_stopped": {NOT_SUBMITTED}, "sqlite_disk_full": {APP_DOWN, NOT_SAVED}}
    for r in results:
        assert r.acknowledged >= 6, r  # before and after the fault
        assert r.found == r.acknowledged, r
        # Every refusal is one of the Chinese pages that say nothing was saved.
        assert r.said <= expected[r.phase], r
    restart = results[3]
    assert "restarted" in restart.note
    redis = results[4]
    assert redis.refused["503"] >= 1 and NOT_SUBMITTED in redis.note
    disk = results[5]
    assert disk.refused["503"] >= 3
    # The stack serves again as before.
    assert len(stack.worker_pids()) == 2
    assert get(stack, "/app/healthz").status == 200


def test_down_stops_what_it_started_and_nothing_else(stack: Stack):
    pids = [stack.pid("nginx"), stack.pid("gunicorn"), stack.pid("redis"),
            stack.pid("postgres"), *stack.worker_pids()]
    assert all(pids)
    bystander = subprocess.Popen(["sleep", "60"])  # not the stack's: stays
    try:
        printed = stack_sh(stack.env, "down")
        assert re.search("已停止: nginx、gunicorn、redis、postgres", printed), printed
        for pid in pids:
            assert not Path(f"/proc/{pid}").exists() or \
                Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].startswith("Z"), pid
        assert bystander.poll() is None
        with pytest.raises(OSError):
            get(stack, "/")
        assert "没有在运行的部分" in stack_sh(stack.env, "down")  # idempotent too
    finally:
        bystander.kill()
        bystander.wait()
