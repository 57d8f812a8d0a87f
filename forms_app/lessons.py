"""The site's lessons, for the study-log form: read from content/ and cached briefly."""

from __future__ import annotations

import time
from pathlib import Path

from flask import current_app

from generator.build import DEFAULT_CONTENT
from generator.loader import load_content

CACHE_SECONDS = 60


def content_dir() -> Path:
    return Path(current_app.config.get("CONTENT_DIR") or DEFAULT_CONTENT)


def lesson_choices() -> list[tuple[str, str]]:
    """[(courses/<course>/<lesson>, 课程 · 课), ...] in course order; "" = offline study."""
    cache = current_app.extensions.setdefault("dx_lessons", {})
    root = content_dir()
    hit = cache.get(root)
    if hit and time.monotonic() - hit[0] < CACHE_SECONDS:
        return hit[1]
    content, _ = load_content(root)
    choices: list[tuple[str, str]] = [("", "（线下学习，不对应网上课程）")]
    courses = sorted(content.of("courses"), key=lambda c: (c.model.order, c.slug))
    for course in courses:
        for lesson in course.model.lessons:
            choices.append((f"courses/{course.slug}/{lesson.slug}",
                            f"{course.model.title} · {lesson.title}"))
    cache[root] = (time.monotonic(), choices)
    return choices


def lesson_title(ref: str | None) -> str:
    return dict(lesson_choices()).get(ref or "", ref or "")
