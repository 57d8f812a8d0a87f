"""What an answered question will show on the public FAQ: the question and the answer with
personal data removed (forms_app/pii.py), as an editor confirmed them.

Nothing of a question is published until an editor has seen the text that will be public,
with what was removed marked, picked the clauses the answer rests on (forms_app/basis_pick.py)
and confirmed it. The confirmed text and clauses are kept on the item (public_question,
public_answer, public_basis) and are what Publish exports.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import update
from sqlalchemy.orm import Session

from forms_app import audit, basis_pick, pii
from forms_app.forms import PublicTextForm
from forms_app.models import Submission, utcnow
from generator.plaintext import one_line, short_title, visible


class Conflict(Exception):
    """The item changed since the editor loaded it; nothing was written."""


def _normal(text: str | None) -> str:
    return visible(text or "").replace("\r\n", "\n").strip()


def own_words(item: Submission) -> list[str]:
    """What the asker told us about themselves, to be removed wherever it is typed again."""
    return [value for value in (item.name, item.branch, item.contact)
            if value and len(value.strip()) >= 2]


# An editor's answer may give the branch's or the service centre's own office number: a
# landline or a hotline stays in the answer (the member's own numbers are mobiles, or are
# in their name, branch and contact fields, which are removed everywhere).
OFFICE_NUMBERS = {"landline", "hotline"}


def _marked(text: str, names: list[str], keep: set[str] = frozenset()
            ) -> list[tuple[str, pii.Finding | None]]:
    return [(piece, found if found and found.kind not in keep else None)
            for piece, found in pii.marked(text, names)]


def _scrubbed(marked: list[tuple[str, pii.Finding | None]]) -> str:
    return "".join(f"［已隐去{found.label}］" if found else piece for piece, found in marked)


_SENTENCE = re.compile(r"[^。！？!?\n]*[？?]")


def suggest_title(question: str) -> str:
    """A short title for the FAQ: the member's last question sentence, else their first
    words (in the scrubbed text, so it holds nothing personal)."""
    asked = [s.strip(" ，,：:") for s in _SENTENCE.findall(question) if "已隐去" not in s]
    return short_title(asked[-1] if asked else question)


@dataclass(frozen=True)
class Proposal:
    title: str
    question: str
    answer: str
    question_marked: list[tuple[str, pii.Finding | None]]
    answer_marked: list[tuple[str, pii.Finding | None]]
    title_marked: list[tuple[str, pii.Finding | None]]

    @property
    def removed(self) -> int:
        return sum(1 for _, found in self.question_marked + self.answer_marked
                   + self.title_marked if found)


def propose(item: Submission, question: str | None = None, answer: str | None = None,
            title: str | None = None) -> Proposal:
    """The public text for item (or for the editor's edited text), scrubbed, with what
    was removed marked in the original."""
    names = own_words(item)
    question = _normal(question if question is not None else item.public_question or item.body)
    answer = _normal(answer if answer is not None else item.public_answer or item.answer)
    question_marked = _marked(question, names)
    answer_marked = _marked(answer, names, keep=OFFICE_NUMBERS)
    public_question = _scrubbed(question_marked)
    title = one_line(title if title is not None else item.public_title or "")
    title_marked = _marked(title, names) if title else []
    # (a title with personal data is scrubbed too; 原文 shows the member's own words only)
    return Proposal(_scrubbed(title_marked) if title else suggest_title(public_question),
                    public_question, _scrubbed(answer_marked),
                    question_marked, answer_marked, title_marked)


def panel(item: Submission, public: PublicTextForm | None = None
          ) -> tuple[Proposal | None, PublicTextForm | None]:
    """The 公开前核对 panel of an answered question its asker allowed to publish: the
    proposal and its form (the editor's posted form, when it has errors, as posted)."""
    if not (item.kind == "question" and item.state in ("answered", "published")
            and item.allow_publish and item.personal_erased_at is None):
        return None, None
    if public is not None and public.errors:
        return propose(item), public
    proposal = propose(item, public.question.data if public else None,
                       public.answer.data if public else None,
                       public.title.data if public else None)
    form = PublicTextForm(formdata=None, version=item.version, title=proposal.title,
                          question=proposal.question, answer=proposal.answer,
                          basis=public.basis.data if public
                          else basis_pick.values(item.public_basis))
    return proposal, form


def confirm(session: Session, item: Submission, version: int, title: str, question: str,
            answer: str, basis: list[dict[str, str]], editor: str, ip: str | None) -> None:
    """Keep the confirmed public text (scrubbed once more) and the clauses it rests on,
    and record who confirmed them."""
    if not basis:  # the form refuses this first; nothing is published without a basis
        raise ValueError("no basis picked")
    proposal = propose(item, question, answer, title)
    result = session.execute(
        update(Submission)
        .where(Submission.id == item.id, Submission.version == version,
               Submission.state == "answered", Submission.allow_publish.is_(True),
               Submission.personal_erased_at.is_(None))
        .values(public_title=proposal.title, public_question=proposal.question,
                public_answer=proposal.answer, public_basis=basis_pick.to_json(basis),
                public_confirmed_at=utcnow(),
                publish_error=None, version=version + 1, updated_at=utcnow())
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        session.rollback()
        raise Conflict(item.id)
    audit.record(session, editor, "confirm_public", ip=ip, item=item)
    session.commit()
    session.refresh(item)
