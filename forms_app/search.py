"""Site search served by the app: GET /app/search?q=WORDS, a small page of results.

The index is the one the build writes into the site (site/.search.sqlite,
generator/site_search.py); it is opened read-only and opened again when a rebuild or a
publish replaces it. The page works without JavaScript: the site's search box is a plain
form that sends here, and a shared link /?q=WORDS is sent here too (forms_app/combined.py,
deploy/nginx.conf, site_src/overrides/main.html).
"""

from __future__ import annotations

import logging
import re
import threading
from datetime import date, timedelta
from pathlib import Path

from flask import Blueprint, current_app, render_template, request
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from forms_app import db
from forms_app.duties.dates import cn_date
from forms_app.editor import editor_required
from forms_app.models import SearchMiss, utcnow
from forms_app.working_days import beijing
from generator.build import DEFAULT_OUT
from generator.site_search import INDEX_FILE, MAX_QUERY, PAGE_SIZE, Found, Index

log = logging.getLogger(__name__)
bp = Blueprint("search", __name__, url_prefix="/app")
MAX_PAGE = 20  # result pages offered: 200 results is more than anyone reads
SEARCH_MISS_DAYS = 90  # how long a search that found nothing is kept
MISSES_SHOWN = 200
# Words that may be someone's phone number, ID card number, tracking code or e-mail are
# not kept: the list is for what members ask about, not who they are.
_PERSONAL = re.compile(r"\d{6,}|@|[A-Za-z0-9]{8,}")


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
    if found is not None and found.total == 0 and page == 1:
        record_miss(query)
    status = 503 if query and index is None else 200
    return render_template("search/results.html", query=query, found=found, page=page,
                           pages=min(MAX_PAGE, -(-found.total // PAGE_SIZE)) if found else 0,
                           missing=index is None), status


# -- searches that found nothing, for the editors ------------------------------------------

def today() -> date:
    return beijing(utcnow()).date()


def record_miss(query: str) -> None:
    """Count a search that found nothing: its words and the day only. A failure here never
    costs the member their (empty) results page."""
    if not query or _PERSONAL.search(query):
        return
    s = db.session()
    day = today()
    bump = update(SearchMiss).where(SearchMiss.query == query, SearchMiss.day == day).values(
        count=SearchMiss.count + 1).execution_options(synchronize_session=False)
    try:
        if not s.execute(bump).rowcount:
            try:
                with s.begin_nested():
                    s.add(SearchMiss(query=query, day=day, count=1))
            except IntegrityError:  # another request added the row a moment ago
                s.execute(bump)
        s.commit()
    except SQLAlchemyError as exc:
        s.rollback()
        log.warning("search miss not recorded: %s", exc)


def purge_misses(session: Session) -> int:
    """Forget searches that found nothing more than SEARCH_MISS_DAYS days ago."""
    cutoff = today() - timedelta(days=SEARCH_MISS_DAYS)
    return session.execute(delete(SearchMiss).where(SearchMiss.day < cutoff).execution_options(
        synchronize_session=False)).rowcount or 0


@bp.get("/editor/search")
@editor_required
def misses():
    """What members searched for and found nothing, most asked first."""
    since = today() - timedelta(days=SEARCH_MISS_DAYS)
    total = func.sum(SearchMiss.count)
    rows = db.session().execute(
        select(SearchMiss.query, total.label("times"), func.max(SearchMiss.day).label("last"))
        .where(SearchMiss.day >= since).group_by(SearchMiss.query)
        .order_by(total.desc(), func.max(SearchMiss.day).desc(), SearchMiss.query)
        .limit(MISSES_SHOWN)).all()
    return render_template("editor/search_misses.html", rows=rows, days=SEARCH_MISS_DAYS,
                           limit=MISSES_SHOWN, cn_date=cn_date)
