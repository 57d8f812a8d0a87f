"""Party-affairs guides (党务指南)."""

from __future__ import annotations

from pydantic import Field

from generator.models.common import IsoDate, Markdown, Ref, Strict, Text


class Guide(Strict):
    title: Text
    summary: Text
    order: int = 100
    body: Markdown
    basis: list[Text] = Field(min_length=1)
    reviewed_on: IsoDate
    related: list[Ref] = []
