"""Load at a steady rate: mailbox questions (POST /app/ask) through nginx over TLS, open
loop, on 127.0.0.1, bounded in time (about five minutes).

1. Ours: `scripts/stack.sh up` (deploy/nginx.conf in front of gunicorn with
   deploy/gunicorn.conf.py, PostgreSQL, its Redis as the limiter store) on ports of its
   own, 200 questions a second for 60 s. Targets: p99 < 100 ms, no errors.
2. Next to it, the same load on a plain Flask + Flask-WTF + SQLAlchemy mailbox
   (bench/plain_mailbox_app.py: one session and one commit per request, SQLite WAL,
   synchronous=FULL) under the same gunicorn settings, behind nginx with the same
   configuration. The two apps run at once and take turns (three rounds of 20 s each), so
   that what else this shared machine runs weighs on both alike.
3. Each app's most sustainable rate: the rate stepped up (8 s a step) until p99 passes
   100 ms, a request fails or an acknowledged question is not stored; and its capacity:
   far more offered than it can take, with 100 requests in flight.

Why a Python driver and not `hey -q`: hey sends one fixed body, and a mailbox form page
carries a form_key drawn when the page is shown; the app stores a second POST of the same
form_key as the first submission (double-submit protection, forms_app/moderation.py), so
identical bodies with a key would store one row; without a key they would not be what a
browser sends. hey's -q also paces each worker closed-loop (a worker waits for its answer
before the next send), which hides queueing (coordinated omission). This driver sends
request i at t0 + i/rate whatever came back before, each with its own form_key and text,
and measures latency from that scheduled time. It runs on the same two cores; its own CPU
time is printed.

Every answer counted as acknowledged is a 303 to a tracking page; afterwards the rows of
each phase (tagged in the question text) are counted in the database, and every
acknowledged question must be there.

Prints the numbers and writes the "Load at a steady rate" section of bench/RESULTS.md.
Usage: .venv/bin/python bench/load_bench.py [--rate 200] [--seconds 60] [--no-steps]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import secrets
import shutil
import sqlite3
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from http.cookiejar import CookieJar
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.results import write_section  # noqa: E402

# A database of its own, created if missing, emptied at the start.
PG_URL = os.environ.get("DANGXIAO_BENCH_DATABASE_URL",
                        "postgresql+psycopg://postgres:postgres@127.0.0.1:5432/dangxiao_bench")
# Two counters per client as in production, only too high to refuse: nginx makes every
# request come from 127.0.0.1.
BENCH_SUBMIT_LIMIT = "100000000 per hour; 10000000 per minute"
P99_TARGET_MS = 100.0
# Ours over plain: submissions a second (capacity), worker CPU a question (less), p99 (lower)
LEAD = (1.8, 1.6, 4.0)
STEP_SECONDS = 8
STEPS = (300, 400, 500, 650, 800, 1000, 1250)
TIMEOUT_S = 10.0
FLOOD_RATE, FLOOD_SECONDS = 1500, 4
HOST = "dangxiao.example.cn"
CLK = os.sysconf("SC_CLK_TCK")


# -- processes and their CPU time ---------------------------------------------------------

def cpu_of(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / CLK


def children(parent: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == parent:
                found.append(int(stat.parent.name))
        except (OSError, ValueError):
            continue
    return found


def postgres_backends(database: str) -> list[int]:
    """The server processes serving connections to this database (their title names it)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            title = cmdline.read_bytes().decode(errors="replace")
        except OSError:
            continue
        if title.startswith("postgres: ") and f" {database} " in title:
            found.append(int(cmdline.parent.name))
    return found


