"""Reads content/ into validated models, remembering where each value stands.

The loader only returns data: models and the problems found, each with the file, line,
column and field path. It never writes anything.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from generator.errors import Problem
from generator.models import CONTENT_TYPES, SearchTerms, SiteConfig
from generator.models.basis import BasisDoc
from generator.models.common import SLUG_RE

Loc = tuple[str | int, ...]
Positions = dict[Loc, tuple[int, int]]

_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_BaseLoader):  # type: ignore[misc, valid-type]
    """SafeLoader that leaves dates as text, so the schema (not YAML) judges them."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in _BaseLoader.yaml_implicit_resolvers.copy().items()
}


# Collections may carry only the standard tags; anything else (!!python/...) is refused.
_PLAIN_TAGS = {"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"}


@dataclass
class Item:
    """One validated content file (or one of its parts, for lessons)."""

    kind: str
    slug: str
    path: str
    model: Any
    positions: Positions

    def where(self, loc: Loc) -> tuple[int, int]:
        return locate(self.positions, loc)


@dataclass
class Content:
    root: Path
    site: SiteConfig | None = None
    # content/search.yaml (optional): the editors' words and synonyms for search.
    search: SearchTerms | None = None
    items: dict[str, dict[str, Item]] = field(default_factory=dict)
    # content/basis/: the source documents answers cite, by file name (no pages of their own).
    basis: dict[str, Item] = field(default_factory=dict)
    # kind/slug of files that exist but failed validation: links to them are not broken.
    invalid: set[str] = field(default_factory=set)

    def of(self, kind: str) -> list[Item]:
        return list(self.items.get(kind, {}).values())


def display_path(path: Path) -> str:
    """A path as an editor would type it: relative to the working folder when inside it."""
    absolute = Path(os.path.abspath(path))
    try:
        return absolute.relative_to(Path.cwd()).as_posix()
    except ValueError:
        return str(absolute)


def locate(positions: Positions, loc: Loc) -> tuple[int, int]:
    """The position of the deepest part of loc that exists in the file."""
    for end in range(len(loc), -1, -1):
        if loc[:end] in positions:
            return positions[loc[:end]]
    return (1, 1)


def format_loc(loc: Loc) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def parse_yaml(text: str, path: str) -> tuple[Any, Positions, Positions, list[Problem]]:
    """YAML text to plain data, with the line and column of every value and key."""
    positions: Positions = {}
    keys: Positions = {}
    problems: list[Problem] = []
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            problems.append(Problem(path, 1, 1, "", "文件为空"))
            return None, positions, keys, problems
        data = _construct(loader, node, (), positions, keys, problems, path)
    except _TooLarge:
        problems.append(Problem(path, 1, 1, "", f"文件展开后超过 {MAX_VALUES} 个值"
                                "（是否有层层嵌套的 YAML 别名？）"))
        return None, positions, keys, problems
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        reason = _yaml_reason(exc.problem or exc.context or "无法解析")
        problems.append(Problem(path, line, col, "", f"YAML 语法错误：{reason}"))
        return None, positions, keys, problems
    except yaml.YAMLError as exc:
        problems.append(Problem(path, 1, 1, "", f"YAML 语法错误：{exc}"))
        return None, positions, keys, problems
    finally:
        loader.dispose()
    return data, positions, keys, problems


# What libyaml's most common complaints mean for an editor; the original stays in brackets.
_YAML_HINTS = [
    ("cannot start any token", "不能用 Tab 键缩进，请改用空格"),
    ("tab character that violates indentation", "不能用 Tab 键缩进，请改用空格"),
    ("mapping values are not allowed",
     "这里不能出现“冒号加空格”；文本里有冒号时，请给整段文本加引号"),
    ("did not find expected key", "缩进没有对齐，或上一行缺少冒号"),
    ("could not find expected ':'", "缺少冒号"),
    ("expected '-' indicator", "列表项的缩进不一致"),
    ("expected ',' or ']'", "方括号 [ ] 没有闭合"),
    ("expected ',' or '}'", "花括号 { } 没有闭合"),
    ("unexpected end of stream", "文件意外结束，可能有引号没有闭合"),
    ("found undefined alias", "引用了没有定义的 YAML 别名"),
]


def _yaml_reason(reason: str) -> str:
    for fragment, hint in _YAML_HINTS:
        if fragment in reason:
            return f"{hint}（{reason}）"
    return reason


# No content file comes near this many values; a file that does is most likely a chain
# of YAML aliases that would expand exponentially ("billion laughs").
MAX_VALUES = 100_000


class _TooLarge(Exception):
    pass


