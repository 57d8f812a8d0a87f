"""Faults under a stream of submissions through the production stack (scripts/stack.sh).

A stream of members posts mailbox questions to https://127.0.0.1:PORT/app/ask through
nginx, each from its own loopback address (127.1.x.y, so the per-IP limits of production
stay on), and records every tracking code it is shown. Meanwhile, one fault at a time:

- worker_kill9: kill -9 of one gunicorn worker (the master starts another);
- app_kill9: kill -9 of the master and every worker, then `stack up` again;
- postgres_terminate: pg_terminate_backend of every connection of the stack's database,
  three times (connections cut under the app);
- postgres_restart: the stack's own PostgreSQL server restarted (pg_ctl restart -m fast);
  skipped when the stack uses an outside server (STACK_DATABASE_URL), which it must not
  restart;
- redis_stopped: the stack's redis-server stopped for a few seconds, then started;
- sqlite_disk_full: the app moved to SQLite on a 2 MB tmpfs that a filler file has all
  but filled; the filler is removed again after a few refusals.

Afterwards every acknowledged code is looked up in the database it went to. Run:
`.venv/bin/python -m bench.fault_bench` (starts its own stack on free ports, writes the
section "Faults through the stack" of bench/RESULTS.md); tests/test_stack.py runs the same
faults and asserts found == acknowledged.
"""

from __future__ import annotations

import dataclasses
import http.client
import itertools
import os
import re
import shutil
import signal
import socket
import sqlite3
import ssl
import subprocess
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from scripts.stack import Stack

TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
FORM_KEY = re.compile(r'name="form_key" type="hidden" value="([^"]+)"')
NOT_SUBMITTED = "暂时无法提交"      # the 503 while Redis is down
NOT_SAVED = "没有保存，也没有生成查询码"  # the 503 of a database that refused the write
APP_DOWN = "暂时无法连接"            # nginx's own 503 while no worker answers


@dataclass
class Outcome:
    phase: str
    question: str
    started: float
    ended: float
    status: int | str             # HTTP status, or the exception's name
    code: str | None = None       # the tracking code shown (a 303 to /app/ask/CODE)
    text: str = ""                # what the page said, for refusals
    retries: int = 0              # the same form sent again after nginx's 暂时无法连接


@dataclass
class Figures:
    phase: str
    submitted: int
    acknowledged: int
    found: int
    refused: Counter = field(default_factory=Counter)
    note: str = ""
    said: set[str] = field(default_factory=set)  # what the refusals told the member


def source_address(n: int) -> str:
    """A loopback address of its own for the n-th member (Linux answers all of 127/8)."""
    return f"127.1.{n // 250 % 250}.{n % 250 + 1}"


