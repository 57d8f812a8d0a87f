"""Publish to visible in seconds: rebuild only the pages whose Markdown changed.

A full build of 3,000 pages takes about 40 s; a Publish adds one article. The quick build
checks and renders the whole content as a full build does (generator/build.py `prepare`:
a content error stops it before anything is built), then gives MkDocs (`dirty`) a copy of
the live site in which exactly the pages to rebuild are missing:

- the copy is made of hard links (no bytes copied); every file MkDocs or this module will
  write is unlinked from it first, so the live site's files are never written to, and the
  copy replaces the site by the same two renames as a full build (`swap_in`);
- a page is rebuilt when its Markdown is newer than its HTML, MkDocs' own rule; that is
  the new article, its section's index, the home page when it lists it, the feed;
- the search: Material's index (search/search_index.json, for the offline copy's kind of
  search) gets the rebuilt pages' entries in place of their old ones, and the app's
  `.search.sqlite` is copied and has the same pages' rows replaced in one transaction:
  every other page and row stays as it was.

What it does not redo: the navigation of the pages it did not rebuild (their sidebars and
previous/next links do not show the new article yet). A full build afterwards puts that
right (forms_app/publish.py queues one in the background). Whenever the quick build
cannot be sure of its result it builds the whole site instead: no site yet, the site was
built with other templates, theme, settings or search words (`.build-stamp`), or a file
it had not unlinked was written.
"""

from __future__ import annotations

import gzip
import json
import logging
import os
import re
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from mkdocs.commands.build import build as mkdocs_build

from generator.build import (
    COMPRESSIBLE,
    CSP_FILE,
    DEFAULT_CONTENT,
    DEFAULT_OUT,
    DEFAULT_SITE_SRC,
    NGINX_CSP_FILE,
    PAGES_FILE,
    SITE_CSP,
    STAMP_FILE,
    BuildResult,
    _build_locked,
    build_lock,
    build_stamp,
    inline_script_hashes,
    load_search_words,
    localize_scripts,
    mkdocs_config,
    prepare,
    site_path,
    swap_in,
    write_pages_list,
)
from generator.output import MANIFEST
from generator.search_terms import (
    _entry_tokens,
    enrich_entry,
    enrich_index,
    jieba_lock,
    use_words,
)
from generator.site_search import INDEX_FILE, _connect, _insert, pages_of

log = logging.getLogger(__name__)
# Files MkDocs writes on every build, dirty or not.
ALWAYS_WRITTEN = ["404.html", "sitemap.xml", "sitemap.xml.gz", "search/search_index.json"]
_WORKER = re.compile(r"search\.[0-9a-f]{8}\.min\.js$")
_HASH = re.compile(r"'sha256-[A-Za-z0-9+/=]+'")


@dataclass
class QuickResult(BuildResult):
    quick: bool = True  # False: the whole site was built instead
    pages: tuple[str, ...] = ()  # the pages rebuilt (site paths)


def quick_build(content_dir: Path = DEFAULT_CONTENT, out: Path = DEFAULT_OUT,
                work: Path | None = None, site_src: Path = DEFAULT_SITE_SRC,
                today: date | None = None) -> QuickResult:
    """Rebuild the pages whose Markdown changed and swap the site in; the whole site when
    a quick build cannot be trusted. ContentError as build_site, nothing changed."""
    content_dir, out = content_dir.resolve(), out.resolve()
    with build_lock(out):
        if not _can_be_quick(out, site_src, content_dir):
            full = _build_locked(content_dir, out, work, site_src, today)
            return QuickResult(full.rendered, full.warnings, full.out, quick=False)
        ready = prepare(content_dir, out, work, site_src, today)
        try:
            pages = _quick_locked(ready, out, site_src, content_dir)
        except _NotQuick as exc:
            log.warning("quick build not possible (%s): building the whole site", exc)
            full = _build_locked(content_dir, out, work, site_src, today)
            return QuickResult(full.rendered, full.warnings, full.out, quick=False)
        warnings = [p for p in ready.problems if p.warning]
        return QuickResult(ready.rendered, warnings, out, pages=tuple(pages))


class _NotQuick(Exception):
    pass


def _can_be_quick(out: Path, site_src: Path, content_dir: Path) -> bool:
    try:
        stamp = (out / STAMP_FILE).read_text(encoding="utf-8").strip()
    except OSError:
        return False
    return (stamp == build_stamp(site_src, content_dir) and (out / INDEX_FILE).is_file()
            and (out / "search" / "search_index.json").is_file())


