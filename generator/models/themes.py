"""Weekly themes (每周主题): a week, a topic, materials and discussion questions."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated

from pydantic import AfterValidator, Field

from generator.models.common import Markdown, Ref, Strict, Text


def _check_week(value: str) -> str:
    match = re.fullmatch(r"(\d{4})-W(\d{2})", value)
    if match:
        try:
            date.fromisocalendar(int(match[1]), int(match[2]), 1)
            return value
        except ValueError:
            pass
    raise ValueError("周次格式应为 年-W周，如 2026-W47")


class Material(Strict):
    ref: Ref
    note: Text | None = None


class Theme(Strict):
    week: Annotated[str, AfterValidator(_check_week)]
    topic: Text
    intro: Markdown
    materials: list[Material] = Field(min_length=1)
    questions: list[Text] = Field(min_length=1)

    @property
    def monday(self) -> date:
        year, week = self.week.split("-W")
        return date.fromisocalendar(int(year), int(week), 1)

    @property
    def sunday(self) -> date:
        year, week = self.week.split("-W")
        return date.fromisocalendar(int(year), int(week), 7)
