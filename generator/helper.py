"""Evaluates the departure helper's rules: the one Python twin of helper.js.

Both follow the same contract: the first rule set whose applies_when holds is used; in it,
the first main rule whose conditions hold is the answer; every extra rule whose conditions
hold (they may name the main rule's id as `outcome`) is added after it.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import islice, product
from typing import TypedDict

from generator.models.helper import Helper, HelperQuestion, Rule


class Verdict(TypedDict):
    ruleset: str | None
    main: str | None
    extras: list[str]


def _holds(condition: dict[str, list[str]], answers: dict[str, str]) -> bool:
    return all(answers.get(key) in values for key, values in condition.items())


def evaluate(helper: Helper, answers: dict[str, str]) -> Verdict:
    """Which rule set applies to these answers, its main rule and its extra rules."""
    ruleset = next((r for r in helper.rulesets if _holds(r.applies_when, answers)), None)
    if ruleset is None:
        return {"ruleset": None, "main": None, "extras": []}
    rules = [r for r in helper.rules if r.ruleset == ruleset.id]
    main = next((r for r in rules if r.kind == "main" and _holds(r.when, answers)), None)
    facts = dict(answers, outcome=main.id if main else "")
    extras = [r.id for r in rules if r.kind == "extra" and _holds(r.when, facts)]
    return {"ruleset": ruleset.id, "main": main.id if main else None, "extras": extras}


def all_answers(helper: Helper) -> list[dict[str, str]]:
    ids = [q.id for q in helper.questions]
    choices = [[o.value for o in q.options] for q in helper.questions]
    return [dict(zip(ids, combo, strict=True)) for combo in product(*choices)]


def unanswered(helper: Helper, limit: int = 3) -> list[dict[str, str]]:
    """Up to `limit` combinations of answers for which the helper gives no main rule."""
    missing = (a for a in all_answers(helper) if evaluate(helper, a)["main"] is None)
    return list(islice(missing, limit))


def describe_condition(questions: list[HelperQuestion], rules: list[Rule],
                       condition: dict[str, list[str]]) -> str:
    """A condition in words, e.g. 预计在外多长时间：6 个月以上；在外的地点固定吗：地点相对固定
    (full-width punctuation: the text is shown between Chinese characters)."""
    if not condition:
        return "其他情形"
    by_id = {q.id: q for q in questions}
    outcomes = {r.id: r.outcome for r in rules}
    parts = []
    for key, values in condition.items():
        if key == "outcome":
            parts.append("办理结果为" + _either(f"“{outcomes.get(v, v)}”" for v in values))
            continue
        question = by_id[key]
        labels = {o.value: o.label for o in question.options}
        label = question.label.removesuffix("？")
        parts.append(label + "：" + _either(labels[v] for v in values))
    return "；".join(parts)


def _either(labels: Iterable[str]) -> str:
    """Alternatives joined by 或, spaced before a number as the labels are (或 3 到 6 个月)."""
    out = ""
    for label in labels:
        if out:
            out += "或 " if label[:1].isascii() and label[:1].isalnum() else "或"
        out += label
    return out
