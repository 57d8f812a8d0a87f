"""The departure helper (外出前该办什么手续): questions and rules as editable data."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from generator.models.common import Markdown, Strict, Text


def _check_key(value: str) -> str:
    if not re.fullmatch(r"[a-z][a-z0-9_]*", value):
        raise ValueError("只能用小写英文字母、数字和下划线，且以字母开头")
    return value


Key = Annotated[str, AfterValidator(_check_key)]
# A condition: question id -> the answers (option values) for which it holds.
Condition = dict[Key, list[Key]]


class Option(Strict):
    value: Key
    label: Text


class HelperQuestion(Strict):
    id: Key
    label: Text
    hint: Text | None = None
    options: list[Option] = Field(min_length=2)


class RuleSet(Strict):
    id: Key
    name: Text
    basis: Text
    applies_when: Condition = {}


class Rule(Strict):
    id: Key
    ruleset: Key
    kind: Literal["main", "extra"]
    when: Condition = {}
    outcome: Text
    wording: Markdown
    basis: Text


class Helper(Strict):
    title: Text
    intro: Markdown
    questions: list[HelperQuestion] = Field(min_length=1)
    rulesets: list[RuleSet] = Field(min_length=1)
    rules: list[Rule] = Field(min_length=1)

    @model_validator(mode="after")
    def _references_resolve(self) -> Helper:
        options = {q.id: {o.value for o in q.options} for q in self.questions}
        ruleset_ids = {r.id for r in self.rulesets}
        main_ids = {r.id for r in self.rules if r.kind == "main"}
        problems: list[str] = []

        def check(where: str, condition: dict[str, list[str]], allow_outcome: bool) -> None:
            for key, values in condition.items():
                known = main_ids if (allow_outcome and key == "outcome") else options.get(key)
                if known is None:
                    problems.append(f"{where}: 没有 id 为 {key} 的问题")
                    continue
                for value in values:
                    if value not in known:
                        problems.append(f"{where}: {key} 没有选项 {value}")

        for ruleset in self.rulesets:
            check(f"规则集 {ruleset.id}", ruleset.applies_when, allow_outcome=False)
        seen: set[str] = set()
        for rule in self.rules:
            if rule.id in seen:
                problems.append(f"规则 id {rule.id} 重复")
            seen.add(rule.id)
            if rule.ruleset not in ruleset_ids:
                problems.append(f"规则 {rule.id}: 没有 id 为 {rule.ruleset} 的规则集")
            check(f"规则 {rule.id}", rule.when, allow_outcome=rule.kind == "extra")
        if problems:
            raise ValueError("; ".join(problems))
        return self
