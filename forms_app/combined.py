"""The embedded default: the built site at / and the forms app at /app/, on one port.

In production nginx does the same split (deploy/nginx.conf); here a small WSGI router does
it, served by waitress (pure Python, threaded, no build step).
"""

from __future__ import annotations

import gzip
import logging
import mimetypes
import re
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

from werkzeug.datastructures import Headers
from werkzeug.exceptions import NotFound
from werkzeug.http import parse_accept_header
from werkzeug.utils import safe_join
from werkzeug.wrappers import Request, Response
from werkzeug.wsgi import ClosingIterator

log = logging.getLogger(__name__)

WSGIApp = Callable[..., Iterable[bytes]]
STATIC_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin",
                  "X-Frame-Options": "DENY"}
# The build writes the site's policy, with the hash of each inline script, to site/.csp
# (generator/build.py write_csp). A site built before that gets this one: strict, so the
# theme's inline scripts stop until the site is built again.
CSP_FILE = ".csp"
FALLBACK_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; "
                "img-src 'self' data:; media-src 'self'; object-src 'none'; base-uri 'self'; "
                "form-action 'self'; frame-ancestors 'none'")
# Material's bundles carry a content hash in their names: a phone keeps them for a year.
FINGERPRINTED = re.compile(r"\.[0-9a-f]{8}\.min\.(js|css)$")


def cache_control(rel: str) -> str:
    """How long a phone may reuse a file without asking again (deploy/nginx.conf agrees).

    Pages and the search index are asked for again each time (a 304 costs a few hundred
    bytes), so a rebuilt site is seen at once; other assets and media for an hour.
    """
    if FINGERPRINTED.search(rel):
        return "public, max-age=31536000, immutable"
    if rel.startswith(("assets/", "media/")) or rel.endswith(".png"):
        return "public, max-age=3600"
    return "no-cache"


class SitePolicy:
    """The Content-Security-Policy in site/.csp, read again whenever the file changes: a
    publish rebuilds the site in the background and swaps in a new folder."""

    def __init__(self, root: Path):
        self.file = root / CSP_FILE
        self._signature: tuple[int, ...] | None = ()  # not looked at yet
        self._policy = FALLBACK_CSP
        self._lock = threading.Lock()

    def __call__(self) -> str:
        try:
            st = self.file.stat()
            signature = (st.st_mtime_ns, st.st_size, st.st_ino)
        except OSError:
            signature = None
        if signature != self._signature:
            with self._lock:
                self._policy = self._read(signature)
                self._signature = signature
        return self._policy

    def _read(self, signature: tuple[int, int, int] | None) -> str:
        if signature is not None:
            try:
                policy = " ".join(self.file.read_text(encoding="utf-8").split())
            except OSError:
                policy = ""
            if policy:
                return policy
        log.warning("%s is missing or empty: static pages get the strict fallback policy; "
                    "run dangxiao build", self.file)
        return FALLBACK_CSP


class SiteFiles:
    """Files of the built site; `/dir/` serves `dir/index.html`; misses get 404.html.

    A browser that accepts gzip gets the `.gz` twin the build wrote beside each text file
    (nginx's gzip_static does the same); media answer range requests so phones can seek.
    """

    def __init__(self, root: Path):
        self.root = root
        self.policy = SitePolicy(root)

    def headers(self) -> dict[str, str]:
        """The security headers of every static response, whatever its status."""
        return {**STATIC_HEADERS, "Content-Security-Policy": self.policy()}

    def _file(self, path: str) -> Path | None:
        rel = path.lstrip("/")
        if rel == "" or rel.endswith("/"):
            rel += "index.html"
        joined = safe_join(str(self.root), rel)  # None for ../ and absolute paths
        if joined is None or any(part.startswith(".") for part in Path(rel).parts):
            return None
        file = Path(joined)
        return file if file.is_file() else None

    def __call__(self, environ, start_response):
        request = Request(environ)
        if request.method not in ("GET", "HEAD"):
            return Response("不支持这种访问方式", 405, headers=self.headers())(
                environ, start_response)
        if request.path in ("/", "/index.html") and request.args.get("q", "").strip():
            # A shared search link /?q=WORDS opens the app's results (DESIGN.md); nginx
            # does the same (deploy/nginx.conf).
            query = request.query_string.decode("latin-1")
            return Response("", 303, headers={**self.headers(),
                                               "Location": f"/app/search?{query}"})(
                environ, start_response)
        file = self._file(request.path)
        status = 200
        if file is None:
            file, status = self._file("/404.html"), 404
            if file is None:
                missing = NotFound().get_response(environ)
                missing.headers.update(self.headers())
                return missing(environ, start_response)
        mime = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        if file.name == "feed.xml":  # the Atom feed (generator/feed.py)
            mime = "application/atom+xml"
        if mime.startswith("text/") or mime in ("application/javascript", "application/json",
                                                "application/atom+xml"):
            mime += "; charset=utf-8"
        headers = {**self.headers(), "Cache-Control": cache_control(
            file.relative_to(self.root).as_posix())}
        packed = file.with_name(file.name + ".gz")
        gzipped = "gzip" in request.headers.get("Accept-Encoding", "") and packed.is_file()
        if packed.is_file():
            headers["Vary"] = "Accept-Encoding"
        if gzipped:
            headers["Content-Encoding"] = "gzip"
        body = (packed if gzipped else file).read_bytes()
        response = Response(body, status, mimetype=None, content_type=mime, headers=headers)
        if status == 200:
            response.add_etag()
            response.make_conditional(request, accept_ranges=not gzipped,
                                      complete_length=None if gzipped else len(body))
        return response(environ, start_response)


