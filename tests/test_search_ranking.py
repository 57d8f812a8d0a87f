"""Search finds what a member means: words typed as members type them land on the page
that answers them.

The table is the contract: each query in a member's words and the page that must be
among the first three results. content/search.yaml supplies the synonyms and words,
generator/search_terms.py the hidden index fields and the worker's query segmenter.
Online the app serves search (tests/test_app_search.py runs the table there); here the
table runs in Debian's Chromium against Material's own search in the offline copy
(`dangxiao offline`), which keeps the static index.
"""

from __future__ import annotations

import json
from pathlib import Path

import jieba
import pytest
from conftest import type_search

from generator.build import BuildResult
from generator.checks import check
from generator.models import SINGLE_FILES
from generator.search_terms import (
    FIELDS,
    _added,
    jieba_lock,
    patch_worker_source,
    segment_js,
    use_words,
)
from tests.conftest import PHONE, TODAY
from tests.test_offline import Copies, copies  # noqa: F401 (the offline copy, built once)

ROOT = Path(__file__).resolve().parent.parent

# What a member types -> the page that must be in the top 3 (the page's title after #).
TABLE = [
    ("党费", "guides/dues.html"),                                # 在外期间怎样交党费
    ("党费怎么交", "guides/dues.html"),
    ("补交党费", "faq/dues-by-mail.html"),                       # 不能按时交党费，可以请人代交或补交吗？
    ("缴费", "guides/dues.html"),
    ("半年不交党费", "faq/six-months-no-life.html"),             # 在外连续六个月不参加组织生活、不交党费……
    ("查询码", "service/index.html"),                            # 信息服务: 查询进度
    ("查询码", "faq/mailbox-reply-time.html"),                   # 通过电子信箱提问，多久能得到答复？
    ("查进度", "service/index.html"),
    ("证明信", "faq/letter-or-card.html"),                       # 外出半年以内，开党员证明信还是领……
    ("开证明", "faq/letter-or-card.html"),
    ("探亲", "faq/letter-or-card.html"),
    ("回家探亲", "faq/letter-or-card.html"),
    ("培训", "notices/autumn-training.html"),                    # 秋季返乡流动党员集中培训报名
    ("培训", "courses/index.html"),                              # 在线学习
    ("做生意", "courses/integrity/clean-business.html"),         # 做生意讲诚信 守规矩
    ("外出做生意", "guides/departure-helper.html"),              # 外出前该办什么手续
    ("外地工厂", "courses/livelihood/before-leaving.html"),      # 外出务工前的准备
    ("打工", "courses/livelihood/before-leaving.html"),
    ("信箱", "notices/mailbox-open.html"),                       # 流动党员电子信箱开始受理咨询
    ("信箱", "service/index.html"),
    ("提问", "faq/mailbox-reply-time.html"),
    ("提问", "service/index.html"),
    ("投稿", "voices/index.html"),                               # 流动党员之声
    ("投稿", "service/index.html"),
    ("怎么投稿", "voices/index.html"),
    ("记录学习", "service/index.html"),
    ("打卡", "service/index.html"),
    ("转关系", "guides/transfer-relationship.html"),             # 转移正式组织关系
    ("年检", "faq/card-check-renew.html"),                       # 活动证多久查验一次？……
    ("讨薪", "courses/law-rights/unpaid-wages.html"),            # 工资被拖欠怎么办
    ("受伤", "courses/law-rights/work-injury.html"),             # 受了工伤怎么认定
    ("回老家", "courses/livelihood/return-to-start.html"),       # 返乡创业怎么起步
    ("活动证", "guides/activity-card.html"),                     # 《流动党员活动证》怎么领、怎么用
    ("活动证在哪里领", "guides/activity-card.html"),
    ("信箱多久回复", "faq/mailbox-reply-time.html"),
    ("不接收", "faq/destination-refuses.html"),                  # 流入地党组织不接收，怎么办？
    ("在外地怎么过组织生活", "guides/organisational-life.html"),  # 在外地怎样过组织生活
]


@pytest.fixture(scope="module")
def phone_page(browser):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    # From file:// Material's bundle asks for sitemap.xml (for its version selector),
    # which Chromium refuses; nothing the member sees depends on it.
    page.on("console", lambda m: m.type == "error" and "sitemap.xml" not in m.text
            and m.text != "Failed to load resource: net::ERR_FAILED" and errors.append(m.text))
    yield page
    context.close()
    assert errors == []


