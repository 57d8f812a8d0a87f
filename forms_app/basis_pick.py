"""The basis an editor picks for an answer published from the mailbox: clauses of the
source documents in content/basis/ (generator/models/basis.py), stored on the item as JSON
(`public_basis`) and exported as the FAQ entry's `basis:` (forms_app/publish.py).

The registry is read from the app's content folder and read again whenever a file in
content/basis/ changes (its name, size or modification time), so an editor who adds a
document sees it on the next page load, without a restart.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from flask import current_app

from forms_app.lessons import content_dir
from generator.loader import content_files, load_basis
from generator.markup import member_markdown
from generator.models.basis import NAMED_IN_TEXT

# Documents in this order of kinds: what binds every member first.
KIND_ORDER = ("中央规定", "学校规定", "地方做法", "本网站服务规则")
# A clause's text beside its checkbox: whole up to WHOLE characters, else its first EXCERPT.
WHOLE, EXCERPT = 50, 40
SEPARATOR = ":"  # doc:clause in a checkbox's value; neither a file name nor an id has one

NONE_PICKED = "请选择答复所依据的条款（至少一条）"
UNKNOWN_PICKED = "所选条款不在依据文件库中（文件可能刚被修改），请重新勾选。"


@dataclass(frozen=True)
class Clause:
    doc: str
    id: str
    name: str  # its label, or its id
    text: str

    @property
    def value(self) -> str:
        return f"{self.doc}{SEPARATOR}{self.id}"

    @property
    def excerpt(self) -> str:
        return self.text if len(self.text) <= WHOLE else self.text[:EXCERPT] + "…"


@dataclass(frozen=True)
class Document:
    slug: str
    title: str
    kind: str
    cite_as: str
    superseded_by: str | None
    clauses: tuple[Clause, ...]

    @property
    def heading(self) -> str:
        """关于试行《流动党员活动证》制度的通知（中央规定）"""
        heading = self.title if self.kind == self.title else f"{self.title}（{self.kind}）"
        return heading + ("（已被取代）" if self.superseded_by else "")

    @property
    def named_in_text(self) -> bool:
        """Whether an answer resting on it must name it (generator/checks.py warns)."""
        return self.kind in NAMED_IN_TEXT


def _signature(folder: Path) -> tuple:
    files = content_files(folder) if folder.is_dir() else []
    return tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in files)


def documents() -> list[Document]:
    """The valid documents of the registry, central rules first; cached until a file
    of content/basis/ changes. A file that fails validation is left out (`dangxiao check`
    reports it)."""
    root = content_dir()
    signature = _signature(root / "basis")
    cache = current_app.extensions.setdefault("dx_basis", {})
    hit = cache.get(root)
    if hit and hit[0] == signature:
        return hit[1]
    registry, _, _ = load_basis(root)
    docs = [Document(slug, item.model.title, item.model.kind, item.model.cite_as,
                     item.model.superseded_by,
                     tuple(Clause(slug, c.id, c.name, c.text) for c in item.model.clauses))
            for slug, item in registry.items()]
    docs.sort(key=lambda d: (bool(d.superseded_by), KIND_ORDER.index(d.kind)
                             if d.kind in KIND_ORDER else len(KIND_ORDER), d.slug))
    cache[root] = (signature, docs)
    return docs


def _clauses() -> dict[str, Clause]:
    return {c.value: c for d in documents() for c in d.clauses}


def problem(values: list[str]) -> str | None:
    """Why the posted checkbox values cannot be stored, or None."""
    values = [v for v in values if v]
    if not values:
        return NONE_PICKED
    known = _clauses()
    if any(v not in known for v in values):
        return UNKNOWN_PICKED
    return None


def citations(values: list[str]) -> list[dict[str, str]]:
    """[{"doc", "clause"}, ...] for valid posted values: in the registry's order, each
    once; values not in the registry are dropped (problem() refuses them first)."""
    chosen = set(values)
    return [{"doc": c.doc, "clause": c.id} for c in _clauses().values() if c.value in chosen]


def to_json(cited: list[dict[str, str]]) -> str:
    return json.dumps(cited, ensure_ascii=False)


def stored(text: str | None) -> list[dict[str, str]]:
    """The citations kept on an item (public_basis), [] when none were picked."""
    if not text:
        return []
    try:
        data = json.loads(text)
    except ValueError:
        return []
    return [{"doc": str(c["doc"]), "clause": str(c["clause"])} for c in data
            if isinstance(c, dict) and "doc" in c and "clause" in c]


def values(text: str | None) -> list[str]:
    """The checkbox values of the stored citations, to show them ticked."""
    return [f"{c['doc']}{SEPARATOR}{c['clause']}" for c in stored(text)]


def hints(values: list[str], answer: str | None) -> list[str]:
    """A note for each picked document whose kind binds only some members (a school's
    rules, a local practice, this site's rules) and that the answer does not name yet:
    `dangxiao check` warns about such an answer; the editor may still confirm it."""
    chosen = {v.partition(SEPARATOR)[0] for v in values}
    text = member_markdown(answer or "")  # the answer as Publish writes it
    return [f"依据{d.kind}的答复，请在答复中写明“{d.cite_as}”"
            for d in documents()
            if d.slug in chosen and d.named_in_text and d.cite_as not in text]


@dataclass(frozen=True)
class Picker:
    """What the 公开前核对 form shows for the basis: documents, ticked clauses, notes."""

    docs: list[Document]
    chosen: frozenset[str]
    hints: list[str]

    def picked_in(self, doc: Document) -> int:
        return sum(1 for c in doc.clauses if c.value in self.chosen)


def picker(values: list[str], answer: str | None) -> Picker:
    return Picker(documents(), frozenset(values), hints(values, answer))
