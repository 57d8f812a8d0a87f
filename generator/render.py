"""Models to Markdown pages for MkDocs, through the Jinja2 templates beside this module.

The renderer only writes inside its output folder, and only files whose bytes changed,
so a second run over unchanged content rewrites nothing and MkDocs has nothing new to see.
"""

from __future__ import annotations

import json
import posixpath
import re
from datetime import date
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from generator.citations import basis_html, basis_json, doc_heading
from generator.events import beijing_today, is_past, render_events, split_events, where_text
from generator.feed import FEED_PATH, atom_feed, feed_url
from generator.helper import describe_condition
from generator.loader import Content, Item
from generator.markup import render_markdown
from generator.models.courses import TOPIC_GROUPS
from generator.models.events import when
from generator.models.faq import is_mailbox
from generator.models.site import SECTIONS
from generator.output import RenderResult, cached, fingerprint, write_tree
from generator.pages import ref_page
from generator.plaintext import md_text, plain_html, safe_title, short_title, title_md
from generator.share import message_rows, poster_path, share_message

SECTION_BLURBS = {
    "news": "上级部署和支部工作的最新消息",
    "guides": "组织关系、党费、组织生活怎么办",
    "courses": "党性教育、致富本领、法律法规",
    "service": "12371 热线、服务中心、两日办结",
    "showcase": "身边流动党员的先进事迹",
    "notices": "会议、学习、报到等通知",
    "voices": "流动党员写下的工作学习体会",
    "faq": "常见政策问题及依据",
    "themes": "每周一个主题，材料和讨论题",
    "events": "主题党日、红色沙龙，可加入手机日历",
}
POST_SECTIONS = {
    "news": ("党建动态", "上级党组织的部署要求和各支部流动党员工作的新做法、新消息。"),
    "notices": ("公告通知", "请留意有效期内的通知；已过期的通知保留备查。"),
    "showcase": ("党员风采", "在外务工经商、求学创业的流动党员，在哪里都亮明身份、当好先锋。"),
    "voices": ("流动党员之声", "流动党员写下的工作、学习、生活体会和参加组织生活的感悟。"),
}


# A navigation level lists at most about this many entries. MkDocs renders the active
# section's siblings into every page, so a section of 3,000 entries would put 3,000 links
# (a megabyte of HTML) into each of its pages and make the build crawl; past the limit,
# entries are grouped (courses by topic group, FAQ by tag, posts by month, themes by year).
NAV_LIMIT = 30


def nav_groups(entries: list[tuple[str, Any]]) -> list[Any]:
    """Navigation entries as they are when few; else grouped by their key, and groups that
    are still too long cut into numbered runs."""
    if len(entries) <= NAV_LIMIT:
        return [entry for _, entry in entries]
    groups: dict[str, list[Any]] = {}
    for key, entry in entries:
        groups.setdefault(key, []).append(entry)
    nav: list[Any] = []
    for key, items in groups.items():
        if len(items) <= NAV_LIMIT:
            nav.append({key: items})
            continue
        for start in range(0, len(items), NAV_LIMIT):
            end = min(start + NAV_LIMIT, len(items))
            nav.append({f"{key}（{start + 1}–{end}）": items[start:end]})
    return nav


def cn_date(value: date) -> str:
    return f"{value.year}年{value.month}月{value.day}日"


# A line break between two Chinese characters would show as a space in the page.
_CJK = "\u3000-\u303f\u4e00-\u9fff\uff00-\uffef\u2018-\u201d"
_CJK_BREAK = re.compile(f"(?<=[{_CJK}])[ \t]*\n[ \t]*(?=[{_CJK}])")


def join_cjk_lines(markdown: str) -> str:
    """Join the lines an editor wrapped inside a Chinese paragraph."""
    return _CJK_BREAK.sub("", markdown)


def _cell(value: str) -> str:
    return value.strip().replace("|", "\\|").replace("\n\n", "<br>").replace("\n", " ")


def _environment() -> Environment:
    env = Environment(loader=PackageLoader("generator", "templates"), autoescape=False,
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
                      undefined=StrictUndefined)
    env.filters["cn_date"] = cn_date
    env.filters["cell"] = _cell
    env.filters["md"] = join_cjk_lines
    # Voices and mailbox answers come from members: always through the sanitizer, whoever
    # edited the YAML. Titles and other plain text never carry markup (generator/plaintext).
    env.filters["member_md"] = render_markdown
    env.filters["text"] = md_text
    env.filters["title"] = title_md
    env.filters["short_title"] = lambda text: md_text(short_title(text))
    env.filters["plain_html"] = plain_html
    env.filters["when"] = when
    env.filters["where"] = where_text
    env.tests["mailbox"] = is_mailbox
    return env


