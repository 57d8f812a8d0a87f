"""The static site's security headers: a Content-Security-Policy made by the build from the
inline scripts it wrote (no 'unsafe-inline'), sent by `dangxiao serve` and by the nginx
sample with X-Frame-Options, nosniff and Referrer-Policy; HSTS in nginx's https server."""

from __future__ import annotations

import base64
import hashlib
import http.client
import os
import shutil
import ssl
import subprocess
import threading
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import TODAY, free_port, make_app, type_search
from werkzeug.test import Client

from forms_app.combined import SiteFiles, combined
from generator.build import BuildResult, build_site
from scripts.stack import fill_nginx_conf, make_certificate

ROOT = Path(__file__).resolve().parent.parent
NGINX_SAMPLE = ROOT / "deploy" / "nginx.conf"
SECURITY = {"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "same-origin"}
LESSON = "/courses/party-spirit/identity.html"


def _no_app(environ, start_response):
    start_response("204 No Content", [])
    return [b""]


class _Scripts(HTMLParser):
    """Inline scripts of one page, by an HTML parser rather than the build's own reading."""

    def __init__(self):
        super().__init__(convert_charrefs=False)
        self.inline: list[tuple[dict, str]] = []
        self._open: dict | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self._open, self._text = dict(attrs), []

    def handle_data(self, data):
        if self._open is not None:
            self._text.append(data)

    def handle_endtag(self, tag):
        if tag == "script" and self._open is not None:
            if "src" not in self._open:
                self.inline.append((self._open, "".join(self._text)))
            self._open = None


def _expected_hashes(site: Path) -> tuple[set[str], int]:
    hashes, data_blocks = set(), 0
    for page in site.rglob("*.html"):
        parser = _Scripts()
        parser.feed(page.read_text(encoding="utf-8"))
        for attrs, text in parser.inline:
            if (attrs.get("type") or "text/javascript").lower() not in (
                    "text/javascript", "module"):
                data_blocks += 1
                continue
            digest = hashlib.sha256(text.encode("utf-8")).digest()
            hashes.add(f"'sha256-{base64.b64encode(digest).decode()}'")
    return hashes, data_blocks


def _directives(policy: str) -> dict[str, list[str]]:
    out = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


def test_build_writes_a_policy_with_a_hash_for_every_inline_script(sample_site: BuildResult):
    site = sample_site.out
    policy = (site / ".csp").read_text(encoding="utf-8").strip()
    expected, data_blocks = _expected_hashes(site)
    assert expected and data_blocks  # the sample has both: Material's config is JSON
    d = _directives(policy)
    assert set(d["script-src"]) == {"'self'"} | expected
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy
    assert d["default-src"] == ["'self'"]
    assert d["object-src"] == ["'none'"]
    assert d["frame-ancestors"] == ["'none'"]
    assert d["base-uri"] in (["'self'"], ["'none'"])
    assert d["form-action"] == ["'self'"]
    assert d["img-src"] == ["'self'", "data:"]
    assert d["media-src"] == ["'self'"]
    assert d["style-src"] == ["'self'"]  # Material needs no inline styles (the browser test)
    snippet = (site / ".nginx-csp.conf").read_text(encoding="utf-8")
    assert f'add_header Content-Security-Policy "{policy}" always;' in snippet
    # Neither file is served, and neither is precompressed into something served.
    client = Client(SiteFiles(site))
    for path in ("/.csp", "/.nginx-csp.conf", "/.csp.gz"):
        assert client.get(path).status_code == 404


def test_hashes_cover_only_javascript_and_follow_the_html_parser(tmp_path: Path):
    from generator.build import inline_script_hashes

    def sha(text: str) -> str:
        return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"

    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "page.html").write_bytes(
        b"<html><head><script>one()</script>"
        b"<SCRIPT type='text/javascript'>two()</SCRIPT>"
        b'<script type="module">three()</script>'
        b'<script type="application/json" id="c">{"x": 1}</script>'
        b'<script type="text/x-template">no()</script>'
        b'<script src="/x.js"></script>'
        b"<script>\r\nfour()\r\n</script >"
        + "<script>中文()</script>".encode()
        + b"</head></html>")
    assert inline_script_hashes(tmp_path) == {
        sha("one()"), sha("two()"), sha("three()"), sha("\nfour()\n"), sha("中文()")}