def wait_http(url: str, seconds: float = 30) -> None:
    context = ssl._create_unverified_context()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1, context=context)
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not answer")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Front:
    """nginx with deploy/nginx.conf filled in by scripts/stack.py (as the stack runs it, the
    same 256 worker_connections), in the foreground, its /app/ going to app_port."""
    work: Path
    app_port: int
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None

    def start(self) -> None:
        from scripts.stack import fill_nginx_conf, make_certificate, nginx_binary

        site = self.work / "site"
        site.mkdir(parents=True, exist_ok=True)
        (site / "index.html").write_text("<!doctype html><title>党校</title>", encoding="utf-8")
        (site / ".nginx-csp.conf").write_text("", encoding="utf-8")
        make_certificate(self.work / "tls")
        conf = fill_nginx_conf(self.work, site, self.work / "tls", self.port, free_port(),
                               self.app_port, foreground=True)
        self.proc = subprocess.Popen([nginx_binary(), "-c", str(conf), "-p", str(self.work),
                                      "-e", str(self.work / "nginx-error.log")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)

    def pids(self) -> list[int]:
        return children(self.proc.pid) if self.proc else []

    def stop(self) -> None:
        if self.proc:
            self.proc.terminate()
            self.proc.wait(timeout=30)


def gunicorn(app: str, port: int, env: dict[str, str]) -> subprocess.Popen:
    """gunicorn with deploy/gunicorn.conf.py's settings; only the port is the bench's."""
    return subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "-c", str(ROOT / "deploy" / "gunicorn.conf.py"),
         "--bind", f"127.0.0.1:{port}", "--log-level", "warning", app],
        cwd=ROOT, env={**os.environ, **env})


# -- the open-loop driver -----------------------------------------------------------------

@dataclass
class Phase:
    name: str
    rate: float
    seconds: float
    latencies: list[float] = field(default_factory=list)  # ms, acknowledged requests
    acked: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    sent: int = 0
    wall: float = 0.0
    client_cpu: float = 0.0
    last_ack: float = 0.0  # seconds after t0 of the last answer

    @property
    def ack_rate(self) -> float:
        """Acknowledged a second while answers came (for a phase that overloads)."""
        return self.acked / max(1e-9, self.last_ack)

    def pct(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


class Client:
    """Keep-alive HTTPS connections to 127.0.0.1:port; a request never waits for another's
    answer: with no idle connection it opens one. A connection idle longer than
    IDLE_SECONDS is closed rather than reused (as browsers and HTTP libraries do): nginx
    closes its side after keepalive_timeout, and a request written into a connection the
    server has just closed is lost. At most MAX_OPEN requests are in flight (a connection
    each); more wait for a free one, their latency still counted from their due time:
    scripts/stack.sh's nginx has 256 worker_connections, two per proxied request, and
    past that it answers 500 and drops idle keep-alive connections."""

    IDLE_SECONDS = 15.0
    MAX_OPEN = 100

    def __init__(self, port: int, cookie: str) -> None:
        self.port, self.cookie = port, cookie
        self.idle: list[tuple[float, asyncio.StreamReader, asyncio.StreamWriter]] = []
        self.context = ssl._create_unverified_context()
        self.slots = asyncio.Semaphore(self.MAX_OPEN)

    async def _connection(self):
        now = time.monotonic()
        while self.idle:
            since, reader, writer = self.idle.pop()
            if now - since < self.IDLE_SECONDS and not reader.at_eof():
                return reader, writer
            writer.transport.abort()
        return await asyncio.open_connection("127.0.0.1", self.port, ssl=self.context,
                                             server_hostname=HOST)

    async def post(self, path: str, body: bytes) -> int:
        async with self.slots:
            return await self._post(path, body)

    async def _post(self, path: str, body: bytes) -> int:
        reader, writer = await self._connection()
        try:
            writer.write(
                f"POST {path} HTTP/1.1\r\nHost: {HOST}\r\nCookie: {self.cookie}\r\n"
                f"User-Agent: dangxiao-load-bench\r\nReferer: https://{HOST}/app/ask\r\n"
                "Content-Type: application/x-www-form-urlencoded\r\n"
                f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
            status = int(head.split(" ", 2)[1])
            length = re.search(r"(?im)^content-length:\s*(\d+)", head)
            if length:
                await reader.readexactly(int(length[1]))
            elif re.search(r"(?im)^transfer-encoding:\s*chunked", head):
                while True:
                    size = int((await reader.readline()).split(b";")[0], 16)
                    await reader.readexactly(size + 2)
                    if size == 0:
                        break
            if re.search(r"(?im)^connection:\s*close", head):
                writer.close()
            else:
                self.idle.append((time.monotonic(), reader, writer))
            return status
        except BaseException:
            writer.close()
            raise

    def close(self) -> None:
        for _, _, writer in self.idle:
            writer.transport.abort()
        self.idle.clear()


def body_for(token: str, tag: str, i: int) -> bytes:
    return urllib.parse.urlencode({
        "csrf_token": token, "form_key": f"{tag}{i:07d}{secrets.token_hex(4)}",
        "category": "党费", "question": f"外出务工期间党费怎么交？（{tag}-{i}）",
    }).encode()


async def drive(client: Client, phase: Phase, token: str, tag: str) -> None:
    """Request i is due at t0 + i/rate; its latency counts from then, so a late send (the
    driver or the machine busy) is latency too."""
    loop = asyncio.get_running_loop()
    n = int(phase.rate * phase.seconds)
    bodies = [body_for(token, tag, i) for i in range(n)]

    async def one(due: float, body: bytes) -> None:
        try:
            status = await asyncio.wait_for(client.post("/app/ask", body), TIMEOUT_S)
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
            key = type(exc).__name__
            phase.errors[key] = phase.errors.get(key, 0) + 1
            return
        if status == 303:
            phase.acked += 1
            now = loop.time()
            phase.latencies.append((now - due) * 1000)
            phase.last_ack = max(phase.last_ack, now - t0)
        else:
            phase.errors[str(status)] = phase.errors.get(str(status), 0) + 1

    cpu0 = time.process_time()
    t0 = loop.time() + 0.1
    tasks = []
    for i, body in enumerate(bodies):
        due = t0 + i / phase.rate
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(due, body)))
    phase.sent = len(tasks)
    await asyncio.gather(*tasks)
    phase.wall = loop.time() - t0
    phase.client_cpu = time.process_time() - cpu0