def current_theme(content: Content, today: date) -> Item | None:
    """The theme of today's week; else the latest past one; else the next to come."""
    themes = sorted(content.of("themes"), key=lambda t: t.model.monday, reverse=True)
    for theme in themes:
        if theme.model.monday <= today <= theme.model.sunday:
            return theme
    past = [t for t in themes if t.model.monday <= today]
    return past[0] if past else (themes[-1] if themes else None)


# What the theme current_theme picked is called. The site is static and rebuilt only when
# content is published, not every day, so no label names "this week": a page built on a
# Monday must not say 本周 of last week's theme a week later. 本期 and 最近一期 stay true
# until a newer theme is published, and the dates are always shown beside them.
def theme_label(theme: Item, today: date) -> str:
    """本期 (its week holds the build date), 最近一期 (its week is over) or 下一期."""
    if theme.model.monday <= today <= theme.model.sunday:
        return "本期"
    return "最近一期" if theme.model.sunday < today else "下一期"


def week_range(theme: Item) -> str:
    """Monday to Sunday in words, e.g. 2026年11月23日至11月29日 (no ISO week code)."""
    monday, sunday = theme.model.monday, theme.model.sunday
    if monday.year != sunday.year:
        return f"{cn_date(monday)}至{cn_date(sunday)}"
    return f"{cn_date(monday)}至{sunday.month}月{sunday.day}日"


