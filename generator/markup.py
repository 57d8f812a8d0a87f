"""Markdown written by members: rendered by one sanitising function, exported as what that
function allows, and checked again by the generator.

- `render_markdown` is the only way member Markdown becomes HTML: the preview, the tracking
  page, the editors' pages and the built site all call it. Raw HTML a member types stays
  text; the HTML Markdown makes goes through nh3's allow-list, which parses it (entities
  decoded) before it keeps only http, https and mailto links.
- `member_markdown` is what Publish writes into content/: Markdown made back from that
  sanitised HTML, so the YAML holds exactly what the site will show, and nothing the
  generator's check would refuse.
- `markup_problems` is that check (used by `dangxiao check` for every Markdown field):
  raw HTML, script-capable links and, in member text, attribute lists and images.
"""

from __future__ import annotations

import hashlib
import html
import re
import xml.etree.ElementTree as etree
from html.parser import HTMLParser

import markdown
import nh3
from markdown.extensions import Extension
from markdown.preprocessors import Preprocessor
from markdown.treeprocessors import Treeprocessor
from markdownify import MarkdownConverter

# No images (they would load from other hosts), nothing but simple structure.
TAGS = {"p", "br", "strong", "em", "blockquote", "ul", "ol", "li", "code", "pre",
        "h2", "h3", "h4", "h5", "h6", "hr", "a"}
# "*": no attribute on every tag (nh3 would otherwise keep title and lang everywhere).
ATTRIBUTES = {"*": set(), "a": {"href"}, "ol": {"start"}}
URL_SCHEMES = {"http", "https", "mailto"}
# Schemes that can run script or smuggle a document, refused in every Markdown field.
UNSAFE_SCHEMES = {"javascript", "vbscript", "data", "file"}
LINK_REL = "nofollow noopener noreferrer"
_DEAD_LINK = re.compile(f'<a rel="{LINK_REL}">(.*?)</a>', re.S)
# Characters that would end a Markdown link or an attribute, percent-encoded in addresses
# (the same URL to a browser), so an address survives the export unchanged.
_URL_ESCAPES = {c: f"%{ord(c):02X}" for c in " \"'()<>\\[]`"}


def _canonical_url(tag: str, attribute: str, value: str) -> str:
    if attribute == "href":
        return "".join(_URL_ESCAPES.get(c, c) for c in value)
    return value


class _Simplify(Treeprocessor):
    """A member's `# heading` becomes h2 (the page has one h1, its title); an image becomes
    its alt text (nothing is loaded from another host)."""

    def run(self, root: etree.Element) -> None:
        for element in root.iter():
            if element.tag == "h1":
                element.tag = "h2"
            elif element.tag == "img":
                alt = element.get("alt") or ""
                element.attrib.clear()
                element.tag, element.text = "span", alt


_LIST_ITEM = re.compile(r"^[ ]{0,3}(?:[-+*]|\d{1,9}[.)])[ \t]+\S")


class _ListsAfterLines(Preprocessor):
    """A list right under a line of text ("几点体会：" then "- …"), as people write it:
    Markdown wants a blank line before the list, members do not know that."""

    def run(self, lines: list[str]) -> list[str]:
        out: list[str] = []
        for line in lines:
            previous = out[-1] if out else ""
            if (_LIST_ITEM.match(line) and previous.strip() and not _LIST_ITEM.match(previous)
                    and not previous.startswith((" ", "\t"))):
                out.append("")
            out.append(line)
        return out