class Stream:
    """Members posting mailbox questions through nginx, one after another per thread."""

    def __init__(self, stack: Stack, threads: int = 2) -> None:
        self.stack = stack
        self.run_id = os.urandom(3).hex()
        self.phase = "warm-up"
        self.outcomes: list[Outcome] = []
        self._lock = threading.Lock()
        self._numbers = itertools.count(1)
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._member, daemon=True)
                         for _ in range(threads)]
        self._tls = ssl.create_default_context()
        self._tls.check_hostname, self._tls.verify_mode = False, ssl.CERT_NONE

    def __enter__(self) -> Stream:
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=30)

    def acknowledged(self, phase: str) -> int:
        with self._lock:
            return sum(1 for o in self.outcomes if o.phase == phase and o.code)

    def wait_for_acks(self, phase: str, more: int, seconds: float = 60) -> None:
        goal = self.acknowledged(phase) + more
        deadline = time.monotonic() + seconds
        while self.acknowledged(phase) < goal:
            if time.monotonic() > deadline:
                raise AssertionError(f"{phase}: no submission got through for {seconds} s")
            time.sleep(0.05)

    def _request(self, ip: str, method: str, path: str, body: str | None = None,
                 headers: dict[str, str] | None = None) -> http.client.HTTPResponse:
        conn = http.client.HTTPSConnection("127.0.0.1", self.stack.port, context=self._tls,
                                           timeout=45, source_address=(ip, 0))
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            response.body = response.read().decode("utf-8", "replace")
            return response
        finally:
            conn.close()  # also when the stack cut the connection: no socket left open

    def _member(self) -> None:
        while not self._stop.is_set():
            n = next(self._numbers)
            ip, phase = source_address(n), self.phase
            question = f"[{self.run_id}-{n}] 外出务工半年多了，组织关系要不要转到务工地？" + \
                ("补充说明。" * 150 if phase == "sqlite_disk_full" else "")
            try:
                form = self._request(ip, "GET", "/app/ask")
                cookie = form.getheader("Set-Cookie", "").split(";", 1)[0]
                token, key = TOKEN.search(form.body)[1], FORM_KEY.search(form.body)[1]
            except (OSError, http.client.HTTPException, TypeError):
                time.sleep(0.05)  # no form to fill in: nothing was submitted
                continue
            body = urllib.parse.urlencode({"csrf_token": token, "form_key": key,
                                           "category": "其他", "question": question})
            started = time.monotonic()
            for attempt in range(40):
                outcome = self._post(ip, phase, question, started, body, cookie, attempt)
                # nginx's page while no worker answered says: it may have been saved, send
                # the same form again (the app keeps one row per form and shows its code);
                # a connection cut before any answer leaves a member the same choice.
                cut = isinstance(outcome.status, str)
                if not cut and (outcome.status != 503 or APP_DOWN not in outcome.text):
                    break
                time.sleep(0.25)
            with self._lock:
                self.outcomes.append(outcome)

    def _post(self, ip: str, phase: str, question: str, started: float, body: str,
              cookie: str, attempt: int) -> Outcome:
        try:
            reply = self._request(ip, "POST", "/app/ask", body, {
                "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie,
                "Referer": f"{self.stack.url}/app/ask"})
            location = reply.getheader("Location") or ""
            code = location.rsplit("/", 1)[1] if reply.status == 303 else None
            return Outcome(phase, question, started, time.monotonic(), reply.status, code,
                           "" if code else _visible_text(reply.body), attempt)
        except (OSError, http.client.HTTPException) as exc:
            return Outcome(phase, question, started, time.monotonic(), type(exc).__name__,
                           retries=attempt)


def _visible_text(page: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)).strip()[:300]


def stored(url: str, codes: list[str], questions: list[str]) -> tuple[set[str], set[str]]:
    """Which of the codes, and which of the questions, the database holds."""
    from sqlalchemy import bindparam, create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        found = {r[0] for r in conn.execute(text(
            "SELECT code FROM submissions WHERE code IN :c").bindparams(
            bindparam("c", expanding=True)), {"c": codes or [""]})}
        kept = {r[0] for r in conn.execute(text(
            "SELECT body FROM submissions WHERE body IN :q").bindparams(
            bindparam("q", expanding=True)), {"q": questions or [""]})}
    engine.dispose()
    return found, kept