def session_and_token(port: int) -> tuple[str, str]:
    jar = CookieJar()
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(jar),
        urllib.request.HTTPSHandler(context=ssl._create_unverified_context()))
    opener.addheaders = [("User-Agent", "dangxiao-load-bench")]
    page = opener.open(f"https://127.0.0.1:{port}/app/ask").read().decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)[1]
    return "; ".join(f"{c.name}={c.value}" for c in jar), token


# -- the two apps -------------------------------------------------------------------------

@dataclass
class Target:
    name: str
    port: int  # nginx's HTTPS port
    worker_pids: Callable[[], list[int]]  # gunicorn's workers
    nginx_pids: Callable[[], list[int]]
    count: Callable[[str], int]  # rows whose question text carries a phase's tag
    stop: Callable[[], None]
    backends: Callable[[], list[int]] = list  # database server processes, if any
    how: str = ""


def _fresh_database(url: str):
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = make_url(url).database
    server = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}):
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    server.dispose()
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    return engine


def _pg_count(engine) -> Callable[[str], int]:
    from sqlalchemy import text

    def count(tag: str) -> int:
        with engine.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM submissions WHERE body LIKE :p"),
                                {"p": f"%（{tag}-%"}).scalar_one()
    return count


def _pid_file(path: Path) -> int:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return -1