def test_combined_server_sends_the_built_policy_on_every_static_response(
        sample_site: BuildResult):
    site = sample_site.out
    policy = (site / ".csp").read_text(encoding="utf-8").strip()
    client = Client(combined(site, _no_app))
    bundle = next(site.glob("assets/javascripts/bundle.*.min.js")).name
    responses = [client.get("/"), client.get(LESSON), client.get("/no-such-page.html"),
                 client.get(f"/assets/javascripts/{bundle}"), client.get("/assets/css/dangxiao.css"),
                 client.get(LESSON, headers={"Accept-Encoding": "gzip"}),
                 client.get("/search/search_index.json"), client.post("/"),
                 client.get("/.csp"), client.get("/media/" + next(
                     p.name for p in (site / "media").iterdir()))]
    assert [r.status_code for r in responses][:3] == [200, 200, 404]
    for response in responses:
        assert response.headers["Content-Security-Policy"] == policy, response.status
        for name, value in SECURITY.items():
            assert response.headers[name] == value
        assert "Strict-Transport-Security" not in response.headers  # plain HTTP here
    # The forms app keeps its own, stricter headers.
    assert "Content-Security-Policy" not in client.get("/app/healthz").headers


def test_combined_server_reads_the_policy_again_after_a_rebuild(tmp_path: Path):
    site = tmp_path / "site"
    (site / "x").mkdir(parents=True)
    (site / "index.html").write_text("<p>首页</p>", encoding="utf-8")
    (site / ".csp").write_text("default-src 'self'; script-src 'self' 'sha256-A'",
                               encoding="utf-8")
    client = Client(combined(site, _no_app))
    assert client.get("/").headers["Content-Security-Policy"].endswith("'sha256-A'")
    # A rebuild swaps in a new folder with a new policy (forms_app publish does this).
    new = tmp_path / "new"
    shutil.copytree(site, new)
    (new / ".csp").write_text("default-src 'self'; script-src 'self' 'sha256-B'",
                              encoding="utf-8")
    old = tmp_path / "old"
    site.rename(old)
    new.rename(site)
    assert client.get("/").headers["Content-Security-Policy"].endswith("'sha256-B'")
    # A site built before policies existed still gets a strict one.
    (site / ".csp").unlink()
    policy = client.get("/").headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy


def test_policy_follows_the_content_it_was_built_from(tmp_path: Path, content_tree: Path):
    """A small site of its own: the build hashes what it wrote, nothing left from before."""
    out = tmp_path / "site"
    build_site(content_tree, out, today=TODAY)
    expected, _ = _expected_hashes(out)
    assert set(_directives((out / ".csp").read_text(encoding="utf-8"))["script-src"]) == \
        {"'self'"} | expected


# -- in Chromium -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def combined_url(sample_site: BuildResult, tmp_path_factory: pytest.TempPathFactory):
    """The sample site and the forms app (its search reads the site's index) on one port."""
    from werkzeug.serving import make_server

    from forms_app import db

    base = tmp_path_factory.mktemp("policy-app")
    app = make_app(base, f"sqlite:///{base / 'instance' / 'dangxiao.sqlite3'}",
                   SITE_DIR=str(sample_site.out))
    server = make_server("127.0.0.1", 0, combined(sample_site.out, app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    db.close(app)


VIOLATIONS = """
window.__dxViolations = [];
document.addEventListener('securitypolicyviolation', e =>
  window.__dxViolations.push(e.violatedDirective + ' ' + e.blockedURI + ' ' + e.sample));
"""


def test_pages_under_the_policy_run_without_a_violation_and_search_works(browser,
                                                                         combined_url):
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN",
                                  has_touch=True, is_mobile=True)
    context.add_init_script(VIOLATIONS)
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda m: m.type in ("error", "warning") and console.append(m.text))
    page.on("pageerror", lambda e: console.append(str(e)))
    for path in ("/index.html", LESSON, "/guides/departure-helper.html", "/faq/index.html",
                 "/no-such-page.html"):
        response = page.goto(combined_url + path)
        assert "sha256-" in response.headers["content-security-policy"]
        page.wait_for_load_state("load")
        assert page.evaluate("window.__dxViolations") == [], path
    # The policy helper page runs its script (rules from the JSON data block).
    page.goto(combined_url + "/guides/departure-helper.html")
    page.wait_for_function("() => document.getElementById('dx-helper').hidden === false")
    # Search: the header's form opens the app's results, which find a page by a Chinese word.
    page.goto(combined_url + "/index.html")
    type_search(page, "活动证")
    page.locator("a.search-hit").first.wait_for(timeout=5_000)
    assert page.evaluate("window.__dxViolations") == []
    context.close()
    assert [m for m in console if "Content Security Policy" in m or "Refused" in m] == []
    assert [m for m in console if "error" in m.lower()] == []


