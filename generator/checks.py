"""Checks across files: links (also inside Markdown), media, duplicate lessons, stale
reviews, helper coverage."""

from __future__ import annotations

import functools
import posixpath
import re
from datetime import date, timedelta
from pathlib import Path

from generator.errors import Problem
from generator.events import event_problems
from generator.helper import coverage
from generator.loader import (
    Content,
    Item,
    Loc,
    display_path,
    format_loc,
    load_basis,
    load_content,
    parse_yaml,
    validate,
)
from generator.markup import markup_problems
from generator.models import CONTENT_TYPES
from generator.models.basis import NAMED_IN_TEXT
from generator.models.common import duration_seconds, format_duration
from generator.models.faq import is_mailbox
from generator.pages import all_pages, all_refs, ref_page

REVIEW_WARNING_AFTER = timedelta(days=365)


def _refs_of(item: Item) -> list[tuple[Loc, str]]:
    model = item.model
    found: list[tuple[Loc, str]] = []
    found += [(("related", i), ref) for i, ref in enumerate(getattr(model, "related", []))]
    if item.kind == "themes":
        found += [(("materials", i, "ref"), m.ref) for i, m in enumerate(model.materials)]
    if item.kind == "courses":
        for n, lesson in enumerate(model.lessons):
            found += [(("lessons", n, "related", i), ref) for i, ref in enumerate(lesson.related)]
    return found


def _media_of(item: Item) -> list[tuple[Loc, str]]:
    model = item.model
    if item.kind == "courses":
        files = []
        for n, lesson in enumerate(model.lessons):
            for i, m in enumerate(lesson.media):
                files.append((("lessons", n, "media", i, "file"), m.file))
                if m.poster:
                    files.append((("lessons", n, "media", i, "poster"), m.poster))
        return files
    if item.kind == "showcase" and model.photo is not None:
        return [(("photo", "file"), model.photo.file)]
    return []


# A caption's length may differ from the file's by this much (M:SS has whole seconds).
DURATION_TOLERANCE = 1.0