def start_stack(work: Path) -> Target:
    """scripts/stack.sh up, on ports of its own and the bench's database, with the
    submission limits raised; stopped with scripts/stack.sh down."""
    engine = _fresh_database(PG_URL)
    state = work / "stack"
    env = {**os.environ, "STACK_DIR": str(state), "STACK_PORT": str(free_port()),
           "STACK_HTTP_PORT": str(free_port()), "STACK_APP_PORT": str(free_port()),
           "STACK_REDIS_PORT": str(free_port()), "STACK_DATABASE_URL": PG_URL,
           "DANGXIAO_SUBMIT_LIMIT": BENCH_SUBMIT_LIMIT}
    up = subprocess.run(["bash", str(ROOT / "scripts" / "stack.sh"), "up"], cwd=ROOT, env=env,
                        capture_output=True, text=True)

    def stop() -> None:
        subprocess.run(["bash", str(ROOT / "scripts" / "stack.sh"), "down"], cwd=ROOT,
                       env=env, capture_output=True)
        engine.dispose()

    if up.returncode:
        stop()
        raise SystemExit(f"scripts/stack.sh up failed:\n{up.stdout}{up.stderr}")
    database = PG_URL.rsplit("/", 1)[1]
    return Target("ours", int(env["STACK_PORT"]),
                  lambda: children(_pid_file(state / "gunicorn.pid")),
                  lambda: children(_pid_file(state / "nginx.pid")), _pg_count(engine), stop,
                  lambda: postgres_backends(database), how="scripts/stack.sh up")


def start_plain(work: Path) -> Target:
    db = work / "plain.sqlite3"
    env = {"PLAIN_MAILBOX_DB": str(db)}
    subprocess.run([str(ROOT / ".venv/bin/python"), "-c", "import bench.plain_mailbox_app"],
                   check=True, cwd=ROOT, env={**os.environ, **env})
    port = free_port()
    server = gunicorn("bench.plain_mailbox_app:app", port, env)
    front = Front(work / "nginx-plain", port)
    front.start()
    wait_http(f"https://127.0.0.1:{front.port}/app/healthz")

    def count(tag: str) -> int:
        conn = sqlite3.connect(db)
        try:
            return conn.execute("SELECT count(*) FROM questions WHERE question LIKE ?",
                                (f"%（{tag}-%",)).fetchone()[0]
        finally:
            conn.close()

    def stop() -> None:
        front.stop()
        server.terminate()
        server.wait(timeout=60)

    return Target("plain", front.port, lambda: children(server.pid), front.pids, count, stop,
                  how="nginx (deploy/nginx.conf) and gunicorn started by the bench")


@dataclass
class Measured:
    phase: Phase
    stored: int = 0
    worker_cpu: float = 0.0
    db_cpu: float = 0.0
    nginx_cpu: float = 0.0

    @property
    def ok(self) -> bool:
        return (self.phase.error_count == 0 and self.stored >= self.phase.acked
                and self.phase.pct(0.99) < P99_TARGET_MS)

    def per_request_ms(self, seconds: float) -> float:
        return seconds * 1000 / max(1, self.phase.acked)

    def add(self, other: Measured) -> None:
        """Fold another round of the same rate into this one."""
        p, q = self.phase, other.phase
        p.latencies += q.latencies
        p.acked, p.sent, p.wall = p.acked + q.acked, p.sent + q.sent, p.wall + q.wall
        p.seconds, p.client_cpu = p.seconds + q.seconds, p.client_cpu + q.client_cpu
        p.last_ack += q.last_ack  # the rounds' answering times, end to end
        for key, n in q.errors.items():
            p.errors[key] = p.errors.get(key, 0) + n
        self.stored += other.stored
        self.worker_cpu += other.worker_cpu
        self.db_cpu += other.db_cpu
        self.nginx_cpu += other.nginx_cpu


