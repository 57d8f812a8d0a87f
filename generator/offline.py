"""The offline copy: the whole site as one zip that works from a USB stick or a PC's disk
(file://), for 党员电教室 and members without a good connection.

The site is rendered and built as `dangxiao build` does, but into a temporary folder with
its own MkDocs configuration (the normal site and its rendered pages are not touched), then
made to work without a server and without any host:

- Links are relative and name their file (use_directory_urls is false for the site too);
  the few absolute ones (Material's 404 page) are made relative.
- Search: a page opened from file:// cannot fetch search_index.json, and browsers refuse
  `new Worker` there. Material's bundle, on file://, loads search/search_index.js as a
  script (`var __index = ...`), and its worker runs in a frame when window.IFrameWorker
  exists. Material's `offline` plugin writes that script and loads the frame shim
  (iframe-worker) from a public CDN; it would also write the index before the build
  enriches it (generator/search_terms.py). So the plugin is not used: the build writes
  the script from the enriched index and ships its own shim
  (site_src/offline/iframe-worker.js).
- The forms app (/app/...) needs a connection: every link into it becomes its text with
  the note 联网后可用 and the full online address (content/site.yaml `public_url`).
- Every page says when the copy was made and the online address (a banner, main.html).
- Audio and video are in the copy; without video (`--no-video`) each video is a note
  with the lesson's online address instead, and its file and poster are left out.
"""

from __future__ import annotations

import html
import json
import logging
import posixpath
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.parse import unquote

from mkdocs.commands.build import build as mkdocs_build

from generator.build import (
    DEFAULT_SITE_SRC,
    compact_search_index,
    load_search_words,
    localize_scripts,
    mkdocs_config,
)
from generator.checks import check, errors_only
from generator.errors import ContentError, Problem
from generator.events import beijing_today
from generator.media import read_media
from generator.render import cn_date, render
from generator.search_terms import jieba_lock, patch_search_worker, use_words

log = logging.getLogger(__name__)

OFFLINE_SRC = "offline"  # site_src/offline/: files only the offline copy has
SHIM = "assets/javascripts/iframe-worker.js"
OFFLINE_CSS = "assets/css/offline.css"
POLYFILL = "assets/vendor/resize-observer-polyfill.js"
# Files of the built site that mean nothing without a server.
LEAVE_OUT = re.compile(r"(^|/)\.|\.gz$|\.map$|^sitemap\.xml$|^search/search_index\.json$")
# Already compressed: stored as they are.
STORED = {".mp3", ".mp4", ".m4a", ".webm", ".ogg", ".ogv", ".jpg", ".jpeg", ".png", ".gif",
          ".webp", ".zip"}
ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # every entry the same time: the same site, the same zip

_APP_LINK = re.compile(r'<a\b[^>]*?\shref="/app((?:[/?#][^"]*)?)"[^>]*>(.*?)</a>', re.S)
_ABSOLUTE = re.compile(r'\b(href|src|poster)="/(?!/)([^"]*)"')
# The home page's search box asks the app; the copy searches with the header's instead.
_APP_SEARCH = re.compile(r'<form class="dx-home-search".*?</form>\s*', re.S)
_VIDEO = re.compile(r"<video\b[^>]*>.*?</video>", re.S)


LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def local_address_warning(online: str, *, offline: bool = True) -> str | None:
    """A warning when the site's online address is this machine (the sample's address):
    an offline copy's 联网后可用 links and banner, and a built site's calendars, feed and
    posters' QR codes, would send members nowhere."""
    from urllib.parse import urlsplit

    if not online or urlsplit(online).hostname not in LOCAL_HOSTS:
        return None
    if offline:
        return (f"注意：网站地址（site.yaml 的 public_url）还是本机地址 {online}，副本里"
                "“联网后可用”的链接和页首的网址会指向生成副本的这台电脑。送到电教室之前，"
                "请把 public_url 改成党员能打开的公开地址，再重新生成。")
    return (f"注意：网站地址（site.yaml 的 public_url）还是本机地址 {online}：日历文件、"
            "订阅（feed.xml）和主题海报的二维码会指向这台电脑，别人的手机打不开。"
            "正式上线前，请把 public_url 改成党员能打开的公开地址，再重新构建。")


