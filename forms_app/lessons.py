"""The site's lessons, for the study-log form: read from content/ and cached briefly."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from flask import current_app

from generator.build import DEFAULT_CONTENT
from generator.loader import load_content

CACHE_SECONDS = 60
OFFLINE_LABEL = "线下学习（不对应网上课程）"


@dataclass(frozen=True)
class Lesson:
    ref: str  # courses/<course>/<lesson>
    course: str  # the course's title
    number: int  # 1 for the course's first lesson
    title: str
    minutes: int = 0  # the lesson's estimated study time (约 N 分钟)

    @property
    def label(self) -> str:
        """课程 · 课, as lists of study logs show it."""
        return f"{self.course} · {self.title}"

    @property
    def short_label(self) -> str:
        """第N课 课名, under its course's heading in the lesson picker."""
        return f"第{self.number}课 {self.title}"

    @property
    def page(self) -> str:
        """The lesson's page on the site (served at the root of the host)."""
        return f"/{self.ref}.html"


def content_dir() -> Path:
    return Path(current_app.config.get("CONTENT_DIR") or DEFAULT_CONTENT)


def lesson_groups() -> list[tuple[str, list[Lesson]]]:
    """[(course title, [Lesson, ...]), ...] in course order."""
    cache = current_app.extensions.setdefault("dx_lessons", {})
    root = content_dir()
    hit = cache.get(root)
    if hit and time.monotonic() - hit[0] < CACHE_SECONDS:
        return hit[1]
    content, _ = load_content(root)
    groups: list[tuple[str, list[Lesson]]] = []
    courses = sorted(content.of("courses"), key=lambda c: (c.model.order, c.slug))
    for course in courses:
        groups.append((course.model.title, [
            Lesson(f"courses/{course.slug}/{lesson.slug}", course.model.title, n, lesson.title,
                   lesson.minutes)
            for n, lesson in enumerate(course.model.lessons, 1)]))
    cache[root] = (time.monotonic(), groups)
    return groups


def lesson(ref: str | None) -> Lesson | None:
    """The lesson with this reference, or None for offline study or an unknown one."""
    for _, lessons in lesson_groups():
        for item in lessons:
            if item.ref == ref:
                return item
    return None


def lesson_choices() -> list[tuple[str, str]]:
    """[(courses/<course>/<lesson>, 课程 · 课), ...] in course order; "" = offline study."""
    return [("", OFFLINE_LABEL)] + [(item.ref, item.label) for _, lessons in lesson_groups()
                                    for item in lessons]


def lesson_title(ref: str | None) -> str:
    found = lesson(ref)
    return found.label if found else ref or ""
