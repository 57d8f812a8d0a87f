"""Where each piece of content is rendered: the Markdown page of every reference."""

from __future__ import annotations

from generator.loader import Content
from generator.models.site import SECTIONS


def ref_page(ref: str) -> str:
    """The Markdown file a content reference (faq/dues, courses/law/wages) renders to."""
    parts = ref.split("/")
    if parts[0] == "courses":
        if len(parts) == 2:
            return f"courses/{parts[1]}/index.md"
        return f"courses/{parts[1]}/{parts[2]}.md"
    if parts[0] == "helper":
        return f"guides/{parts[1]}.md"
    return f"{parts[0]}/{parts[1]}.md"


def all_refs(content: Content) -> set[str]:
    """The reference of every valid item, and of every lesson of every course."""
    refs: set[str] = set()
    for kind, bucket in content.items.items():
        for slug, item in bucket.items():
            refs.add(f"{kind}/{slug}")
            if kind == "courses":
                refs.update(f"courses/{slug}/{lesson.slug}" for lesson in item.model.lessons)
    return refs


def all_pages(content: Content) -> set[str]:
    """Every Markdown page the renderer writes for this content."""
    sections = {"index.md"} | {f"{key}/index.md" for key in SECTIONS}
    return sections | {ref_page(ref) for ref in all_refs(content)}
