"""Site search served by the app: GET /app/search?q=WORDS, a small page of results.

The index is the one the build writes into the site (site/.search.sqlite,
generator/site_search.py); it is opened read-only and opened again when a rebuild or a
publish replaces it. The page works without JavaScript: the site's search box is a plain
form that sends here, and a shared link /?q=WORDS is sent here too (forms_app/combined.py,
deploy/nginx.conf, site_src/overrides/main.html).
"""

from __future__ import annotations

import threading
from pathlib import Path

from flask import Blueprint, current_app, render_template, request

from generator.build import DEFAULT_OUT
from generator.site_search import INDEX_FILE, MAX_QUERY, PAGE_SIZE, Found, Index

bp = Blueprint("search", __name__, url_prefix="/app")
MAX_PAGE = 20  # result pages offered: 200 results is more than anyone reads


class Indexes:
    """The open index of one site folder, reopened when its file changes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: tuple[tuple[int, int, int], Index] | None = None

    def get(self, site: Path) -> Index | None:
        path = site / INDEX_FILE
        try:
            st = path.stat()
        except OSError:
            return None
        key = (st.st_ino, st.st_mtime_ns, st.st_size)
        with self._lock:
            if self._open is None or self._open[0] != key:
                # The old connection is left to the garbage collector: a request in
                # another thread may still be reading from it.
                self._open = (key, Index(path))
            return self._open[1]


_indexes = Indexes()


def site_dir() -> Path:
    return Path(current_app.config.get("SITE_DIR") or DEFAULT_OUT)


@bp.get("/search")
def results():
    query = " ".join(request.args.get("q", "").split())[:MAX_QUERY]
    page = request.args.get("page", "1")
    page = min(MAX_PAGE, max(1, int(page))) if page.isdigit() else 1
    index = _indexes.get(site_dir())
    found: Found | None = None
    if query and index is not None:
        found = index.search(query, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    status = 503 if query and index is None else 200
    return render_template("search/results.html", query=query, found=found, page=page,
                           pages=min(MAX_PAGE, -(-found.total // PAGE_SIZE)) if found else 0,
                           missing=index is None), status
