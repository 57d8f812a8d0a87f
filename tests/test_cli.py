"""The dangxiao command as editors and scripts call it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

LINE = re.compile(r"^[^:]+\.ya?ml:\d+:\d+: [^:]+: .+$")


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "generator", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def test_check_valid_content_exits_0(content_tree: Path):
    result = run("check", "--content", "content", cwd=content_tree.parent)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""
    assert "检查通过" in result.stderr


def test_check_reports_one_line_per_problem_and_exits_1(content_tree: Path):
    (content_tree / "faq" / "dues.yaml").write_text("question: 问\nanswr: 答\n", "utf-8")
    (content_tree / "news" / "launch.yaml").write_text("title: [\n", "utf-8")
    result = run("check", "--content", "content", cwd=content_tree.parent)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert all(LINE.match(line) for line in lines), lines
    assert "content/faq/dues.yaml:2:1: answr: 未知字段,请检查拼写".replace(",", "\uff0c") in lines
    assert "content/faq/dues.yaml:1:1: answer: 必填字段缺失" in lines
    assert any(line.startswith("content/news/launch.yaml:2:1: 文件: YAML 语法错误：") for line in lines)
    assert len(lines) == 5  # answr, answer, basis, reviewed_on, the YAML error
    assert "5 处错误" in result.stderr


def test_build_writes_the_site_and_refuses_bad_content(content_tree: Path):
    cwd = content_tree.parent
    ok = run("build", "--content", "content", "--out", "out", cwd=cwd)
    assert ok.returncode == 0, ok.stderr
    home = (cwd / "out" / "index.html").read_text(encoding="utf-8")
    assert "测试党校" in home
    (content_tree / "site.yaml").write_text("title: 1\n", "utf-8")
    bad = run("build", "--content", "content", "--out", "out", cwd=cwd)
    assert bad.returncode == 1
    assert "content/site.yaml:1:8: title: 应为文本" in bad.stdout
    assert "原有网站保持不变" in bad.stderr
    assert (cwd / "out" / "index.html").read_text(encoding="utf-8") == home


def test_serve_builds_and_serves_the_site(content_tree: Path):
    import socket
    import time
    import urllib.error
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cwd = content_tree.parent
    env = {**os.environ, "DANGXIAO_INSTANCE": str(cwd / "instance")}
    server = subprocess.Popen(
        [sys.executable, "-m", "generator", "serve", "--port", str(port), "--content",
         "content", "--out", "out"], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env=env)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as reply:
                    body = reply.read().decode("utf-8")
                    headers = reply.headers
                break
            except OSError:
                assert server.poll() is None, server.stderr.read().decode()
                assert time.monotonic() < deadline, "server did not answer"
                time.sleep(0.2)
        assert "测试党校" in body
        assert headers["X-Content-Type-Options"] == "nosniff"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/faq/dues.html") as reply:
            assert "党费怎么交" in reply.read().decode("utf-8")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/no/such/page.html")
            raise AssertionError("a missing page must answer 404")
        except urllib.error.HTTPError as missing:
            assert missing.code == 404
            assert "没有找到这个页面" in missing.read().decode("utf-8")
        # The forms app answers on the same port, its database created on start.
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/app/healthz") as reply:
            assert reply.status == 200
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/app/ask") as reply:
            assert 'name="csrf_token"' in reply.read().decode("utf-8")
        assert (cwd / "instance" / "dangxiao.sqlite3").is_file()
    finally:
        server.terminate()
        server.wait(timeout=10)
        server.stdout.close()
        server.stderr.close()


def _dangxiao(args: list[str], tmp_path: Path, stdin: str = "", **env: str):
    environ = {**os.environ, "DANGXIAO_INSTANCE": str(tmp_path / "instance"), **env}
    return subprocess.run([sys.executable, "-m", "generator", *args], input=stdin,
                          capture_output=True, text=True, env=environ, timeout=120)


def test_db_upgrade_and_editor_add(tmp_path: Path):
    from forms_app.migrate import current

    assert _dangxiao(["db", "upgrade"], tmp_path).returncode == 0
    url = f"sqlite:///{tmp_path / 'instance' / 'dangxiao.sqlite3'}"
    from forms_app.migrate import head

    assert current(url) == head()  # the newest revision
    weak = _dangxiao(["editor", "add", "王编辑"], tmp_path, stdin="12345678\n")
    assert weak.returncode == 1 and "太常见" in weak.stderr
    ok = _dangxiao(["editor", "add", "王编辑", "--role", "admin"], tmp_path,
                   stdin="县委组织部网上党校编辑\n")
    assert ok.returncode == 0, ok.stderr
    assert "已创建管理员 王编辑" in ok.stderr
    again = _dangxiao(["editor", "add", "王编辑"], tmp_path, stdin="县委组织部网上党校编辑\n")
    assert again.returncode == 1 and "已存在" in again.stderr
    import sqlite3

    with sqlite3.connect(tmp_path / "instance" / "dangxiao.sqlite3") as conn:
        rows = conn.execute("SELECT username, role, password_hash FROM users").fetchall()
    assert [(r[0], r[1]) for r in rows] == [("王编辑", "admin")]
    assert "县委组织部" not in rows[0][2]


def test_fresh_database_has_no_editor(tmp_path: Path):
    assert _dangxiao(["db", "upgrade"], tmp_path).returncode == 0
    import sqlite3

    with sqlite3.connect(tmp_path / "instance" / "dangxiao.sqlite3") as conn:
        assert conn.execute("SELECT count(*) FROM users").fetchone()[0] == 0


def test_production_refuses_a_missing_or_default_secret(tmp_path: Path):
    for secret in ("", "dev-only-not-secret", "short"):
        result = _dangxiao(["db", "upgrade"], tmp_path, DANGXIAO_ENV="production",
                           DANGXIAO_SECRET_KEY=secret)
        assert result.returncode == 1
        assert "生产环境必须设置 DANGXIAO_SECRET_KEY" in result.stderr
        assert "Traceback" not in result.stderr
    good = _dangxiao(["db", "upgrade"], tmp_path, DANGXIAO_ENV="production",
                     DANGXIAO_SECRET_KEY="k" * 16 + "3f9a1c7e5b2d8a4f60")
    assert good.returncode == 0, good.stderr


def test_build_warns_while_the_public_address_is_this_machine(content_tree: Path):
    """Calendars, the feed and posters' QR codes carry site.yaml's public_url: the sample's
    http://127.0.0.1:8000/ is right for `dangxiao serve`, wrong for a real site."""
    import yaml

    cwd = content_tree.parent
    site = yaml.safe_load((content_tree / "site.yaml").read_text(encoding="utf-8"))
    site["public_url"] = "http://127.0.0.1:8000/"
    (content_tree / "site.yaml").write_text(yaml.safe_dump(site, allow_unicode=True), "utf-8")
    local = run("build", "--content", "content", "--out", "out", cwd=cwd)
    assert local.returncode == 0, local.stderr
    assert "还是本机地址 http://127.0.0.1:8000/" in local.stderr
    assert "二维码会指向这台电脑" in local.stderr

    site["public_url"] = "https://dangxiao.example.cn/"
    (content_tree / "site.yaml").write_text(yaml.safe_dump(site, allow_unicode=True), "utf-8")
    public = run("build", "--content", "content", "--out", "out", cwd=cwd)
    assert public.returncode == 0, public.stderr
    assert "本机地址" not in public.stderr


def test_serve_says_when_the_public_address_names_another_port(content_tree: Path):
    """`dangxiao serve --port 8150` with the sample's http://127.0.0.1:8000/: the posters,
    calendars and the feed would point at port 8000, where nothing may run."""
    import yaml

    from forms_app.combined import served_elsewhere_warning

    def with_public(url: str | None) -> Path:
        site = yaml.safe_load((content_tree / "site.yaml").read_text(encoding="utf-8"))
        site["public_url"] = url
        (content_tree / "site.yaml").write_text(yaml.safe_dump(site, allow_unicode=True),
                                                "utf-8")
        return content_tree

    served = "http://127.0.0.1:8150/"
    warning = served_elsewhere_warning(with_public("http://127.0.0.1:8000/"), served)
    assert warning and "http://127.0.0.1:8000/" in warning and served in warning
    assert served_elsewhere_warning(with_public("http://127.0.0.1:8150/"), served) is None
    assert served_elsewhere_warning(with_public("https://dangxiao.example.cn/"), served) is None
    assert served_elsewhere_warning(with_public(None), served) is None
