"""Defects found by the first tour of the site, each held by what a member sees: the built
HTML, or the page in Debian's Chromium at the size of a phone (360 × 740)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

from generator.build import DEFAULT_CONTENT, DEFAULT_SITE_SRC, BuildResult, build_site
from tests.conftest import PHONE, make_course, make_lesson, make_theme, write_yaml

TEMPLATES = Path(__file__).resolve().parent.parent / "generator" / "templates"
HELPER = "/guides/departure-helper.html"
VIDEO = DEFAULT_CONTENT / "media" / "before-leaving.mp4"


# -- reading a page as a person does ---------------------------------------------------------
_HIDDEN = {"script", "style", "template", "svg", "code", "pre", "kbd", "samp"}
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
         "track", "wbr"}
_BLOCK = {"p", "li", "div", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6", "figcaption",
          "dt", "dd", "summary", "label", "legend", "button", "tr", "section", "nav", "header",
          "footer", "article", "ul", "ol", "table", "details", "figure", "blockquote"}


class _Text(HTMLParser):
    """The text of a page as it is read, one block a line; scripts, styles and code left
    out (code may hold ASCII punctuation on purpose)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _VOID:
            self.parts.append("\n" if tag == "br" else " ")
            return
        self.open.append(tag)
        if tag in _BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID or tag not in self.open:
            return
        while self.open.pop() != tag:
            pass
        if tag in _BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not _HIDDEN.intersection(self.open):
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    lines = (re.sub(r"[ \t\r\n]+", " ", line).strip() for line in "".join(parser.parts).split("\n"))
    return "\n".join(line for line in lines if line)


def article(site: Path, page: str) -> str:
    html = (site / page).read_text(encoding="utf-8")
    inner = html.split("<article", 1)[1].split(">", 1)[1]
    return visible_text(inner.split("</article>", 1)[0])


@pytest.fixture(scope="module")
def built_on(tmp_path_factory: pytest.TempPathFactory):
    """The sample content built as it would be on a given day."""
    sites: dict[date, Path] = {}

    def build(day: date) -> Path:
        if day not in sites:
            base = tmp_path_factory.mktemp(f"sample-{day.isoformat()}")
            shutil.copytree(DEFAULT_CONTENT, base / "content")
            sites[day] = build_site(base / "content", base / "site", work=base / "docs",
                                    site_src=DEFAULT_SITE_SRC, today=day).out
        return sites[day]

    return build


@pytest.fixture
def phone(browser, site_url):
    """A new page at phone size (with or without JavaScript); no script errors, no request
    to another host."""
    contexts = []
    errors: list[str] = []
    requests: list[str] = []

    def open_page(javascript: bool = True):
        context = browser.new_context(**PHONE, java_script_enabled=javascript)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: m.type == "error" and errors.append(m.text))
        page.on("request", lambda r: requests.append(r.url))
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert errors == []
    assert [u for u in requests if not u.startswith(site_url)] == []


# -- 1. the weekly theme: 本周 only while it is this week; dates instead of ISO week codes -----
def _theme_line(text: str, topic: str) -> str:
    return next(line for line in text.splitlines() if topic in line)


W47, W48 = "流动不流失，在外怎样过好组织生活", "年底返乡前，把权益和手续办明白"


def test_a_past_week_is_not_called_this_week(built_on):
    site = built_on(date(2026, 12, 1))  # ISO week 49: the newest theme is week 48's
    index = article(site, "themes/index.html")
    assert "本周" not in index and "本期" not in index
    assert _theme_line(index, W48).endswith("2026年11月23日至11月29日 · 最近一期")
    assert _theme_line(index, W47).endswith("2026年11月16日至11月22日")
    meta = article(site, "themes/2026-w48.html").splitlines()[1]
    assert meta == "2026年11月23日至11月29日 · 最近一期"


def test_the_theme_of_this_week_is_the_current_issue(built_on):
    site = built_on(date(2026, 11, 25))  # a Wednesday of week 48
    index = article(site, "themes/index.html")
    assert _theme_line(index, W48).endswith("2026年11月23日至11月29日 · 本期")
    assert _theme_line(index, W47).endswith("2026年11月16日至11月22日")
    assert article(site, "themes/2026-w48.html").splitlines()[1] == "2026年11月23日至11月29日 · 本期"
    assert article(site, "themes/2026-w47.html").splitlines()[1] == "2026年11月16日至11月22日"


def test_members_see_dates_not_iso_week_codes(built_on):
    site = built_on(date(2026, 12, 1))
    for page in ["index.html", "themes/index.html", *(
            p.relative_to(site).as_posix() for p in (site / "themes").glob("2026-w*.html"))]:
        text = visible_text((site / page).read_text(encoding="utf-8"))
        assert not re.search(r"\d{4}-W\d{2}", text), page


