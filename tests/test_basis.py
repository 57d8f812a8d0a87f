"""The basis registry: every clause quoted faithfully from the seed documents, every
citation resolved by `dangxiao check` (file, line, column), answers that rest on a school's
rules or a local practice say so in words, and each answer page shows its clauses."""

from __future__ import annotations

import re
from pathlib import Path

import opencc
import pytest

from generator.build import DEFAULT_CONTENT, BuildResult
from generator.checks import check, check_new_file, errors_only
from generator.loader import load_basis, load_content
from generator.models.basis import NAMED_IN_TEXT, QUOTED
from tests.conftest import PHONE, TODAY, cite, make_basis_doc, make_faq, write_yaml

SEEDS = Path(__file__).parent / "fixtures" / "seeds"  # copies of ../shared/seeds

# What the registry corrects in the seeds' text, as each document's `source` says: letters
# lost or mistyped in the copies the seeds were made from.
CORRECTIONS = {"作力": "作为", "末贴": "未贴", "党/组": "党小组", "转人": "转入",
               "党听组织": "党的组织", "讨论转达正": "讨论转正", "“11”": "“1+1”",
               "好的的": "好的", "党支部一参加": "党支部）参加"}


def _normalise(text: str) -> str:
    """Simplified characters, full-width punctuation, no spaces, no pinyin glosses."""
    text = re.sub(r"\([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]+\)", "", text)  # 關(guān) -> 关
    text = opencc.OpenCC("t2s").convert(text)
    for half, full in ((",", "，"), (":", "："), (";", "；"), ("(", "（"), (")", "）"),
                       ("〈", "《"), ("〉", "》"), ("”", "“")):
        text = text.replace(half, full)
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def seeds() -> str:
    text = _normalise("\n".join(p.read_text("utf-8") for p in sorted(SEEDS.glob("*.txt"))))
    # The copies garble a few characters into mojibake; read them as the words they were.
    for garbled, meant in (("?qū)W习", "学习"), ("当?shù)攸h", "当地党"), ("?yún)R报", "汇报"),
                           ("?;鶎狱h", "。基层党"), ("004km.cn", "")):
        text = text.replace(_normalise(garbled), meant)
    for wrong, right in CORRECTIONS.items():
        text = text.replace(_normalise(wrong), _normalise(right))
    return text


def _quoted_clauses():
    registry, _, problems = load_basis(DEFAULT_CONTENT)
    assert problems == []
    for slug, item in sorted(registry.items()):
        if item.model.kind in QUOTED:
            for clause in item.model.clauses:
                yield pytest.param(slug, clause.id, clause.text, id=f"{slug}-{clause.id}")


@pytest.mark.parametrize(("doc", "clause", "text"), list(_quoted_clauses()))
def test_every_clause_is_quoted_from_the_seeds(seeds: str, doc: str, clause: str, text: str):
    # A quote may close with a full stop where the source goes on after a semicolon.
    quoted = _normalise(text).removesuffix("。")
    assert quoted in seeds, f"{doc} {clause} is not in the seed documents"


def test_the_registry_holds_each_source_document():
    registry, _, _ = load_basis(DEFAULT_CONTENT)
    kinds = {slug: item.model.kind for slug, item in registry.items()}
    assert kinds["central-1994-card"] == kinds["central-1994-transfer"] == "中央规定"
    assert kinds["school-interim-rules"] == "学校规定"
    assert kinds["county-five-platforms"] == "地方做法"
    assert kinds["site-service-rules"] == "本网站服务规则"
    card = registry["central-1994-card"].model
    assert [c.id for c in card.clauses if c.id.startswith("使用-")] == [
        "使用-适用", "使用-1", "使用-2", "使用-3", "使用-4"]


def test_every_citation_in_the_sample_resolves_and_names_whose_rule():
    content, problems = check(DEFAULT_CONTENT, TODAY)
    assert errors_only(problems) == []
    cited = 0
    for kind in ("faq", "guides"):
        for item in content.of(kind):
            text = item.model.answer if kind == "faq" else item.model.body
            for citation in item.model.basis:
                doc = content.basis[citation.doc].model
                assert doc.clause(citation.clause) is not None
                if doc.kind in NAMED_IN_TEXT:
                    assert doc.cite_as in text, f"{kind}/{item.slug} cites {citation.doc}"
                cited += 1
    for rule in content.of("helper")[0].model.rules:
        for citation in rule.basis:
            assert content.basis[citation.doc].model.clause(citation.clause) is not None
    assert cited > 80


