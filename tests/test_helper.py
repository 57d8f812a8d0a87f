"""The departure helper: the Python rules and the page's script agree, case by case."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from generator.build import DEFAULT_CONTENT, BuildResult
from generator.helper import all_answers, evaluate, unanswered
from generator.loader import load_file
from generator.models.helper import Helper

BASE = {"rules_for": "general", "reason": "work", "months": "gte6", "fixed_place": "yes",
        "can_return": "no", "group": "no", "destination_org": "sound", "probationary": "full"}

# (answers that differ from BASE, rule set, main rule, extra rules)
CASES = [
    ({"months": "lt3"}, "central", "c_card", ["c_card_duty"]),
    ({"reason": "short_trip", "months": "m3to6"}, "central", "c_letter", []),
    ({"reason": "short_trip", "months": "lt3", "fixed_place": "no"}, "central", "c_letter", []),
    ({}, "central", "c_transfer", ["c_to_unit"]),
    ({"destination_org": "weak"}, "central", "c_transfer", ["c_to_upper"]),
    ({"destination_org": "unknown"}, "central", "c_transfer", ["c_to_talent"]),
    ({"fixed_place": "no", "can_return": "yes"}, "central", "c_home", []),
    ({"fixed_place": "no", "group": "yes"}, "central", "c_card", ["c_group", "c_card_duty"]),
    ({"reason": "retired", "probationary": "probationary"}, "central", "c_transfer",
     ["c_to_unit", "c_probationary"]),
    ({"rules_for": "school", "months": "m3to6"}, "school", "s_letter", ["s_report"]),
    ({"rules_for": "school"}, "school", "s_transfer", []),
    # Where the two documents differ: no sound organisation at the destination.
    ({"rules_for": "school", "destination_org": "weak"}, "school", "s_card",
     ["s_unclear", "s_report"]),
    ({"rules_for": "school", "reason": "graduate", "fixed_place": "no"}, "school",
     "s_graduate", ["s_graduate_card"]),
    ({"rules_for": "school", "reason": "retired", "months": "lt3"}, "school", "s_retired", []),
    ({"rules_for": "school", "months": "lt3"}, "school", "s_short", ["s_report"]),
    ({"rules_for": "school", "reason": "short_trip", "months": "m3to6", "fixed_place": "no"},
     "school", "s_card", ["s_report"]),
    ({"rules_for": "school", "group": "yes", "probationary": "probationary"}, "school",
     "s_transfer", ["s_group", "s_probationary"]),
]


@pytest.fixture(scope="module")
def helper() -> Helper:
    item, problems = load_file(DEFAULT_CONTENT / "helper" / "departure-helper.yaml", Helper)
    assert problems == [] and item is not None
    return item.model


def _cases() -> Iterator[tuple[dict[str, str], str, str, list[str]]]:
    for diff, ruleset, main, extras in CASES:
        yield dict(BASE, **diff), ruleset, main, extras


@pytest.mark.parametrize(("answers", "ruleset", "main", "extras"), list(_cases()))
def test_python_rules(helper: Helper, answers, ruleset, main, extras):
    assert evaluate(helper, answers) == {"ruleset": ruleset, "main": main, "extras": extras}


def test_every_answer_gets_a_main_rule(helper: Helper):
    assert len(all_answers(helper)) == 2 * 4 * 3 * 2 * 2 * 2 * 3 * 2
    assert unanswered(helper) == []


def test_page_script_agrees_with_python_on_every_answer(helper: Helper, browser, site_url):
    page = browser.new_page()
    page.goto(f"{site_url}/guides/departure-helper.html")
    every = all_answers(helper)
    from_js = page.evaluate(
        "(all) => all.map((a) => window.dxHelperEvaluate(window.dxHelperRules, a))", every)
    from_py = [evaluate(helper, answers) for answers in every]
    assert from_js == from_py
    page.close()


def test_member_answers_and_reads_the_rule(browser, site_url):
    page = browser.new_page(viewport={"width": 360, "height": 740}, locale="zh-CN")
    requests: list[str] = []
    errors: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{site_url}/guides/departure-helper.html")
    page.get_by_label("学校(本校教职工、学生和毕业生)".replace("(", "\uff08").replace(")", "\uff09")).check()
    page.get_by_label("6 个月以上").check()
    page.get_by_label("没有党组织", exact=False).check()
    page.get_by_role("button", name="看看该办什么").click()
    result = page.locator("#dx-helper-result")
    assert "领取《流动党员活动证》" in result.inner_text()
    assert "去向单位没有党组织时与中央规定的不同" in result.inner_text()
    assert "按“学校《流动党员管理工作暂行规定》”判断" in result.inner_text()
    page.get_by_label("农村、社区、机关、企事业单位等").check()
    page.get_by_role("button", name="看看该办什么").click()
    assert "转移正式组织关系" in result.inner_text()
    assert "上级主管部门或所在地街道、乡镇党组织" in result.inner_text()
    assert "中央组织部关于党员流动中组织关系管理" in result.inner_text()
    assert errors == []
    assert all(url.startswith(site_url) for url in requests), requests
    page.close()


def test_without_javascript_the_rules_are_cards(browser, site_url, sample_site: BuildResult,
                                               helper: Helper):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{site_url}/guides/departure-helper.html")
    assert not page.locator("#dx-helper").is_visible()
    assert page.locator("table").count() == 0
    cards = page.locator(".dx-rule")
    assert cards.count() == len(helper.rules)
    text = "\n".join(cards.all_inner_texts())
    assert "开具党员证明信" in text and "转移正式组织关系" in text and "另外" in text
    context.close()
