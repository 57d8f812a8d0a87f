"""Citations resolved against the basis registry, and the 依据 block every answer shows.

A page shows, under its answer, each document it rests on (name, kind, date, whom it
binds) with the clauses it cites quoted, folded so a phone shows one line per clause.
The same data, as JSON, lets the helper's script show the basis of the rule it picked.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from html import escape
from typing import Any

from generator.loader import Item
from generator.models.basis import BasisDoc, Citation, Clause


@dataclass
class CitedDoc:
    id: str
    doc: BasisDoc
    clauses: list[Clause] = field(default_factory=list)


def resolve(registry: Mapping[str, Item], citations: Iterable[Citation]) -> list[CitedDoc]:
    """The cited documents in the order first cited, each with its cited clauses in order.
    Citations that do not resolve are left out (`dangxiao check` reports them)."""
    found: dict[str, CitedDoc] = {}
    for citation in citations:
        item = registry.get(citation.doc)
        clause = item.model.clause(citation.clause) if item is not None else None
        if item is None or clause is None:
            continue
        cited = found.setdefault(citation.doc, CitedDoc(citation.doc, item.model))
        if clause not in cited.clauses:
            cited.clauses.append(clause)
    return list(found.values())


def doc_heading(doc: BasisDoc) -> str:
    """How a page names the document: its `cite_as` when that holds a title, else its title."""
    if "《" in doc.cite_as:
        return doc.cite_as
    return doc.title if doc.kind == "本网站服务规则" else f"《{doc.title}》"


def basis_html(registry: Mapping[str, Item], citations: Iterable[Citation],
               superseded_names: Mapping[str, str] | None = None) -> str:
    """The 依据 list as HTML: escaped text only, no Markdown inside."""
    parts = ['<ul class="dx-cites">']
    for cited in resolve(registry, citations):
        doc = cited.doc
        status = ""
        if doc.status == "superseded":
            newer = (superseded_names or {}).get(doc.superseded_by or "", doc.superseded_by)
            status = f'<span class="dx-cite-old">已被{escape(str(newer))}取代</span>'
        heading = doc_heading(doc)
        kind = (f'<span class="dx-cite-kind">{escape(doc.kind)}</span>'
                if heading != doc.kind else "")
        parts.append(
            '<li class="dx-cite">'
            f'<p class="dx-cite-doc"><strong>{escape(heading)}</strong>{kind}{status}</p>'
            f'<p class="dx-cite-scope">{escape(doc.date)}。适用范围：{escape(doc.scope)}</p>')
        clauses = cited.clauses
        names = f"{len(clauses)} 条" if len(clauses) > 3 else "、".join(c.name for c in clauses)
        parts.append(f'<details class="dx-clause"><summary>原文：{escape(names)}</summary>')
        if doc.source:
            parts.append(f'<p class="dx-cite-source">{escape(doc.source)}</p>')
        for clause in clauses:
            if len(clauses) > 1:  # one clause is named by the summary already
                parts.append(f'<p class="dx-clause-name">{escape(clause.name)}</p>')
            parts.append(f'<blockquote>{escape(clause.text)}</blockquote>')
        parts.append("</details>")
        parts.append("</li>")
    parts.append("</ul>")
    return "".join(parts)


def basis_json(registry: Mapping[str, Item],
               citations: Iterable[Citation]) -> dict[str, dict[str, Any]]:
    """The cited documents as data for the helper's script, by file name, each with the
    cited clauses by id."""
    return {c.id: {"heading": doc_heading(c.doc), "kind": c.doc.kind, "date": c.doc.date,
                   "scope": c.doc.scope, "source": c.doc.source,
                   "clauses": {clause.id: {"name": clause.name, "text": clause.text}
                               for clause in c.clauses}}
            for c in resolve(registry, citations)}