# Statements the review of the content found contrary to or beyond the seeds: each must
# be gone (the second column is where it stood).
REMOVED = [
    ("guides/activity-card", "发放和年审办法"),
    ("guides/dues", "按规定作出组织处理；持活动证且不交验活动证的"),
    ("guides/organisational-life", "党员教育管理工作条例"),
    ("faq/study-buddy", "党员教育管理工作条例"),
    ("guides/transfer-relationship", "在规定时间内报到"),
    ("faq/card-rights", "这些权利在正式组织关系所在的党组织行使"),
    ("faq/probationary-conversion", "关于加强和改进流动党员管理工作的意见"),
    ("faq/who-is-mobile-member", "较长时间"),
    ("faq/letter-or-card", "外出务工经商等其他情形、时间在 6 个月以内的，领取"),
]


@pytest.mark.parametrize(("ref", "phrase"), REMOVED, ids=[r for r, _ in REMOVED])
def test_statements_beyond_the_seeds_are_gone(ref: str, phrase: str):
    kind, slug = ref.split("/")
    text = (DEFAULT_CONTENT / kind / f"{slug}.yaml").read_text("utf-8")
    assert phrase not in text


def test_the_card_guide_gives_all_four_exceptions_and_both_issuing_practices():
    content, _ = load_content(DEFAULT_CONTENT)
    body = content.items["guides"]["activity-card"].model.body
    for words in ("可以经常返回原单位", "3 名以上党员", "由基层党委负责发放", "由党支部发放"):
        assert words in body


# -- check: unknown documents and clauses, old free text, superseded documents --------------
def _faq_with(root: Path, basis: list) -> Path:
    return write_yaml(root / "faq" / "dues.yaml", make_faq(basis=basis))


def _shown(root: Path, monkeypatch) -> list[str]:
    monkeypatch.chdir(root)
    return [str(p) for p in check(Path("."), TODAY)[1]]


def test_check_rejects_an_unknown_document(content_tree: Path, monkeypatch):
    _faq_with(content_tree, [cite(), cite(doc="central-2099")])
    shown = _shown(content_tree, monkeypatch)
    assert "faq/dues.yaml:6:8: basis[1].doc: 依据文件 central-2099 不存在，应为 content/basis/ " \
        "下的文件名之一：notice" in shown


def test_check_rejects_an_unknown_clause(content_tree: Path, monkeypatch):
    _faq_with(content_tree, [cite(clause="第九条")])
    shown = _shown(content_tree, monkeypatch)
    assert "faq/dues.yaml:5:11: basis[0].clause: notice 没有编号为 第九条 的条款，" \
        "应为：第一条、第二条" in shown


def test_check_explains_the_old_free_text_basis(content_tree: Path, monkeypatch):
    (content_tree / "faq" / "dues.yaml").write_text(
        "question: 问\nanswer: 答\nbasis: [网上党校电子信箱答复]\nreviewed_on: 2026-11-01\n",
        "utf-8")
    shown = _shown(content_tree, monkeypatch)
    assert any(line.startswith("faq/dues.yaml:3:9: basis[0]: 依据应写成") for line in shown)


def test_check_warns_about_a_superseded_document(content_tree: Path, monkeypatch):
    write_yaml(content_tree / "basis" / "newer.yaml", make_basis_doc(title="新通知"))
    write_yaml(content_tree / "basis" / "notice.yaml",
               make_basis_doc(status="superseded", superseded_by="newer"))
    monkeypatch.chdir(content_tree)
    problems = check(Path("."), TODAY)[1]
    assert errors_only(problems) == []
    assert "faq/dues.yaml:4:8: basis[0].doc: 警告：依据文件 notice 已被 newer 取代，" \
        "请核对内容并改引现行文件" in [str(p) for p in problems]


def test_check_wants_a_school_rule_named_in_the_answer(content_tree: Path, monkeypatch):
    write_yaml(content_tree / "basis" / "notice.yaml",
               make_basis_doc(kind="学校规定", cite_as="学校《暂行规定》"))
    shown = _shown(content_tree, monkeypatch)
    assert "faq/dues.yaml:2:9: answer: 依据是学校规定（notice），正文须写明是谁的规定：" \
        "写出“学校《暂行规定》”" in shown
    _faq_with(content_tree, [cite()]).write_text(
        (content_tree / "faq" / "dues.yaml").read_text("utf-8").replace(
            "按月交纳。", "按学校《暂行规定》，按月交纳。"), "utf-8")
    assert not [line for line in _shown(content_tree, monkeypatch)
                if line.startswith("faq/dues.yaml") and "正文须写明" in line]


