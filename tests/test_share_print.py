"""Issue 15: the weekly theme for the WeChat group (a message to paste, a poster with a QR
code), pages that print cleanly on A4, and a lesson's self-check answered in the browser."""

from __future__ import annotations

import html
import io
import re
from pathlib import Path

import pytest
import yaml
from conftest import PHONE, make_site, write_yaml
from PIL import Image
from pyzbar.pyzbar import decode

from generator.build import BuildResult, build_site
from generator.errors import ContentError
from generator.share import POSTER_WIDTH

# The sample's public address (content/site.yaml).
PUBLIC = yaml.safe_load((Path(__file__).parent.parent / "content" / "site.yaml").read_text(
    encoding="utf-8"))["public_url"]
THEME = "2026-w48"


def theme_yaml() -> dict:
    return yaml.safe_load((Path(__file__).parent.parent / "content" / "themes" /
                           f"{THEME}.yaml").read_text(encoding="utf-8"))


# -- 1. the weekly theme in the WeChat group ----------------------------------------------
def test_poster_is_750_px_png_whose_qr_code_opens_the_theme_page(sample_site: BuildResult):
    poster = sample_site.out / "themes" / f"{THEME}.png"
    data = poster.read_bytes()
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG" and image.width == POSTER_WIDTH == 750
    assert image.height > image.width  # a phone-shaped poster, not a strip
    assert len(data) < 80_000  # a palette PNG: a member on a prepaid plan saves it
    codes = decode(image.convert("L"))
    assert [c.data.decode() for c in codes] == [f"{PUBLIC}themes/{THEME}.html"]


def test_theme_page_has_the_message_to_paste_and_the_poster_link(sample_site: BuildResult):
    page = (sample_site.out / "themes" / f"{THEME}.html").read_text(encoding="utf-8")
    box = re.search(r'<textarea class="dx-share-text"[^>]*readonly[^>]*>(.*?)</textarea>',
                    page, re.S)
    assert box, "no read-only message box"
    message = html.unescape(box[1])
    theme = theme_yaml()
    assert theme["topic"] in message
    for question in theme["questions"][:3]:
        assert question in message
    assert message.rstrip().endswith(f"{PUBLIC}themes/{THEME}.html")
    assert f'href="{THEME}.png"' in page and ">打开海报</a>" in page
    assert '<script src="../assets/js/page.js" defer></script>' in page
    article = page.split("<article", 1)[1].split("</article>", 1)[0]
    assert "<script>" not in article  # the CSP allows no inline script of ours


def test_no_public_url_no_poster_and_a_missing_font_stops_the_build(
        content_tree: Path, tmp_path: Path, monkeypatch):
    built = build_site(content_tree, tmp_path / "site", work=tmp_path / "docs")
    assert not list((built.out / "themes").glob("*.png"))
    assert "dx-share-text" not in (built.out / "themes" / "w47.html").read_text(encoding="utf-8")

    write_yaml(content_tree / "site.yaml", make_site(public_url=PUBLIC))
    monkeypatch.setenv("DANGXIAO_CJK_FONT", str(tmp_path / "no-such-font.ttc"))
    with pytest.raises(ContentError) as failed:
        build_site(content_tree, tmp_path / "site", work=tmp_path / "docs")
    assert "中文字体" in str(failed.value) and "fonts-noto-cjk" in str(failed.value)
    assert not list((built.out / "themes").glob("*.png"))  # the previous site stays


def test_copy_button_and_poster_link_on_a_phone(site_url: str, browser):
    context = browser.new_context(**PHONE)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site_url)
    page = context.new_page()
    page.goto(f"{site_url}/themes/{THEME}.html")
    copy = page.get_by_role("button", name="复制", exact=True)
    poster = page.get_by_role("link", name="打开海报")
    for target in (copy, poster):
        target.scroll_into_view_if_needed()
        assert target.bounding_box()["height"] >= 44
    # The whole message shows at 360 px, without scrolling inside the box.
    assert page.evaluate("(t => t.scrollHeight <= t.clientHeight + 2)"
                         "(document.querySelector('textarea.dx-share-text'))")
    copy.tap()
    page.get_by_text("已复制").wait_for()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.endswith(f"{PUBLIC}themes/{THEME}.html") and theme_yaml()["topic"] in copied
    # WeChat's browser ignores downloads: the poster opens as an image, to long-press.
    with page.expect_response(lambda r: r.url.endswith(f"{THEME}.png")) as response:
        poster.tap()
    assert response.value.headers["content-type"] == "image/png"
    page.wait_for_url(f"**/themes/{THEME}.png")
    context.close()


# -- 2. print -----------------------------------------------------------------------------
A4 = {"viewport": {"width": 794, "height": 1123}, "locale": "zh-CN"}  # 210 mm at 96 dpi
PRINTED = ["courses/law-rights/unpaid-wages.html", "guides/dues.html", "faq/dues-by-mail.html"]
SHOWN = """() => [...document.querySelectorAll(
    '.dx-thumb-bar, .md-header, .md-sidebar, .md-search, .md-button, .dx-share, .dx-study-link')]
  .filter(e => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0; })
  .map(e => e.className)"""
AFTER = "(a) => getComputedStyle(a, '::after').content"


