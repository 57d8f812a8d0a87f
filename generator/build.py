"""Check, render and build the static site with MkDocs, swapping it in only when whole."""

from __future__ import annotations

import base64
import fcntl
import gzip
import hashlib
import json
import logging
import os
import re
import shutil
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import jieba
import material
import mkdocs
from mkdocs.commands.build import build as mkdocs_build
from mkdocs.config import load_config

from generator.checks import check, errors_only
from generator.errors import ContentError, Problem
from generator.feed import FEED_PATH
from generator.loader import Content
from generator.media import read_media
from generator.models.search import SearchTerms
from generator.output import MANIFEST
from generator.render import RenderResult, render, week_range
from generator.search_terms import enrich_index, jieba_lock, patch_search_worker, use_words
from generator.share import make_posters
from generator.site_search import write_index

log = logging.getLogger(__name__)
# jieba logs its dictionary loading at DEBUG through a handler of its own.
jieba.setLogLevel(logging.WARNING)
_loaded_dicts: set[Path] = set()


def load_search_words(site_src: Path) -> None:
    """Teach jieba the party-affairs terms, so search keeps 流动党员 as one word.

    The search plugin segments with the global jieba; its own jieba_dict_user option
    resolves paths against the working folder, so the dictionary is loaded here.
    """
    path = (site_src / "jieba_userdict.txt").resolve()
    if path.is_file() and path not in _loaded_dicts:
        with path.open("rb") as words:  # jieba leaves a file it opened itself unclosed
            jieba.load_userdict(words)
        _loaded_dicts.add(path)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONTENT = PROJECT_ROOT / "content"
DEFAULT_SITE_SRC = PROJECT_ROOT / "site_src"
DEFAULT_OUT = PROJECT_ROOT / "site"


@dataclass
class BuildResult:
    rendered: RenderResult
    warnings: list[Problem]
    out: Path


def mkdocs_config(site_src: Path, docs: Path, site_dir: Path, nav: list, site_name: str,
                  site_description: str):
    config = load_config(str(site_src / "mkdocs.yml"), docs_dir=str(docs),
                         site_dir=str(site_dir), nav=nav, site_name=site_name,
                         site_description=site_description)
    # main.html links the Atom feed from every page's head when the render wrote one.
    config["extra"]["feed"] = (docs / FEED_PATH).is_file()
    return config


def build_site(content_dir: Path = DEFAULT_CONTENT, out: Path = DEFAULT_OUT,
               work: Path | None = None, site_src: Path = DEFAULT_SITE_SRC,
               today: date | None = None) -> BuildResult:
    """Validate, render into work (the MkDocs docs folder) and build into out.

    On a content error nothing is rendered or built and ContentError is raised. MkDocs
    writes into a fresh folder beside out, which replaces out only once it is complete,
    so a failed build leaves the previous site as it was.
    """
    content_dir, out = content_dir.resolve(), out.resolve()
    with build_lock(out):
        return _build_locked(content_dir, out, work, site_src, today)