# -- compression of the forms app's responses (nginx does it in production) ---------------
# Text types only; below GZIP_MIN_BYTES the gzip header and the work cost more than they
# save; above GZIP_MAX_BYTES a body (a download) passes as it is rather than held in memory.
COMPRESSIBLE = ("text/", "application/json", "application/javascript", "application/xml",
                "application/atom+xml", "image/svg+xml")
GZIP_MIN_BYTES = 1024
GZIP_MAX_BYTES = 4 * 1024 * 1024
GZIP_TAG = "-gzip"


def _accepts_gzip(environ) -> bool:
    return parse_accept_header(environ.get("HTTP_ACCEPT_ENCODING", ""))["gzip"] > 0


def _gzip_etag(etag: str) -> str:
    """The tag of the gzip representation: another set of bytes, another strong ETag."""
    return etag[:-1] + GZIP_TAG + '"' if etag.endswith('"') and GZIP_TAG not in etag else etag


def _add_vary(headers: Headers) -> None:
    values = [v.strip() for v in headers.get("Vary", "").split(",") if v.strip()]
    if not any(v.lower() in ("accept-encoding", "*") for v in values):
        headers["Vary"] = ", ".join([*values, "Accept-Encoding"])


def _compressible(environ, status: str, headers: Headers) -> bool:
    """A complete 200 body of a text type, of a size worth compressing, not yet encoded.
    A response without Content-Length (a stream) is never held back."""
    length = headers.get("Content-Length", "")
    return (status.startswith("200") and "Content-Encoding" not in headers
            and "Content-Range" not in headers
            and "no-transform" not in headers.get("Cache-Control", "")
            and headers.get("Content-Type", "").startswith(COMPRESSIBLE)
            and length.isdigit() and GZIP_MIN_BYTES <= int(length) <= GZIP_MAX_BYTES)


