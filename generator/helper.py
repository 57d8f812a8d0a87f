"""Evaluates the departure helper's rules: the one Python twin of helper.js.

Both follow the same contract. A question is asked when its ask_when (one of them, given a
list) holds on the answers to the questions asked before it; an answer to a question not
asked is ignored, and while a question asked has no answer there is no result, only the list
of what is `missing` (an answer is never assumed). Then the first rule set whose
applies_when holds is used; in it, the first main rule whose conditions hold is the answer;
every extra rule whose conditions hold (they may name the main rule's id as `outcome`) is
added after it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypedDict

from generator.models.helper import Helper, HelperQuestion, Rule


class Verdict(TypedDict):
    ruleset: str | None
    main: str | None
    extras: list[str]
    missing: list[str]


def _holds(condition: dict[str, list[str]], answers: dict[str, str]) -> bool:
    return all(answers.get(key) in values for key, values in condition.items())


def _asks(question: HelperQuestion, given: dict[str, str]) -> bool:
    return any(_holds(condition, given) for condition in question.ask_conditions)


def asked(helper: Helper, answers: dict[str, str]) -> list[str]:
    """The ids of the questions these answers lead to, in the order they are asked."""
    ids: list[str] = []
    given: dict[str, str] = {}
    for question in helper.questions:
        if _asks(question, given):
            ids.append(question.id)
            if answers.get(question.id):
                given[question.id] = answers[question.id]
    return ids


def evaluate(helper: Helper, answers: dict[str, str]) -> Verdict:
    """Which rule set applies to these answers, its main rule and its extra rules; or,
    while a question asked has no answer, no result and the questions `missing`."""
    questions = asked(helper, answers)
    missing = [q for q in questions if not answers.get(q)]
    if missing:
        return {"ruleset": None, "main": None, "extras": [], "missing": missing}
    answers = {q: answers[q] for q in questions}
    ruleset = next((r for r in helper.rulesets if _holds(r.applies_when, answers)), None)
    if ruleset is None:
        return {"ruleset": None, "main": None, "extras": [], "missing": []}
    rules = [r for r in helper.rules if r.ruleset == ruleset.id]
    main = next((r for r in rules if r.kind == "main" and _holds(r.when, answers)), None)
    facts = dict(answers, outcome=main.id if main else "")
    extras = [r.id for r in rules if r.kind == "extra" and _holds(r.when, facts)]
    return {"ruleset": ruleset.id, "main": main.id if main else None, "extras": extras,
            "missing": []}


def all_answers(helper: Helper) -> list[dict[str, str]]:
    """Every way through the questions: one answer to each question asked, nothing else."""
    paths: list[dict[str, str]] = []

    def walk(start: int, given: dict[str, str]) -> None:
        for n in range(start, len(helper.questions)):
            question = helper.questions[n]
            if _asks(question, given):
                for option in question.options:
                    walk(n + 1, dict(given, **{question.id: option.value}))
                return
        paths.append(given)

    walk(0, {})
    return paths


def coverage(helper: Helper, limit: int = 3) -> tuple[list[dict[str, str]], list[str]]:
    """One walk through every way through the questions: up to `limit` of those that get
    no main rule, and the ids of the rules no way ever reaches (a condition that can never
    hold, or a main rule always taken by one before it)."""
    missing: list[dict[str, str]] = []
    used: set[str] = set()
    for answers in all_answers(helper):
        verdict = evaluate(helper, answers)
        if verdict["main"] is None and len(missing) < limit:
            missing.append(answers)
        used.update([verdict["main"] or "", *verdict["extras"]])
    return missing, [rule.id for rule in helper.rules if rule.id not in used]


def unanswered(helper: Helper, limit: int = 3) -> list[dict[str, str]]:
    """Up to `limit` combinations of answers for which the helper gives no main rule."""
    return coverage(helper, limit)[0]


def unused_rules(helper: Helper) -> list[str]:
    """Ids of the rules no way through the questions ever reaches."""
    return coverage(helper)[1]


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