class PlainInput(Extension):
    """Member Markdown without raw HTML: `<b>` or `<script>` stays visible text."""

    def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802 (Markdown's API)
        md.preprocessors.deregister("html_block")
        md.preprocessors.register(_ListsAfterLines(md), "dx_lists_after_lines", 25)
        md.inlinePatterns.deregister("html")
        md.treeprocessors.register(_Simplify(md), "dx_simplify", 1)


def render_markdown(text: str) -> str:
    """Safe HTML for a member's Markdown: scripts, handlers, iframes and javascript: gone."""
    rendered = markdown.markdown(text or "", extensions=["sane_lists", PlainInput()],
                                 output_format="html")
    clean = nh3.clean(rendered, tags=TAGS, attributes=ATTRIBUTES, url_schemes=URL_SCHEMES,
                      url_relative="deny", link_rel=LINK_REL, strip_comments=True,
                      attribute_filter=_canonical_url)
    # A link whose address nh3 refused is left as its text.
    return _DEAD_LINK.sub(r"\1", clean)


# -- export: sanitised HTML back to Markdown -----------------------------------------------
_ALWAYS = re.compile(r"([\\`*_\[\]{}])")
# What would start a heading, quote, list or code block at the start of a line.
_LINE_START = re.compile(r"(?m)^([ \t]*)(#|[-+](?=[ \t]|$)|(\d{1,9})([.)])(?=[ \t]|$))")
_SETEXT = re.compile(r"(?m)^([ \t]*)(=+|-+)[ \t]*$")


class _MemberMarkdown(MarkdownConverter):
    """markdownify with escaping for Python-Markdown (which does not know `\\~` or `\\|`)."""

    def escape(self, text: str, parent_tags: set[str]) -> str:  # type: ignore[override]
        if not text:
            return ""
        text = html.escape(text, quote=False)  # & < > as entities: never markup again
        text = _ALWAYS.sub(r"\\\1", text)
        text = _SETEXT.sub(lambda m: m[1] + "".join(f"&#{ord(c)};" for c in m[2]), text)
        return _LINE_START.sub(
            lambda m: m[1] + (f"{m[3]}\\{m[4]}" if m[3] else "\\" + m[2]), text)

    def convert_pre(self, el, text: str, parent_tags: set[str]) -> str:  # type: ignore[override]
        # Python-Markdown has no fenced code without an extension: indent by four spaces.
        body = (text or "").strip("\n")
        if not body:
            return ""
        return "\n\n" + "\n".join("    " + line for line in body.split("\n")) + "\n\n"

    def convert_code(self, el, text: str, parent_tags: set[str]) -> str:  # type: ignore[override]
        if "pre" in parent_tags:
            return text
        return super().convert_code(el, text, parent_tags)


_CONVERTER = _MemberMarkdown(heading_style="atx", bullets="-", strong_em_symbol="*",
                             escape_asterisks=False, escape_underscores=False,
                             escape_misc=False, autolinks=False, newline_style="spaces")


def member_markdown(text: str) -> str:
    """The member's Markdown as it is published: what render_markdown allows and nothing
    else, written so that rendering it again shows the same page."""
    converted = _CONVERTER.convert(render_markdown(text))
    lines = [line.rstrip() if not line.endswith("  ") else line
             for line in converted.strip("\n").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")


# -- the generator's check -----------------------------------------------------------------
class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, attrs))


def url_scheme(value: str) -> str | None:
    """The scheme a browser would see: entities decoded, controls and spaces dropped."""
    cleaned = re.sub(r"[\x00-\x20\x7f]", "", html.unescape(value)).lower()
    match = re.match(r"([a-z][a-z0-9+.\-]*):", cleaned)
    return match[1] if match else None


# Checked fields by a digest of their text: `dangxiao check` converts every Markdown field,
# seconds at 3,000 pages, and a publish checks the whole content again (the answer depends
# on the text alone). Digests only: a few MB at 10,000 pages.
_CHECKED: dict[bytes, tuple[str, ...]] = {}
_CHECKED_MAX = 200_000


def markup_problems(text: str, member: bool) -> list[str]:
    """What is wrong with one Markdown field, in Chinese; empty when it may be published.

    Everywhere: raw HTML and links with a script-capable scheme. In member text (voices,
    answers from the mailbox) also attribute lists, images and any link that is not an
    absolute http, https or mailto address."""
    key = hashlib.blake2b(f"{int(member)}{text or ''}".encode(), digest_size=16).digest()
    found = _CHECKED.get(key)
    if found is None:
        if len(_CHECKED) >= _CHECKED_MAX:
            _CHECKED.clear()
        found = _CHECKED[key] = tuple(_markup_problems(text, member))
    return list(found)


def _markup_problems(text: str, member: bool) -> list[str]:
    md = markdown.Markdown(extensions=["sane_lists", "attr_list", "tables"])
    rendered = md.convert(text or "")
    problems: list[str] = []
    if any(str(block).lstrip().startswith("<") for block in md.htmlStash.rawHtmlBlocks):
        problems.append("不能包含 HTML 代码（如 <b>、<script>），格式请用 Markdown 书写")
    parser = _Tags()
    parser.feed(rendered)
    for tag, attrs in parser.found:
        for name, value in attrs:
            if name in ("href", "src") and url_scheme(value or "") in UNSAFE_SCHEMES:
                problems.append(f"链接使用了不安全的地址：{(value or '')[:40]}")
            elif name.startswith("on"):
                problems.append(f"不能给元素加事件属性 {name}")
            elif member and tag == "a" and name == "href" and url_scheme(
                    value or "") not in URL_SCHEMES:
                problems.append("投稿中的链接只能是 http、https 或 mailto 地址："
                                f"{(value or '')[:40]}")
            elif member and (tag, name) not in (("a", "href"), ("ol", "start"),
                                                ("img", "src"), ("img", "alt")):
                problems.append(f"投稿中不能使用属性列表（{{: … }}）：{name}")
        if member and tag == "img":
            problems.append("投稿中不能插入图片")
    return list(dict.fromkeys(problems))