def test_a_week_across_new_year_names_both_years(content_tree: Path, tmp_path: Path):
    from generator.checks import check
    from generator.render import render

    write_yaml(content_tree / "themes" / "w53.yaml", make_theme(week="2026-W53", topic="辞旧迎新"))
    content, problems = check(content_tree, date(2027, 1, 2))
    assert [p for p in problems if not p.warning] == []
    render(content, tmp_path / "docs", date(2027, 1, 2))
    page = (tmp_path / "docs" / "themes" / "w53.md").read_text(encoding="utf-8")
    assert '<p class="dx-meta">2026年12月28日至2027年1月3日 · 本期</p>' in page


def test_home_page_does_not_call_a_past_week_this_week(built_on):
    home = article(built_on(date(2026, 12, 1)), "index.html")
    assert "本周主题" not in home
    assert f"最近一期主题：{W48}" in home
    assert f"本期主题：{W48}" in article(built_on(date(2026, 11, 25)), "index.html")


def test_each_material_of_a_theme_is_its_own_list_item(sample_site: BuildResult):
    html = (sample_site.out / "themes" / "2026-w48.html").read_text(encoding="utf-8")
    materials = html.split('id="_2">学习材料</h2>', 1)[1].split("</ul>", 1)[0]
    items = [visible_text(li) for li in re.findall(r"<li>(.*?)</li>", materials, re.S)]
    assert items == ["工资被拖欠怎么办",
                     "关于开展 2026 年度《流动党员活动证》年审的通知 年审的时间、地点和要带的材料",
                     "哪些流动党员，党组织一定会上门走访？", "在外期间怎样交党费"]


# -- 2. the departure helper on a phone ------------------------------------------------------
def test_without_javascript_the_helper_asks_no_questions_it_cannot_show(phone, site_url):
    page = phone(javascript=False)
    page.goto(site_url + HELPER)
    assert not page.locator("#dx-helper").is_visible()
    text = page.locator("article").inner_text()
    assert "回答下面" not in text and "先回答" not in text
    assert "对照下面的规则" in text


def test_with_javascript_the_helper_invites_answers(phone, site_url):
    page = phone()
    page.goto(site_url + HELPER)
    assert page.locator("#dx-helper").is_visible()
    assert "请逐个回答下面的问题" in page.locator("article").inner_text()


def test_back_to_top_is_a_small_button_that_covers_nothing(phone, site_url):
    page = phone()
    page.goto(site_url + HELPER)
    page.mouse.wheel(0, 3000)
    page.wait_for_timeout(300)
    page.mouse.wheel(0, -400)  # Material shows 回到页面顶部 while the reader scrolls up
    button = page.locator(".md-top")
    button.wait_for(state="visible")
    box = button.bounding_box()
    assert box["height"] < 60 and box["width"] < 250, box


# Width of every visible table cell in characters of its own font size.
_NARROW_CELLS = """() => Array.from(document.querySelectorAll('article td, article th'))
    .filter((c) => c.getClientRects().length)
    .map((c) => {
        const s = getComputedStyle(c);
        const inner = c.clientWidth - parseFloat(s.paddingLeft) - parseFloat(s.paddingRight);
        return [c.innerText.slice(0, 12), inner / parseFloat(s.fontSize)];
    }).filter(([, chars]) => chars < 4)"""


def _rule_count() -> int:
    helper = yaml.safe_load((DEFAULT_CONTENT / "helper" / "departure-helper.yaml").read_text("utf-8"))
    return len(helper["rules"])


def _check_rule_cards(page) -> None:
    assert page.evaluate(_NARROW_CELLS) == []
    cards = page.locator(".dx-rule")
    assert cards.count() == _rule_count()
    text_width = page.locator("article h1").bounding_box()["width"]
    for i in range(cards.count()):
        card = cards.nth(i)
        box = card.bounding_box()
        assert box is not None and box["width"] >= 0.85 * text_width, card.inner_text()[:40]
        text = card.inner_text()
        assert "情形" in text and "办理" in text and "依据" in text


def test_without_javascript_the_rules_are_cards_that_fit_a_phone(phone, site_url):
    page = phone(javascript=False)
    page.goto(site_url + HELPER)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 360
    _check_rule_cards(page)
    first = page.locator(".dx-rule").first.inner_text()
    assert "出发前向党支部问清楚" in first and "规则 1" in first


def test_with_javascript_the_rules_fold_below_the_result(phone, site_url):
    page = phone()
    page.goto(site_url + HELPER)
    assert page.evaluate("() => document.documentElement.scrollHeight") < 3000
    folded = page.locator("details.dx-helper-rules")
    assert folded.locator("> summary").inner_text().strip() == "查看全部规则"
    assert folded.get_attribute("open") is None
    assert not page.locator(".dx-rule").first.is_visible()
    after_result = page.evaluate("""() => {
        const result = document.getElementById('dx-helper-result');
        const rules = document.querySelector('details.dx-helper-rules');
        return !!(result.compareDocumentPosition(rules) & Node.DOCUMENT_POSITION_FOLLOWING);
    }""")
    assert after_result
    folded.locator("> summary").tap()
    assert page.locator(".dx-rule").first.is_visible()
    _check_rule_cards(page)


