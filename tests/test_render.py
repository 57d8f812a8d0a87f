"""Rendering: a golden fixture site, and re-renders that touch only what changed."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from generator.build import DEFAULT_SITE_SRC, build_site
from generator.checks import check
from generator.errors import ContentError
from generator.render import NAV_LIMIT, join_cjk_lines, render
from tests.conftest import TODAY, make_faq, make_lesson, make_news, write_yaml

GOLDEN = Path(__file__).parent / "fixtures" / "golden"


def _render(root: Path, out: Path):
    content, problems = check(root, TODAY)
    assert [p for p in problems if not p.warning] == []
    return render(content, out, TODAY)


def _tree(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): p.read_text(encoding="utf-8")
            for p in sorted(root.rglob("*.md"))}


def test_golden_fixture_site(content_tree: Path, tmp_path: Path):
    """Set UPDATE_GOLDEN=1 to rewrite the expected files after a deliberate change."""
    write_yaml(content_tree / "courses" / "basics.yaml", {
        "title": "基础课", "topic": "法律法规", "summary": "简介。", "lessons": [
            make_lesson(body="第一行，\n接着写。\n\n- 要点", related=["faq/dues"], questions=[
                {"question": "几个工作日？", "options": ["一", "二"], "answer": "二",
                 "explanation": "两个工作日。"}]),
            make_lesson(slug="second", title="第二课 <b>不是标签</b>", minutes=5)]})
    out = tmp_path / "docs"
    _render(content_tree, out)
    actual = _tree(out)
    expected_root = GOLDEN / "expected"
    if os.environ.get("UPDATE_GOLDEN"):
        shutil.rmtree(expected_root, ignore_errors=True)
        for rel, text in actual.items():
            (expected_root / rel).parent.mkdir(parents=True, exist_ok=True)
            (expected_root / rel).write_text(text, encoding="utf-8")
    assert actual == _tree(expected_root)


def _pages(nav) -> list[str]:
    if isinstance(nav, str):
        return [nav]
    if isinstance(nav, dict):
        return [p for value in nav.values() for p in _pages(value)]
    return [p for entry in nav for p in _pages(entry)]


def _widest_level(nav) -> int:
    """The most entries any one level of the navigation lists."""
    if isinstance(nav, dict):
        return max(_widest_level(v) for v in nav.values())
    if isinstance(nav, list):
        return max([len(nav), *(_widest_level(e) for e in nav)])
    return 0


def test_big_sections_are_grouped_in_the_navigation(content_tree: Path, tmp_path: Path):
    # Every page carries its section's siblings: 3,000 of them made each page a megabyte.
    for i in range(70):
        write_yaml(content_tree / "faq" / f"q{i:03d}.yaml", make_faq(
            question=f"问题{i}？", tags=["党费" if i % 3 else "组织关系"]))
        write_yaml(content_tree / "news" / f"n{i:03d}.yaml", make_news(
            title=f"动态{i}", date=f"2026-{1 + i % 2:02d}-{1 + i % 28:02d}"))
    result = _render(content_tree, tmp_path / "docs")
    sections = {next(iter(s)): s[next(iter(s))] for s in result.nav if isinstance(s, dict)}
    faq = next(v for v in sections.values() if "faq/index.md" in _pages(v))
    news = next(v for v in sections.values() if "news/index.md" in _pages(v))
    assert _widest_level(result.nav) <= NAV_LIMIT + 1  # +1: the section's own index page
    assert len([p for p in _pages(faq) if p != "faq/index.md"]) == 71  # none lost
    assert [next(iter(g)) for g in faq[1:]] == ["党费（1–30）", "党费（31–47）", "组织关系"]
    assert [next(iter(g)) for g in news[1:]] == [
        "2026年11月", "2026年2月（1–30）", "2026年2月（31–35）", "2026年1月（1–30）",
        "2026年1月（31–35）"]
    assert len(_pages(news)) == 72


def test_plain_text_fields_are_escaped(content_tree: Path, tmp_path: Path):
    write_yaml(content_tree / "news" / "launch.yaml", {
        "title": "<script>alert(1)</script>", "date": "2026-11-02", "summary": "{{ 7*7 }}",
        "body": "正文 {% raw %}"})
    _render(content_tree, tmp_path / "docs")
    page = (tmp_path / "docs" / "news" / "launch.md").read_text(encoding="utf-8")
    # Titles reach MkDocs without tags or HTML-significant characters (generator/plaintext).
    assert r"# alert\(1\)" in page and "<script>" not in page  # tags dropped
    index = (tmp_path / "docs" / "news" / "index.md").read_text(encoding="utf-8")
    assert r"\{\{ 7\*7 \}\}" in index and "正文 {% raw %}" in page  # literal, Markdown-escaped


def test_second_render_rewrites_nothing(content_tree: Path, tmp_path: Path):
    out = tmp_path / "docs"
    first = _render(content_tree, out)
    assert "faq/dues.md" in first.written
    mtimes = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()
              and not p.name.startswith(".")}
    second = _render(content_tree, out)
    assert second.written == [] and second.removed == []
    assert second.unchanged == len(mtimes)
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()
            and not p.name.startswith(".")} == mtimes


def test_a_lost_page_is_rendered_again(content_tree: Path, tmp_path: Path):
    out = tmp_path / "docs"
    _render(content_tree, out)
    (out / "faq" / "dues.md").unlink()
    result = _render(content_tree, out)
    assert result.written == ["faq/dues.md"]


def test_one_edit_rewrites_only_the_pages_that_show_it(content_tree: Path, tmp_path: Path):
    out = tmp_path / "docs"
    _render(content_tree, out)
    write_yaml(content_tree / "faq" / "dues.yaml", make_faq(question="党费在哪里交？"))
    result = _render(content_tree, out)
    # The entry, the FAQ index listing it and the theme that links to it by title.
    assert sorted(result.written) == ["faq/dues.md", "faq/index.md", "themes/w47.md"]


def test_removed_item_loses_its_page(content_tree: Path, tmp_path: Path):
    out = tmp_path / "docs"
    _render(content_tree, out)
    (content_tree / "showcase" / "zhang.yaml").unlink()
    result = _render(content_tree, out)
    assert "showcase/zhang.md" in result.removed
    assert not (out / "showcase" / "zhang.md").exists()


def test_chinese_lines_are_joined_but_blocks_stay():
    assert join_cjk_lines("第一行，\n  接着写。\n\n- 要点\n- 二") == "第一行，接着写。\n\n- 要点\n- 二"
    assert join_cjk_lines("第一行\n  接着写。") == "第一行接着写。"


@pytest.fixture
def built(content_tree: Path, tmp_path: Path):
    out = tmp_path / "site"
    build_site(content_tree, out, work=tmp_path / "docs", site_src=DEFAULT_SITE_SRC,
               today=TODAY)
    return out


def _snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*")
            if p.is_file()}


def test_failed_check_builds_nothing_and_keeps_the_old_site(content_tree: Path, built: Path,
                                                             tmp_path: Path):
    before = _snapshot(built)
    docs_before = _snapshot(tmp_path / "docs")
    (content_tree / "faq" / "dues.yaml").write_text("question: [\n", encoding="utf-8")
    with pytest.raises(ContentError) as caught:
        build_site(content_tree, built, work=tmp_path / "docs", site_src=DEFAULT_SITE_SRC,
                   today=TODAY)
    assert "dues.yaml:2:1" in str(caught.value)
    assert _snapshot(built) == before
    assert _snapshot(tmp_path / "docs") == docs_before
    assert sorted(p.name for p in tmp_path.iterdir()) == [".site.lock", "content", "docs", "site"]


def test_failed_mkdocs_build_keeps_the_old_site(content_tree: Path, built: Path,
                                                 tmp_path: Path):
    before = _snapshot(built)
    broken = tmp_path / "site_src"
    shutil.copytree(DEFAULT_SITE_SRC, broken, ignore=shutil.ignore_patterns("docs"))
    text = (broken / "mkdocs.yml").read_text(encoding="utf-8")
    (broken / "mkdocs.yml").write_text(text.replace("name: material", "name: no-such-theme"),
                                       encoding="utf-8")
    write_yaml(content_tree / "news" / "launch.yaml", {
        "title": "新标题", "date": "2026-11-02", "summary": "摘要", "body": "正文"})
    with pytest.raises(Exception):  # noqa: B017 - MkDocs raises its own config errors
        build_site(content_tree, built, work=tmp_path / "docs", site_src=broken, today=TODAY)
    assert _snapshot(built) == before
    assert not [p for p in tmp_path.iterdir()
                if p.name.startswith((".site.building", ".site.old"))]


def test_successful_rebuild_replaces_the_site(content_tree: Path, built: Path,
                                              tmp_path: Path):
    write_yaml(content_tree / "news" / "launch.yaml", {
        "title": "换了标题", "date": "2026-11-02", "summary": "摘要", "body": "正文"})
    build_site(content_tree, built, work=tmp_path / "docs", site_src=DEFAULT_SITE_SRC,
               today=TODAY)
    assert "换了标题" in (built / "news" / "launch.html").read_text(encoding="utf-8")
    assert not [p for p in tmp_path.iterdir()
                if p.name.startswith((".site.building", ".site.old"))]
