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

PUBLIC = "https://dangxiao.example.cn/"
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
    assert f'href="{THEME}.png"' in page and ">保存海报</a>" in page
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
    poster = page.get_by_role("link", name="保存海报")
    for target in (copy, poster):
        target.scroll_into_view_if_needed()
        assert target.bounding_box()["height"] >= 44
    copy.tap()
    page.get_by_text("已复制").wait_for()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.endswith(f"{PUBLIC}themes/{THEME}.html") and theme_yaml()["topic"] in copied
    context.close()