def search(page, root: Copies, query: str) -> list[dict[str, str]]:
    """Open the offline copy's search, type the query as a member would, and return each
    result page, best first: its path, its title and the words Material highlights (?h=)."""
    base = root.root.as_uri() + "/"
    page.goto(base + "index.html")
    type_search(page, query)
    return page.evaluate("""base => [...document.querySelectorAll('.md-search-result__item')]
        .map(item => {
            const url = new URL(item.querySelector('a.md-search-result__link').href);
            const title = item.querySelector('.md-search-result__article h1');
            return {path: (url.origin + url.pathname).replace(base, '').replace(/^file:\\/\\//, ''),
                    words: url.searchParams.get('h') || '',
                    title: title ? title.innerText.replaceAll('\\u200b', '') : ''};
        })""", base)


@pytest.mark.parametrize(("query", "expected"), TABLE, ids=[f"{q}->{p}" for q, p in TABLE])
def test_a_member_finds_the_page_in_the_top_three(phone_page, copies, query, expected):  # noqa: F811
    found = search(phone_page, copies, query)
    top = [r["path"] for r in found[:3]]
    assert expected in top, f"{query}: {[(r['path'], r['title']) for r in found[:5]]}"


@pytest.mark.parametrize("query", ["党费", "查询码", "证明信", "做生意", "外地工厂", "信箱"])
def test_a_word_is_searched_whole(phone_page, copies, query):  # noqa: F811
    """A two- or three-character word is not cut into characters: the best result matched
    the whole word (Material lists the words it matched in the result's ?h=)."""
    found = search(phone_page, copies, query)
    assert found, f"{query}: nothing found"
    assert found[0]["words"] == query, f"{query}: {found[0]}"


# -- the query segmenter, alone ------------------------------------------------------------

SEGMENTS = [
    ("党费", "党费"),                 # the whole word, not 党 (the last character counts)
    ("查询码", "查询码"),
    ("证明信", "证明信"),             # not 证明 as well: it lies inside 证明信
    ("交党费", "党费 交^1"),          # a character outside the words: itself, no wildcard
    ("怎么投稿", "投稿"),             # question words are left out ...
    ("怎么", "怎么"),                 # ... unless nothing else is left
    ("党", "党"),                     # one character alone: as Material does (党*)
    ("回家", "回家"),                 # the beginning of 回家过年 at the end of the query
    ("研究生命", "研究生 生命"),      # overlapping words are both kept
    ("箱子", "箱子"),                 # nothing of the index: the query as it is
]


def test_query_segmenter(browser):
    words = ["党", "费", "党费", "交", "查", "查询", "查询码", "证明", "证明信", "党员证明信",
             "怎么", "投稿", "回家过年", "研究", "研究生", "生命"]
    index = {w: {} for w in words}
    page = browser.new_page()
    try:
        got = page.evaluate("""([code, index, queries]) => {
            const segment = new Function(code + '; return segment;')();
            return queries.map(q => [...segment(q, index)].join('|'));
        }""", [segment_js("segment", ["怎么", "吗"]), index, [q for q, _ in SEGMENTS]])
    finally:
        page.close()
    assert list(zip([q for q, _ in SEGMENTS], got, strict=True)) == SEGMENTS


# -- the build ---------------------------------------------------------------------------

def test_built_worker_is_patched_and_renamed(sample_site: BuildResult):
    import material

    theme = Path(material.__file__).parent / "templates/assets/javascripts/workers"
    original = next(theme.glob("search.*.min.js")).name
    workers = sorted(p.name for p in
                     (sample_site.out / "assets/javascripts/workers").glob("search.*.min.js"))
    assert len(workers) == 1 and workers[0] != original, workers
    code = (sample_site.out / "assets/javascripts/workers" / workers[0]).read_text("utf-8")
    assert "generator/search_terms.py" in code
    # The file's name is the fingerprint of what it holds, so a year's cache never
    # serves the old one; every page points at it.
    import hashlib
    assert workers[0] == f"search.{hashlib.sha256(code.encode()).hexdigest()[:8]}.min.js"
    for html in sample_site.out.rglob("*.html"):
        text = html.read_text("utf-8")
        assert original not in text, html
        if "workers/search." in text:
            assert f"workers/{workers[0]}" in text, html


def test_worker_of_another_material_version_is_left_alone():
    assert patch_worker_source("function fe(t,e){return new Set([t])}") is None