class Renderer:
    """Renders every page into memory; writing them out is output.write_tree's job."""

    def __init__(self, content: Content, today: date, assets: Path | None):
        self.content = content
        self.today = today
        self.assets = assets
        self.env = _environment()
        superseded = {slug: doc_heading(item.model) for slug, item in content.basis.items()}
        self.env.globals.update(
            title_of=self.title_of, opt=lambda obj, name: getattr(obj, name, None),
            cite_html=lambda basis: basis_html(content.basis, basis, superseded),
            event_of=lambda slug: content.items.get("events", {}).get(slug),
            feed_url=feed_url(content), event_past=lambda item: is_past(item, today))
        self.pages: dict[str, bytes] = {}
        self.titles = self._titles()

    # -- lookups ---------------------------------------------------------------------------
    def _titles(self) -> dict[str, str]:
        titles: dict[str, str] = {}
        for kind, bucket in self.content.items.items():
            for slug, item in bucket.items():
                model = item.model
                titles[f"{kind}/{slug}"] = getattr(model, "title", None) or getattr(
                    model, "question", None) or getattr(model, "topic", slug)
                if kind == "courses":
                    for lesson in model.lessons:
                        titles[f"courses/{slug}/{lesson.slug}"] = lesson.title
        return titles

    def title_of(self, ref: str) -> str:
        return self.titles.get(ref, ref)

    # -- page writing ----------------------------------------------------------------------
    def _page(self, path: str, template: str, **context: Any) -> None:
        here = posixpath.dirname(path) or "."

        def page_link(target: str) -> str:
            return posixpath.relpath(target, here)

        def link(ref: str) -> str:
            return page_link(ref_page(ref))

        text = self.env.get_template(template).render(page_link=page_link, link=link, **context)
        self.pages[path] = text.encode("utf-8")

    def render(self) -> list[Any]:
        """Render all pages into self.pages; return the MkDocs navigation."""
        site = self.content.site
        if site is None:
            raise ValueError("site.yaml is required to render")
        nav: list[Any] = [{"首页": "index.md"}]
        self._render_home()
        for key in site.sections:
            nav.append({SECTIONS[key]: getattr(self, f"_render_{key}")()})
        feed = atom_feed(self.content, self.today)
        if feed is not None:
            self.pages[FEED_PATH] = feed
        return nav

    def _render_home(self) -> None:
        site = self.content.site
        assert site is not None
        notices = [n for n in self._notices_current() if n.model.important][:5] or \
            self._notices_current()[:3]
        news = sorted(self.content.of("news"), key=lambda n: n.model.date, reverse=True)[:5]
        sections = [(k, SECTIONS[k], SECTION_BLURBS[k]) for k in site.sections]
        theme = current_theme(self.content, self.today)
        # home.md.j2 prints theme_label as its heading: 本期主题 / 最近一期主题 / 下一期主题.
        label = theme_label(theme, self.today) + "主题" if theme else ""
        events = split_events(self.content, self.today)[0][:3] \
            if "events" in site.sections else []
        self._page("index.md", "home.md.j2", site=site, notices=notices, news=news,
                   sections=sections, theme=theme, theme_label=label, events=events,
                   helpers=self.content.of("helper") if "guides" in site.sections else [])

    def _render_courses(self) -> list[Any]:
        courses = sorted(self.content.of("courses"), key=lambda c: (c.model.order, c.slug))
        groups: dict[str, list[Item]] = {g: [] for g in dict.fromkeys(TOPIC_GROUPS.values())}
        for course in courses:
            groups[course.model.topic_group].append(course)
        self._page("courses/index.md", "section_courses.md.j2",
                   groups=[(g, cs) for g, cs in groups.items() if cs])
        entries: list[tuple[str, Any]] = []
        for course in courses:
            base = f"courses/{course.slug}"
            self._page(f"{base}/index.md", "course.md.j2", c=course)
            lessons: list[Any] = [f"{base}/index.md"]
            for n, lesson in enumerate(course.model.lessons, start=1):
                self._page(f"{base}/{lesson.slug}.md", "lesson.md.j2", course=course,
                           lesson=lesson, number=n)
                lessons.append({safe_title(lesson.title): f"{base}/{lesson.slug}.md"})
            entries.append((course.model.topic_group, {safe_title(course.model.title): lessons}))
        return ["courses/index.md", *nav_groups(entries)]

    def _render_guides(self) -> list[Any]:
        guides = sorted(self.content.of("guides"), key=lambda g: (g.model.order, g.slug))
        helpers = self.content.of("helper")
        self._page("guides/index.md", "section_guides.md.j2", guides=guides, helpers=helpers)
        nav: list[Any] = ["guides/index.md"]
        for helper in helpers:
            self._render_helper(helper)
            nav.append({safe_title(helper.model.title): f"guides/{helper.slug}.md"})
        for guide in guides:
            self._page(f"guides/{guide.slug}.md", "guide.md.j2", g=guide)
            nav.append({safe_title(guide.model.title): f"guides/{guide.slug}.md"})
        return nav

    def _render_helper(self, helper: Item) -> None:
        questions = helper.model.questions

        def describe(condition: dict[str, list[str]]) -> str:
            return describe_condition(questions, helper.model.rules, condition)

        data = helper.model.model_dump(mode="json")
        # The documents the rules cite, with the cited clauses quoted, so the script shows
        # under a result what the cards show under each rule.
        data["docs"] = basis_json(self.content.basis,
                                  [c for rule in helper.model.rules for c in rule.basis])
        # Inside <script>, "</" would end the element; JSON allows the escaped form.
        rules_json = json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace(
            "</", "<\\/")
        self._page(f"guides/{helper.slug}.md", "helper.md.j2", h=helper, describe=describe,
                   rules_json=rules_json)

    def _render_faq(self) -> list[Any]:
        entries = sorted(self.content.of("faq"), key=lambda f: f.slug)
        groups: dict[str, list[Item]] = {}
        for entry in entries:
            groups.setdefault(entry.model.tags[0] if entry.model.tags else "其他", []).append(entry)
        # The topics members ask about most come first.
        ordered = sorted(groups.items(), key=lambda g: (-len(g[1]), g[0]))
        self._page("faq/index.md", "section_faq.md.j2", groups=ordered)
        nav: list[tuple[str, Any]] = []
        for tag, items in ordered:
            for entry in items:
                self._page(f"faq/{entry.slug}.md", "faq_entry.md.j2", f=entry,
                           member=is_mailbox(entry.slug))
                title = (short_title if is_mailbox(entry.slug) else safe_title)(
                    entry.model.question)
                nav.append((safe_title(tag), {title: f"faq/{entry.slug}.md"}))
        if len(nav) <= NAV_LIMIT:  # few: alphabetical by page, as before
            nav.sort(key=lambda e: next(iter(e[1].values())))
        return ["faq/index.md", *nav_groups(nav)]

    def _notices_current(self) -> list[Item]:
        return [n for n in self._sorted_posts("notices") if not self._expired(n)]

    def _expired(self, notice: Item) -> bool:
        return notice.model.expires is not None and notice.model.expires < self.today

    def _sorted_posts(self, kind: str) -> list[Item]:
        return sorted(self.content.of(kind), key=lambda p: (p.model.date, p.slug), reverse=True)

    def _render_posts(self, kind: str, groups: list[tuple[str, list[Item]]]) -> list[Any]:
        heading, intro = POST_SECTIONS[kind]
        self._page(f"{kind}/index.md", "section_posts.md.j2", heading=heading, intro=intro,
                   kind=kind, groups=groups)
        nav: list[tuple[str, Any]] = []
        for _, posts in groups:
            for post in posts:
                byline = getattr(post.model, "author", None) or (
                    f"{post.model.name} · {post.model.branch}" if kind == "showcase" else None)
                self._page(f"{kind}/{post.slug}.md", "post.md.j2", p=post, byline=byline,
                           expired=kind == "notices" and self._expired(post),
                           member=kind == "voices")
                month = f"{post.model.date.year}年{post.model.date.month}月"
                nav.append((month, {safe_title(post.model.title): f"{kind}/{post.slug}.md"}))
        return [f"{kind}/index.md", *nav_groups(nav)]

    def _render_news(self) -> list[Any]:
        return self._render_posts("news", [("", self._sorted_posts("news"))])

    def _render_notices(self) -> list[Any]:
        posts = self._sorted_posts("notices")
        current = sorted(self._notices_current(), key=lambda n: not n.model.important)
        expired = [n for n in posts if self._expired(n)]
        return self._render_posts("notices", [("有效通知", current), ("已过期", expired)])

    def _render_showcase(self) -> list[Any]:
        return self._render_posts("showcase", [("", self._sorted_posts("showcase"))])

    def _render_voices(self) -> list[Any]:
        return self._render_posts("voices", [("", self._sorted_posts("voices"))])

    def _render_themes(self) -> list[Any]:
        themes = sorted(self.content.of("themes"), key=lambda t: t.model.monday, reverse=True)
        current = current_theme(self.content, self.today)
        labels = {current.slug: theme_label(current, self.today)} if current else {}
        listed = [(theme, week_range(theme), labels.get(theme.slug, "")) for theme in themes]
        self._page("themes/index.md", "section_themes.md.j2", themes=listed)
        nav: list[tuple[str, Any]] = []
        for theme, dates, label in listed:
            public_url = self.content.site.public_url if self.content.site else None
            message = share_message(theme, dates, public_url) if public_url else None
            self._page(f"themes/{theme.slug}.md", "theme.md.j2", t=theme, dates=dates,
                       label=label, share=message, poster=poster_path(theme),
                       share_rows=message_rows(message) if message else 0)
            nav.append((f"{theme.model.monday.year}年",
                        {safe_title(theme.model.topic): f"themes/{theme.slug}.md"}))
        return ["themes/index.md", *nav_groups(nav)]

    def _render_events(self) -> list[Any]:
        return render_events(self)

    def _render_service(self) -> str:
        assert self.content.site is not None
        self._page("service/index.md", "service.md.j2", s=self.content.site.service)
        return "service/index.md"

    # -- output ----------------------------------------------------------------------------
    def copies(self) -> dict[str, Path]:
        """Files copied as they are: content/media/ and the site's own assets."""
        return _files_under(self.content.root / "media", "media/") | \
            _files_under(self.assets, "assets/")


def _files_under(folder: Path | None, prefix: str) -> dict[str, Path]:
    if folder is None or not folder.is_dir():
        return {}
    return {prefix + path.relative_to(folder).as_posix(): path
            for path in sorted(folder.rglob("*")) if path.is_file()}


def render(content: Content, out: Path, today: date | None = None,
           assets: Path | None = None) -> RenderResult:
    """Render every page of content into out; return the nav and what was written.

    When nothing it depends on changed since the last render into out, nothing is
    rendered or written at all.
    """
    today = today or beijing_today()
    stamp = fingerprint(content.root, assets, today)
    previous = cached(out, stamp)
    if previous is not None:
        return previous
    renderer = Renderer(content, today, assets)
    nav = renderer.render()
    return write_tree(out, renderer.pages, renderer.copies(), nav, stamp)
