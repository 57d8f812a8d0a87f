"""Party-affairs guides (党务指南)."""

from __future__ import annotations

from generator.models.basis import Basis
from generator.models.common import IsoDate, Markdown, Ref, Strict, Text


class Guide(Strict):
    title: Text
    summary: Text
    order: int = 100
    body: Markdown
    basis: Basis
    reviewed_on: IsoDate
    related: list[Ref] = []