class Runner:
    """One app behind its nginx, driven from one event loop, its connections kept open
    from one phase to the next (as a busy site's are)."""

    def __init__(self, target: Target) -> None:
        self.target = target
        cookie, self.token = session_and_token(target.port)
        self.client = Client(target.port, cookie)

    async def measure(self, name: str, rate: float, seconds: float) -> Measured:
        t = self.target
        workers, backends, nginx = t.worker_pids(), t.backends(), t.nginx_pids()
        before = cpu_of(workers), cpu_of(backends), cpu_of(nginx)
        phase = Phase(name, rate, seconds)
        tag = f"{t.name[0]}{secrets.token_hex(3)}"
        await drive(self.client, phase, self.token, tag)
        after = cpu_of(workers), cpu_of(backends), cpu_of(nginx)
        m = Measured(phase, t.count(tag), after[0] - before[0], after[1] - before[1],
                     after[2] - before[2])
        report(t.name, m)
        return m


def report(name: str, m: Measured) -> None:
    p = m.phase
    print(f"{name:5} {p.name:10} offered {p.rate:5.0f}/s: acked {p.acked} "
          f"({p.ack_rate:.0f}/s), stored {m.stored}, errors {p.errors or 0}, "
          f"p50 {p.pct(0.5):.1f} ms, p99 {p.pct(0.99):.1f} ms, worker CPU "
          f"{m.per_request_ms(m.worker_cpu):.2f} ms/req, db {m.per_request_ms(m.db_cpu):.2f}, "
          f"nginx {m.per_request_ms(m.nginx_cpu):.2f}, driver "
          f"{m.per_request_ms(p.client_cpu):.2f}, load {os.getloadavg()[0]:.2f}", flush=True)


async def run(runners: list[Runner], rate: float, seconds: float, rounds: int,
              steps: tuple[int, ...]) -> dict[str, dict[str, object]]:
    """Warm up, then the steady rate in interleaved rounds (so that the other users of
    this machine weigh on both apps alike), then the step-up, interleaved too."""
    for r in runners:
        await r.measure("warm-up", rate, 3)
    out: dict[str, dict[str, object]] = {r.target.name: {"max": 0, "max_m": None}
                                         for r in runners}
    for i in range(rounds):
        for r in runners:
            m = await r.measure(f"steady {i + 1}", rate, seconds / rounds)
            res = out[r.target.name]
            res.setdefault("rounds", []).append((m.phase.pct(0.99), os.getloadavg()[0]))
            if "steady" in res:
                res["steady"].add(m)
            else:
                m.phase.name = "steady"
                res["steady"] = m
    for r in runners:
        out[r.target.name]["load"] = os.getloadavg()
        report(r.target.name, out[r.target.name]["steady"])
    going = list(runners)
    for step in steps:
        for r in list(going):
            m = await r.measure(f"step {step}", step, STEP_SECONDS)
            if m.ok:
                out[r.target.name].update(max=step, max_m=m)
            else:
                out[r.target.name]["failed_m"] = m
                going.remove(r)
        if not going:
            break
    for _ in range(2 if steps else 0):
        # Capacity: far more offered than either can take, 100 requests in flight; two
        # rounds in turn, each app's best kept (the one least disturbed by the machine).
        for r in runners:
            m = await r.measure("flood", FLOOD_RATE, FLOOD_SECONDS)
            best = out[r.target.name].get("flood")
            if best is None or m.phase.ack_rate > best.phase.ack_rate:
                out[r.target.name]["flood"] = m
    for r in runners:
        r.client.close()
    return out