# -- 3. media: the real length, a poster, the right shape --------------------------------------
def test_captions_give_the_length_of_the_file(sample_site: BuildResult):
    video = article(sample_site.out, "courses/livelihood/before-leaving.html")
    assert "短视频（配音讲解）：外出前准备的几件事（时长 0:18）" in video
    audio = article(sample_site.out, "courses/party-spirit/identity.html")
    assert "讲解录音：党员流动不流失（时长 0:32）" in audio


def test_sample_content_gives_the_real_video_length():
    course = yaml.safe_load((DEFAULT_CONTENT / "courses" / "livelihood.yaml").read_text("utf-8"))
    media = [m for lesson in course["lessons"] for m in lesson.get("media", [])]
    assert [m.get("duration") for m in media if m["type"] == "video"] == ["0:18"]


def _course_with_video(root: Path, **media: str) -> Path:
    (root / "media").mkdir(exist_ok=True)
    shutil.copy(VIDEO, root / "media" / "clip.mp4")
    entry = {"type": "video", "file": "media/clip.mp4", "caption": "短视频", **media}
    return write_yaml(root / "courses" / "basics.yaml",
                      make_course(lessons=[make_lesson(media=[entry])]))


def _dangxiao_check(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "generator", "check", "--content", "content"],
                          cwd=root.parent, capture_output=True, text=True, timeout=120)


def test_check_warns_when_a_duration_disagrees_with_the_file(content_tree: Path):
    line, column = _where(_course_with_video(content_tree, duration="0:15"), "duration")
    result = _dangxiao_check(content_tree)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == [
        f"content/courses/basics.yaml:{line}:{column}: lessons[0].media[0].duration: "
        "警告：写的时长 0:15 与文件的实际时长 0:18 不符，页面上显示文件的实际时长；"
        "请改为 0:18 或删去 duration"]


def test_check_accepts_a_duration_within_a_second(content_tree: Path):
    _course_with_video(content_tree, duration="0:19")  # the file runs 18.9 s
    result = _dangxiao_check(content_tree)
    assert (result.returncode, result.stdout) == (0, "")


def _where(path: Path, key: str) -> tuple[int, int]:
    """Line and column of the value of key, as an editor's editor shows them."""
    lines = path.read_text("utf-8").splitlines()
    line = next(n for n, text in enumerate(lines, 1) if f"{key}:" in text)
    return line, lines[line - 1].index(f"{key}:") + len(key) + 3


def test_check_warns_about_a_media_file_that_cannot_be_read(content_tree: Path):
    line, column = _where(_course_with_video(content_tree), "file")
    (content_tree / "media" / "clip.mp4").write_bytes(b"not a video at all" * 100)
    result = _dangxiao_check(content_tree)
    assert result.returncode == 0
    assert result.stdout.splitlines() == [
        f"content/courses/basics.yaml:{line}:{column}: lessons[0].media[0].file: "
        "警告：读不出这个媒体文件的时长，成员可能无法播放；请检查文件是否完整"]


def test_video_has_a_poster_and_the_shape_of_the_film(phone, site_url, sample_site: BuildResult):
    # The poster is all a member downloads before pressing play: a few KB.
    assert (sample_site.out / "media" / "before-leaving.mp4.jpg").stat().st_size < 20_000
    page = phone()
    page.goto(site_url + "/courses/livelihood/before-leaving.html")
    assert page.locator("h2", has_text="音频与视频").inner_text() == "音频与视频"
    video = page.locator("figure.dx-media > video")
    box = video.bounding_box()
    text_width = page.locator("article h1").bounding_box()["width"]
    assert box is not None and box["width"] >= 0.99 * text_width
    assert abs(box["height"] - box["width"] * 180 / 320) <= 2
    poster = page.evaluate("""() => new Promise((resolve) => {
        const image = new Image();
        image.onload = () => resolve([image.naturalWidth, image.naturalHeight]);
        image.onerror = () => resolve(null);
        image.src = document.querySelector('video').poster;
    })""")
    assert poster == [320, 180]
    assert video.get_attribute("preload") == "none"


def test_content_may_give_its_own_poster(content_tree: Path, tmp_path: Path,
                                         sample_site: BuildResult):
    cover = next((sample_site.out / "media").glob("before-leaving*.jpg"))
    _course_with_video(content_tree, poster="media/cover.jpg")
    shutil.copy(cover, content_tree / "media" / "cover.jpg")
    site = build_site(content_tree, tmp_path / "site", site_src=DEFAULT_SITE_SRC).out
    html = (site / "courses" / "basics" / "first.html").read_text(encoding="utf-8")
    assert re.search(r'<video [^>]*poster="../../media/cover.jpg"', html)
    assert (site / "media" / "cover.jpg").is_file()


