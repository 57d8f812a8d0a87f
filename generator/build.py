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
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from pathlib import Path

import jieba
from mkdocs.commands.build import build as mkdocs_build
from mkdocs.config import load_config

from generator.checks import check, errors_only, media_length
from generator.errors import ContentError, Problem
from generator.feed import FEED_PATH
from generator.loader import Content
from generator.models.common import MediaFacts
from generator.models.search import SearchTerms
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
    out.parent.mkdir(parents=True, exist_ok=True)
    # One build of an output at a time (a publish may start one while an editor runs
    # another): they share the rendered pages and the swap.
    with open(out.with_name(f".{out.name}.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _build_locked(content_dir, out, work, site_src, today)


def _build_locked(content_dir: Path, out: Path, work: Path | None, site_src: Path,
                  today: date | None) -> BuildResult:
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
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    swap_in(staging, out)
    return BuildResult(rendered, [p for p in problems if p.warning], out)


# -- media: lengths and posters read from the files themselves ---------------------------
POSTER_WIDTH = 640  # the widest poster made: a 360-px phone screen at twice its pixels
_DARK = 24  # mean brightness (0-255) under which a first frame is taken for a fade-in


def read_media(content: Content, cache: Path) -> dict[str, Path]:
    """Give every audio and video of the lessons what its file says: its length and, for a
    video, the shape it is shown in and a poster made from the film (unless the editor gave
    one). Posters are kept in cache, named by the film's size and time, and made again only
    when the film changes. Returns the posters to put into the site, by their path there.
    A file that cannot be read gets no facts: its caption keeps the editor's duration and
    the video a neutral box (`dangxiao check` warns about it)."""
    posters: dict[str, Path] = {}
    for course in content.of("courses"):
        for lesson in course.model.lessons:
            for media in lesson.media:
                path = content.root / media.file
                if media.type == "image" or not path.is_file():
                    continue
                seconds = media_length(path)
                if media.type == "audio" or seconds is None:
                    media.read(MediaFacts(seconds=seconds))
                    continue
                rel = f"{media.file}.jpg"  # media/clip.mp4 -> media/clip.mp4.jpg
                wanted = not media.poster and not (content.root / rel).exists()
                shape, made = _video_shape_and_poster(path, cache if wanted else None)
                if made is not None:
                    posters[rel] = made
                width, height = shape or (None, None)
                media.read(MediaFacts(seconds=seconds, width=width, height=height,
                                      poster=rel if made is not None else None))
    if cache.is_dir():
        for old in cache.iterdir():
            if old not in posters.values():
                old.unlink()
    return posters


def _video_shape_and_poster(path: Path, cache: Path | None
                            ) -> tuple[tuple[int, int] | None, Path | None]:
    """The size a video is shown at (rotation and pixel shape applied) and, when cache is
    given, its poster there (made now or earlier). (None, None) if it cannot be decoded."""
    import av  # FFmpeg's libraries, loaded only by a build that has a video

    stat = path.stat()
    key = hashlib.blake2b(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}".encode(),
                          digest_size=10).hexdigest()
    if cache is not None:
        for made in cache.glob(f"{key}-*.jpg"):  # the shape is kept in the name
            width, _, height = made.stem.split("-")[1].partition("x")
            return (int(width), int(height)), made
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                return None, None
            stream = container.streams.video[0]
            frame = _poster_frame(container, stream)
            if frame is None:
                return None, None
            aspect = stream.sample_aspect_ratio or 1
            turn = round(getattr(frame, "rotation", 0) or 0) % 360
            width = max(1, round(frame.width * aspect))
            shape = (frame.height, width) if turn in (90, 270) else (width, frame.height)
            if cache is None:
                return shape, None
            data = _jpeg(frame, width, turn, min(1.0, POSTER_WIDTH / shape[0]))
    except (av.FFmpegError, OSError, ValueError):
        return None, None
    cache.mkdir(parents=True, exist_ok=True)
    made = cache / f"{key}-{shape[0]}x{shape[1]}.jpg"
    tmp = made.with_suffix(".tmp")
    tmp.write_bytes(data)
    tmp.replace(made)
    return shape, made


def _poster_frame(container, stream):
    """The first frame or, if it is dark (a fade-in), the first bright one of the first
    1.5 seconds."""
    first = None
    for frame in container.decode(stream):
        if first is None:
            first = frame
        luma = bytes(frame.planes[0])[::97]
        if sum(luma) / max(1, len(luma)) >= _DARK:
            return frame
        if frame.time is not None and frame.time >= 1.5:
            break
    return first


# The display matrix turns the picture counter-clockwise by this many degrees.
_TURNS = {90: ["transpose=cclock"], 180: ["hflip", "vflip"], 270: ["transpose=clock"]}


def _jpeg(frame, width: int, turn: int, scale: float) -> bytes:
    """The frame as a JPEG in the shape it is shown in, at most POSTER_WIDTH wide."""
    import av

    def even(n: int) -> int:
        return max(2, int(n * scale) // 2 * 2)

    image = frame.reformat(width=even(width), height=even(frame.height), format="yuvj420p")
    if turn in _TURNS:
        graph = av.filter.Graph()
        last = graph.add_buffer(width=image.width, height=image.height, format="yuvj420p",
                                time_base=Fraction(1, 25))
        for step in _TURNS[turn]:
            name, _, args = step.partition("=")
            node = graph.add(name, args or None)
            last.link_to(node)
            last = node
        last.link_to(graph.add("buffersink"))
        graph.configure()
        image.pts = 0
        graph.push(image)
        image = graph.pull()
    encoder = av.CodecContext.create("mjpeg", "w")
    encoder.width, encoder.height = image.width, image.height
    encoder.pix_fmt = "yuvj420p"
    encoder.time_base = Fraction(1, 25)
    encoder.options = {"qmin": "2", "qmax": "8"}
    packets = [*encoder.encode(image), *encoder.encode(None)]
    return b"".join(bytes(packet) for packet in packets)


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


def inline_script_hashes(site: Path) -> set[str]:
    """CSP sources ('sha256-...') of every inline JavaScript in the site's HTML files."""
    hashes = set()
    for page in site.rglob("*.html"):
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


def swap_in(new: Path, out: Path) -> None:
    """Replace out with new: two renames, so out is missing only for an instant."""
    old = out.with_name(f".{out.name}.old-{os.getpid()}")
    if out.exists():
        out.rename(old)
    new.rename(out)
    shutil.rmtree(old, ignore_errors=True)