@dataclass
class OfflineResult:
    out: Path
    size: int
    files: int
    warnings: list[Problem]


@dataclass
class OfflineSite:
    """A built offline site in folder, not yet packed."""
    folder: Path
    online: str  # the public address with a final /, or "" when site.yaml has none
    videos: set[str]  # site paths of the lessons' videos and their posters
    warnings: list[Problem]


def build_offline(content_dir: Path, out: Path, site_src: Path = DEFAULT_SITE_SRC,
                  today: date | None = None, video: bool = True) -> OfflineResult:
    """Check the content and write the offline copy as the zip out (replaced only when
    complete). On a content error nothing is written and ContentError is raised."""
    with tempfile.TemporaryDirectory(prefix="dangxiao-offline-") as tmp:
        built = build_offline_site(content_dir, Path(tmp), site_src, today)
        return pack(built, out, video)


def build_offline_site(content_dir: Path, work: Path, site_src: Path = DEFAULT_SITE_SRC,
                       today: date | None = None) -> OfflineSite:
    """Render and build the offline site into work/site (work/pages holds the Markdown),
    videos included. Raises ContentError on a content error."""
    content_dir = content_dir.resolve()
    content, problems = check(content_dir, today)
    if errors_only(problems):
        raise ContentError(errors_only(problems))
    assert content.site is not None
    made = today or beijing_today()
    online = (content.site.public_url or "").rstrip("/")
    online = online + "/" if online else ""
    pages, site = work / "pages", work / "site"
    posters = read_media(content, work / "media")
    rendered = render(content, pages, today, assets=site_src / "assets")
    config = mkdocs_config(site_src, pages, site, rendered.nav, content.site.title,
                           content.site.description)
    config["extra"]["offline"] = {"made": cn_date(made), "url": online}
    config["extra"]["polyfills"] = [POLYFILL, SHIM]
    config["extra_css"].append(OFFLINE_CSS)
    with jieba_lock():
        load_search_words(site_src)
        use_words(content.search.words if content.search else [])
        mkdocs_build(config)
        compact_search_index(site, content.search)
    for rel, poster in posters.items():
        shutil.copy2(poster, site / rel)
    localize_scripts(site)
    patch_search_worker(site, content.search)
    shutil.copy2(site_src / OFFLINE_SRC / "iframe-worker.js", site / SHIM)
    shutil.copy2(site_src / OFFLINE_SRC / "offline.css", site / OFFLINE_CSS)
    index = site / "search" / "search_index.json"
    if index.is_file():  # what Material's bundle loads on file://
        text = index.read_text(encoding="utf-8")
        (site / "search" / "search_index.js").write_text("var __index = " + text,
                                                          encoding="utf-8")
        drop_unused_lunr(site, json.loads(text).get("config", {}).get("lang", []))
    for page in site.rglob("*.html"):
        rel = page.relative_to(site).as_posix()
        page.write_text(offline_page(page.read_text(encoding="utf-8"), rel, online),
                        encoding="utf-8")
    return OfflineSite(site, online, _videos(content), [p for p in problems if p.warning])


def drop_unused_lunr(site: Path, langs: list[str]) -> None:
    """Remove the lunr language files Material's search worker will not load for langs
    (its own rule; with Chinese segmented at build time the index is "en": none of them).
    A fifth of the copy otherwise."""
    folder = site / "assets" / "javascripts" / "lunr"
    wanted = set()
    for lang in langs:
        if lang == "ja":
            wanted.add("tinyseg.js")
        elif lang in ("hi", "th"):
            wanted.add("wordcut.js")
        if lang != "en":
            wanted.add(f"min/lunr.{lang}.min.js")
    if len(langs) > 1:
        wanted.add("min/lunr.multi.min.js")
    if wanted:
        wanted.add("min/lunr.stemmer.support.min.js")
    for path in sorted(folder.rglob("*"), reverse=True):
        rel = path.relative_to(folder).as_posix()
        if path.is_file() and rel not in wanted:
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()


