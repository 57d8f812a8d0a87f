"""The departure helper: situations read from the seed documents, the instrument and rule
set each must get, in Python and by tapping through the page in Chromium; the page's
script and the Python rules agree on every way through the questions."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from generator.build import DEFAULT_CONTENT
from generator.helper import all_answers, asked, evaluate, unanswered, unused_rules
from generator.loader import load_file
from generator.models.helper import Helper
from tests.conftest import PHONE

CENTRAL = "中央组织部的两份规定（1994年）"
SCHOOL = "学校《流动党员管理工作暂行规定》"
LETTER = "开具党员证明信"
CARD = "领取《流动党员活动证》"
TRANSFER = "转移正式组织关系"
HOME = "仍在原单位参加组织生活"
GROUP = "建立临时党支部或党小组"
ASK_BRANCH = "出发前向党支部问清楚"


ORDER = ["rules_for", "reason", "months", "fixed_place", "can_return", "group",
         "destination_org", "probationary"]


def _in_order(answers: dict[str, str]) -> dict[str, str]:
    return {key: answers[key] for key in ORDER if key in answers}


def g(**answers: str) -> dict[str, str]:
    """A member whose relationship is with a village, community, office or company."""
    return _in_order({"rules_for": "general", "probationary": "full", **answers})


def s(**answers: str) -> dict[str, str]:
    """A member of the school whose interim rules the seeds hold."""
    return _in_order({"rules_for": "school", "probationary": "full", **answers})


# (situation, answers to every question asked, rule set, the instrument, extra rules)
# Written from the seeds: the central rules are the 1994 card notice's use list and the
# transfer rules as summarised; the school's are its interim rules, part by part.
SITUATIONS = [
    ("务工两个月，地点固定：短期外出用活动证（使用）",
     g(reason="work", months="lt3", fixed_place="yes", group="no"), CENTRAL, CARD,
     ["c_card_duty"]),
    ("务工四个月，地点固定", g(reason="work", months="m3to6", fixed_place="yes", group="no"),
     CENTRAL, CARD, ["c_card_duty"]),
    ("跑运输四个月，常回村：例外（3）",
     g(reason="work", months="m3to6", fixed_place="no", can_return="yes", group="no"),
     CENTRAL, HOME, []),
    ("打零工一个月，不固定也不常回",
     g(reason="work", months="lt3", fixed_place="no", can_return="no", group="no"),
     CENTRAL, CARD, ["c_card_duty"]),
    ("进厂一年，单位党组织健全：例外（2）与转移规定",
     g(reason="work", months="gte6", fixed_place="yes", group="no", destination_org="sound"),
     CENTRAL, TRANSFER, ["c_to_unit"]),
    ("进厂一年，单位党组织不健全",
     g(reason="work", months="gte6", fixed_place="yes", group="no", destination_org="weak"),
     CENTRAL, TRANSFER, ["c_to_upper"]),
    ("外出一年，还没落实工作单位：人才流动服务机构",
     g(reason="work", months="gte6", fixed_place="yes", group="no", destination_org="no_unit"),
     CENTRAL, TRANSFER, ["c_to_talent"]),
    ("外出一年，还不清楚单位情况",
     g(reason="work", months="gte6", fixed_place="yes", group="no", destination_org="unknown"),
     CENTRAL, TRANSFER, ["c_to_ask"]),
    ("长期流动经商，回不来：长期外出但暂时无法转移",
     g(reason="work", months="gte6", fixed_place="no", can_return="no", group="no"),
     CENTRAL, CARD, ["c_card_duty"]),
    ("五人工程队长期流动：例外（4），不用活动证",
     g(reason="work", months="gte6", fixed_place="no", can_return="no", group="yes"),
     CENTRAL, GROUP, []),
    ("三人同去外地工地四个月，不固定",
     g(reason="work", months="m3to6", fixed_place="no", can_return="no", group="yes"),
     CENTRAL, GROUP, []),
    ("三人同去一个厂两个月", g(reason="work", months="lt3", fixed_place="yes", group="yes"),
     CENTRAL, GROUP, []),
    ("开会两周：例外（1），不问地点", g(reason="short_trip", months="lt3"), CENTRAL, LETTER, []),
    ("借调五个月", g(reason="short_trip", months="m3to6"), CENTRAL, LETTER, []),
    ("进修一年，地点固定，学校党组织健全",
     g(reason="short_trip", months="gte6", fixed_place="yes", destination_org="sound"),
     CENTRAL, TRANSFER, ["c_to_unit"]),
    ("借调一年，辗转各地",
     g(reason="short_trip", months="gte6", fixed_place="no", can_return="no"),
     CENTRAL, CARD, ["c_card_duty"]),
    ("出国务工：中央规定未写，不问时间地点，问支部", g(reason="abroad"), CENTRAL, ASK_BRANCH,
     []),
    ("毕业后到外地一年，地点固定",
     g(reason="graduate", months="gte6", fixed_place="yes"), CENTRAL, TRANSFER,
     ["c_graduate"]),
    ("毕业后四处找工作两个月",
     g(reason="graduate", months="lt3", fixed_place="no", can_return="no"), CENTRAL, CARD,
     ["c_graduate", "c_card_duty"]),
    ("退休后到子女家长住：不问单位",
     g(reason="retired", months="gte6", fixed_place="yes"), CENTRAL, TRANSFER, []),
    ("退休后去外地住四个月", g(reason="retired", months="m3to6", fixed_place="yes"),
     CENTRAL, CARD, ["c_card_duty"]),
    ("预备党员外出务工两个月",
     g(reason="work", months="lt3", fixed_place="yes", group="no",
       probationary="probationary"),
     CENTRAL, CARD, ["c_card_duty", "c_probationary"]),
    ("学校：外出两个月：规定从 3 个月起", s(reason="work", months="lt3", group="no"),
     SCHOOL, "规定没有写明要办的手续", ["s_report"]),
    ("学校：外出四个月，地点固定：二（一）",
     s(reason="work", months="m3to6", fixed_place="yes", group="no"), SCHOOL,
     "持党员证明信到所在地过组织生活", ["s_report"]),
    ("学校：外出四个月，不固定", s(reason="work", months="m3to6", fixed_place="no", group="no"),
     SCHOOL, CARD, ["s_report"]),
    ("学校：外出一年，单位党组织健全",
     s(reason="work", months="gte6", fixed_place="yes", group="no", destination_org="sound"),
     SCHOOL, "组织关系转至当地党组织", []),
    ("学校：外出一年，单位没有党组织：仍转，二（五）协调",
     s(reason="work", months="gte6", fixed_place="yes", group="no", destination_org="weak"),
     SCHOOL, "组织关系转至当地党组织", ["s_coordinate"]),
    ("学校：外出一年，没有固定地点", s(reason="work", months="gte6", fixed_place="no",
                                       group="no"),
     SCHOOL, CARD, ["s_report"]),
    ("学校：三人外出一年，不固定：二（三）",
     s(reason="work", months="gte6", fixed_place="no", group="yes"), SCHOOL, CARD,
     ["s_group", "s_report"]),
    ("学校：进修四个月，地点固定：不分原因",
     s(reason="short_trip", months="m3to6", fixed_place="yes"), SCHOOL,
     "持党员证明信到所在地过组织生活", ["s_report"]),
    ("学校：因公出国两个月：三（一）", s(reason="abroad", months="lt3"),
     SCHOOL, "不向国外境外转移组织关系", []),
    ("学校：出国一年，工作流动性大", s(reason="abroad", months="gte6", fixed_place="no"),
     SCHOOL, "可以不向国外境外转移组织关系", []),
    ("学校：出国一年，地点固定：规定未写", s(reason="abroad", months="gte6", fixed_place="yes"),
     SCHOOL, "出发前向党委组织部问清楚", []),
    ("学校：预备党员出国留学四个月：三（三）",
     s(reason="abroad", months="m3to6", probationary="probationary"),
     SCHOOL, "不向国外境外转移组织关系", ["s_probationary_abroad"]),
    ("学校：毕业生离校一年：四（一）至（三）",
     s(reason="graduate"), SCHOOL,
     "组织关系转到居住地或人才服务机构党组织", ["s_graduate_away"]),
    ("学校：退休后到外地居住：五（一），不问时间地点", s(reason="retired"),
     SCHOOL, "组织关系转到居住地党组织", []),
    ("学校：预备党员外出一年，地点固定：二（七）",
     s(reason="work", months="gte6", fixed_place="yes", group="no", destination_org="sound",
       probationary="probationary"),
     SCHOOL, "组织关系转至当地党组织", ["s_probationary"]),
]
IDS = [f"situation-{n:02d}" for n in range(1, len(SITUATIONS) + 1)]


@pytest.fixture(scope="module")
def helper() -> Helper:
    item, problems = load_file(DEFAULT_CONTENT / "helper" / "departure-helper.yaml", Helper)
    assert problems == [] and item is not None
    return item.model


def _outcome(helper: Helper, rule_id: str | None) -> str | None:
    return next((r.outcome for r in helper.rules if r.id == rule_id), None)


def _ruleset_name(helper: Helper, ruleset_id: str | None) -> str | None:
    return next((r.name for r in helper.rulesets if r.id == ruleset_id), None)


def test_the_table_covers_both_rule_sets():
    assert len(SITUATIONS) >= 30
    assert {case[2] for case in SITUATIONS} == {CENTRAL, SCHOOL}


@pytest.mark.parametrize(("situation", "answers", "ruleset", "instrument", "extras"),
                         SITUATIONS, ids=IDS)
def test_python_rules(helper: Helper, situation, answers, ruleset, instrument, extras):
    # Every question these answers lead to is answered, and no other.
    assert asked(helper, answers) == list(answers), situation
    verdict = evaluate(helper, answers)
    assert verdict["missing"] == [], situation
    assert _ruleset_name(helper, verdict["ruleset"]) == ruleset
    assert _outcome(helper, verdict["main"]) == instrument
    assert verdict["extras"] == extras


def test_a_question_not_answered_is_asked_never_assumed(helper: Helper):
    verdict = evaluate(helper, g(reason="work", months="gte6", fixed_place="yes", group="no"))
    assert verdict == {"ruleset": None, "main": None, "extras": [],
                       "missing": ["destination_org"]}
    assert evaluate(helper, {})["missing"] == ["rules_for", "reason", "probationary"]


def test_answers_to_questions_not_asked_are_ignored(helper: Helper):
    retired = g(reason="retired", months="gte6", fixed_place="yes")
    with_unit = dict(retired, destination_org="weak", group="yes")
    assert evaluate(helper, with_unit) == evaluate(helper, retired)
    assert "c_to_upper" not in evaluate(helper, with_unit)["extras"]


def test_every_way_through_the_questions_gets_a_main_rule(helper: Helper):
    paths = all_answers(helper)
    assert len(paths) > 100
    assert unanswered(helper) == []
    assert unused_rules(helper) == []


def test_page_script_agrees_with_python_on_every_answer(helper: Helper, browser, site_url):
    page = browser.new_page()
    page.goto(f"{site_url}/guides/departure-helper.html")
    every = all_answers(helper) + [{}, g(reason="work")]
    from_js = page.evaluate(
        "(all) => all.map((a) => window.dxHelperEvaluate(window.dxHelperRules, a))", every)
    assert from_js == [evaluate(helper, answers) for answers in every]
    page.close()


@pytest.fixture(scope="module")
def helper_page(browser, site_url):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    errors: list[str] = []
    requests: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("request", lambda r: requests.append(r.url))
    yield page
    context.close()
    assert errors == []
    assert [url for url in requests if not url.startswith(site_url)] == []


def _label(helper: Helper, question: str, value: str) -> str:
    q = next(q for q in helper.questions if q.id == question)
    return next(o.label for o in q.options if o.value == value)


def tap_answers(page, helper: Helper, answers: dict[str, str]) -> None:
    """Answer as a member does: each question as it appears, by the words on screen."""
    for question, value in answers.items():
        box = page.locator(f'fieldset[data-question="{question}"]')
        assert box.is_visible(), f"{question} is not on screen"
        box.get_by_label(_label(helper, question, value), exact=True).tap()


@pytest.mark.parametrize(("situation", "answers", "ruleset", "instrument", "extras"),
                         SITUATIONS, ids=IDS)
def test_member_taps_through_the_page(helper_page, helper: Helper, site_url, situation,
                                      answers, ruleset, instrument, extras):
    page = helper_page
    page.goto(f"{site_url}/guides/departure-helper.html")
    tap_answers(page, helper, answers)
    visible = page.eval_on_selector_all(
        "fieldset[data-question]", "(all) => all.filter((f) => !f.hidden).map((f) => "
        "f.dataset.question)")
    assert visible == list(answers), situation
    page.get_by_role("button", name="看看该办什么").tap()
    result = page.locator("#dx-helper-result")
    assert result.locator("h3").inner_text() == f"您需要办理：{instrument}"
    text = result.inner_text()
    if instrument == ASK_BRANCH:  # the documents are silent: no rule set is the source
        assert f"本站收录的“{ruleset}”没有写到这种情况" in text
    else:
        assert f"本结果按“{ruleset}”判断" in text
    assert "下一步：" in text
    for extra in extras:
        assert f"另外：{_outcome(helper, extra)}" in text
    assert text.count("另外：") == len(extras)


def test_nothing_is_answered_for_the_member(helper_page, site_url):
    page = helper_page
    page.goto(f"{site_url}/guides/departure-helper.html")
    assert page.locator("#dx-helper input:checked").count() == 0
    shown = page.eval_on_selector_all(
        "fieldset[data-question]", "(all) => all.filter((f) => !f.hidden).length")
    assert shown == 3  # rules_for, reason, probationary: the others follow from the answers
    page.get_by_role("button", name="看看该办什么").tap()
    result = page.locator("#dx-helper-result")
    assert "还有问题没有回答" in result.inner_text()
    assert "您的组织关系在哪类单位？" in result.inner_text()
    assert result.locator("h3").count() == 0


def test_the_result_clears_when_an_answer_changes(helper_page, helper: Helper, site_url):
    page = helper_page
    page.goto(f"{site_url}/guides/departure-helper.html")
    tap_answers(page, helper, g(reason="work", months="gte6", fixed_place="yes", group="no",
                                destination_org="sound"))
    page.get_by_role("button", name="看看该办什么").tap()
    result = page.locator("#dx-helper-result")
    assert "转移正式组织关系" in result.inner_text()
    page.locator('fieldset[data-question="months"]').get_by_label("不到 3 个月").tap()
    assert "转移正式组织关系" not in result.inner_text()
    assert "请再点一次" in result.inner_text()
    # The unit question went with the answer that asked it, and took its answer along.
    assert not page.locator('fieldset[data-question="destination_org"]').is_visible()
    page.get_by_role("button", name="看看该办什么").tap()
    assert result.locator("h3").inner_text() == f"您需要办理：{CARD}"


def test_the_result_shows_the_clause_and_asks_the_branch(helper_page, helper: Helper,
                                                         site_url):
    page = helper_page
    page.goto(f"{site_url}/guides/departure-helper.html")
    tap_answers(page, helper, s(reason="work", months="gte6", fixed_place="yes", group="no",
                                destination_org="weak"))
    page.get_by_role("button", name="看看该办什么").tap()
    result = page.locator("#dx-helper-result")
    fold = result.locator("details.dx-clause").first
    assert "第二部分第（一）条" in fold.locator("summary").inner_text()
    quote = "时间在6个月以上的，应将组织关系转至当地党组织"
    assert not fold.locator("blockquote").first.is_visible()
    fold.locator("summary").tap()
    assert quote in fold.locator("blockquote").first.inner_text()
    assert "学校规定" in result.inner_text()
    ask = result.get_by_role("link", name="向支部提问")
    assert ask.bounding_box()["height"] >= 44
    query = parse_qs(urlparse(ask.get_attribute("href")).query)
    assert query["category"] == ["组织关系"]
    assert "组织关系转至当地党组织" in query["question"][0]
    assert "没有党组织，或党组织不健全" in query["question"][0]


def test_without_javascript_the_rules_are_cards_with_their_clauses(browser, site_url,
                                                                   helper: Helper):
    context = browser.new_context(**PHONE, java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{site_url}/guides/departure-helper.html")
    assert not page.locator("#dx-helper").is_visible()
    assert page.locator("table").count() == 0
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 360
    cards = page.locator(".dx-rule")
    assert cards.count() == len(helper.rules)
    first = cards.first
    assert "规则 1" in first.inner_text() and "下一步：" in first.inner_text()
    fold = first.locator("details.dx-clause").first
    fold.locator("summary").tap()
    assert fold.locator("blockquote").first.is_visible()
    text = "\n".join(cards.all_inner_texts())
    assert "中央规定" in text and "学校规定" in text and "本网站服务规则" in text
    context.close()


def test_check_warns_about_a_rule_no_answer_reaches(tmp_path, helper: Helper, monkeypatch):
    import shutil

    from generator.checks import check

    root = tmp_path / "content"
    shutil.copytree(DEFAULT_CONTENT, root)
    path = root / "helper" / "departure-helper.yaml"
    # A main rule after the catch-all card rule can never be reached.
    text = path.read_text("utf-8").replace("  # -- school ---", """  - id: c_never
    ruleset: central
    kind: main
    when:
      months: [lt3]
    outcome: 永远轮不到
    wording: 不会出现。
    next_step: 无。
    basis:
      - doc: site-service-rules
        clause: 范围
  # -- school ---""")
    path.write_text(text, "utf-8")
    monkeypatch.chdir(tmp_path)
    shown = [str(p) for p in check(Path("content"))[1]]
    assert [line for line in shown if "c_never" in line and "都用不到" in line and "警告" in line]
