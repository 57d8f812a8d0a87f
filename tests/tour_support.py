"""What the browser tours need besides Playwright: the product as a real process, a relay
that counts the bytes a phone receives, and the checks every page must pass."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

from conftest import PG_URL, free_port, stack_env

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "docs" / "screenshots"
EDITOR_PASSWORD = "编辑部的门常开着"

# A phone in WeChat's built-in browser (X5/XWEB on Android), as members use the site.
WECHAT_PHONE = {
    "viewport": {"width": 360, "height": 740}, "device_scale_factor": 2, "is_mobile": True,
    "has_touch": True, "locale": "zh-CN", "timezone_id": "Asia/Shanghai",
    # The stack's certificate is self-signed (scripts/stack.sh).
    "ignore_https_errors": True,
    "user_agent": ("Mozilla/5.0 (Linux; Android 12; V2118A Build/SP1A.210812.003; wv) "
                   "AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/116.0.0.0 "
                   "Mobile Safari/537.36 XWEB/1160065 MMWEBSDK/20231202 MicroMessenger/8.0.47"
                   ".2560(0x28002F35) WeChat/arm64 Weixin NetType/4G Language/zh_CN"),
}
LAPTOP = {"viewport": {"width": 1280, "height": 800}, "locale": "zh-CN",
          "timezone_id": "Asia/Shanghai", "ignore_https_errors": True}


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(cwd), *args], check=True, capture_output=True,
                   env={**os.environ, "GIT_AUTHOR_NAME": "tour", "GIT_COMMITTER_NAME": "tour",
                        "GIT_AUTHOR_EMAIL": "tour@dangxiao.invalid",
                        "GIT_COMMITTER_EMAIL": "tour@dangxiao.invalid"})


class Product:
    """`dangxiao serve` on a fresh instance with its embedded defaults (SQLite, the sample
    content copied into a git work tree of its own), as the README's first command runs it."""

    label = "`dangxiao serve`"

    def __init__(self, base: Path) -> None:
        self.base = base
        self.content = base / "content"
        self.site = base / "site"
        self.instance = base / "instance"
        shutil.copytree(ROOT / "content", self.content)
        _git(self.content, "init", "-q")
        _git(self.content, "add", "-A")
        _git(self.content, "commit", "-qm", "sample content")
        self.env = {**os.environ, "DANGXIAO_INSTANCE": str(self.instance)}
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = (base / "serve.log").open("w")
        self.process: subprocess.Popen | None = None

    def dangxiao(self, *args: str, stdin: str | None = None) -> str:
        return subprocess.run([sys.executable, "-m", "generator", *args], input=stdin,
                              text=True, capture_output=True, check=True, env=self.env,
                              cwd=ROOT, timeout=120).stdout

    def start(self) -> None:
        self.dangxiao("db", "upgrade")
        self.dangxiao("editor", "add", "王编辑", stdin=EDITOR_PASSWORD + "\n")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "generator", "serve", "--port", str(self.port),
             "--content", str(self.content), "--out", str(self.site)],
            env=self.env, cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{self.url}/app/healthz", timeout=2)
                return
            except OSError:
                if self.process.poll() is not None:
                    break
                time.sleep(0.2)
        self.stop()
        raise RuntimeError((self.base / "serve.log").read_text())

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)
        self.log.close()


