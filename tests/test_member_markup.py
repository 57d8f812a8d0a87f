"""Member text is data: one sanitiser renders member Markdown, the export writes what it
allows, titles reach MkDocs without markup, and the generator refuses what slipped by."""

from __future__ import annotations

import re

import markdown
import pytest
from hostile_corpus import ALL, BLOCKS, BODIES, INLINE
from test_app_public import executable

from generator.markup import markup_problems, member_markdown, render_markdown
from generator.plaintext import md_text, plain_html, safe_title, short_title, title_md

# The Markdown extensions of site_src/mkdocs.yml: what MkDocs does with the generator's text.
SITE_EXTENSIONS = ["admonition", "attr_list", "md_in_html", "tables", "pymdownx.details",
                   "pymdownx.superfences", "toc"]


def site_markdown(text: str) -> str:
    return markdown.markdown(text, extensions=SITE_EXTENSIONS)


def attributes(html: str) -> list[tuple[str, str, str]]:
    from html.parser import HTMLParser

    found: list[tuple[str, str, str]] = []

    class Parser(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.extend((tag, name, value or "") for name, value in attrs)

    Parser().feed(html)
    return found


def spaced(html: str) -> str:
    return re.sub(r"[ \t]+", " ", html)


def visible_text(html: str) -> str:
    import html as html_lib

    return re.sub(r"\s+", "", html_lib.unescape(re.sub(r"<[^>]+>", "", html)))


@pytest.mark.parametrize("text", BODIES)
def test_export_is_what_the_sanitiser_allows_and_the_check_accepts(text):
    exported = member_markdown(text)
    # Rendering the exported Markdown shows the member exactly what the preview showed
    # (a browser shows a run of spaces or a tab as one space).
    assert spaced(render_markdown(exported)) == spaced(render_markdown(text))
    assert member_markdown(exported) == exported  # exporting again changes nothing
    assert markup_problems(exported, member=True) == []
    assert executable(render_markdown(text)) == []
    # Rendered by any Markdown processor with HTML on, the export still holds no markup.
    assert executable(site_markdown(exported)) == []


@pytest.mark.parametrize("text", ALL)
def test_member_html_shows_markup_as_text_and_keeps_only_safe_links(text):
    html = render_markdown(text)
    assert executable(html) == []
    for tag, name, value in attributes(html):
        assert (tag, name) in (("a", "href"), ("a", "rel"), ("ol", "start")), (tag, name)
        if name == "href":
            assert value.startswith(("http://", "https://", "mailto:")), value
    assert "<img" not in html and "<script" not in html.lower()


@pytest.mark.parametrize("source, reason", [
    ("[点我][r]\n\n[r]: javascript:alert(27)", "不安全的地址"),
    ("## 标题 {: onmouseover=alert(47) }", "事件属性"),
    ("段落\n{: .x }", "属性列表"),
    ("[点我](&#106;avascript:alert(18))", "不安全的地址"),
    ("[点我](javascript&colon;alert(1))", "不安全的地址"),
    ("[点我](java&#115;cript:alert(1))", "不安全的地址"),
    ("[点我](&#x6A;avascript:alert(1))", "不安全的地址"),
    ("[点我](javascript&#58;alert(1))", "不安全的地址"),
    ("<javascript:alert(1)>", "HTML"),
    ("<b>粗</b>", "HTML"),
    ("![图](http://evil.example/x.png)", "图片"),
    ("[站内](../guides/dues.md)", "http、https 或 mailto"),
])
def test_the_check_refuses_hand_edited_member_markdown(source, reason):
    problems = markup_problems(source, member=True)
    assert any(reason in p for p in problems), problems


def test_editors_keep_attribute_lists_but_not_script():
    assert markup_problems("## 步骤 {: #steps }\n\n见 [党费](../faq/dues.md)。", member=False) == []
    assert markup_problems("[x](javascript:alert(1))", member=False)
    assert markup_problems("## 标题 {: onclick=alert(1) }", member=False)
    assert markup_problems("<script>alert(1)</script>", member=False)


@pytest.mark.parametrize("text", INLINE)
def test_titles_reach_mkdocs_as_text(text):
    title = safe_title(text)
    # Nothing HTML reads: not in the header, the navigation, the footer or <title>, even
    # after Material's striptags decodes entities.
    assert not set(title) & set("<>\"'")
    assert not re.search(r"&[#A-Za-z0-9]", title)  # nothing an HTML parser would decode
    assert "\n" not in title
    # Inside Markdown (the page's h1, lists) the title is only text.
    html = site_markdown("# " + title_md(text))
    assert executable(html) == []
    assert re.fullmatch(r'<h1 id="[^"]*">[^<]*</h1>', html), html
    assert visible_text(html) == re.sub(r"\s+", "", title)


@pytest.mark.parametrize("text", INLINE + BLOCKS)
def test_plain_text_in_markdown_and_html_blocks_is_only_text(text):
    html = site_markdown(f"- [{md_text(text)}](x.md) <span>{md_text(text)}</span>")
    assert executable(html) == []
    assert html.count("<a ") == 1  # the one link of the template, none from the text
    block = site_markdown(f'<div class="dx-letter">{plain_html(text)}</div>')
    assert executable(block) == []


def test_short_title_cuts_long_questions():
    long = "我" * 100
    assert short_title(long) == "我" * 39 + "…"
    assert short_title("  外出  打工\n半年 ") == "外出 打工 半年"


def test_a_list_right_under_a_line_is_a_list_as_the_form_says():
    # The article form says "每行以 - 开头就是列表"; members write it under a line of text.
    html = render_markdown("几点体会：\n- 出门前开证明信\n- 到了厂里找组织\n\n外出：\n1. 第一\n2. 第二")
    assert "<p>几点体会：</p>\n<ul>\n<li>出门前开证明信</li>" in html
    assert "<ol>\n<li>第一</li>" in html
    exported = member_markdown("几点体会：\n- 出门前开证明信")
    assert render_markdown(exported) == render_markdown("几点体会：\n- 出门前开证明信")
    # Code stays code: an indented line that looks like a list item is not touched.
    assert "<pre><code>- 不是列表" in render_markdown("代码：\n\n    - 不是列表")
