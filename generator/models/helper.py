"""The departure helper (外出前该办什么手续): questions and rules as editable data."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from generator.models.basis import Basis
from generator.models.common import Markdown, Slug, Strict, Text


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
    # The answer in the member's own summary (向支部提问): 外出原因, 在外时间.
    short: Text | None = None
    hint: Text | None = None
    options: list[Option] = Field(min_length=2)
    # Asked only when the answers to earlier questions meet this condition (or, given a
    # list, any one of them); a question not asked has no answer, and no rule may take one
    # for granted.
    ask_when: Condition | list[Condition] = {}

    @property
    def ask_conditions(self) -> list[dict[str, list[str]]]:
        return self.ask_when if isinstance(self.ask_when, list) else [self.ask_when]


class RuleSet(Strict):
    id: Key
    name: Text
    docs: list[Slug] = Field(min_length=1)  # files in content/basis/
    applies_when: Condition = {}


class Rule(Strict):
    id: Key
    ruleset: Key
    kind: Literal["main", "extra"]
    when: Condition = {}
    outcome: Text
    wording: Markdown
    basis: Basis
    # What to do next, for a main rule: which document to ask for and who issues it.
    next_step: Text | None = None


class Helper(Strict):
    title: Text
    intro: Markdown  # before the questions: short, a phone shows the first question soon
    notes: Markdown | None = None  # above the rule cards: which rule set is whose
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

        order = {q.id: n for n, q in enumerate(self.questions)}
        for n, question in enumerate(self.questions):
            if not question.ask_conditions:
                problems.append(f"问题 {question.id} 的 ask_when 是空列表；"
                                "总要问的问题不写 ask_when")
            for condition in question.ask_conditions:
                check(f"问题 {question.id} 的 ask_when", condition, allow_outcome=False)
            later = [k for c in question.ask_conditions for k in c if order.get(k, -1) >= n]
            if later:
                problems.append(f"问题 {question.id} 的 ask_when 只能取决于它前面的问题，"
                                f"不能取决于 {'、'.join(later)}")
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
            if rule.kind == "main" and not rule.next_step:
                problems.append(f"规则 {rule.id}: 主规则须写 next_step（下一步怎么办）")
        if problems:
            raise ValueError("; ".join(problems))
        return self
