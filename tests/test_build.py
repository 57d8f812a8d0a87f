"""A full build of the sample content: every section, media, search and no foreign host."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

from generator.build import BuildResult

SECTION_PAGES = {
    "index.html": "流动党员网上党校",
    "news/index.html": "党建动态",
    "guides/index.html": "党务指南",
    "courses/index.html": "在线学习",
    "service/index.html": "信息服务",
    "showcase/index.html": "党员风采",
    "notices/index.html": "公告通知",
    "voices/index.html": "流动党员之声",
    "faq/index.html": "政策问答",
    "themes/index.html": "每周主题",
}
# Attributes through which a page makes the browser fetch something.
LOADING_ATTRS = {
    "script": ["src"], "link": ["href"], "img": ["src", "srcset"], "audio": ["src"],
    "video": ["src", "poster"], "source": ["src", "srcset"], "iframe": ["src"],
    "embed": ["src"], "object": ["data"], "track": ["src"],
}
FOREIGN = re.compile(r"^(https?:)?//", re.I)
CSS_URL = re.compile(r"""(?:url\(\s*['"]?|@import\s+['"])([^'")\s]+)""", re.I)
# How a script could load from elsewhere: a URL given to a loader call or a src.
JS_LOAD = re.compile(r"""(?:watchScript|watchLink|fetch|importScripts|\.src\s*=)\s*\(?\s*["'`](https?:)?//""")


class _Loads(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        wanted = LOADING_ATTRS.get(tag, [])
        for name, value in attrs:
            if name in wanted and value:
                self.urls.extend(v.strip().split(" ")[0] for v in value.split(","))
            if name == "style" and value:
                self.styles.append(value)
        self._in_style = tag == "style"

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.styles.append(data)


def _html(site: Path, page: str) -> str:
    return (site / page).read_text(encoding="utf-8")


def test_every_section_has_a_page(sample_site: BuildResult):
    for page, title in SECTION_PAGES.items():
        assert "<h1" in _html(sample_site.out, page) and title in _html(sample_site.out, page), page


def test_every_item_has_a_page(sample_site: BuildResult):
    site = sample_site.out
    lessons = list((site / "courses").glob("*/*.html"))
    assert len([p for p in lessons if p.name != "index.html"]) >= 12
    assert len(list((site / "faq").glob("*.html"))) >= 21
    for folder, least in (("guides", 5), ("news", 4), ("notices", 4), ("showcase", 3),
                          ("themes", 3), ("voices", 2)):
        assert len(list((site / folder).glob("*.html"))) >= least, folder


def test_html_is_chinese_and_loads_nothing_from_another_host(sample_site: BuildResult):
    site = sample_site.out
    pages = list(site.rglob("*.html"))
    assert len(pages) > 60
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert '<html lang="zh"' in text, page
        parser = _Loads()
        parser.feed(text)
        foreign = [u for u in parser.urls if FOREIGN.match(u)]
        foreign += [u for s in parser.styles for u in CSS_URL.findall(s) if FOREIGN.match(u)]
        assert foreign == [], f"{page}: {foreign}"
        assert "fonts.googleapis" not in text and "fonts.gstatic" not in text


def test_css_and_js_load_nothing_from_another_host(sample_site: BuildResult):
    site = sample_site.out
    for path in list(site.rglob("*.css")) + list(site.rglob("*.js")):
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".css":
            assert [u for u in CSS_URL.findall(text) if FOREIGN.match(u)] == [], path
        else:
            assert not JS_LOAD.search(text), f"{path}: {JS_LOAD.search(text)}"
        for host in ("googleapis", "gstatic", "unpkg.com", "jsdelivr", "cdnjs"):
            assert host not in text, f"{path} mentions {host}"


def test_lesson_page_shows_minutes_media_and_self_check(sample_site: BuildResult):
    html = _html(sample_site.out, "courses/party-spirit/identity.html")
    assert "约 8 分钟" in html
    assert re.search(r'<audio controls preload="none" src="../../media/identity-talk.mp3">',
                     html)
    assert "讲解录音" in html and "自测题" in html and "查看答案与解析" in html
    assert (sample_site.out / "media" / "identity-talk.mp3").stat().st_size > 10_000
    video = _html(sample_site.out, "courses/livelihood/before-leaving.html")
    assert re.search(r"<video [^>]*playsinline[^>]*webkit-playsinline[^>]*"
                     r'src="../../media/before-leaving.mp4"', video)


def test_faq_page_shows_basis_and_review_date(sample_site: BuildResult):
    html = _html(sample_site.out, "faq/card-rights.html")
    assert "依据" in html and "关于试行" in html
    assert "最近复核" in html and "2026年12月7日" in html


def test_expired_notice_is_listed_apart(sample_site: BuildResult):
    html = _html(sample_site.out, "notices/index.html")
    current, expired = html.split("已过期</h2>")
    assert "活动证》年审" in current and "秋季返乡" in expired


def test_search_index_holds_segmented_chinese(sample_site: BuildResult):
    index = json.loads((sample_site.out / "search" / "search_index.json").read_text("utf-8"))
    assert index["config"]["separator"] == r"[\s\u200b\-]"
    text = " ".join(doc["text"] + doc["title"] for doc in index["docs"])
    tokens = set(re.split(r"[\s\u200b\-]+", text))
    for word in ("组织关系", "流动党员", "党费", "活动证"):
        assert word in tokens, word
    locations = {doc["location"].split("#")[0] for doc in index["docs"]}
    assert "guides/activity-card.html" in locations and "faq/dues-by-mail.html" in locations


def test_navigation_is_pruned_and_phone_bar_present(sample_site: BuildResult):
    html = _html(sample_site.out, "faq/dues-by-mail.html")
    # navigation.prune: lessons of courses are not rendered into a FAQ page.
    assert "courses/party-spirit/identity.html" not in html
    assert 'class="dx-thumb-bar"' in html
    assert '<meta name="viewport" content="width=device-width,initial-scale=1">' in html