def pack(built: OfflineSite, out: Path, video: bool = True) -> OfflineResult:
    """Zip the built site into out. Without video, the videos are first taken out of the
    folder (their files, posters and players: a note stands in for each player)."""
    out = out.resolve()
    if not video:
        for page in built.folder.rglob("*.html"):
            rel = page.relative_to(built.folder).as_posix()
            text = page.read_text(encoding="utf-8")
            changed = without_video(text, rel, built.online, built.videos)
            if changed != text:
                page.write_text(changed, encoding="utf-8")
        for rel in built.videos:
            (built.folder / rel).unlink(missing_ok=True)
    files = write_zip(built.folder, out)
    return OfflineResult(out, out.stat().st_size, files, built.warnings)


def _videos(content) -> set[str]:
    """The site paths of every lesson video and its poster."""
    found = set()
    for course in content.of("courses"):
        for lesson in course.model.lessons:
            for media in lesson.media:
                if media.type == "video":
                    found.add(media.file)
                    found.add(media.poster or f"{media.file}.jpg")
    return found


def offline_page(text: str, rel: str, online: str) -> str:
    """One built page made to work from file://: links into the forms app become notes
    with the online address, absolute links relative; the <html> element carries the
    online address for page scripts (helper.js)."""
    folder = posixpath.dirname(rel)

    def app_note(match: re.Match[str]) -> str:
        path = html.unescape(match[1]).removeprefix("/")  # /app/ask -> ask, /app -> ""
        if not online:
            return (f'<span class="dx-offline-app">{match[2]}<span class="dx-offline-note">'
                    "（联网后可用）</span></span>")
        url = online + "app/" + path
        shown = online + "app/" + unquote(path.split("?")[0])
        return (f'<span class="dx-offline-app">{match[2]}<span class="dx-offline-note">'
                f'（联网后可用：<a href="{html.escape(url)}">{html.escape(shown)}</a>）'
                "</span></span>")

    def relative(match: re.Match[str]) -> str:
        target = match[2]
        path, sep, rest = target.partition("#")
        path, qsep, query = path.partition("?")
        if path == "" or path.endswith("/"):
            path += "index.html"
        link = posixpath.relpath(path, folder or ".")
        return f'{match[1]}="{link}{qsep}{query}{sep}{rest}"'

    text = _APP_SEARCH.sub("", text)
    text = _APP_LINK.sub(app_note, text)
    text = _ABSOLUTE.sub(relative, text)
    return text.replace("<html ", f'<html data-dx-online="{html.escape(online)}" ', 1)


def without_video(text: str, rel: str, online: str, videos: set[str]) -> str:
    """The page with each player of a left-out video replaced by a note."""
    folder = posixpath.dirname(rel)

    def note(match: re.Match[str]) -> str:
        src = re.search(r'\ssrc="([^"]*)"', match[0])
        if src is None:
            return match[0]
        target = posixpath.normpath(posixpath.join(folder, html.unescape(src[1])))
        if target not in videos:
            return match[0]
        where = ""
        if online:
            page = html.escape(online + rel)
            where = f'，联网后观看：<a href="{page}">{page}</a>'
        return f'<p class="dx-offline-video">这段视频没有收入本副本（离线副本较小）{where}</p>'

    return _VIDEO.sub(note, text)


def write_zip(site: Path, out: Path) -> int:
    """Zip site into out: entries in path order, one fixed time, so the same site gives
    the same bytes. Written beside out and renamed. Returns the number of files."""
    out.parent.mkdir(parents=True, exist_ok=True)
    paths = sorted((p for p in site.rglob("*") if p.is_file()
                    and not LEAVE_OUT.search(p.relative_to(site).as_posix())),
                   key=lambda p: p.relative_to(site).as_posix())
    tmp = out.with_name(f".{out.name}.tmp")
    with zipfile.ZipFile(tmp, "w") as archive:
        for path in paths:
            info = zipfile.ZipInfo(path.relative_to(site).as_posix(), ZIP_TIME)
            info.external_attr = 0o644 << 16
            if path.suffix.lower() in STORED:
                info.compress_type = zipfile.ZIP_STORED
            else:
                info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes(), compresslevel=9)
    tmp.replace(out)
    return len(paths)
