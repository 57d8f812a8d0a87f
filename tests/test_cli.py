"""The dangxiao command as editors and scripts call it."""

from __future__ import annotations

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
    server = subprocess.Popen(
        [sys.executable, "-m", "generator", "serve", "--port", str(port), "--content",
         "content", "--out", "out"], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
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
    finally:
        server.terminate()
        server.wait(timeout=10)
        server.stdout.close()
        server.stderr.close()
