"""The events section (活动): upcoming first, 往期 after; one .ics per event and events.ics
for all, so a phone's calendar can add them; the check of a notice's `event:`.

Upcoming or past is decided by the build date in Beijing: the site is static, so a daily
rebuild (cron `dangxiao build`) keeps the split current.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from icalendar import Alarm, Calendar
from icalendar import Event as CalendarEvent

from generator.errors import Problem
from generator.loader import Content, Item, format_loc
from generator.models.events import BEIJING, when
from generator.plaintext import one_line, safe_title

if TYPE_CHECKING:
    from generator.render import Renderer

ALL_EVENTS = "events.ics"
REMIND_BEFORE = timedelta(hours=1)  # the calendar's alert; a phone may add its own too
INTRO = ("支部每月确定一天开展主题党日活动，每季度举办一期“流动党员红色沙龙”。"
         "在外地的党员可以就近参加，也可以在线上参加。")


def beijing_today() -> date:
    """Today's date in Beijing, whatever the server's own time zone."""
    return datetime.now(BEIJING).date()


def is_past(item: Item, today: date) -> bool:
    """An event is past once the day it ends is over (Beijing time)."""
    return item.model.end.astimezone(BEIJING).date() < today


def split_events(content: Content, today: date) -> tuple[list[Item], list[Item]]:
    """(upcoming, soonest first; past, latest first) as of today."""
    events = sorted(content.of("events"), key=lambda e: (e.model.start, e.slug))
    upcoming = [e for e in events if not is_past(e, today)]
    past = [e for e in reversed(events) if is_past(e, today)]
    return upcoming, past


def event_problems(content: Content, item: Item) -> list[Problem]:
    """A notice's `event:` names an event of content/events/ (like basis citations)."""
    slug = getattr(item.model, "event", None) if item.kind == "notices" else None
    if slug is None:
        return []
    line, col = item.where(("event",))
    known = content.items.get("events", {})
    if slug in known or f"events/{slug}" in content.invalid:  # the latter reported there
        if content.site is not None and "events" not in content.site.sections:
            return [Problem(item.path, line, col, format_loc(("event",)),
                            "site.yaml 的 sections 里没有 events，活动页面不会生成")]
        return []
    listed = "、".join(sorted(known)) or "（content/events/ 下还没有文件）"
    return [Problem(item.path, line, col, format_loc(("event",)),
                    f"活动 {slug} 不存在，应为 content/events/ 下的文件名之一：{listed}")]


# -- calendar files ------------------------------------------------------------------------
def _host(content: Content) -> str:
    url = content.site.public_url if content.site else None
    return urlsplit(url).hostname or "dangxiao.invalid" if url else "dangxiao.invalid"


def page_url(content: Content, ref_page: str) -> str | None:
    """The absolute address of a rendered page (courses/x/index.md), when the site has one."""
    base = content.site.public_url if content.site else None
    return base + ref_page.removesuffix(".md") + ".html" if base else None


def where_text(model: Any) -> str:
    places = [model.place] if model.place else []
    if model.online:
        places.append(f"线上：{model.online}")
    return one_line(" / ".join(places))


def _vevent(content: Content, item: Item, stamp: datetime) -> CalendarEvent:
    model = item.model
    vevent = CalendarEvent()
    # The file name never changes for an event, so neither does its UID: importing the
    # file again updates the entry in the phone's calendar instead of adding a second one.
    vevent.add("uid", f"{item.slug}@{_host(content)}")
    vevent.add("dtstamp", stamp)
    # UTC with Z: every phone calendar reads it without a VTIMEZONE block and shows it in
    # the phone's own zone, which for members in mainland China is Beijing time.
    vevent.add("dtstart", model.start.astimezone(UTC))
    vevent.add("dtend", model.end.astimezone(UTC))
    vevent.add("summary", f"【{one_line(model.kind)}】{one_line(model.title)}")
    vevent.add("location", where_text(model))
    lines = [one_line(model.summary), f"时间：{when(model)}（北京时间）",
             f"对象：{one_line(model.audience)}"]
    if model.bring:
        lines.append("请带：" + "、".join(one_line(b) for b in model.bring))
    url = page_url(content, f"events/{item.slug}.md")
    if url:
        lines.append(f"详情：{url}")
        vevent.add("url", url)
    vevent.add("description", "\n".join(lines))
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", f"{one_line(model.title)}，一小时后开始")
    alarm.add("trigger", -REMIND_BEFORE)
    vevent.add_component(alarm)
    return vevent


def calendar(content: Content, items: list[Item], today: date) -> bytes:
    """An iCalendar file (RFC 5545) holding items; the same bytes for the same build date."""
    cal = Calendar()
    title = one_line(content.site.title) if content.site else "网上党校"
    cal.add("prodid", f"-//{title}//dangxiao//ZH")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", f"{title}·活动")
    cal.add("x-wr-timezone", "Asia/Shanghai")
    stamp = datetime.combine(today, time(), BEIJING).astimezone(UTC)
    for item in items:
        cal.add_component(_vevent(content, item, stamp))
    return cal.to_ical()


# -- pages ---------------------------------------------------------------------------------
def render_events(renderer: Renderer) -> list[Any]:
    """The section page, one page and one .ics per event, events.ics; the navigation."""
    from generator.render import nav_groups

    content, today = renderer.content, renderer.today
    upcoming, past = split_events(content, today)
    renderer._page("events/index.md", "section_events.md.j2", intro=INTRO,
                   upcoming=upcoming, past=past, all_ics=ALL_EVENTS)
    nav: list[tuple[str, Any]] = []
    for item in upcoming + past:
        gone = is_past(item, today)
        renderer._page(f"events/{item.slug}.md", "event.md.j2", e=item, past=gone,
                       ics=f"events/{item.slug}.ics")
        renderer.pages[f"events/{item.slug}.ics"] = calendar(content, [item], today)
        group = "往期活动" if gone else "近期活动"
        nav.append((group, {safe_title(item.model.title): f"events/{item.slug}.md"}))
    renderer.pages[ALL_EVENTS] = calendar(content, upcoming + past, today)
    return ["events/index.md", *nav_groups(nav)]
