"""Markdown written by members, made safe: rendered only through nh3's allow-list.

Used by the forms app (preview, queue) and by the generator for voices, so an article is
sanitized again on every build even if its YAML was edited by hand.
"""

from __future__ import annotations

import re

import markdown
import nh3

# No images (they would load from other hosts), no raw HTML beyond simple formatting.
TAGS = {"p", "br", "strong", "em", "b", "i", "blockquote", "ul", "ol", "li", "code", "pre",
        "h2", "h3", "h4", "hr", "a", "del"}
ATTRIBUTES = {"a": {"href", "title"}}
URL_SCHEMES = {"http", "https", "mailto"}


def render_markdown(text: str) -> str:
    """Safe HTML for a member's Markdown: scripts, handlers, iframes and javascript: gone."""
    html = markdown.markdown(text or "", extensions=["sane_lists"], output_format="html")
    return nh3.clean(html, tags=TAGS, attributes=ATTRIBUTES, url_schemes=URL_SCHEMES,
                     link_rel="nofollow noopener noreferrer", strip_comments=True)


_LINK_TARGET = re.compile(r"\]\(\s*<?([a-zA-Z][a-zA-Z0-9+.\-]*):")


def _keep_safe_scheme(match: re.Match[str]) -> str:
    return match[0] if match[1].lower() in URL_SCHEMES else "](#"


def neutral_markdown(text: str) -> str:
    """The member's Markdown with raw HTML shown as text and unsafe link schemes dropped,
    for the exported YAML: it reads the same but holds nothing a browser would run."""
    text = text.replace("\r\n", "\n").replace("<", "&lt;")
    return _LINK_TARGET.sub(_keep_safe_scheme, text)
