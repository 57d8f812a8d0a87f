"""The site and the app are one product: every member service is linked from the pages
where a member would want it, in the same words, and the app wears the site's look."""

from __future__ import annotations

import posixpath
import re
from html.parser import HTMLParser
from urllib.parse import unquote

import pytest

SERVICES = {"/app/ask": "电子信箱", "/app/help": "请求走访", "/app/track": "查询进度",
            "/app/voice": "投稿",
            "/app/study": "记录学习", "/app/orglife": "记录组织生活", "/app/me": "我的学习",
            "/app/login": "登录"}


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self._href: str | None = None
        self._text = ""

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self._href, self._text = dict(attrs).get("href") or "", ""

    def handle_data(self, data):
        if self._href is not None:
            self._text += data

    def handle_endtag(self, tag):
        if tag == "a" and self._href is not None:
            self.links.append((unquote(self._href), self._text.strip()))
            self._href = None


def links(html: str) -> list[tuple[str, str]]:
    parser = _Links()
    parser.feed(html)
    return parser.links


def page(site, rel: str) -> str:
    return (site.out / rel).read_text(encoding="utf-8")


@pytest.mark.parametrize("rel", ["index.html", "service/index.html"])
def test_home_and_service_pages_link_every_service(sample_site, rel):
    found = links(page(sample_site, rel))
    for href, word in SERVICES.items():
        assert any(h == href and word in text for h, text in found), (rel, href, word)


def test_thumb_bar_reaches_the_services_from_every_page(sample_site):
    for path in sample_site.out.rglob("*.html"):
        html = path.read_text(encoding="utf-8")
        if "dx-thumb-bar" not in html:
            continue
        bar = html.split('class="dx-thumb-bar"', 1)[1].split("</nav>", 1)[0]
        here = posixpath.dirname(path.relative_to(sample_site.out).as_posix())
        targets = {posixpath.normpath(posixpath.join(here, h)) for h, t in links(bar)
                   if t == "服务"}
        assert targets & {"service/index.html", "/service/index.html"}, path


def test_voices_and_faq_offer_to_act(sample_site):
    assert ("/app/voice", "我要投稿") in links(page(sample_site, "voices/index.html"))
    assert any(h.startswith("/app/ask") for h, _ in links(page(sample_site, "faq/index.html")))
    for notice in ("notices/mailbox-open.html", "faq/mailbox-reply-time.html"):
        assert any(h == "/app/ask" for h, _ in links(page(sample_site, notice))), notice


@pytest.mark.parametrize("rel, category", [
    ("faq/dues-by-mail.html", "党费"), ("faq/when-transfer.html", "组织关系"),
    ("guides/activity-card.html", "活动证"), ("guides/dues.html", "党费"),
    ("faq/who-is-mobile-member.html", ""),
])
def test_every_faq_and_guide_page_asks_with_its_category(sample_site, rel, category):
    html = page(sample_site, rel)
    assert "没找到答案？" in html
    target = "/app/ask" + (f"?category={category}" if category else "")
    assert (target, "向支部提问") in links(html), links(html)


def test_every_faq_and_guide_page_has_the_ask_block(sample_site):
    for section in ("faq", "guides"):
        for path in (sample_site.out / section).glob("*.html"):
            if path.name == "index.html" or path.stem == "helper-leaving":
                continue
            html = path.read_text(encoding="utf-8")
            if 'class="dx-helper"' in html:
                continue  # the helper page asks its own questions
            assert any(h.startswith("/app/ask") and t == "向支部提问" for h, t in links(html)), path


def test_post_lists_put_each_entry_in_its_own_item(sample_site):
    # The generated Markdown once had every entry on one line: one bullet for all.
    for section in ("news", "notices", "showcase", "voices"):
        html = page(sample_site, f"{section}/index.html")
        article = html.split("<article", 1)[1].split("</article>", 1)[0]
        entries = [p for p in (sample_site.out / section).glob("*.html") if p.name != "index.html"]
        items = re.findall(r"<li>\s*<a href=\"[^\"]+\.html\"", article)
        assert len(items) == len(entries), (section, len(items), len(entries))


def test_the_ask_form_takes_the_category_from_the_link(client):
    html = client.get("/app/ask?category=党费").get_data(as_text=True)
    assert re.search(r'<option selected value="党费">|<option value="党费" selected', html), html
    plain = client.get("/app/ask?category=<script>").get_data(as_text=True)
    assert 'selected value="其他"' in plain or 'value="其他" selected' in plain


def test_app_pages_carry_the_site_header_and_thumb_bar(client):
    for path in ("/app/", "/app/ask", "/app/voice", "/app/track", "/app/login"):
        html = client.get(path).get_data(as_text=True)
        assert '<a class="home" href="/">流动党员网上党校</a>' in html, path
        bar = html.split('class="thumb-bar"', 1)[1].split("</nav>", 1)[0]
        for href, word in (("/index.html", "首页"), ("/courses/index.html", "学习"),
                           ("/faq/index.html", "问答"), ("/service/index.html", "服务")):
            assert f'<a href="{href}">{word}</a>' in bar, (path, word)
    services = client.get("/app/").get_data(as_text=True)
    for href, word in SERVICES.items():
        assert any(h == href and word in text for h, text in links(services)), href


def test_please_log_in_is_a_note_not_a_success(client):
    page = client.get("/app/study", follow_redirects=True).get_data(as_text=True)
    assert '<p class="flash info" role="status">这一步需要登录。</p>' in page
    assert "还没有账号？注册只要用户名和密码，不用手机号：" in page


def test_the_hotline_in_a_notice_dials(sample_site):
    assert ("tel:12371", "12371") in links(page(sample_site, "notices/card-annual-check.html"))
