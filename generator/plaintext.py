"""Plain text (titles, authors, questions, summaries) made safe for each place MkDocs puts it.

MkDocs and Material write page titles unescaped into the header, the navigation, the
footer and `<title>` (through `striptags`, which decodes entities again), so an escaped
`&lt;script&gt;` would become a tag there. Titles therefore reach MkDocs without any of the
five characters HTML gives meaning to: they are swapped for their full-width forms, which
read the same in a Chinese page and mean nothing to a browser. Text inside Markdown is
also escaped for Markdown, so `[点我](javascript:…)` or `{: onclick=… }` stay text.
"""

from __future__ import annotations

import html
import re

# Controls, zero-width and direction marks: invisible, and never wanted in a title.
_INVISIBLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e"
                        "\u2060-\u2064\ufeff]")
_SPACES = re.compile(r"[\s\u3000]+")
_FULL_WIDTH = str.maketrans({"<": "＜", ">": "＞", '"': "＂", "'": "＇"})
# An ampersand that could start a character reference (`&lt;`, `&amp`, `&#60`), which an
# HTML parser or Jinja's striptags would decode; "打工 & 学习" keeps its ampersand.
_ENTITY_START = re.compile(r"&(?=[#A-Za-z0-9])")
# What looks like an HTML tag in a one-line title is dropped: `<b>我的</b>日记` reads 我的日记.
_TAG = re.compile(r"</?[A-Za-z][^<>]*>")
# Characters Python-Markdown (with the site's extensions) reads as syntax after a backslash.
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|])")
SHORT_TITLE = 40


def visible(text: str) -> str:
    """The text without invisible characters; what a person would call empty is ''."""
    return _INVISIBLE.sub("", text or "")


def one_line(text: str) -> str:
    """Invisible characters dropped, every run of spaces and line breaks one space."""
    return _SPACES.sub(" ", visible(text)).strip()


def display_title(text: str) -> str:
    """A member's title as every page shows it (the preview too): one line, tags dropped."""
    return one_line(_TAG.sub("", text or "")) or one_line(text)


def safe_title(text: str) -> str:
    """A title as MkDocs may write it anywhere: one line, no HTML-significant characters
    (what is left of < > " ' and an entity-like & in their full-width forms)."""
    return _ENTITY_START.sub("＆", display_title(text).translate(_FULL_WIDTH))


def short_title(text: str, limit: int = SHORT_TITLE) -> str:
    """safe_title cut to limit characters, with an ellipsis when something was cut."""
    title = safe_title(text)
    return title if len(title) <= limit else title[:limit - 1].rstrip() + "…"


def md_text(text: str) -> str:
    """Plain text for a Markdown context (a heading, a list item, a table cell): shown
    exactly as written, with no Markdown or HTML meaning."""
    return html.escape(_MARKDOWN.sub(r"\\\1", one_line(text)), quote=False)


def title_md(text: str) -> str:
    """A title inside Markdown, the same text the navigation shows."""
    return md_text(safe_title(text))


def plain_html(text: str) -> str:
    """Multi-line plain text as one line of HTML (paragraphs and line breaks), for a raw
    HTML block that Markdown leaves alone."""
    paragraphs = re.split(r"\n[ \t\u3000]*\n", visible(text).replace("\r\n", "\n").strip())
    return "".join("<p>" + "<br>".join(html.escape(line.strip()) for line in p.split("\n")
                                       if line.strip()) + "</p>"
                   for p in paragraphs if p.strip())