# -- the nginx sample ------------------------------------------------------------------------

def _nginx() -> str:
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx")
                                      else None)
    if nginx is None:
        pytest.fail("nginx is expected (scripts/setup.sh test installs nginx-light)")
    return nginx


def _filled_sample(tmp_path: Path, site: Path, port: int) -> Path:
    """deploy/nginx.conf with its paths pointing here and a self-signed certificate, filled
    as scripts/stack.sh fills it."""
    make_certificate(tmp_path / "tls")
    return fill_nginx_conf(tmp_path, site, tmp_path / "tls", port, free_port(),
                           foreground=True, error_log="error.log")


def test_nginx_sample_passes_nginx_t(tmp_path: Path, sample_site: BuildResult):
    conf = _filled_sample(tmp_path, sample_site.out, free_port())
    done = subprocess.run([_nginx(), "-t", "-c", str(conf), "-p", str(tmp_path),
                           "-e", str(tmp_path / "error.log")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "syntax is ok" in done.stderr


def test_nginx_sample_sends_every_security_header_from_every_location(
        tmp_path: Path, sample_site: BuildResult):
    """nginx drops the server's add_header in any location that has one of its own: each
    static location must carry all of them, HSTS too."""
    site = tmp_path / "site"
    shutil.copytree(sample_site.out, site)
    (site / "assets" / ".hidden").write_text("secret", encoding="utf-8")
    port = free_port()
    conf = _filled_sample(tmp_path, site, port)
    log = tmp_path / "error.log"
    server = subprocess.Popen([_nginx(), "-c", str(conf), "-p", str(tmp_path), "-e", str(log)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE

    def get(path: str) -> http.client.HTTPResponse:
        connection = http.client.HTTPSConnection("127.0.0.1", port, context=context,
                                                 timeout=5)
        connection.request("GET", path, headers={"Host": "evil.example"})
        response = connection.getresponse()
        response.read()
        connection.close()
        return response

    try:
        for _ in range(200):
            try:
                get("/")
                break
            except OSError:
                if server.poll() is not None:
                    pytest.fail(log.read_text(encoding="utf-8", errors="replace"))
                time.sleep(0.05)
        policy = (site / ".csp").read_text(encoding="utf-8").strip()
        bundle = next(site.glob("assets/javascripts/bundle.*.min.js")).name
        media = next(p.name for p in (site / "media").iterdir())
        for path, status in [("/", 200), (LESSON, 200), ("/assets/css/dangxiao.css", 200),
                             (f"/assets/javascripts/{bundle}", 200), (f"/media/{media}", 200),
                             ("/nothing.html", 404), ("/.csp", 404), ("/.nginx-csp.conf", 404),
                             ("/assets/.hidden", 404), ("/courses", 301)]:
            response = get(path)
            assert response.status == status, path
            headers = response.headers
            assert headers["Content-Security-Policy"] == policy, path
            for name, value in SECURITY.items():
                assert headers[name] == value, (path, name)
            assert headers["Strict-Transport-Security"] == "max-age=31536000", path
            assert len(headers.get_all("Content-Security-Policy")) == 1, path
            if status == 301:  # a folder without its slash: never to the request's Host
                assert headers["Location"] == "/courses/"
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_nginx_http_server_redirects_to_the_configured_name():
    sample = NGINX_SAMPLE.read_text(encoding="utf-8")
    plain = sample.split("listen 80;", 1)[1]
    assert "$host" not in plain.split("}", 1)[0]
    assert "absolute_redirect off;" in sample or "server_name_in_redirect on;" in sample
