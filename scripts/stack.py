"""The production stack on this machine, for trying and testing what operators run:
Debian's nginx with deploy/nginx.conf on https://127.0.0.1:8443 (self-signed), gunicorn with
deploy/gunicorn.conf.py, a private PostgreSQL server (a cluster of its own, so that it can be
restarted as a fault without touching anyone else's databases) and a private redis-server.
Run through scripts/stack.sh (`up`, `down`, `status`).

Everything it writes and every process it starts is recorded under the state folder
(`.stack/`, git-ignored); `down` stops exactly the processes whose pid files are there.
Settings come from the environment (defaults in brackets): STACK_DIR [.stack], STACK_PORT
[8443], STACK_HTTP_PORT [8080], STACK_APP_PORT [8001], STACK_REDIS_PORT [6380],
STACK_PG_PORT [5433] (the private PostgreSQL server), STACK_DATABASE_URL [that server's
database dangxiao_stack; set it to use another server, which the stack then neither starts
nor stops], STACK_CONTENT [content]; any DANGXIAO_* variable (SUBMIT_LIMIT, say) reaches
the app.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NGINX_SAMPLE = ROOT / "deploy" / "nginx.conf"
GUNICORN_CONF = ROOT / "deploy" / "gunicorn.conf.py"
DEFAULT_DATABASE = "postgresql+psycopg://postgres@127.0.0.1:{port}/dangxiao_stack"


def pg_program(name: str) -> str:
    """A PostgreSQL server program (initdb, pg_ctl) of the newest version Debian installed."""
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"),
                   key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0)
    if not found:
        raise SystemExit(f"没有找到 PostgreSQL 的 {name}（scripts/setup.sh 会安装 postgresql）")
    return str(found[-1])


def nginx_binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists()
                                      else None)
    if found is None:
        raise SystemExit("没有找到 nginx（scripts/setup.sh 会安装 nginx-light）")
    return found


def make_certificate(tls: Path) -> None:
    """A self-signed certificate for dangxiao.example.cn and 127.0.0.1, where the sample
    expects dangxiao.crt and dangxiao.key."""
    tls.mkdir(parents=True, exist_ok=True)
    if (tls / "dangxiao.crt").is_file() and (tls / "dangxiao.key").is_file():
        return
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30",
                    "-subj", "/CN=dangxiao.example.cn",
                    "-addext", "subjectAltName=DNS:dangxiao.example.cn,IP:127.0.0.1",
                    "-keyout", str(tls / "dangxiao.key"), "-out", str(tls / "dangxiao.crt")],
                   check=True, capture_output=True)
    (tls / "dangxiao.key").chmod(0o600)


def fill_nginx_conf(state: Path, site: Path, tls: Path, https_port: int, http_port: int,
                    app_port: int = 8001, foreground: bool = False,
                    error_log: str = "nginx-error.log") -> Path:
    """deploy/nginx.conf with only its ports, paths and certificate filled in, wrapped in a
    main configuration whose pid, logs and temporary files live in the state folder
    (the tests' nginx runs in the foreground, the stack's as a daemon)."""
    sample = NGINX_SAMPLE.read_text(encoding="utf-8")
    for needle in ("/srv/dangxiao/site", "/etc/nginx/tls/", "listen 443 ssl", "listen 80;",
                   "proxy_pass http://127.0.0.1:8001;"):
        assert needle in sample, f"deploy/nginx.conf no longer has {needle!r}"
    sample = (sample.replace("/srv/dangxiao/site", str(site))
              .replace("/etc/nginx/tls/", f"{tls}/")
              .replace("listen 443 ssl", f"listen 127.0.0.1:{https_port} ssl")
              .replace("listen 80;", f"listen 127.0.0.1:{http_port};")
              .replace("proxy_pass http://127.0.0.1:8001;",
                       f"proxy_pass http://127.0.0.1:{app_port};"))
    mime = "include /etc/nginx/mime.types;" if Path("/etc/nginx/mime.types").is_file() else ""
    user = "user root;" if os.geteuid() == 0 else ""  # workers read a site under /tmp or ~
    conf = state / "nginx.conf"
    daemon = "daemon off;" if foreground else ""
    conf.write_text(f"""{user}
{daemon}
pid {state}/nginx.pid;
error_log {state}/{error_log};
events {{ worker_connections 256; }}
http {{
    {mime}
    access_log off;
    client_body_temp_path {state}/nginx-body;
    proxy_temp_path {state}/nginx-proxy;
    fastcgi_temp_path {state}/nginx-fastcgi;
    uwsgi_temp_path {state}/nginx-uwsgi;
    scgi_temp_path {state}/nginx-scgi;
{sample}
}}
""", encoding="utf-8")
    return conf


@dataclass
class Stack:
    state: Path
    port: int = 8443
    http_port: int = 8080
    app_port: int = 8001
    redis_port: int = 6380
    pg_port: int = 5433
    database: str = ""  # STACK_DATABASE_URL; "" = the private server's database
    content: Path = ROOT / "content"
    extra_env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Stack:
        env = dict(os.environ if env is None else env)
        return cls(state=(ROOT / env.get("STACK_DIR", ".stack")).resolve(),
                   port=int(env.get("STACK_PORT", 8443)),
                   http_port=int(env.get("STACK_HTTP_PORT", 8080)),
                   app_port=int(env.get("STACK_APP_PORT", 8001)),
                   redis_port=int(env.get("STACK_REDIS_PORT", 6380)),
                   pg_port=int(env.get("STACK_PG_PORT", 5433)),
                   database=env.get("STACK_DATABASE_URL", ""),
                   content=(ROOT / env.get("STACK_CONTENT", "content")).resolve(),
                   extra_env={k: v for k, v in env.items() if k.startswith("DANGXIAO_")})

    @property
    def private_pg(self) -> bool:
        return not self.database

    @property
    def database_url(self) -> str:
        return self.database or DEFAULT_DATABASE.format(port=self.pg_port)

    # -- where things are ------------------------------------------------------------------
    @property
    def pg_data(self) -> Path:
        """The private server's data folder. It belongs to the postgres user when we are
        root (PostgreSQL refuses to run as root), so it lives where that user may go: under
        the system's temporary folder, named after the state folder, and linked from it."""
        if os.geteuid() != 0:
            return self.state / "pg"
        import hashlib

        digest = hashlib.sha256(str(self.state).encode()).hexdigest()[:12]
        return Path("/tmp") / f"dangxiao-stack-pg-{digest}"

    @property
    def site(self) -> Path:
        return self.state / "site"

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def redis_url(self) -> str:
        # Short timeouts: a Redis that hangs makes a submission fail in 2 s, not hang.
        return (f"redis://127.0.0.1:{self.redis_port}/0"
                "?socket_timeout=2&socket_connect_timeout=2")

    def app_env(self) -> dict[str, str]:
        secret = self.state / "secret_key"
        if not secret.is_file():
            secret.write_text(secrets.token_urlsafe(48), encoding="utf-8")
            secret.chmod(0o600)
        env = {**os.environ, **self.extra_env}
        env.update({
            "DANGXIAO_ENV": "production",
            "DANGXIAO_SECRET_KEY": secret.read_text(encoding="utf-8").strip(),
            "DANGXIAO_DATABASE_URL": self.database_url,
            "DANGXIAO_RATELIMIT_STORAGE_URI": self.redis_url,
            "DANGXIAO_TRUSTED_PROXIES": "1",  # nginx, and only nginx, in front
            "DANGXIAO_INSTANCE": str(self.state / "instance"),
            "DANGXIAO_SITE_DIR": str(self.site),
            "DANGXIAO_CONTENT_DIR": str(self.content),
        })
        return env

    def dangxiao(self, *args: str, stdin: str | None = None) -> str:
        done = subprocess.run([sys.executable, "-m", "generator", *args], cwd=ROOT,
                              env=self.app_env(), input=stdin, text=True, capture_output=True)
        if done.returncode:
            raise SystemExit(f"dangxiao {' '.join(args)} 失败：\n{done.stdout}{done.stderr}")
        return done.stdout

    # -- processes ---------------------------------------------------------------------------
    def pid(self, name: str) -> int | None:
        """The pid in STATE/NAME.pid if that process runs and is the program we started."""
        path = (self.pg_data / "postmaster.pid" if name == "postgres"
                else self.state / f"{name}.pid")
        try:
            pid = int(path.read_text().split()[0])
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        except (OSError, ValueError, IndexError):
            return None
        program = {"nginx": "nginx", "gunicorn": "gunicorn", "redis": "redis-server",
                   "postgres": "postgres"}[name]
        return pid if program in cmdline else None

    def worker_pids(self) -> list[int]:
        master = self.pid("gunicorn")
        if master is None:
            return []
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(master)], capture_output=True,
                             text=True).stdout
        return [int(p) for p in out.split()]

    def _wait(self, what: str, ready, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while not ready():
            if time.monotonic() > deadline:
                logs = "\n".join(f"--- {p.name}\n" + p.read_text(errors="replace")[-3000:]
                                 for p in sorted(self.state.glob("*.log")))
                raise SystemExit(f"{what} 没有按时启动。\n{logs}")
            time.sleep(0.1)

    def redis_ready(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.redis_port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def app_ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.app_port}/app/healthz",
                                        timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    def https_ready(self) -> bool:
        context = ssl.create_default_context()
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        try:
            with urllib.request.urlopen(f"{self.url}/app/healthz", timeout=2,
                                        context=context) as r:
                return r.status == 200
        except OSError:
            return False

    def start_redis(self) -> None:
        if self.pid("redis"):
            return
        # Rate-limit counters only: nothing worth saving, so no snapshot and no AOF.
        subprocess.run(["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1",
                        "--save", "", "--appendonly", "no", "--daemonize", "yes",
                        "--pidfile", str(self.state / "redis.pid"),
                        "--logfile", str(self.state / "redis.log"), "--dir", str(self.state)],
                       check=True)
        self._wait("redis-server", self.redis_ready)

    def _as_postgres(self, *command: str, **kwargs) -> subprocess.CompletedProcess:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        return subprocess.run([*prefix, *command], check=True, capture_output=True,
                              text=True, **kwargs)

    def pg_ready(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.pg_port), timeout=1):
                return True
        except OSError:
            return False

    def start_postgres(self) -> None:
        """The private PostgreSQL server: a cluster made once by initdb (trust on
        127.0.0.1 only, like the machine's), started by pg_ctl on STACK_PG_PORT."""
        if not self.private_pg or self.pid("postgres"):
            return
        data = self.pg_data
        if not (data / "PG_VERSION").is_file():
            data.mkdir(mode=0o700, parents=True, exist_ok=True)
            if os.geteuid() == 0:
                shutil.chown(data, "postgres", "postgres")
            self._as_postgres(pg_program("initdb"), "-D", str(data), "-U", "postgres",
                              "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8")
        link = self.state / "pg"
        if data != link and not link.is_symlink():
            link.symlink_to(data)
        log = data / "server.log"
        self._as_postgres(pg_program("pg_ctl"), "-D", str(data), "-l", str(log), "-w",
                          "-t", "60", "-o",
                          f"-p {self.pg_port} -c listen_addresses=127.0.0.1 "
                          f"-c unix_socket_directories={data} -c fsync=on", "start")
        self._wait("PostgreSQL", self.pg_ready)

    def restart_postgres(self, mode: str = "fast") -> None:
        """pg_ctl restart: every connection ends; the server is back when this returns."""
        self._as_postgres(pg_program("pg_ctl"), "-D", str(self.pg_data), "-m", mode, "-w",
                          "-t", "60", "-l", str(self.pg_data / "server.log"), "-o",
                          f"-p {self.pg_port} -c listen_addresses=127.0.0.1 "
                          f"-c unix_socket_directories={self.pg_data}", "restart")
        self._wait("PostgreSQL", self.pg_ready)

    def stop_postgres(self) -> bool:
        if not self.private_pg or not self.pid("postgres"):
            return False
        self._as_postgres(pg_program("pg_ctl"), "-D", str(self.pg_data), "-m", "fast", "-w",
                          "stop")
        return True

    def ensure_database(self) -> None:
        if not self.database_url.startswith("postgresql"):
            return
        if self.private_pg:
            self.start_postgres()
        else:
            subprocess.run(["bash", str(ROOT / "scripts" / "postgres.sh")], check=True)
        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url

        url = make_url(self.database_url)
        engine = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                               {"n": url.database}):
                conn.execute(text(f'CREATE DATABASE "{url.database}"'))
        engine.dispose()

    def start_app(self) -> None:
        if self.pid("gunicorn"):
            return
        self.dangxiao("db", "upgrade")
        subprocess.run([str(Path(sys.executable).with_name("gunicorn")), "-c", str(GUNICORN_CONF),
                        "--bind", f"127.0.0.1:{self.app_port}", "--daemon",
                        "--pid", str(self.state / "gunicorn.pid"),
                        "--error-logfile", str(self.state / "gunicorn.log"),
                        "--control-socket", str(self.state / "gunicorn.ctl"),
                        "forms_app:create_app()"], cwd=ROOT, env=self.app_env(), check=True)
        self._wait("gunicorn", self.app_ready)

    def start_nginx(self, rebuilt: bool) -> None:
        conf = fill_nginx_conf(self.state, self.site, self.state / "tls", self.port,
                               self.http_port, self.app_port)
        nginx = nginx_binary()
        command = [nginx, "-c", str(conf), "-p", str(self.state),
                   "-e", str(self.state / "nginx-error.log")]
        subprocess.run([*command, "-t", "-q"], check=True)
        if self.pid("nginx"):
            if rebuilt:  # the new build's CSP snippet is read on reload
                subprocess.run([*command, "-s", "reload"], check=True)
            return
        subprocess.run(command, check=True)
        self._wait("nginx", self.https_ready)

    def up(self, build: bool = True) -> None:
        self.state.mkdir(parents=True, exist_ok=True)
        (self.state / "instance").mkdir(exist_ok=True)
        make_certificate(self.state / "tls")
        rebuilt = build or not (self.site / "index.html").is_file()
        if rebuilt:
            self.dangxiao("build", "--content", str(self.content), "--out", str(self.site))
        self.start_redis()
        self.ensure_database()
        self.start_app()
        self.start_nginx(rebuilt)

    def stop(self, name: str, seconds: float = 30) -> bool:
        pid = self.pid(name)
        if pid is None:
            (self.state / f"{name}.pid").unlink(missing_ok=True)
            return False
        os.kill(pid, signal.SIGTERM)  # nginx: fast shutdown; gunicorn: graceful; redis: exit
        deadline = time.monotonic() + seconds
        while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
            if Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[-1].startswith("Z"):
                break  # our own child, exited, not yet reaped
            time.sleep(0.05)
        if Path(f"/proc/{pid}").exists() and self.pid(name) == pid:
            os.kill(pid, signal.SIGKILL)
        (self.state / f"{name}.pid").unlink(missing_ok=True)
        return True

    def down(self) -> list[str]:
        stopped = [name for name in ("nginx", "gunicorn", "redis") if self.stop(name)]
        return stopped + (["postgres"] if self.stop_postgres() else [])

    def describe(self) -> str:
        def state(name: str) -> str:
            pid = self.pid(name)
            return f"运行中（pid {pid}）" if pid else "未运行"

        workers = ", ".join(map(str, self.worker_pids())) or "无"
        return f"""网站（nginx，自签名证书）: {self.url}/   {state('nginx')}
  配置 {self.state / 'nginx.conf'}（deploy/nginx.conf，只填了端口、路径和证书）
  网站文件 {self.site}
表单应用（gunicorn）: http://127.0.0.1:{self.app_port}/app/  {state("gunicorn")}
  工作进程 {workers}
  日志 {self.state / 'gunicorn.log'}
数据库: {self.database_url}{
    f"（本栈自己的 PostgreSQL 服务器，{state('postgres')}，数据在 {self.pg_data}）"
    if self.private_pg else "（外部服务器，本栈不启停）"}
限流计数（redis-server）: 127.0.0.1:{self.redis_port}   {state('redis')}
状态文件: {self.state}
停止: bash scripts/stack.sh down"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/stack.sh")
    parser.add_argument("action", choices=["up", "down", "status"])
    parser.add_argument("--no-build", action="store_true",
                        help="keep the site already built in the state folder")
    args = parser.parse_args(argv)
    stack = Stack.from_env()
    if args.action == "up":
        stack.up(build=not args.no_build)
        print(stack.describe())
    elif args.action == "down":
        stopped = stack.down() if stack.state.is_dir() else []
        print("已停止: " + ("、".join(stopped) if stopped else "没有在运行的部分"))
        print(f"数据和状态文件仍在 {stack.state}，下次 up 接着用")
    else:
        print(stack.describe())
    return 0


if __name__ == "__main__":
    sys.exit(main())
