"""The embedded server: the built site on one port (the forms app joins under /app/)."""

from __future__ import annotations

import functools
import logging
import sys
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from generator.build import build_site
from generator.errors import ContentError

log = logging.getLogger(__name__)


class SiteHandler(SimpleHTTPRequestHandler):
    """Static files with the headers every page of the product carries."""

    def end_headers(self) -> None:
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "same-origin")
        super().end_headers()

    def send_error(self, code: int, message: str | None = None,
                   explain: str | None = None) -> None:
        """A missing page gets the site's own Chinese 404 page, not the stdlib's."""
        page = Path(str(self.directory)) / "404.html"
        if code != 404 or not page.is_file():
            super().send_error(code, message, explain)
            return
        body = page.read_bytes()
        self.send_response(404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        log.info("%s " + format, self.address_string(), *args)


def serve(host: str, port: int, content: Path, out: Path, build: bool = True) -> int:
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
    handler = functools.partial(SiteHandler, directory=str(out))
    with ThreadingHTTPServer((host, port), handler) as server:
        print(f"网上党校已启动：http://{host}:{port}/  (Ctrl+C 停止)", file=sys.stderr)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
    return 0
