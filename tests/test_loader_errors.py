"""Every kind of content error is reported with its file, line, column, field and message."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.checks import check
from tests.conftest import TODAY

COURSE_OK = """\
title: 课程
topic: 党性教育
summary: 简介
lessons:
  - slug: first
    title: 第一课
    minutes: 10
    body: 正文
"""

CASES = [
    pytest.param(
        "courses/basics.yaml", "title: [没有闭合\ntopic: 党性教育\n",
        "courses/basics.yaml:2:6: 文件: YAML 语法错误：方括号 [ ] 没有闭合（did not find expected ',' or ']'）",
        id="yaml-syntax"),
    pytest.param(
        "courses/basics.yaml", COURSE_OK.replace("summary:", "sumary:"),
        "courses/basics.yaml:1:1: summary: 必填字段缺失", id="missing-after-typo"),
    pytest.param(
        "courses/basics.yaml", COURSE_OK.replace("summary:", "sumary:"),
        "courses/basics.yaml:3:1: sumary: 未知字段，请检查拼写", id="unknown-key"),
    pytest.param(
        "courses/basics.yaml", COURSE_OK.replace("    title: 第一课\n", ""),
        "courses/basics.yaml:5:5: lessons[0].title: 必填字段缺失", id="missing-nested"),
    pytest.param(
        "courses/basics.yaml", COURSE_OK.replace("minutes: 10", "minutes: 十分钟"),
        "courses/basics.yaml:7:14: lessons[0].minutes: 应为整数", id="wrong-type"),
    pytest.param(
        "courses/basics.yaml", COURSE_OK.replace("topic: 党性教育", "topic: 党性"),
        "courses/basics.yaml:2:8: topic: 取值应为以下之一：党性教育、党风廉政、创业技能、"
        "种养殖技术、法律法规", id="bad-choice"),
    pytest.param(
        "courses/basics.yaml", COURSE_OK + "  - slug: first\n    title: 重复\n    minutes: 5\n"
        "    body: 正文\n",
        "courses/basics.yaml:9:11: lessons[1].slug: 课时标识 first 在本课程中重复",
        id="duplicate-lesson"),
    pytest.param(
        "courses/basics.yaml", COURSE_OK + "    media:\n      - type: audio\n"
        "        file: media/none.mp3\n        caption: 录音\n",
        "courses/basics.yaml:11:15: lessons[0].media[0].file: 媒体文件不存在：content/media/none.mp3",
        id="missing-media"),
    pytest.param(
        "courses/basics.yaml", COURSE_OK + "    media:\n      - type: video\n"
        "        file: media/clip.mp3\n        caption: 视频\n",
        "courses/basics.yaml:11:15: lessons[0].media[0].file: video 文件的扩展名应为 .mp4、.webm 之一",
        id="media-type"),
    pytest.param(
        "courses/basics.yaml", COURSE_OK + "    related:\n      - guides/nope\n",
        "courses/basics.yaml:10:9: lessons[0].related[0]: 链接目标不存在：guides/nope",
        id="missing-link"),
    pytest.param(
        "courses/basics.yaml", COURSE_OK.replace("body: 正文", "body: |\n      先看\n      [指南](../../guides/nope.md)。"),
        "courses/basics.yaml:10:7: lessons[0].body: 正文中的链接目标不存在：../../guides/nope.md",
        id="broken-link-in-markdown"),
    pytest.param(
        "faq/dues.yaml", "question: 问\nanswer: 见[指南](../guides/card.md)和![图](../media/x.png)\n"
        "basis: [{doc: notice, clause: 第一条}]\nreviewed_on: 2026-11-01\n",
        "faq/dues.yaml:2:34: answer: 正文中的链接目标不存在：../media/x.png",
        id="missing-image-in-markdown"),
    pytest.param(
        "courses/basics.yaml", COURSE_OK + "title: 又一个\n",
        "courses/basics.yaml:9:1: title: 键重复", id="duplicate-key"),
    pytest.param(
        "faq/dues.yaml", "question: 问\nanswer: 答\nbasis: [{doc: notice, clause: 第一条}]\nreviewed_on: 2026-02-30\n",
        "faq/dues.yaml:4:14: reviewed_on: 日期无效，应为 YYYY-MM-DD 格式的真实日期，如 2026-03-01",
        id="impossible-date"),
    pytest.param(
        "faq/dues.yaml", "question: 问\nanswer: 答\nbasis: []\nreviewed_on: 2026-11-01\n",
        "faq/dues.yaml:3:8: basis: 不能为空", id="empty-list"),
    pytest.param(
        "faq/dues.yaml", "question: 问\nanswer: 答\nbasis: [{doc: notice, clause: 第一条}]\nreviewed_on: 2026-11-01\n"
        "related: [faq/dues, lessons/x]\n",
        "faq/dues.yaml:5:21: related[1]: 链接格式应为 栏目/标识，如 faq/dues、guides/activity-card、"
        "courses/law/contract", id="bad-ref"),
    pytest.param(
        "notices/check.yaml", "title: 通知\ndate: 2026-11-10\nexpires: 2026-11-01\nbody: 正文\n",
        "notices/check.yaml:1:1: 文件: expires 不能早于 date", id="expires-before-date"),
    pytest.param(
        "themes/w47.yaml", "week: 2026-W47\ntopic: 主题\nintro: 导语\nmaterials:\n"
        "  - ref: courses/basics/nope\nquestions: [讨论]\n",
        "themes/w47.yaml:5:10: materials[0].ref: 链接目标不存在：courses/basics/nope",
        id="missing-lesson-link"),
    pytest.param(
        "themes/w47.yaml", "week: 2026-W54\ntopic: 主题\nintro: 导语\nmaterials:\n"
        "  - ref: faq/dues\nquestions: [讨论]\n",
        "themes/w47.yaml:1:7: week: 周次格式应为 年-W周，如 2026-W47", id="bad-week"),
    pytest.param(
        "news/launch.yaml", "", "news/launch.yaml:1:1: 文件: 文件为空", id="empty-file"),
    pytest.param(
        "news/launch.yaml", "- 一\n- 二\n", "news/launch.yaml:1:1: 文件: 文件内容应为键值对",
        id="not-a-mapping"),
    pytest.param(
        "news/launch.yaml", "title: !!python/object/apply:os.system [echo hi]\n",
        "news/launch.yaml:1:8: title: 不支持的 YAML 标签 "
        "tag:yaml.org,2002:python/object/apply:os.system", id="python-tag"),
    pytest.param(
        "news/Launch_Bad.yaml", "title: 标题\ndate: 2026-11-02\nsummary: 摘要\nbody: 正文\n",
        "news/Launch_Bad.yaml:1:1: 文件名: 文件名只能用小写英文字母、数字和连字符",
        id="bad-file-name"),
]


@pytest.mark.parametrize(("name", "text", "expected"), CASES)
def test_error_names_file_line_column_field(content_tree: Path, name: str, text: str,
                                            expected: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(content_tree)
    target = content_tree / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    _, problems = check(Path("."), TODAY)
    shown = [str(p) for p in problems]
    assert expected in shown, "\n".join(shown)


@pytest.mark.parametrize(("text", "expected"), [
    ("title: 标题\n\tdate: 2026-11-02\n",
     "news/launch.yaml:2:1: 文件: YAML 语法错误：不能用 Tab 键缩进，请改用空格"
     "（found a tab character that violates indentation）"),
    ("title: 通知: 明天开会\n",
     "news/launch.yaml:1:10: 文件: YAML 语法错误：这里不能出现“冒号加空格”；文本里有冒号时，"
     "请给整段文本加引号（mapping values are not allowed in this context）"),
    ("title: 标题\nbody: |\n  正文\n date: 2026-11-02\n",
     "news/launch.yaml:4:2: 文件: YAML 语法错误：缩进没有对齐，或上一行缺少冒号"
     "（did not find expected key）"),
    ('title: "标题\n', "news/launch.yaml:2:1: 文件: YAML 语法错误：文件意外结束，可能有引号没有闭合"
     "（found unexpected end of stream）"),
])
def test_yaml_mistakes_explained_in_chinese(content_tree: Path, monkeypatch: pytest.MonkeyPatch,
                                            text: str, expected: str):
    monkeypatch.chdir(content_tree)
    (content_tree / "news" / "launch.yaml").write_text(text, encoding="utf-8")
    _, problems = check(Path("."), TODAY)
    assert [str(p) for p in problems] == [expected]


def test_every_problem_in_one_run(content_tree: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(content_tree)
    (content_tree / "faq" / "dues.yaml").write_text("question: 问\n", encoding="utf-8")
    (content_tree / "news" / "launch.yaml").write_text("title: [\n", encoding="utf-8")
    (content_tree / "guides" / "card.yaml").write_text(
        (content_tree / "guides" / "card.yaml").read_text(encoding="utf-8") + "extra: 1\n",
        encoding="utf-8")
    _, problems = check(Path("."), TODAY)
    files = {p.path for p in problems if not p.warning}
    assert files == {"faq/dues.yaml", "news/launch.yaml", "guides/card.yaml"}
    # faq/dues.yaml alone misses answer, basis and reviewed_on.
    assert sum(p.path == "faq/dues.yaml" for p in problems) == 3


def test_alias_bomb_is_refused_quickly(content_tree: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(content_tree)
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    (content_tree / "news" / "launch.yaml").write_text("\n".join(lines) + "\n", "utf-8")
    _, problems = check(Path("."), TODAY)
    assert [str(p) for p in problems] == [
        "news/launch.yaml:1:1: 文件: 文件展开后超过 100000 个值（是否有层层嵌套的 YAML 别名？）"]


def test_file_that_is_not_utf8(content_tree: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(content_tree)
    (content_tree / "news" / "launch.yaml").write_bytes("title: 标题\n".encode("gbk"))
    _, problems = check(Path("."), TODAY)
    assert [str(p) for p in problems] == [
        "news/launch.yaml:1:1: 文件: 文件不是 UTF-8 编码：invalid start byte"]


def test_duplicate_slug_across_folders(content_tree: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(content_tree)
    (content_tree / "news" / "2026").mkdir()
    (content_tree / "news" / "launch.yaml").rename(content_tree / "news" / "2026" / "launch.yaml")
    (content_tree / "news" / "launch.yml").write_text(
        "title: 标题\ndate: 2026-11-02\nsummary: 摘要\nbody: 正文\n", encoding="utf-8")
    _, problems = check(Path("."), TODAY)
    assert [str(p) for p in problems] == [
        "news/launch.yml:1:1: 文件名: 标识 launch 与 news/2026/launch.yaml 重复"
    ]


def test_stale_review_is_a_warning_not_an_error(content_tree: Path,
                                                monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(content_tree)
    text = (content_tree / "faq" / "dues.yaml").read_text(encoding="utf-8")
    (content_tree / "faq" / "dues.yaml").write_text(
        text.replace("2026-11-01", "2025-11-20"), encoding="utf-8")
    _, problems = check(Path("."), TODAY)
    assert len(problems) == 1 and problems[0].warning
    assert str(problems[0]).startswith("faq/dues.yaml:")
    assert "reviewed_on: 警告" in str(problems[0])
    assert "上次复核 2025-11-20" in str(problems[0])


def test_sample_content_is_valid():
    from generator.build import DEFAULT_CONTENT

    _, problems = check(DEFAULT_CONTENT, TODAY)
    assert [str(p) for p in problems] == []