def media_length(path: Path) -> float | None:
    """Seconds of an audio or video file, read from the file; None if it cannot be read."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return _media_length(str(path), stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=4096)  # a check and the build that follows read each file once
def _media_length(path: str, size: int, mtime_ns: int) -> float | None:
    # Imported here: the forms app imports this module (check_new_file) and never needs
    # FFmpeg's libraries in its workers.
    import av

    try:
        with av.open(path) as container:
            if container.duration:
                return container.duration / av.time_base
            lengths = [float(s.duration * s.time_base) for s in container.streams
                       if s.duration and s.time_base]
            return max(lengths) if lengths else None
    except (av.FFmpegError, OSError, ValueError):
        return None


def _duration_problems(content: Content, item: Item) -> list[Problem]:
    """The length an editor wrote against the file's own: the page shows the file's."""
    if item.kind != "courses":
        return []
    problems = []
    for n, lesson in enumerate(item.model.lessons):
        for i, m in enumerate(lesson.media):
            path = content.root / m.file
            if m.type == "image" or not path.is_file():
                continue
            seconds = media_length(path)
            if seconds is None:
                problems.append(_problem(
                    item, ("lessons", n, "media", i, "file"),
                    "读不出这个媒体文件的时长，成员可能无法播放；请检查文件是否完整",
                    warning=True))
            elif m.duration and abs(duration_seconds(m.duration) - seconds) > DURATION_TOLERANCE:
                real = format_duration(seconds)
                problems.append(_problem(
                    item, ("lessons", n, "media", i, "duration"),
                    f"写的时长 {m.duration} 与文件的实际时长 {real} 不符，页面上显示文件的实际"
                    f"时长；请改为 {real} 或删去 duration", warning=True))
    return problems


# A relative link in Markdown: [text](target) or ![alt](target), target without a scheme.
_MD_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")


def _markdown_of(item: Item) -> list[tuple[Loc, str, str]]:
    """(where, Markdown text, the page it is rendered on) for each Markdown field."""
    model, page = item.model, ref_page(f"{item.kind}/{item.slug}")
    if item.kind == "courses":
        return [(("lessons", n, "body"), lesson.body,
                 ref_page(f"courses/{item.slug}/{lesson.slug}"))
                for n, lesson in enumerate(model.lessons)]
    for name in ("body", "answer", "intro"):
        if isinstance(getattr(model, name, None), str):
            return [((name,), getattr(model, name), page)]
    return []


def _link_problems(content: Content, item: Item, pages: set[str]) -> list[Problem]:
    problems = []
    lines: list[str] | None = None
    for loc, text, page in _markdown_of(item):
        for match in _MD_LINK.finditer(text):
            target = match[1].split("#", 1)[0]
            if not target or re.match(r"^[a-z][a-z0-9+.-]*:|^/", target):
                continue  # in-page anchors, other schemes, the app's absolute paths
            resolved = posixpath.normpath(posixpath.join(posixpath.dirname(page), target))
            if target.endswith(".md"):
                ok = resolved in pages
            else:
                ok = resolved.startswith("media/") and (content.root / resolved).is_file()
            if ok:
                continue
            line, col = item.where(loc)
            if "\n" in text:  # a block scalar: its text starts on the next line
                line += 1 + text.count("\n", 0, match.start())
            if lines is None:
                lines = Path(item.path).read_text(encoding="utf-8").splitlines()
            if 0 < line <= len(lines) and match[0] in lines[line - 1]:
                col = lines[line - 1].index(match[0]) + 1
            problems.append(Problem(item.path, line, col, format_loc(loc),
                                    f"正文中的链接目标不存在：{target}"))
    return problems


def from_members(item: Item) -> bool:
    """Voices and answers published from the mailbox: text a member wrote or can see
    quoted, checked more strictly than the editors' own (no attribute lists, no images,
    only absolute http, https and mailto links)."""
    return item.kind == "voices" or (item.kind == "faq" and is_mailbox(item.slug))


def _markup_problems(item: Item) -> list[Problem]:
    member = from_members(item)
    return [_problem(item, loc, message) for loc, text, _ in _markdown_of(item)
            for message in markup_problems(text, member)]


def _citations_of(item: Item) -> list[tuple[Loc, str, str]]:
    """(where, doc, clause) of every clause an item cites."""
    model = item.model
    if item.kind in ("faq", "guides"):
        return [(("basis", i), c.doc, c.clause) for i, c in enumerate(model.basis)]
    if item.kind == "helper":
        return [(("rules", n, "basis", i), c.doc, c.clause)
                for n, rule in enumerate(model.rules) for i, c in enumerate(rule.basis)]
    if item.kind == "courses":
        return [(("lessons", n, "questions", m, "basis", i), c.doc, c.clause)
                for n, lesson in enumerate(model.lessons)
                for m, q in enumerate(lesson.questions) for i, c in enumerate(q.basis)]
    return []


def _docs_of(item: Item) -> list[tuple[Loc, str]]:
    """(where, doc) of every document an item names without a clause."""
    if item.kind == "helper":
        return [(("rulesets", n, "docs", i), doc)
                for n, ruleset in enumerate(item.model.rulesets)
                for i, doc in enumerate(ruleset.docs)]
    return []


def _basis_problems(content: Content, item: Item) -> list[Problem]:
    """Every citation names a document of content/basis/ and one of its clauses; a
    superseded document is worth a warning; an answer resting on a school's rules, a
    local practice or this site's own rules names it in its text."""
    problems: list[Problem] = []
    known = sorted(content.basis)

    def document(loc: Loc, doc: str) -> Item | None:
        found = content.basis.get(doc)
        if found is None:
            if f"basis/{doc}" not in content.invalid:  # reported in its own file
                listed = "、".join(known) or "（content/basis/ 下还没有文件）"
                problems.append(_problem(item, loc, f"依据文件 {doc} 不存在，应为 content/basis/ "
                                         f"下的文件名之一：{listed}"))
            return None
        if found.model.status == "superseded":
            problems.append(_problem(
                item, loc, f"依据文件 {doc} 已被 {found.model.superseded_by} 取代，"
                "请核对内容并改引现行文件", warning=True))
        return found

    cited: dict[str, Item] = {}
    for loc, doc, clause in _citations_of(item):
        found = document(loc + ("doc",), doc)
        if found is None:
            continue
        cited[doc] = found
        if found.model.clause(clause) is None:
            ids = "、".join(c.id for c in found.model.clauses)
            problems.append(_problem(item, loc + ("clause",),
                                     f"{doc} 没有编号为 {clause} 的条款，应为：{ids}"))
    for loc, doc in _docs_of(item):
        document(loc, doc)
    if item.kind == "courses":
        return problems + _question_naming_problems(content, item)
    if item.kind not in ("faq", "guides"):
        return problems  # the helper names its rule set beside every result
    text = " ".join(body for _, body, _ in _markdown_of(item))
    for doc, found in cited.items():
        if found.model.kind in NAMED_IN_TEXT and found.model.cite_as not in text:
            where = _markdown_of(item)[0][0] if _markdown_of(item) else ("basis",)
            problems.append(_problem(
                item, where, f"依据是{found.model.kind}（{doc}），正文须写明是谁的规定："
                f"写出“{found.model.cite_as}”", warning=from_members(item)))
    return problems