def row(label: str, m: Measured) -> str:
    p = m.phase
    return (f"| {label} | {p.rate:.0f} | {p.ack_rate:.0f} | {m.stored:,} | "
            f"{p.pct(0.5):.1f} | {p.pct(0.99):.1f} | {p.error_count} | "
            f"{m.per_request_ms(m.worker_cpu):.2f} | {m.per_request_ms(m.db_cpu):.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--rounds", type=int, default=3,
                        help="the steady seconds are split into this many interleaved rounds")
    parser.add_argument("--no-steps", action="store_true", help="skip the step-up search")
    parser.add_argument("--no-write", action="store_true", help="leave RESULTS.md alone")
    parser.add_argument("--wait-quiet", type=float, default=0, metavar="SECONDS",
                        help="first wait up to this long for the 1-minute load average to "
                             "fall under 1.5 (the machine is shared)")
    args = parser.parse_args()
    deadline = time.monotonic() + args.wait_quiet
    while os.getloadavg()[0] >= 1.5 and time.monotonic() < deadline:
        time.sleep(5)
    started = time.monotonic()
    load_before = os.getloadavg()
    work = Path(tempfile.mkdtemp(prefix="dangxiao-load-"))
    targets: list[Target] = []
    try:
        for start in (start_stack, start_plain):
            targets.append(start(work))
        results = asyncio.run(run([Runner(t) for t in targets], args.rate, args.seconds,
                                  args.rounds, () if args.no_steps else STEPS))
    finally:
        for target in targets:
            target.stop()
        shutil.rmtree(work, ignore_errors=True)
    ours, plain = results["ours"], results["plain"]
    o, p = ours["steady"], plain["steady"]
    cpu_o = o.per_request_ms(o.worker_cpu)
    cpu_p = p.per_request_ms(p.worker_cpu)
    all_o = o.per_request_ms(o.worker_cpu + o.db_cpu)
    verdict = "met" if o.ok else "NOT met"
    lines = [
        f"{args.rate:.0f} mailbox questions a second for {args.seconds:.0f} s to each app "
        f"({args.rounds} rounds, ours and plain in turn), open loop (request i sent at "
        "t0 + i/rate whatever came back; latency from that time), each with its own form_key "
        "and text, through nginx (deploy/nginx.conf, TLS, keep-alive) to gunicorn with "
        "deploy/gunicorn.conf.py (2 gthread workers × 8 threads). Ours: "
        f"{targets[0].how}; PostgreSQL, Redis limiter store, two limiter counters raised so "
        "they never refuse. Plain: "
        "bench/plain_mailbox_app.py, Flask + Flask-WTF + SQLAlchemy, one commit per request, "
        "SQLite WAL synchronous=FULL. Then the rate stepped up "
        f"({', '.join(map(str, STEPS))}/s, {STEP_SECONDS} s a step, the two apps in turn) "
        f"until p99 ≥ {P99_TARGET_MS:.0f} ms, an error, or a question acknowledged and not "
        "stored. Worker CPU is the gunicorn workers' user + system time per acknowledged "
        "question; DB server CPU is PostgreSQL's backends' (the plain app's SQLite work is "
        "inside its workers). The driver runs on the same two cores.", "",
        "| app, phase | offered/s | acknowledged/s | rows stored | p50 ms | p99 ms | errors "
        "| worker CPU ms/req | DB server CPU ms/req |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        row("ours, steady", o), row("plain, steady", p)]
    for name in ("ours", "plain"):
        if results[name]["max_m"] is not None:
            lines.append(row(f"{name}, highest step passed", results[name]["max_m"]))
        if results[name].get("failed_m") is not None:
            lines.append(row(f"{name}, first step failed", results[name]["failed_m"]))
    for name in ("ours", "plain"):
        if "flood" in results[name]:
            lines.append(row(f"{name}, capacity (flood)", results[name]["flood"]))
    lines += [
        "",
        f"Target at {args.rate:.0f}/s (p99 < {P99_TARGET_MS:.0f} ms, no errors, every "
        f"acknowledged question stored): **{verdict}** — p99 {o.phase.pct(0.99):.1f} ms, "
        f"{o.phase.error_count} errors, {o.stored:,} stored of {o.phase.acked:,} "
        "acknowledged.",
        f"Ours ÷ plain at {args.rate:.0f}/s: worker CPU per question **{cpu_o / cpu_p:.2f}×** "
        f"({cpu_o:.2f} vs {cpu_p:.2f} ms; {all_o / cpu_p:.2f}× with PostgreSQL's backends, "
        f"{all_o:.2f} ms), p99 **{o.phase.pct(0.99) / p.phase.pct(0.99):.2f}×** "
        f"({o.phase.pct(0.99):.1f} vs {p.phase.pct(0.99):.1f} ms).",
    ]
    if not args.no_steps:
        fo, fp = ours["flood"], plain["flood"]
        f_cpu_o, f_cpu_p = fo.per_request_ms(fo.worker_cpu), fp.per_request_ms(fp.worker_cpu)
        f_all_o = fo.per_request_ms(fo.worker_cpu + fo.db_cpu)
        def sustained(name: str) -> str:
            res = results[name]
            said = f"{name} **{res['max']}/s**" if res["max"] else f"{name} none"
            failed = res.get("failed_m")
            if failed is not None:
                said += (f" (at {failed.phase.rate:.0f}/s: p99 {failed.phase.pct(0.99):.0f} ms"
                         f", {failed.phase.error_count} errors)")
            return said

        lines.append(f"Highest step sustained (p99 < {P99_TARGET_MS:.0f} ms, no errors): "
                     f"{sustained('ours')}; {sustained('plain')}.")
        lines.append(
            f"Capacity ({FLOOD_RATE}/s offered for {FLOOD_SECONDS} s, 100 requests in flight, "
            f"requests unanswered after {TIMEOUT_S:.0f} s given up; best of 2 rounds in turn): "
            "ours stored "
            f"**{fo.phase.ack_rate:.0f}/s**, plain **{fp.phase.ack_rate:.0f}/s** (ours ÷ plain "
            f"**{fo.phase.ack_rate / fp.phase.ack_rate:.2f}×** the submissions a second) at "
            f"{f_cpu_o:.2f} vs {f_cpu_p:.2f} ms of worker CPU each (ours ÷ plain "
            f"{f_cpu_o / f_cpu_p:.2f}×; {f_all_o / f_cpu_p:.2f}× with PostgreSQL's backends); "
            f"acknowledged and not stored: ours {max(0, fo.phase.acked - fo.stored)}, plain "
            f"{max(0, fp.phase.acked - fp.stored)}.")
        # The lead the issue asks to keep, checked here rather than claimed.
        rate_lead = fo.phase.ack_rate / fp.phase.ack_rate
        cpu_lead = cpu_p / cpu_o
        p99_lead = p.phase.pct(0.99) / o.phase.pct(0.99)
        held = [name for name, value, want in (
            ("submissions a second", rate_lead, LEAD[0]), ("worker CPU", cpu_lead, LEAD[1]),
            ("p99", p99_lead, LEAD[2])) if value >= want]
        lines.append(
            f"Lead over the plain app (wanted: {LEAD[0]}× the submissions a second, "
            f"{LEAD[1]}× less worker CPU each, p99 {LEAD[2]:.0f}× lower): "
            f"{rate_lead:.2f}×, {cpu_lead:.2f}× and {p99_lead:.2f}× — "
            f"**{'held' if len(held) == 3 else 'not held'}**"
            f"{' (held: ' + ', '.join(held) + ')' if held and len(held) < 3 else ''}.")
    rounds = {name: ", ".join(f"{p99:.0f} ms ({load:.1f})"
                              for p99, load in results[name]["rounds"])
              for name in ("ours", "plain")}
    lines.append("p99 of each steady round, with the 1-minute load average after it: ours "
                 f"{rounds['ours']}; plain {rounds['plain']}.")
    lines.append(
        f"Load average (1 min) on this shared machine: {load_before[0]:.2f} before, "
        f"{ours['load'][0]:.2f} after the steady rounds; whole bench "
        f"{time.monotonic() - started:.0f} s.")
    print("\n".join(lines))
    if not args.no_write:
        write_section("Load at a steady rate", "\n".join(lines))
    if not o.ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