@contextmanager
def build_lock(out: Path) -> Iterator[None]:
    """One build of an output at a time (a publish may start one while an editor runs
    another): they share the rendered pages and the swap."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out.with_name(f".{out.name}.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


@dataclass
class Prepared:
    content: Content
    problems: list[Problem]
    posters: dict[str, Path]
    rendered: RenderResult
    work: Path


def prepare(content_dir: Path, out: Path, work: Path | None, site_src: Path,
            today: date | None) -> Prepared:
    """Check the content (ContentError on an error: nothing rendered), read the media and
    render the Markdown into work: the first half of every build."""
    # The rendered Markdown lives beside the site it builds, so each output has its own.
    work = (work or out.with_name(f".{out.name}.pages")).resolve()
    content, problems = check(content_dir, today)
    if errors_only(problems):
        raise ContentError(errors_only(problems))
    assert content.site is not None
    posters = read_media(content, out.with_name(f".{out.name}.media"))
    posters |= make_posters(content, out.with_name(f".{out.name}.share"), week_range)
    rendered = render(content, work, today, assets=site_src / "assets")
    log.info("rendered %d pages (%d written, %d removed)", len(rendered.written) +
             rendered.unchanged, len(rendered.written), len(rendered.removed))
    return Prepared(content, problems, posters, rendered, work)


def _build_locked(content_dir: Path, out: Path, work: Path | None, site_src: Path,
                  today: date | None) -> BuildResult:
    ready = prepare(content_dir, out, work, site_src, today)
    content, problems, posters, rendered = (ready.content, ready.problems, ready.posters,
                                            ready.rendered)
    work = ready.work
    staging = out.with_name(f".{out.name}.building-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        config = mkdocs_config(site_src, work, staging, rendered.nav, content.site.title,
                               content.site.description)
        # jieba's dictionary is global: hold it while this build sets and uses it.
        with jieba_lock():
            load_search_words(site_src)
            use_words(content.search.words if content.search else [])
            mkdocs_build(config)
            compact_search_index(staging, content.search)
        # The app's search (generator/site_search.py) from the same index, in the site.
        write_index(staging, content.search.ignore if content.search else [])
        for rel, poster in posters.items():
            shutil.copy2(poster, staging / rel)
        localize_scripts(staging)
        patch_search_worker(staging, content.search)
        write_csp(staging)
        precompress(staging)
        write_stamp(staging, site_src, content_dir)
        write_pages_list(staging, work)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    swap_in(staging, out)
    return BuildResult(rendered, [p for p in problems if p.warning], out)


# Material's bundle fetches a few scripts on demand from the public npm CDN: the
# ResizeObserver polyfill on old WebViews, Mermaid for diagrams. Nothing may load from
# another host in mainland China, so every such URL is pointed into the site: the
# polyfill is vendored in site_src/assets/vendor/; anything else is not offered.
CDN_URL = re.compile(r"https://unpkg\.com/([^\"'`\s)]+)")
VENDORED = {"resize-observer-polyfill": "/assets/vendor/resize-observer-polyfill.js"}


def _local(match: re.Match[str]) -> str:
    return VENDORED.get(match[1], "/assets/vendor/not-offered.js")


def localize_scripts(site: Path) -> None:
    """Point the theme's on-demand script URLs at this site instead of a CDN."""
    for path in (site / "assets" / "javascripts").rglob("*.js"):
        text = path.read_text(encoding="utf-8")
        changed = CDN_URL.sub(_local, text)
        if changed != text:
            path.write_text(changed, encoding="utf-8")


def compact_search_index(site: Path, terms: SearchTerms | None = None) -> None:
    """Add the hidden search fields (generator/search_terms.py) and write the index as
    UTF-8 instead of \\uXXXX escapes: half the bytes raw."""
    index = site / "search" / "search_index.json"
    if index.is_file():
        data = enrich_index(json.loads(index.read_text(encoding="utf-8")), terms)
        index.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")),
                         encoding="utf-8")


# The static site's Content-Security-Policy. Material's base.html and our main.html have
# inline scripts; instead of 'unsafe-inline' the policy lists the sha256 of each one the
# build wrote (Material's depend on the page's folder depth, so there are a few). No inline
# styles are needed: Material sets styles through the DOM, which CSP allows.
SITE_CSP = ("default-src 'self'; script-src 'self'{hashes}; style-src 'self'; "
            "img-src 'self' data:; media-src 'self'; object-src 'none'; base-uri 'self'; "
            "form-action 'self'; frame-ancestors 'none'")
CSP_FILE = ".csp"  # read by `dangxiao serve` (forms_app/combined.py); a dotfile, never served
NGINX_CSP_FILE = ".nginx-csp.conf"  # included by deploy/nginx.conf in every location
_SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script\s*>", re.S | re.I)
_ATTRIBUTE = re.compile(r"""([^\s"'>/=]+)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s"'=<>`]+))?""")
# The HTML standard's JavaScript MIME types: a script of any other type is data, not run.
_JS_TYPES = {"module", "application/ecmascript", "application/javascript",
             "application/x-ecmascript", "application/x-javascript", "text/ecmascript",
             "text/javascript", "text/javascript1.0", "text/javascript1.1",
             "text/javascript1.2", "text/javascript1.3", "text/javascript1.4",
             "text/javascript1.5", "text/jscript", "text/livescript", "text/x-ecmascript",
             "text/x-javascript"}


def _runs_as_script(attributes: str) -> bool:
    attrs = {m[1].lower(): (m[2] or "").strip("\"'") for m in _ATTRIBUTE.finditer(attributes)}
    if "src" in attrs:
        return False
    kind = attrs.get("type")
    if kind is None and attrs.get("language"):
        kind = "text/" + attrs["language"]
    return not (kind or "").strip() or kind.strip().lower() in _JS_TYPES