def _question_naming_problems(content: Content, item: Item) -> list[Problem]:
    """A self-check explanation resting on a school's rules, a local practice or this site's
    rules says whose rule it is in its own words, as an answer does."""
    problems = []
    for n, lesson in enumerate(item.model.lessons):
        for m, q in enumerate(lesson.questions):
            for doc in dict.fromkeys(c.doc for c in q.basis):
                found = content.basis.get(doc)
                if found and found.model.kind in NAMED_IN_TEXT and \
                        found.model.cite_as not in q.explanation:
                    problems.append(_problem(
                        item, ("lessons", n, "questions", m, "explanation"),
                        f"依据是{found.model.kind}（{doc}），解析须写明是谁的规定："
                        f"写出“{found.model.cite_as}”"))
    return problems


def _problem(item: Item, loc: Loc, message: str, warning: bool = False) -> Problem:
    line, col = item.where(loc)
    return Problem(item.path, line, col, format_loc(loc), message, warning)


def _item_problems(content: Content, item: Item, refs: set[str], pages: set[str],
                   today: date) -> list[Problem]:
    problems: list[Problem] = []
    for loc, ref in _refs_of(item):
        # A link to a file that exists but failed validation is reported there, not here.
        if ref not in refs and "/".join(ref.split("/")[:2]) not in content.invalid:
            problems.append(_problem(item, loc, f"链接目标不存在：{ref}"))
    problems += _markup_problems(item)
    problems += _basis_problems(content, item)
    problems += event_problems(content, item)
    if not from_members(item):  # member text keeps only absolute links (generator/markup)
        problems += _link_problems(content, item, pages)
    for loc, name in _media_of(item):
        if not (content.root / name).is_file():
            problems.append(_problem(item, loc, f"媒体文件不存在：content/{name}"))
    problems += _duration_problems(content, item)
    if item.kind == "courses":
        seen: set[str] = set()
        for n, lesson in enumerate(item.model.lessons):
            if lesson.slug in seen:
                problems.append(_problem(item, ("lessons", n, "slug"),
                                         f"课时标识 {lesson.slug} 在本课程中重复"))
            seen.add(lesson.slug)
    if item.kind in ("faq", "guides") and today - item.model.reviewed_on > REVIEW_WARNING_AFTER:
        reviewed = item.model.reviewed_on.isoformat()
        problems.append(_problem(
            item, ("reviewed_on",),
            f"已超过一年未复核（上次复核 {reviewed}），请核对政策是否有变化", warning=True))
    if item.kind == "helper":
        missing, unused_ids = coverage(item.model)
        for answers in missing:
            shown = ", ".join(f"{k}={v}" for k, v in answers.items())
            problems.append(_problem(item, ("rules",), f"这组回答没有对应的主规则：{shown}"))
        unused = set(unused_ids)
        for n, rule in enumerate(item.model.rules):
            if rule.id in unused:
                problems.append(_problem(item, ("rules", n, "id"), f"规则 {rule.id} 在任何回答下"
                                         "都用不到：它的条件不会成立，或总被前面的主规则抢先",
                                         warning=True))
    return problems


def cross_check(content: Content, today: date) -> list[Problem]:
    refs, pages = all_refs(content), all_pages(content)
    return [problem for bucket in content.items.values() for item in bucket.values()
            for problem in _item_problems(content, item, refs, pages, today)]


def check(root: Path, today: date | None = None) -> tuple[Content, list[Problem]]:
    """Load and check everything under root; warnings are problems with warning=True."""
    content, problems = load_content(root)
    problems += cross_check(content, today or date.today())
    return content, sorted(problems)


def errors_only(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if not p.warning]


def check_new_file(root: Path, rel: str, text: str, today: date | None = None) -> list[Problem]:
    """What `dangxiao check` would report for rel (e.g. voices/x.yaml) holding text, before
    it is written: the schema and the per-item checks. Links to other pages are not
    followed; the files Publish writes have none."""
    kind, _, name = rel.partition("/")
    shown = display_path(root / rel)
    if kind not in CONTENT_TYPES or "/" in name or not name.endswith(".yaml"):
        return [Problem(shown, 1, 1, "文件名", "不是可以发布的内容文件")]
    data, positions, keys, problems = parse_yaml(text, shown)
    if problems:
        return problems
    model, problems = validate(CONTENT_TYPES[kind], data, positions, keys, shown)
    if model is None:
        return problems
    item = Item(kind, name.removesuffix(".yaml"), shown, model, positions)
    content = Content(root=root)
    if _citations_of(item) or _docs_of(item):  # voices cite nothing: no registry to read
        content.basis, invalid, _ = load_basis(root)
        content.invalid = {f"basis/{n}" for n in invalid}
    return errors_only(_item_problems(content, item, set(), set(), today or date.today()))