def _turned_film(path: Path) -> None:
    """A 64 x 32 film, a white block top left and grey bottom right, that phones' players
    show turned a quarter (display matrix: 90 degrees counter-clockwise), as phones record."""
    import av

    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 32, "yuv420p"
        stream.set_display_rotation(90)
        pixels = bytearray(64 * 32 * 3)
        for y in range(32):
            for x in range(64):
                if y < 12 and x < 20:
                    pixels[(y * 64 + x) * 3:(y * 64 + x) * 3 + 3] = b"\xff\xff\xff"
                elif y >= 12 and x >= 40:
                    pixels[(y * 64 + x) * 3:(y * 64 + x) * 3 + 3] = b"\x80\x80\x80"
        for i in range(5):
            frame = av.VideoFrame(64, 32, "rgb24")
            frame.planes[0].update(bytes(pixels))
            frame.pts = i
            for packet in stream.encode(frame.reformat(format="yuv420p")):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)


def test_a_film_shot_upright_gets_an_upright_box_and_poster(content_tree: Path, tmp_path: Path):
    import av

    _course_with_video(content_tree)
    _turned_film(content_tree / "media" / "clip.mp4")
    site = build_site(content_tree, tmp_path / "site", site_src=DEFAULT_SITE_SRC).out
    html = (site / "courses" / "basics" / "first.html").read_text(encoding="utf-8")
    assert re.search(r'<video [^>]*width="32" height="64"[^>]*poster="../../media/clip.mp4.jpg"',
                     html)
    with av.open(str(site / "media" / "clip.mp4.jpg")) as poster:
        image = next(poster.decode(video=0)).reformat(format="gray")
    assert (image.width, image.height) == (32, 64)
    row = image.planes[0].line_size
    data = bytes(image.planes[0])

    def shade(x: int, y: int) -> int:
        return data[y * row + x]

    # Corners as Chromium paints this film (drawn onto a canvas): dark, grey, white, dark.
    top_left, top_right, bottom_left, bottom_right = (
        shade(2, 2), shade(29, 2), shade(2, 61), shade(29, 61))
    assert top_left < 40 and 90 < top_right < 170 and bottom_left > 215 and bottom_right < 40


def test_a_video_that_cannot_be_read_still_gets_a_shape(content_tree: Path, tmp_path: Path):
    _course_with_video(content_tree)
    (content_tree / "media" / "clip.mp4").write_bytes(b"not a video at all" * 100)
    site = build_site(content_tree, tmp_path / "site", site_src=DEFAULT_SITE_SRC).out
    html = (site / "courses" / "basics" / "first.html").read_text(encoding="utf-8")
    tag = re.search(r"<video [^>]*>", html)[0]
    assert "poster=" not in tag and "dx-video" in tag


# -- 4. typography: full-width punctuation between Chinese characters ---------------------------
_CJK = "\u3000-\u303f\u4e00-\u9fff\uff00-\uffef\u2018-\u201d"
_ASCII_NEXT_TO_CJK = re.compile(rf"[{_CJK}][ \t]*[,;:()]|[,;:()][ \t]*[{_CJK}]")
_MIXED_BRACKETS = re.compile(r"（[^（）()\n]*\)|\([^（）()\n]*）")
_URL = re.compile(r"(?:https?|mailto|tel):\S+|www\.\S+")


def _ascii_between_chinese(text: str) -> list[str]:
    found = []
    for line in _URL.sub(" ", text).splitlines():
        for match in [*_ASCII_NEXT_TO_CJK.finditer(line), *_MIXED_BRACKETS.finditer(line)]:
            found.append(line[max(0, match.start() - 12):match.end() + 12])
    return found


def test_no_ascii_punctuation_between_chinese_characters(sample_site: BuildResult):
    site = sample_site.out
    found: dict[str, list[str]] = {}
    for page in sorted(site.rglob("*.html")):
        text = visible_text(page.read_text(encoding="utf-8"))
        hits = _ascii_between_chinese(text)
        if hits:
            found[page.relative_to(site).as_posix()] = hits
    assert found == {}


def test_the_scan_sees_what_it_should():
    assert _ascii_between_chinese("讲解录音（时长 0:32)") == ["讲解录音（时长 0:32)"]
    assert _ascii_between_chinese("依据：甲;乙") == ["依据：甲;乙"]
    assert _ascii_between_chinese("时长 0:32，网址 https://example.cn/a,b 见") == []
    assert _ascii_between_chinese("（时长 0:32）Markdown (code)") == []