def test_index_has_the_hidden_fields(sample_site: BuildResult):
    index = json.loads((sample_site.out / "search/search_index.json").read_text("utf-8"))
    fields = index["config"]["fields"]
    assert set(FIELDS) <= set(fields)
    assert fields["title_words"]["boost"] == fields["title"]["boost"]
    assert fields["title_synonyms"]["boost"] < fields["title"]["boost"]
    assert fields["text"]["boost"] < fields["title_synonyms"]["boost"]
    docs = {d["location"]: d for d in index["docs"]}

    def words(location: str, field: str) -> list[str]:
        return docs[location].get(field, "").split("\u200b")

    assert "证明信" in words("faq/letter-or-card.html", "title_words")  # inside 党员证明信
    assert "探亲" in words("faq/letter-or-card.html", "title_synonyms")  # 党员证明信
    assert "外地工厂" in words("courses/livelihood/before-leaving.html", "title_synonyms")
    assert "投稿" in words("voices/index.html", "title_synonyms")       # 流动党员之声
    # Only where the page says the term: the dues guide says nothing of 电子信箱.
    assert "信箱" not in words("guides/dues.html", "title_synonyms") + words(
        "guides/dues.html", "text_synonyms")
    # A title that says the member's own word gets no synonym of it: 通过电子信箱提问……
    # has 电子信箱 (for which members say 信箱, 提问) and says both itself.
    reply = words("faq/mailbox-reply-time.html", "title_synonyms")
    assert "留言" in reply and "提问" not in reply and "信箱" not in reply


def test_index_stays_light(sample_site: BuildResult):
    """The hidden fields add less than a sixth to the index a phone downloads."""
    raw = (sample_site.out / "search/search_index.json").read_text("utf-8")
    index = json.loads(raw)
    hidden = sum(len(json.dumps(d[f], ensure_ascii=False).encode()) + len(f) + 4
                 for d in index["docs"] for f in FIELDS if f in d)
    assert hidden < len(raw.encode()) / 6, (hidden, len(raw.encode()))


def test_jieba_holds_exactly_the_words_of_the_content():
    with jieba_lock():
        before = list(_added)
        try:
            use_words([*before, "外地工厂"])
            assert "外地工厂" in jieba.lcut("去外地工厂")
            use_words(before)
            assert "外地工厂" not in jieba.lcut("去外地工厂")
        finally:
            use_words(before)


# -- content/search.yaml is content: checked and documented -------------------------------

SEARCH_CASES = [
    ("words:\n  - 党员 证明信\n",
     "search.yaml:2:5: words[0]: 一个词里不能有空格或连字符；几个词请分开写成列表的几项"),
    ("words: [党]\n", "search.yaml:1:9: words[0]: 至少两个字：单个字搜索时本来就能找到"),
    ("words: [查询码, 查询码]\n", "search.yaml:1:8: words: 词重复：查询码"),
    ("synonyms:\n  - says: [信箱]\n    means: [信箱]\n",
     "search.yaml:2:5: synonyms[0]: 同一个词不能既在 says 又在 means 里：信箱"),
    ("synonyms:\n  - says: [信箱]\n", "search.yaml:2:5: synonyms[0].means: 必填字段缺失"),
    ("synonym:\n  - says: [信箱]\n    means: [电子信箱]\n",
     "search.yaml:1:1: synonym: 未知字段，请检查拼写"),
    ("ignore: [怎么, ' ']\n", "search.yaml:1:14: ignore[1]: 不能为空，也不能有空格或连字符"),
    ("words: [查询码]\nignore: [怎么, 查询码]\n",
     "search.yaml:2:9: ignore: 这些词在别处要搜索，不能忽略：查询码"),
]


@pytest.mark.parametrize(("text", "expected"), SEARCH_CASES)
def test_search_file_errors_name_line_and_column(content_tree: Path, text: str, expected: str,
                                                 monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(content_tree)
    (content_tree / "search.yaml").write_text(text, encoding="utf-8")
    _, problems = check(Path("."), TODAY)
    shown = [str(p) for p in problems]
    assert expected in shown, "\n".join(shown)


def test_sample_search_file_is_valid():
    content, problems = check(ROOT / "content", TODAY)
    assert [p for p in problems if "search.yaml" in p.path] == []
    assert content.search is not None and content.search.synonyms


def test_readme_documents_the_search_file():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    reference = readme.split("## Content reference", 1)[1].split("## Why each dependency", 1)[0]
    assert "### `content/search.yaml`" in reference
    models, todo = set(), list(SINGLE_FILES.values())
    while todo:
        model = todo.pop()
        if model in models:
            continue
        models.add(model)
        for field in model.model_fields.values():
            todo += [a for a in _types(field.annotation) if isinstance(a, type)
                     and hasattr(a, "model_fields")]
    missing = sorted(f"{m.__name__}.{name}" for m in models for name in m.model_fields
                     if f"`{name}`" not in reference and f".{name}`" not in reference)
    assert missing == []


def _types(annotation: object) -> list[object]:
    import typing

    out: list[object] = [annotation]
    for arg in typing.get_args(annotation):
        out += _types(arg)
    return out
