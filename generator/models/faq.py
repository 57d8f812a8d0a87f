"""Policy FAQ entries (政策问答): every answer names its basis and review date."""

from __future__ import annotations

from pydantic import Field

from generator.models.common import IsoDate, Markdown, Ref, Strict, Text


class FaqEntry(Strict):
    question: Text
    answer: Markdown
    basis: list[Text] = Field(min_length=1)
    reviewed_on: IsoDate
    tags: list[Text] = []
    related: list[Ref] = []
