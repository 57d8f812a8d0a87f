"""The Atom feed (/feed.xml, RFC 4287) of news, notices and weekly themes.

Entries are newest first and at most FEED_ENTRIES; every link is absolute, made from
site.yaml's `public_url` (without it no feed is written). An entry's id is its page's
address, which stays the same from build to build; `updated` comes from the content's
dates, never from the clock, so an unchanged site gives the same bytes.
"""

from __future__ import annotations

import html
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import date, datetime, time

import markdown
import nh3

from generator.events import page_url
from generator.loader import Content
from generator.models.events import BEIJING
from generator.pages import ref_page
from generator.plaintext import one_line

ATOM = "http://www.w3.org/2005/Atom"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
FEED_PATH = "feed.xml"
FEED_ENTRIES = 30
SUMMARY_CHARS = 140
KINDS = {"news": "党建动态", "notices": "公告通知", "themes": "每周主题"}


@dataclass(frozen=True)
class Entry:
    kind: str
    slug: str
    title: str
    day: date
    summary: str


def markdown_text(text: str, limit: int = SUMMARY_CHARS) -> str:
    """Markdown as one line of plain text, cut to limit characters."""
    from generator.render import join_cjk_lines  # render imports this module

    rendered = markdown.markdown(join_cjk_lines(text), extensions=["attr_list", "tables"])
    plain = one_line(html.unescape(nh3.clean(rendered, tags=set())))
    return plain if len(plain) <= limit else plain[:limit - 1].rstrip() + "…"


def entries(content: Content, today: date) -> list[Entry]:
    """The feed's entries, newest first, from the sections the site shows; nothing dated
    after today (a theme written ahead for next week joins the feed in its week)."""
    shown = set(content.site.sections) if content.site else set()
    found: list[Entry] = []
    if "news" in shown:
        found += [Entry("news", i.slug, i.model.title, i.model.date, one_line(i.model.summary))
                  for i in content.of("news")]
    if "notices" in shown:
        found += [Entry("notices", i.slug, i.model.title, i.model.date,
                        markdown_text(i.model.body)) for i in content.of("notices")]
    if "themes" in shown:
        found += [Entry("themes", i.slug, f"每周主题：{i.model.topic}", i.model.monday,
                        markdown_text(i.model.intro)) for i in content.of("themes")]
    found = [e for e in found if e.day <= today]
    found.sort(key=lambda e: (e.day, e.kind, e.slug), reverse=True)
    return found[:FEED_ENTRIES]


def _stamp(day: date) -> str:
    return datetime.combine(day, time(), BEIJING).isoformat()


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
    if text is not None:
        element.text = text  # ElementTree escapes < & > itself: titles stay text
    return element


def feed_url(content: Content) -> str | None:
    """The feed's absolute address; None when the site has no public_url (and no feed)."""
    site = content.site
    return site.public_url + FEED_PATH if site and site.public_url else None


def atom_feed(content: Content, today: date) -> bytes | None:
    """The feed as UTF-8 XML, or None when the site has no public_url. A feed with no
    entries yet is updated as of today."""
    site = content.site
    if site is None or site.public_url is None:
        return None
    items = entries(content, today)
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed", {XML_LANG: "zh-CN"})
    _sub(feed, "id", site.public_url)
    _sub(feed, "title", one_line(site.title), type="text")
    _sub(feed, "subtitle", one_line(site.description), type="text")
    _sub(feed, "updated", _stamp(items[0].day if items else today))
    _sub(feed, "link", rel="alternate", type="text/html", href=site.public_url)
    _sub(feed, "link", rel="self", type="application/atom+xml", href=site.public_url + FEED_PATH)
    author = _sub(feed, "author")
    _sub(author, "name", one_line(site.title))
    for item in items:
        url = page_url(content, ref_page(f"{item.kind}/{item.slug}"))
        assert url is not None
        entry = _sub(feed, "entry")
        _sub(entry, "id", url)
        _sub(entry, "title", one_line(item.title), type="text")
        _sub(entry, "link", rel="alternate", type="text/html", href=url)
        _sub(entry, "published", _stamp(item.day))
        _sub(entry, "updated", _stamp(item.day))
        _sub(entry, "category", term=item.kind, label=KINDS[item.kind])
        _sub(entry, "summary", item.summary or one_line(item.title), type="text")
    ET.indent(feed)
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True) + b"\n"
