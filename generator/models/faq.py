"""Policy FAQ entries (政策问答): every answer names its basis and review date."""

from __future__ import annotations

import re

from generator.models.basis import Basis
from generator.models.common import IsoDate, Markdown, Ref, Strict, Text

# Answers published from the mailbox (forms_app/publish.py) are faq/mailbox-<id>.yaml; their
# question is a member's plain text and their answer is checked as member text.
MAILBOX_SLUG = re.compile(r"^mailbox-\d+$")


def is_mailbox(slug: str) -> bool:
    return bool(MAILBOX_SLUG.match(slug))


class FaqEntry(Strict):
    question: Text
    answer: Markdown
    # Answers from the mailbox: the member's own words (plain text, personal data removed);
    # `question` is then the short title an editor confirmed.
    letter: Text | None = None
    basis: Basis
    reviewed_on: IsoDate
    tags: list[Text] = []
    related: list[Ref] = []