def test_a_broken_basis_file_is_reported_once(content_tree: Path, monkeypatch):
    (content_tree / "basis" / "notice.yaml").write_text("title: 通知\nkind: 中央规定\n", "utf-8")
    shown = _shown(content_tree, monkeypatch)
    assert [line for line in shown if line.startswith("basis/notice.yaml")]
    assert not [line for line in shown if "不存在" in line]


def test_a_published_answer_is_checked_against_the_registry(content_tree: Path):
    text = "question: 问\nletter: 来信\nanswer: 答\nbasis:\n  - doc: notice\n" \
           "    clause: 第三条\nreviewed_on: 2026-11-01\n"
    problems = [p.message for p in check_new_file(content_tree, "faq/mailbox-7.yaml", text)]
    assert problems == ["notice 没有编号为 第三条 的条款，应为：第一条、第二条"]


# -- the answer pages --------------------------------------------------------------------
def test_built_faq_page_shows_the_document_its_kind_scope_and_quoted_clause(
        sample_site: BuildResult, browser, site_url):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.goto(f"{site_url}/faq/six-months-no-life.html")
    basis = page.locator(".dx-basis")
    text = basis.inner_text()
    assert "中央组织部《关于试行〈流动党员活动证〉制度的通知》" in text and "中央规定" in text
    assert "学校《流动党员管理工作暂行规定》" in text and "学校规定" in text
    assert "适用范围：全国的流动党员" in text
    # Folded on a phone: the quote shows when the member opens it.
    fold = basis.locator("details.dx-clause").first
    quote = fold.locator("blockquote").first
    assert not quote.is_visible()
    summary = fold.locator("summary")
    assert summary.inner_text().strip() == "原文：按自行脱党处理的情形"
    assert summary.bounding_box()["height"] >= 44
    summary.tap()
    assert "连续6个月不参加党的组织生活，或不交纳党费，或不做党所分配的工作，应按自行脱党处理" \
        in quote.inner_text()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 360
    context.close()


def _course_with_question(root: Path, explanation: str, basis: list) -> None:
    from tests.conftest import make_course, make_lesson

    question = {"question": "党费怎么交？", "options": ["按月交纳", "不用交"],
                "answer": "按月交纳", "explanation": explanation, "basis": basis}
    write_yaml(root / "courses" / "basics.yaml",
               make_course(lessons=[make_lesson(questions=[question])]))


def test_a_self_check_explanation_cites_clauses_the_registry_holds(content_tree: Path,
                                                                    monkeypatch):
    _course_with_question(content_tree, "按月交纳。", [cite(clause="第九条")])
    shown = _shown(content_tree, monkeypatch)
    assert any(line.startswith("courses/basics.yaml:") and
               "lessons[0].questions[0].basis[0].clause: notice 没有编号为 第九条 的条款" in line
               for line in shown), shown


def test_a_self_check_explanation_names_a_school_rule_it_rests_on(content_tree: Path,
                                                                   monkeypatch):
    write_yaml(content_tree / "basis" / "notice.yaml",
               make_basis_doc(kind="学校规定", cite_as="学校《暂行规定》"))
    _course_with_question(content_tree, "要按月交纳。", [cite()])
    shown = _shown(content_tree, monkeypatch)
    assert any(line.startswith("courses/basics.yaml:") and
               "lessons[0].questions[0].explanation: 依据是学校规定（notice），解析须写明是谁的规定"
               in line for line in shown), shown
    _course_with_question(content_tree, "学校《暂行规定》写明要按月交纳。", [cite()])
    assert not [line for line in _shown(content_tree, monkeypatch)
                if line.startswith("courses/basics.yaml")]


def test_the_sample_self_check_on_six_months_gives_both_rules_and_their_clauses(
        sample_site: BuildResult, browser, site_url):
    """The central rule (自行脱党, card holders) and the school's (组织处理) differ: the
    explanation says both, and its 依据 quotes both clauses."""
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.goto(f"{site_url}/courses/party-spirit/show-identity.html")
    question = page.locator(".dx-q").filter(has_text="连续多长时间")
    question.get_by_text("B. 六个月", exact=True).click()
    page.get_by_role("button", name="对答案").click()
    answer = question.locator("details.dx-q-answer")
    assert answer.get_attribute("open") is not None
    text = answer.inner_text()
    assert "学校《流动党员管理工作暂行规定》" in text and "应按自行脱党处理" in text
    basis = answer.locator(".dx-basis")
    assert "中央规定" in basis.inner_text() and "学校规定" in basis.inner_text()
    fold = basis.locator("details.dx-clause").first
    fold.locator("summary").tap()
    assert fold.locator("blockquote").first.is_visible()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 360
    context.close()