class StackProduct:
    """The production stack (`scripts/stack.sh up`: nginx with deploy/nginx.conf over HTTPS,
    gunicorn, PostgreSQL, Redis) on ports of its own, with the sample content copied into a
    git work tree of its own for Publish. DANGXIAO_TOUR=stack runs the tour through it."""

    label = "nginx over HTTPS (`scripts/stack.sh`: gunicorn, PostgreSQL, Redis)"

    def __init__(self, base: Path) -> None:
        from scripts.stack import Stack

        self.base = base
        self.content = base / "content"
        shutil.copytree(ROOT / "content", self.content)
        _git(self.content, "init", "-q")
        _git(self.content, "add", "-A")
        _git(self.content, "commit", "-qm", "sample content")
        database = (PG_URL.rsplit("/", 1)[1] + "_tour")[:60]
        self.env = stack_env(base, database, STACK_CONTENT=str(self.content))
        self.stack = Stack.from_env(self.env)
        self.site = self.stack.site
        self.port = self.stack.port
        self.url = self.stack.url

    def _stack_sh(self, action: str) -> None:
        subprocess.run(["bash", "scripts/stack.sh", action], cwd=ROOT, env=self.env,
                       check=True, capture_output=True, timeout=600)

    def dangxiao(self, *args: str, stdin: str | None = None) -> str:
        return self.stack.dangxiao(*args, stdin=stdin)

    def start(self) -> None:
        self._stack_sh("up")
        self.dangxiao("editor", "add", "王编辑", stdin=EDITOR_PASSWORD + "\n")

    def stop(self) -> None:
        self._stack_sh("down")


def running_product(base: Path) -> Product | StackProduct:
    """What the tours run against: `dangxiao serve`, or the stack with DANGXIAO_TOUR=stack
    (as CI runs them)."""
    kind = os.environ.get("DANGXIAO_TOUR", "serve")
    assert kind in ("serve", "stack"), f"DANGXIAO_TOUR={kind}: serve or stack"
    return StackProduct(base) if kind == "stack" else Product(base)


class CountingRelay:
    """A TCP relay on 127.0.0.1 that counts every byte the server sends to the browser:
    headers and bodies as they cross the wire, compressed or not, including what a
    search worker or an aborted media request receives (which the browser's own
    accounting misses). That is what a member's data plan pays for."""

    def __init__(self, upstream_port: int, scheme: str = "http") -> None:
        self.upstream = upstream_port
        self.received = 0
        self._lock = threading.Lock()
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self.url = f"{scheme}://127.0.0.1:{self.port}"
        threading.Thread(target=self._accept, daemon=True).start()

    def take(self) -> int:
        """Bytes received since the last call."""
        with self._lock:
            value, self.received = self.received, 0
        return value

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.upstream))
            threading.Thread(target=self._pipe, args=(client, upstream, False),
                             daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, True),
                             daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket, counted: bool) -> None:
        try:
            while data := src.recv(65536):
                if counted:
                    with self._lock:
                        self.received += len(data)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()

    def close(self) -> None:
        self._server.close()


class Watch:
    """Records every request and every script error of a browser context."""

    def __init__(self, context) -> None:
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.expected_status: set[str] = set()
        context.on("request", lambda r: self.requests.append(r.url))
        context.on("page", self.page)

    def page(self, page) -> None:
        page.on("pageerror", lambda e: self.errors.append(f"{page.url}: {e}"))
        page.on("console", lambda m: m.type == "error" and self._console(page, m))

    def _console(self, page, message) -> None:
        # A form sent back with its errors answers 400: Chromium logs that as a failed
        # resource. It is expected where the tour submitted a form with mistakes on purpose.
        if "status of 400" in message.text and page.url in self.expected_status:
            return
        self.errors.append(f"{page.url}: {message.text}")

    def foreign(self) -> list[str]:
        """Requests to anything but 127.0.0.1 (data: and blob: URLs stay in the page)."""
        return [u for u in self.requests if urlsplit(u).scheme not in ("data", "blob", "about")
                and urlsplit(u).hostname != "127.0.0.1"]


# Every form control on screen must carry a name a screen reader can say: a <label>, an
# aria-label, or (for buttons) its own text. (Material's drawer and search checkboxes are
# display:none; their labels are the buttons, and the thumb bar names them in words.)
UNLABELLED = """() => Array.from(document.querySelectorAll('input, select, textarea, button'))
  .filter(el => el.type !== 'hidden' && el.getClientRects().length > 0)
  .filter(el => {
    const label = el.labels && el.labels.length ? el.labels[0].innerText.trim() : '';
    const aria = (el.getAttribute('aria-label') || '').trim();
    const own = (el.tagName === 'BUTTON' || el.type === 'submit' || el.type === 'button')
      ? (el.innerText || el.value || '').trim() : '';
    return !(label || aria || own);
  })
  .map(el => el.outerHTML.slice(0, 160))"""