def _to_rebuild(work: Path, site: Path) -> tuple[list[str], list[str]]:
    """(files MkDocs will write, files of the site whose source is gone), by MkDocs' rule:
    a file is written when its output is missing or older than its source."""
    written, sources = [], set()
    for path in work.rglob("*"):
        rel = path.relative_to(work).as_posix()
        if not path.is_file() or rel == MANIFEST:
            continue
        target = site_path(rel)
        sources.add(target)
        try:
            if (site / target).stat().st_mtime >= path.stat().st_mtime:
                continue
        except OSError:
            pass
        written.append(target)
    gone = []
    manifest = site / PAGES_FILE
    if manifest.is_file():
        gone = [p for p in json.loads(manifest.read_text(encoding="utf-8"))
                if p not in sources]
    return written, gone


def _link_tree(source: Path, target: Path) -> None:
    """target as a tree of hard links to source's files."""
    shutil.copytree(source, target, copy_function=os.link, symlinks=True)


def _quick_locked(ready, out: Path, site_src: Path, content_dir: Path) -> list[str]:
    content, rendered, work = ready.content, ready.rendered, ready.work
    written, gone = _to_rebuild(work, out)
    if not written and not gone:
        return []
    staging = out.with_name(f".{out.name}.quick-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    start = time.time()
    try:
        _link_tree(out, staging)
        old_index = json.loads((out / "search" / "search_index.json").read_text("utf-8"))
        for rel in [*written, *gone, *ALWAYS_WRITTEN, CSP_FILE, NGINX_CSP_FILE,
                    INDEX_FILE, STAMP_FILE, PAGES_FILE]:
            for name in (rel, rel + ".gz"):
                (staging / name).unlink(missing_ok=True)
        config = mkdocs_config(site_src, work, staging, rendered.nav, content.site.title,
                               content.site.description)
        with jieba_lock(), _no_dirty_warning():
            load_search_words(site_src)
            use_words(content.search.words if content.search else [])
            mkdocs_build(config, dirty=True)
            new_index = enrich_index(json.loads(
                (staging / "search" / "search_index.json").read_text("utf-8")),
                content.search)
        fresh = _fresh_files(staging, start)
        pages = [p for p in written if p.endswith(".html")]
        _one_worker(staging, fresh)
        localize_scripts_in(staging, fresh)
        for rel, poster in ready.posters.items():
            target = staging / rel
            if not target.is_file() or target.stat().st_size != poster.stat().st_size:
                target.unlink(missing_ok=True)
                shutil.copy2(poster, target)
        changed = set(pages) | set(gone)
        merged = _merge_index(old_index, new_index, changed, content.search)
        (staging / "search" / "search_index.json").write_text(
            json.dumps(merged, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
        _update_rows(out / INDEX_FILE, staging / INDEX_FILE, new_index, changed)
        _write_csp(out, staging, [staging / p for p in pages] +
                   [staging / "404.html"])
        write_pages_list(staging, work)
        (staging / STAMP_FILE).write_text(build_stamp(site_src, content_dir) + "\n",
                                          encoding="utf-8")
        _precompress(staging, _fresh_files(staging, start))
        _refuse_shared_writes(staging, start)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    swap_in(staging, out)
    log.info("quick build: %d pages rebuilt, %d removed", len(pages), len(gone))
    return pages


class _DirtyWarning(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "'dirty' build" not in record.getMessage()


@contextmanager
def _no_dirty_warning() -> Iterator[None]:
    """MkDocs warns that a dirty build leaves navigation stale: known, and put right by
    the full build after a publish."""
    logger, quiet = logging.getLogger("mkdocs.commands.build"), _DirtyWarning()
    logger.addFilter(quiet)
    try:
        yield
    finally:
        logger.removeFilter(quiet)


def _fresh_files(site: Path, since: float) -> list[Path]:
    """Files written since `since`: not shared with the live site (one link)."""
    fresh = []
    for path in site.rglob("*"):
        if path.is_file():
            st = path.stat()
            if st.st_nlink == 1 and st.st_mtime >= since - 1:
                fresh.append(path)
    return fresh


def _refuse_shared_writes(site: Path, since: float) -> None:
    """A file still shared with the live site but written during this build would mean
    the live site was written to: stop, and let a whole build replace it."""
    for path in site.rglob("*"):
        if path.is_file():
            st = path.stat()
            if st.st_nlink > 1 and st.st_mtime > since + 0.5:
                raise _NotQuick(f"{path.relative_to(site)} was written in place")


def _one_worker(site: Path, fresh: list[Path]) -> None:
    """MkDocs copied Material's search worker again (the site holds the patched one under
    another name): drop the copy and point the rebuilt pages at the patched worker."""
    workers = site / "assets" / "javascripts" / "workers"
    copied = [p for p in fresh if p.parent == workers and _WORKER.search(p.name)]
    kept = [p for p in workers.glob("search.*.min.js")
            if _WORKER.search(p.name) and p not in copied]
    if not copied or len(kept) != 1:
        return
    for old in copied:
        before, after = f"workers/{old.name}", f"workers/{kept[0].name}"
        old.unlink()
        for page in fresh:
            if page.suffix == ".html":
                text = page.read_text(encoding="utf-8")
                if before in text:
                    page.write_text(text.replace(before, after), encoding="utf-8")


def localize_scripts_in(site: Path, fresh: list[Path]) -> None:
    scripts = site / "assets" / "javascripts"
    if any(p.suffix == ".js" and scripts in p.parents for p in fresh):
        localize_scripts(site)  # rewrites only files that still name a CDN: fresh ones


def _location(entry: dict) -> str:
    return entry.get("location", "").partition("#")[0]


def _merge_index(old: dict, new: dict, changed: set[str], terms) -> dict:
    """Material's whole index: the old entries of every page not rebuilt, the new ones
    of the pages rebuilt (their hidden fields made against the whole index's words)."""
    kept = [e for e in old.get("docs", []) if _page_of(_location(e)) not in changed]
    docs = [e for e in new.get("docs", []) if _page_of(_location(e)) in changed]
    keys = {t for e in kept + docs for tokens in _entry_tokens(e) for t in tokens}
    cache: dict[str, list[str]] = {}
    with jieba_lock():
        for entry in docs:
            enrich_entry(entry, terms, keys, cache) if terms else None
    return {**old, "docs": kept + docs}


def _page_of(location: str) -> str:
    """A search location ('' for the home page, 'faq/x.html') as the site's file."""
    return location or "index.html"


def _update_rows(live: Path, target: Path, new: dict, changed: set[str]) -> None:
    """The app's index: the live one copied, the rebuilt pages' rows replaced (removed
    pages' rows deleted) in one transaction."""
    shutil.copyfile(live, target)
    rows = [r for r in pages_of(new) if _page_of(r["path"]) in changed]
    db = _connect(target)
    try:
        with db:
            for page in changed:
                db.execute("DELETE FROM pages WHERE path IN (?, ?)",
                           (page, "" if page == "index.html" else page))
            _insert(db, rows)
    finally:
        db.close()


def _write_csp(live: Path, site: Path, pages: list[Path]) -> None:
    """The live policy's script hashes and those of the rebuilt pages."""
    try:
        old = set(_HASH.findall((live / CSP_FILE).read_text(encoding="utf-8")))
    except OSError:
        old = set()
    hashes = inline_script_hashes(site, [p for p in pages if p.is_file()])
    policy = SITE_CSP.format(hashes="".join(" " + h for h in sorted(old | hashes)))
    (site / CSP_FILE).write_text(policy + "\n", encoding="utf-8")
    (site / NGINX_CSP_FILE).write_text(
        "# Written by `dangxiao build` from the inline scripts of this build.\n"
        f'add_header Content-Security-Policy "{policy}" always;\n', encoding="utf-8")


def _precompress(site: Path, files: list[Path], min_size: int = 512) -> None:
    """The .gz twin of each file written now (a new file: never the live site's)."""
    for path in files:
        if path.suffix in COMPRESSIBLE and not path.name.startswith(".") and \
                path.stat().st_size >= min_size:
            twin = path.with_name(path.name + ".gz")
            twin.unlink(missing_ok=True)
            data = path.read_bytes()
            # Material's whole index is megabytes at 3,000 pages: level 9 costs seconds
            # there for a few per cent; the full build after a publish writes it at 9.
            level = 9 if len(data) < 1 << 20 else 6
            twin.write_bytes(gzip.compress(data, compresslevel=level, mtime=0))