def _construct(loader: Any, node: yaml.Node, loc: Loc, positions: Positions,
               keys: Positions, problems: list[Problem], path: str) -> Any:
    positions[loc] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if len(positions) > MAX_VALUES:
        raise _TooLarge
    if not isinstance(node, yaml.ScalarNode) and node.tag not in _PLAIN_TAGS:
        line, col = positions[loc]
        problems.append(Problem(path, line, col, format_loc(loc), f"不支持的 YAML 标签 {node.tag}"))
        return None
    if isinstance(node, yaml.MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            line, col = key_node.start_mark.line + 1, key_node.start_mark.column + 1
            if not isinstance(key_node, yaml.ScalarNode):
                problems.append(Problem(path, line, col, format_loc(loc), "键必须是简单文本"))
                continue
            key = str(loader.construct_object(key_node))
            if key in result:
                problems.append(Problem(path, line, col, format_loc(loc + (key,)), "键重复"))
                continue
            keys[loc + (key,)] = (line, col)
            result[key] = _construct(loader, value_node, loc + (key,), positions, keys,
                                     problems, path)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [
            _construct(loader, child, loc + (i,), positions, keys, problems, path)
            for i, child in enumerate(node.value)
        ]
    return loader.construct_object(node)


_MESSAGES = {
    "missing": "必填字段缺失",
    "extra_forbidden": "未知字段，请检查拼写",
    "string_type": "应为文本",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "int_from_float": "应为整数",
    "bool_type": "应为 true 或 false",
    "bool_parsing": "应为 true 或 false",
    "list_type": "应为列表（每项以 - 开头）",
    "dict_type": "应为键值对",
    "model_type": "应为键值对",
    "model_attributes_type": "应为键值对",
    "date_type": "日期无效，应为 YYYY-MM-DD 格式的真实日期，如 2026-03-01",
}


def _message(error: dict[str, Any]) -> str:
    kind = error["type"]
    ctx = error.get("ctx", {})
    if kind in _MESSAGES:
        return _MESSAGES[kind]
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    if kind == "literal_error":
        options = str(ctx.get("expected", "")).replace("'", "").replace(" or ", ", ")
        return "取值应为以下之一：" + "、".join(options.split(", "))
    if kind in ("string_too_short", "too_short"):
        return "不能为空" if ctx.get("min_length", 1) <= 1 else f"至少需要 {ctx['min_length']} 项"
    if kind == "greater_than_equal":
        return f"应不小于 {ctx.get('ge')}"
    if kind == "less_than_equal":
        return f"应不大于 {ctx.get('le')}"
    return str(error["msg"])


def validate(model: type[BaseModel], data: Any, positions: Positions, keys: Positions,
             path: str) -> tuple[BaseModel | None, list[Problem]]:
    """Data to a model, or every problem pydantic found, each placed in the file."""
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            loc = tuple(p for p in error["loc"] if not (isinstance(p, str) and p.startswith("[")))
            if error["type"] == "extra_forbidden" and loc in keys:
                line, col = keys[loc]
            else:
                line, col = locate(positions, loc)
            problems.append(Problem(path, line, col, format_loc(loc), _message(error)))
        return None, problems


def load_file(path: Path, model: type[BaseModel]) -> tuple[Item | None, list[Problem]]:
    shown = display_path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        return None, [Problem(shown, 1, 1, "", f"文件不是 UTF-8 编码：{exc.reason}")]
    data, positions, keys, problems = parse_yaml(text, shown)
    if problems:
        return None, problems
    if not isinstance(data, dict):
        return None, [Problem(shown, 1, 1, "", "文件内容应为键值对")]
    result, problems = validate(model, data, positions, keys, shown)
    if result is None:
        return None, problems
    return Item("", path.stem, shown, result, positions), []


def content_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())


def load_basis(root: Path) -> tuple[dict[str, Item], set[str], list[Problem]]:
    """The basis registry under root/basis/: each valid source document by its file name,
    the names of the files that failed validation, and their problems."""
    registry: dict[str, Item] = {}
    invalid: set[str] = set()
    problems: list[Problem] = []
    for path in content_files(root / "basis"):
        item, found = load_file(path, BasisDoc)
        problems += found
        if not SLUG_RE.match(path.stem):
            problems.append(Problem(display_path(path), 1, 1, "文件名",
                                    "文件名只能用小写英文字母、数字和连字符"))
        if item is None:
            invalid.add(path.stem)
            continue
        item.kind = "basis"
        registry[item.slug] = item
    return registry, invalid, problems


def load_content(root: Path) -> tuple[Content, list[Problem]]:
    """Every content file under root, validated; problems from all files in one list."""
    content = Content(root=root)
    problems: list[Problem] = []
    content.basis, invalid, problems = load_basis(root)
    content.invalid.update(f"basis/{name}" for name in invalid)
    site_path = root / "site.yaml"
    if site_path.is_file():
        item, found = load_file(site_path, SiteConfig)
        problems += found
        if item is not None:
            content.site = item.model
    else:
        problems.append(Problem(display_path(site_path), 1, 1, "", "缺少站点配置文件"))
    search_path = root / "search.yaml"
    if search_path.is_file():
        item, found = load_file(search_path, SearchTerms)
        problems += found
        if item is not None:
            content.search = item.model
    for kind, model in CONTENT_TYPES.items():
        bucket: dict[str, Item] = {}
        for path in content_files(root / kind):
            item, found = load_file(path, model)
            problems += found
            if not SLUG_RE.match(path.stem):
                problems.append(Problem(display_path(path), 1, 1, "文件名",
                                        "文件名只能用小写英文字母、数字和连字符"))
            if item is None:
                content.invalid.add(f"{kind}/{path.stem}")
                continue
            item.kind = kind
            if item.slug in bucket:
                problems.append(Problem(item.path, 1, 1, "文件名",
                                        f"标识 {item.slug} 与 {bucket[item.slug].path} 重复"))
                continue
            bucket[item.slug] = item
        content.items[kind] = bucket
    return content, problems