# Each control marked invalid points at its message, which sits in the same field block
# just below the control.
ERRORS_BESIDE_FIELDS = """() => Array.from(document.querySelectorAll('[aria-invalid="true"]'))
  .map(el => {
    const id = (el.getAttribute('aria-describedby') || '').split(' ')
      .find(i => i.endsWith('-err'));
    const msg = id && document.getElementById(id);
    if (!msg) return {field: el.name, problem: 'no message'};
    const a = el.getBoundingClientRect(), b = msg.getBoundingClientRect();
    const block = el.closest('.field');
    return {field: el.name, text: msg.innerText.trim(),
            sameBlock: !!block && block.contains(msg),
            gap: Math.round(b.top - a.bottom)};
  })"""


def unlabelled(page) -> list[str]:
    return page.evaluate(UNLABELLED)


def field_errors(page) -> list[dict]:
    return page.evaluate(ERRORS_BESIDE_FIELDS)


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


# -- a member who only taps --------------------------------------------------------------
# Latin words a member may meet on a Chinese page: none but these.
ALLOWED_LATIN = {"QQ", "VX", "APP"}
MIN_TARGET = 44  # px, the smallest thing a thumb should have to hit

PAGE_PROBLEMS = """(allowed) => {
  const problems = [];
  const width = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth > width + 1)
    problems.push('page wider than the screen: ' + document.documentElement.scrollWidth);
  for (const el of document.querySelectorAll('main *, article *, .md-content *')) {
    const r = el.getBoundingClientRect();
    if (r.width && r.right > width + 1 && getComputedStyle(el).position !== 'fixed'
        && !el.closest('.scroll, pre, .md-typeset__scrollwrap, table'))
      problems.push('overflows 360 px: ' + el.tagName + ' ' + (el.innerText || '').slice(0, 30));
  }
  // Visible text, leaving out codes a member copies (the tracking code) and code samples.
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  let text = '';
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!el || el.closest('.code, code, pre, kbd, script, style, [translate="no"]')) continue;
    if (!el.checkVisibility()) continue;
    text += ' ' + node.textContent;
  }
  const words = (text.match(/[A-Za-z][A-Za-z]+/g) || [])
    .filter(w => !allowed.includes(w.toUpperCase()));
  if (words.length) problems.push('English on the page: ' + [...new Set(words)].join(' '));
  return problems.slice(0, 10);
}"""


class Person:
    """A member on a phone who knows only the home page: every step is a tap on something
    visible and at least 44 px tall, and every page they reach is checked for text wider
    than the screen, English words and unlabelled controls."""

    def __init__(self, page, base: str) -> None:
        self.page, self.base = page, base
        self.seen: list[str] = []

    def start(self) -> None:
        self.page.goto(self.base + "/")  # the one address they were given
        self.look()

    def tap(self, locator, navigates: bool = True) -> None:
        target = locator.first if locator.count() > 1 else locator
        target.scroll_into_view_if_needed()
        assert target.is_visible(), f"not visible: {locator}"
        # A checkbox or radio button is hit through its label, which is the target.
        box = target.evaluate("""el => {
            const t = (el.type === 'radio' || el.type === 'checkbox')
                ? (el.closest('label') || (el.labels && el.labels[0]) || el) : el;
            const r = t.getBoundingClientRect();
            return {height: r.height, width: r.width};
        }""")
        assert box and box["height"] >= MIN_TARGET - 0.5, (
            f"too small to tap ({box and round(box['height'])} px): {locator} on {self.page.url}")
        if navigates:
            with self.page.expect_navigation():
                target.tap()
        else:
            target.tap()
        self.look()

    def look(self) -> None:
        problems = self.page.evaluate(PAGE_PROBLEMS, sorted(ALLOWED_LATIN))
        problems += [f"unlabelled: {c}" for c in unlabelled(self.page)]
        assert problems == [], (self.page.url, problems)
        self.seen.append(self.page.url)