def test_lessons_guides_and_faq_print_on_a4(site_url: str, browser, tmp_path: Path):
    context = browser.new_context(**A4)
    page = context.new_page()
    checked_links = 0
    for path in PRINTED:
        page.emulate_media(media="screen")
        page.goto(f"{site_url}/{path}")
        page.wait_for_load_state("load")
        page.emulate_media(media="print")
        assert page.evaluate(SHOWN) == [], path
        assert page.evaluate("document.documentElement.scrollWidth") <= 794, path
        text = page.locator("article").inner_text()
        # Every fold is open: a lesson's answers, a basis's quoted clauses.
        assert page.evaluate("[...document.querySelectorAll('article details')]"
                             ".every(d => d.open)"), path
        # A link to another page of the site prints its full address after its text, and
        # the page's own address heads the sheet.
        links = page.locator("article a[href$='.html']:not(.md-button)")
        if links.count():
            after = page.evaluate(AFTER, links.first.element_handle())
            assert re.fullmatch(rf'" \({re.escape(site_url)}/[a-z0-9/-]+\.html\)"', after), \
                (path, after)
            checked_links += 1
        assert f"本页网址：{site_url}/{path}" in text, path
        page.screenshot(path=str(tmp_path / (path.replace("/", "-") + ".png")), full_page=True)
        if path.startswith("courses"):
            assert "正确答案：B. 一年" in text
            pdf = page.pdf(format="A4")
            assert pdf.startswith(b"%PDF") and b"/MediaBox [0 0 595" in pdf
    assert checked_links >= 2
    context.close()


# -- 3. self-check without a server, carried into the study log --------------------------
@pytest.fixture(scope="module")
def product(tmp_path_factory: pytest.TempPathFactory):
    from tour_support import Product

    running = Product(tmp_path_factory.mktemp("selfcheck"))
    running.start()
    yield running
    running.stop()


def test_self_check_scored_in_the_browser_and_carried_into_the_study_log(
        product, browser, tmp_path: Path):
    from tour_support import WECHAT_PHONE, Person

    phone = browser.new_context(**WECHAT_PHONE)
    page = phone.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    member = Person(page, product.url)
    page.goto(f"{product.url}/courses/party-spirit/show-identity.html")
    # One right, one wrong, scored with the network off: no server is asked.
    member.tap(page.get_by_label("B. 按有关规定严肃处理"), navigates=False)
    member.tap(page.get_by_label("A. 三个月"), navigates=False)
    page.context.set_offline(True)
    member.tap(page.get_by_role("button", name="对答案"), navigates=False)
    first, second = page.locator(".dx-q").nth(0), page.locator(".dx-q").nth(1)
    assert "答对了" in first.locator(".dx-q-mark").inner_text()
    assert "答错了" in second.locator(".dx-q-mark").inner_text()
    explanation = second.locator("details.dx-q-answer")
    assert explanation.evaluate("d => d.open") and "连续六个月" in explanation.inner_text()
    assert page.locator(".dx-selfcheck-result").inner_text() == "答对 1/2 题"
    page.screenshot(path=str(tmp_path / "selfcheck-first.png"), full_page=True)
    member.tap(page.get_by_label("B. 六个月"), navigates=False)
    member.tap(page.get_by_role("button", name="对答案"), navigates=False)
    assert "答对了" in second.locator(".dx-q-mark").inner_text()
    assert page.locator(".dx-selfcheck-result").inner_text() == "答对 2/2 题"
    page.screenshot(path=str(tmp_path / "selfcheck.png"), full_page=True)
    page.context.set_offline(False)

    member.tap(page.get_by_role("link", name="记录学习"))
    page.wait_for_url("**/app/login**")
    member.tap(page.get_by_role("link", name="注册"))
    page.get_by_label("用户名").fill("自测的老王")
    page.get_by_label("密码", exact=True).fill("江边的渡船天天准点")
    page.get_by_label("再输入一次密码").fill("江边的渡船天天准点")
    member.tap(page.get_by_role("button", name="注册"))
    page.wait_for_url("**/app/recovery-code**")
    member.tap(page.get_by_role("link", name="我已记下，继续"))
    page.wait_for_url("**/app/study**")
    assert page.get_by_label("学习心得（选填）").input_value() == "自测：答对 2/2 题"
    page.get_by_label("学习时长（分钟）").fill("10")
    member.tap(page.get_by_label("网上学"), navigates=False)
    member.tap(page.get_by_role("button", name="保存学习记录"))
    page.wait_for_url("**/app/me**")
    assert "自测：答对 2/2 题" in page.locator("ul.logs").inner_text()

    # 我的学习 on paper: the records without the header, thumb bar, buttons or forms.
    page.set_viewport_size({"width": 794, "height": 1123})
    page.emulate_media(media="print")
    shown = page.evaluate("""() => [...document.querySelectorAll(
        'header.bar, .thumb-bar, footer.foot, form, .button')]
        .filter(e => e.getBoundingClientRect().height > 0).map(e => e.outerHTML.slice(0, 60))""")
    assert shown == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 794
    assert "自测：答对 2/2 题" in page.locator("main").inner_text()
    page.screenshot(path=str(tmp_path / "mine-print.png"), full_page=True)
    assert errors == []
    phone.close()


def test_selfcheck_note_takes_only_a_score():
    from forms_app.forms import selfcheck_note

    assert selfcheck_note("3/4") == "自测：答对 3/4 题"
    assert selfcheck_note("0/2") == "自测：答对 0/2 题"
    for bad in (None, "", "5/4", "1/0", "3/4<script>", "a/b", "123/456"):
        assert selfcheck_note(bad) is None