def _doubled(url: str, pattern: str) -> int:
    """Rows beyond the first of each question of this run (a form stored twice)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        extra = conn.scalar(text("SELECT count(*) - count(DISTINCT body) FROM submissions "
                                 "WHERE body LIKE :p"), {"p": pattern})
    engine.dispose()
    return int(extra or 0)


def figures(stream: Stream, phase: str, url: str, note: str = "") -> Figures:
    with stream._lock:
        mine = [o for o in stream.outcomes if o.phase == phase]
    acked = [o.code for o in mine if o.code]
    # The app's own refusals promise that nothing was stored; nginx's 暂时无法连接 says it
    # may have been (a worker killed after its commit), and retries end in a code. A form
    # sent again after that page may have been stored by an earlier try, whatever the
    # last try was told.
    refusals = [o for o in mine if not o.code and APP_DOWN not in o.text and not o.retries]
    found, kept = stored(url, acked, [o.question for o in refusals])
    told = [(o.status, o.text[:80]) for o in refusals if o.question in set(kept)]
    assert not kept, f"{phase}: {len(kept)} refused questions were stored anyway: {told}"
    doubled = _doubled(url, f"[{stream.run_id}-%")
    assert doubled == 0, f"{phase}: {doubled} questions stored twice"
    retried = sum(1 for o in mine if o.code and o.retries)
    note += f"; {retried} acknowledged after sending the same form again" if retried else ""
    return Figures(phase, len(mine), len(acked), len(found),
                   Counter(str(o.status) for o in mine if not o.code), note,
                   {_message(o) for o in mine if not o.code})


def _message(outcome: Outcome) -> str:
    """Which known message a refusal showed, or what it was instead."""
    for known in (APP_DOWN, NOT_SUBMITTED, NOT_SAVED):
        if outcome.status == 503 and known in outcome.text:
            return known
    return f"{outcome.status}: {outcome.text[:120]}"


# -- the faults -----------------------------------------------------------------------------

def _wait(condition, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def worker_kill9(stack: Stack, stream: Stream) -> str:
    victim = stack.worker_pids()[0]
    os.kill(victim, signal.SIGKILL)
    _wait(lambda: len(stack.worker_pids()) == 2 and victim not in stack.worker_pids(),
          "the master to replace the worker")
    return f"worker {victim} killed; the master started another"


def app_kill9(stack: Stack, stream: Stream) -> str:
    master = stack.pid("gunicorn")
    victims = [master, *stack.worker_pids()]
    for pid in victims:
        os.kill(pid, signal.SIGKILL)
    _wait(lambda: not any(Path(f"/proc/{p}").exists() for p in victims[1:]), "the workers")
    time.sleep(1)  # members keep trying meanwhile
    page = stream._request("127.0.0.1", "GET", "/app/ask")
    assert page.status == 503 and APP_DOWN in page.body, (page.status, page.body[:300])
    stack.up(build=False)
    return (f"master and {len(victims) - 1} workers killed, stack up again; meanwhile "
            f"nginx's 503 “{APP_DOWN}…”")


def postgres_terminate(stack: Stack, stream: Stream) -> str:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    url = make_url(stack.database_url)
    engine = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    ended = 0
    with engine.connect() as conn:
        for _ in range(3):
            ended += len(conn.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = :d AND pid <> pg_backend_pid()"), {"d": url.database}).all())
            time.sleep(0.7)
    engine.dispose()
    return f"{ended} connections of the app terminated (three rounds)"


def postgres_restart(stack: Stack, stream: Stream) -> str:
    began = time.monotonic()
    stack.restart_postgres("fast")
    took = time.monotonic() - began
    return (f"the stack's PostgreSQL server restarted (pg_ctl restart -m fast, "
            f"{took:.1f} s until it accepted connections again)")


def redis_stopped(stack: Stack, stream: Stream) -> str:
    stack.stop("redis")
    down_from = time.monotonic()
    time.sleep(2.5)
    down_until = time.monotonic()
    stack.start_redis()
    with stream._lock:
        during = [o for o in stream.outcomes if o.phase == "redis_stopped"
                  and o.started > down_from and o.ended < down_until]
    assert during, "no submission was made while Redis was down"
    wrong = [o for o in during if o.status != 503 or NOT_SUBMITTED not in o.text]
    assert not wrong, f"while Redis was down: {wrong[:3]}"
    return f"{len(during)} submissions while down, each a 503 “{NOT_SUBMITTED}…”"


def _as_root(*command: str) -> None:
    prefix = [] if os.geteuid() == 0 else ["sudo", "-n"]
    subprocess.run([*prefix, *command], check=True, capture_output=True)


def sqlite_disk_full(stack: Stack, stream: Stream, mount: Path) -> tuple[str, str]:
    """Moves the app onto SQLite on a small tmpfs, fills it, frees it; returns the note
    and the database URL (valid until the tmpfs is unmounted by the caller)."""
    url = f"sqlite:///{mount}/dangxiao.sqlite3"
    small = dataclasses.replace(stack, database=url)
    stack.stop("gunicorn")
    small.start_app()  # creates the schema on the tmpfs
    free = os.statvfs(mount).f_bavail * os.statvfs(mount).f_frsize
    filler = mount / "filler"
    with filler.open("wb") as f:
        f.write(b"\0" * max(0, free - 96 * 1024))
    stream.phase = "sqlite_disk_full"
    deadline = time.monotonic() + 60
    while True:
        with stream._lock:
            full = [o for o in stream.outcomes if o.phase == "sqlite_disk_full"
                    and o.status == 503]
        if len(full) >= 3:
            break
        assert time.monotonic() < deadline, "the small disk never filled"
        time.sleep(0.05)
    wrong = [o for o in full if NOT_SAVED not in o.text]
    assert not wrong, wrong[:3]
    filler.unlink()  # space again: members get through again
    stream.wait_for_acks("sqlite_disk_full", 3)
    stream.phase = "after"
    time.sleep(1)  # the phase's last requests finish before the app moves back
    small.stop("gunicorn")
    with sqlite3.connect(f"{mount}/dangxiao.sqlite3") as conn:
        check = conn.execute("PRAGMA integrity_check").fetchone()[0]
    assert check == "ok", check
    stack.start_app()
    return f"disk full: 503 “{NOT_SAVED}”; freed, accepted again; integrity_check ok", url


FAULTS = (worker_kill9, app_kill9, postgres_terminate, postgres_restart, redis_stopped)


def run_faults(stack: Stack, workdir: Path) -> list[Figures]:
    """Every fault in turn under one stream; the figures per fault."""
    results: list[Figures] = []
    with Stream(stack) as stream:
        stream.wait_for_acks("warm-up", 3)
        for fault in FAULTS:
            if fault is postgres_restart and not stack.private_pg:
                continue  # an outside server is not ours to restart
            stream.phase = fault.__name__
            stream.wait_for_acks(fault.__name__, 3)
            note = fault(stack, stream)
            stream.wait_for_acks(fault.__name__, 3)
            stream.phase = "between"
            time.sleep(0.3)  # the last requests of the phase finish
            results.append(figures(stream, fault.__name__, stack.database_url, note))
        mount = workdir / "small-disk"
        mount.mkdir(parents=True, exist_ok=True)
        _as_root("mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount))
        try:
            note, url = sqlite_disk_full(stack, stream, mount)
            time.sleep(0.3)
            results.append(figures(stream, "sqlite_disk_full", url, note))
        except BaseException:
            stack.stop("gunicorn")  # perhaps the app on the small disk
            raise
        finally:
            _as_root("umount", "-l", str(mount))
            stack.start_app()
    return results


def table(results: list[Figures]) -> str:
    lines = ["| fault | submitted | acknowledged (code shown) | found in the database | "
             "refused (status: count) | what happened |",
             "| --- | ---: | ---: | ---: | --- | --- |"]
    for r in results:
        refused = ", ".join(f"{k}: {v}" for k, v in sorted(r.refused.items())) or "none"
        lines.append(f"| {r.phase} | {r.submitted} | {r.acknowledged} | {r.found} | "
                     f"{refused} | {r.note} |")
    return "\n".join(lines)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    from bench.results import write_section

    with tempfile.TemporaryDirectory(prefix="dx-faults-") as tmp:
        base = Stack.from_env()
        stack = dataclasses.replace(base, state=Path(tmp) / "stack", port=free_port(),
                                    http_port=free_port(), app_port=free_port(),
                                    redis_port=free_port(), pg_port=free_port())
        try:
            stack.up()
            results = run_faults(stack, Path(tmp))
        finally:
            stack.down()
            shutil.rmtree(stack.pg_data, ignore_errors=True)  # the private server's data
    print(table(results))
    write_section("Faults through the stack", f"""
`.venv/bin/python -m bench.fault_bench`: two members post mailbox questions without pause
through nginx (HTTPS) to gunicorn (2 workers, PostgreSQL, limits in Redis), each question
from its own loopback address; one fault at a time. *Acknowledged* means the member was
shown a tracking code; *found* is how many of those codes the database holds afterwards.
A request that a killed worker held, or that came while no worker listened, gets nginx's
own Chinese 503 (暂时无法连接…, `error_page` in deploy/nginx.conf); the app's 503s say
暂时无法提交… while Redis is down and …没有保存，也没有生成查询码 on a full disk.

{table(results)}
""")


if __name__ == "__main__":
    main()
