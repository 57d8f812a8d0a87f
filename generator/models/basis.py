"""The basis registry (content/basis/ID.yaml): the source documents policy answers rest on,
each clause quoted, and the citations that point into it.

FAQ entries, guides and the helper's rules cite `doc` + `clause`; generator/checks.py
reports a citation of an unknown document or clause, and warns about a superseded one.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from generator.models.common import Slug, Strict, Text

# Kinds that bind only some members, or no one: an answer resting on one says so in its
# own words (checks: the answer names the document by its `cite_as`).
NAMED_IN_TEXT = ("学校规定", "地方做法", "本网站服务规则")
# Kinds whose clauses quote a source document (the others are this site's own words).
QUOTED = ("中央规定", "学校规定", "地方做法")


def _check_clause_id(value: str) -> str:
    if not re.fullmatch(r"[\w（）()]+(-[\w（）()]+)*", value):
        raise ValueError("条款编号只能用文字、数字、括号和连字符，如 使用-1、二（一）")
    return value


ClauseId = Annotated[str, AfterValidator(_check_clause_id)]


class Clause(Strict):
    id: ClauseId
    # How the page names the clause, e.g. 第二部分第（一）条; the id when absent.
    label: Text | None = None
    text: Text

    @property
    def name(self) -> str:
        return self.label or self.id


class BasisDoc(Strict):
    title: Text
    # The words an answer uses to name the document: 学校《流动党员管理工作暂行规定》.
    cite_as: Text
    issuer: Text
    date: Text  # as the source gives it: 1994年12月, or 未注明
    kind: Literal["中央规定", "学校规定", "地方做法", "本网站服务规则"]
    scope: Text  # whom it binds, in words a member understands
    # Where the quoted text comes from when it is not the document itself.
    source: Text | None = None
    status: Literal["in_force", "superseded"] = "in_force"
    superseded_by: Slug | None = None
    clauses: list[Clause] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> BasisDoc:
        problems = []
        seen: set[str] = set()
        for clause in self.clauses:
            if clause.id in seen:
                problems.append(f"条款编号 {clause.id} 重复")
            seen.add(clause.id)
        if self.status == "superseded" and not self.superseded_by:
            problems.append("status 为 superseded 时须用 superseded_by 写明取代它的文件")
        if self.status == "in_force" and self.superseded_by:
            problems.append("只有 status: superseded 的文件才写 superseded_by")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def clause(self, clause_id: str) -> Clause | None:
        return next((c for c in self.clauses if c.id == clause_id), None)


class Citation(Strict):
    """One clause an answer rests on: `doc` is a file name in content/basis/."""

    doc: Slug
    clause: ClauseId

    @model_validator(mode="before")
    @classmethod
    def _not_free_text(cls, value: object) -> object:
        if isinstance(value, str):  # the old form: a document's name as free text
            raise ValueError("依据应写成 content/basis/ 中的文件名和条款编号两项，"
                             "如 {doc: central-1994-card, clause: 使用-1}")
        return value


Basis = Annotated[list[Citation], Field(min_length=1)]