class GzipResponses:
    """WSGI middleware for the forms app under `dangxiao serve`: pages, CSS and JSON are
    sent gzipped to a browser that accepts it, with Vary: Accept-Encoding on every
    response that could be. The gzipped body carries its own ETag (`"…-gzip"`); such a tag
    in If-None-Match is given back to the app as its own, so a 304 still works."""

    def __init__(self, app: WSGIApp):
        self.app = app

    def __call__(self, environ, start_response):
        accepts = _accepts_gzip(environ)
        asked = environ.get("HTTP_IF_NONE_MATCH", "")
        if accepts and GZIP_TAG in asked:
            environ = {**environ, "HTTP_IF_NONE_MATCH": asked.replace(GZIP_TAG + '"', '"')}
        captured: dict = {}
        written: list[bytes] = []

        def capture(status, headers, exc_info=None):
            if captured.get("returned"):  # started while its body is read: passed on as is
                captured["sent"] = True
                return start_response(status, headers, exc_info)
            if exc_info and captured.get("sent"):
                raise exc_info[1].with_traceback(exc_info[2])
            captured["status"], captured["headers"] = status, headers
            return written.append

        body = self.app(environ, capture)
        captured["returned"] = True
        if "status" not in captured:  # an app that starts its response lazily
            return body
        status, headers = captured["status"], Headers(captured["headers"])
        if status.startswith("304") and accepts and GZIP_TAG in asked:
            if "ETag" in headers:
                headers["ETag"] = _gzip_etag(headers["ETag"])
            _add_vary(headers)
            captured["headers"] = headers.to_wsgi_list()
            return self._untouched(body, written, captured, start_response)
        if not _compressible(environ, status, headers):
            return self._untouched(body, written, captured, start_response)
        _add_vary(headers)
        if not accepts or environ.get("REQUEST_METHOD") == "HEAD":
            captured["headers"] = headers.to_wsgi_list()
            return self._untouched(body, written, captured, start_response)
        try:
            data = b"".join(written) + b"".join(body)
        finally:
            if hasattr(body, "close"):
                body.close()
        packed = gzip.compress(data, compresslevel=6, mtime=0)
        if len(packed) < len(data):
            data = packed
            headers["Content-Encoding"] = "gzip"
            headers.remove("Accept-Ranges")  # ranges of the identity bytes do not apply
            if "ETag" in headers:
                headers["ETag"] = _gzip_etag(headers["ETag"])
        headers["Content-Length"] = str(len(data))
        captured["sent"] = True
        start_response(status, headers.to_wsgi_list())
        return [data]

    @staticmethod
    def _untouched(body, written, captured, start_response):
        if "status" in captured:
            captured["sent"] = True
            start_response(captured["status"], captured["headers"])
        if not written:
            return body
        close = [body.close] if hasattr(body, "close") else []
        return ClosingIterator([*written, *body], close)


def combined(site_dir: Path, app: WSGIApp) -> WSGIApp:
    site = SiteFiles(site_dir)
    forms = GzipResponses(app)

    def router(environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path == "/app" or path.startswith("/app/"):
            return forms(environ, start_response)
        return site(environ, start_response)

    return router


def serve(host: str, port: int, site_dir: Path, app: WSGIApp, threads: int = 8) -> None:
    from waitress import serve as waitress_serve

    waitress_serve(combined(site_dir, app), host=host, port=port, threads=threads,
                   ident="dangxiao", clear_untrusted_proxy_headers=True)


def served_elsewhere_warning(content: Path, served: str) -> str | None:
    """When site.yaml's public_url is this machine but not where `dangxiao serve` runs now
    (another port), the site's calendars, feed and posters point at the wrong address."""
    from urllib.parse import urlsplit

    import yaml

    from generator.offline import LOCAL_HOSTS

    try:
        site = yaml.safe_load((content / "site.yaml").read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return None  # the build has said what is wrong with it
    public = str(site.get("public_url") or "") if isinstance(site, dict) else ""
    parts, here = urlsplit(public), urlsplit(served)
    if not public or parts.hostname not in LOCAL_HOSTS or parts.port == here.port:
        return None
    return (f"注意：site.yaml 的 public_url 是 {public}，网站现在却在 {served} 提供：日历文件、"
            "订阅（feed.xml）、微信群消息和海报二维码里的网址会指向前者。请把 public_url 改成"
            "党员实际打开的地址。")


def serve_product(host: str, port: int, content: Path, out: Path, build: bool = True) -> int:
    """`dangxiao serve`: build the site, migrate the database, serve both on one port."""
    import sys

    from forms_app import create_app, migrate
    from forms_app.db import database_url
    from generator.build import build_site
    from generator.errors import ContentError

    if build:
        try:
            build_site(content, out)
        except ContentError as exc:
            for problem in exc.problems:
                print(problem)
            if not out.is_dir():
                print("内容有错误，且没有可用的旧网站，无法启动。", file=sys.stderr)
                return 1
            print("内容有错误，继续使用上次构建的网站。", file=sys.stderr)
    mismatch = served_elsewhere_warning(content, f"http://{host}:{port}/")
    if mismatch:
        print(mismatch, file=sys.stderr)
    app = create_app({"CONTENT_DIR": str(content), "SITE_DIR": str(out)})
    migrate.upgrade(database_url(app))
    print(f"网上党校已启动：http://{host}:{port}/  表单和编辑后台在 /app/  (Ctrl+C 停止)",
          file=sys.stderr)
    serve(host, port, out, app)
    return 0