def inline_script_hashes(site: Path, pages: Iterable[Path] | None = None) -> set[str]:
    """CSP sources ('sha256-...') of every inline JavaScript in the site's HTML files
    (or in these pages of it)."""
    hashes = set()
    for page in site.rglob("*.html") if pages is None else pages:
        for match in _SCRIPT.finditer(page.read_text(encoding="utf-8")):
            if _runs_as_script(match[1]):
                # A browser hashes the text as parsed: line breaks normalised to \n.
                text = match[2].replace("\r\n", "\n").replace("\r", "\n")
                digest = hashlib.sha256(text.encode("utf-8")).digest()
                hashes.add(f"'sha256-{base64.b64encode(digest).decode('ascii')}'")
    return hashes


def write_csp(site: Path) -> str:
    """Write the site's policy to site/.csp and, as nginx add_header, to site/.nginx-csp.conf.
    Returns the policy."""
    hashes = "".join(" " + h for h in sorted(inline_script_hashes(site)))
    policy = SITE_CSP.format(hashes=hashes)
    (site / CSP_FILE).write_text(policy + "\n", encoding="utf-8")
    (site / NGINX_CSP_FILE).write_text(
        "# Written by `dangxiao build` from the inline scripts of this build.\n"
        f'add_header Content-Security-Policy "{policy}" always;\n', encoding="utf-8")
    return policy


COMPRESSIBLE = {".html", ".css", ".js", ".json", ".svg", ".xml", ".txt", ".ics"}


def precompress(site: Path, min_size: int = 512) -> int:
    """Write a .gz twin beside every text file worth compressing, for `dangxiao serve` and
    nginx's gzip_static: a member on a prepaid plan gets a fifth of the bytes. Returns the
    number of files written."""
    written = 0
    for path in site.rglob("*"):
        if path.suffix in COMPRESSIBLE and path.is_file() and path.stat().st_size >= min_size:
            data = path.read_bytes()
            # mtime=0: the same page gives the same bytes, so ETags survive a rebuild.
            path.with_name(path.name + ".gz").write_bytes(
                gzip.compress(data, compresslevel=9, mtime=0))
            written += 1
    return written


STAMP_FILE = ".build-stamp"  # what every page's HTML depends on besides its Markdown


def build_stamp(site_src: Path, content_dir: Path) -> str:
    """What a site's every page depends on besides its own Markdown: the templates, theme
    and build code, the site's settings and search words. A quick build
    (generator/quick_build.py) may only rebuild pages of a site built with the same."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(f"{mkdocs.__version__}\0{material.__version__}\n".encode())
    settings = [content_dir / "site.yaml", content_dir / "search.yaml"]
    for folder in (site_src, Path(__file__).resolve().parent, *settings):
        for path in sorted(folder.rglob("*")) if folder.is_dir() else [folder]:
            if path.is_file() and "__pycache__" not in path.parts:
                stat = path.stat()
                name = path.relative_to(folder.parent).as_posix()
                digest.update(f"{name}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def write_stamp(site: Path, site_src: Path, content_dir: Path) -> None:
    (site / STAMP_FILE).write_text(build_stamp(site_src, content_dir) + "\n",
                                   encoding="utf-8")


PAGES_FILE = ".pages.json"


def write_pages_list(site: Path, work: Path) -> None:
    """The site's files made from the docs folder, so that a quick build knows which to
    delete when their source is gone."""
    files = sorted(site_path(p.relative_to(work).as_posix()) for p in work.rglob("*")
                   if p.is_file() and p.name != MANIFEST)
    (site / PAGES_FILE).write_text(json.dumps(files, ensure_ascii=False), encoding="utf-8")


def site_path(rel: str) -> str:
    """docs/voices/x.md is the site's voices/x.html (use_directory_urls: false)."""
    return rel[:-3] + ".html" if rel.endswith(".md") else rel


def swap_in(new: Path, out: Path) -> None:
    """Replace out with new: two renames, so out is missing only for an instant."""
    old = out.with_name(f".{out.name}.old-{os.getpid()}")
    if out.exists():
        out.rename(old)
    new.rename(out)
    shutil.rmtree(old, ignore_errors=True)
