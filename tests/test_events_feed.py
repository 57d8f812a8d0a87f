"""Events with calendar files, and the Atom feed of news, notices and themes."""

from __future__ import annotations

import http.client
import re
import ssl
import subprocess
import time
import xml.etree.ElementTree as ET
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import feedparser
import pytest
import yaml
from conftest import free_port, make_news, make_notice, make_site, write_yaml
from icalendar import Calendar
from test_build import FOREIGN, _Loads
from test_static_headers import SECURITY, _filled_sample, _nginx
from werkzeug.test import Client

from forms_app.combined import SiteFiles
from generator.build import BuildResult
from generator.checks import check, errors_only
from generator.cli import main
from generator.feed import FEED_ENTRIES
from generator.loader import load_content
from generator.models.events import BEIJING
from generator.render import render

ATOM = "{http://www.w3.org/2005/Atom}"
# The sample's address (content/site.yaml): where `dangxiao serve` serves it.
PUBLIC = yaml.safe_load((Path(__file__).parent.parent / "content" / "site.yaml").read_text(
    encoding="utf-8"))["public_url"]
HOST = urlsplit(PUBLIC).hostname
SAMPLE_EVENT = "2026-12-theme-day"  # content/events/: 2026-12-20 19:30–21:00, online
SAMPLE_PAST = "2026-11-theme-day"  # 2026-11-15, before the sample build date 2026-11-21


def make_event(**overrides: Any) -> dict[str, Any]:
    data = {"title": "12月主题党日", "kind": "主题党日", "start": "2026-12-20 19:30",
            "end": "2026-12-20 21:00", "online": "在微信群里参加", "audience": "全体流动党员",
            "bring": ["学习材料"], "summary": "学习交流。"}
    data.update(overrides)
    return data


@pytest.fixture
def events_tree(content_tree: Path) -> Path:
    """The small content tree with an events section, a site address and three events."""
    sections = make_site()["sections"] + ["events"]
    write_yaml(content_tree / "site.yaml", make_site(sections=sections, public_url=PUBLIC))
    write_yaml(content_tree / "events" / "december.yaml", make_event())
    write_yaml(content_tree / "events" / "january.yaml", make_event(
        title="1月主题党日", start="2027-01-17 14:30", end="2027-01-17 16:30",
        place="乡镇党员电教室", online=None))
    write_yaml(content_tree / "events" / "november.yaml", make_event(
        title="11月主题党日", start="2026-11-15 09:00", end="2026-11-15 11:30"))
    return content_tree


def _render(root: Path, out: Path, today: date) -> Path:
    content, problems = load_content(root)
    assert errors_only(problems) == []
    render(content, out, today)
    return out


def _calendar(path: Path) -> Calendar:
    return Calendar.from_ical(path.read_bytes())


def _events(cal: Calendar) -> dict[str, Any]:
    return {str(e["UID"]): e for e in cal.walk("VEVENT")}


# -- calendars -----------------------------------------------------------------------------
def test_event_calendars_hold_the_beijing_times_as_utc(sample_site: BuildResult):
    site = sample_site.out
    one = _calendar(site / "events" / f"{SAMPLE_EVENT}.ics")
    (event,) = one.walk("VEVENT")
    start, end = event.decoded("DTSTART"), event.decoded("DTEND")
    assert start == datetime(2026, 12, 20, 19, 30, tzinfo=BEIJING)
    assert end == datetime(2026, 12, 20, 21, 0, tzinfo=BEIJING)
    assert start.utcoffset().total_seconds() == 0  # written in UTC with Z: any phone reads it
    raw = (site / "events" / f"{SAMPLE_EVENT}.ics").read_bytes()
    assert b"\r\nDTSTART:20261220T113000Z\r\n" in raw
    assert str(event["UID"]) == f"{SAMPLE_EVENT}@{HOST}"
    assert str(event["SUMMARY"]).startswith("【主题党日】")
    assert str(event["URL"]) == f"{PUBLIC}events/{SAMPLE_EVENT}.html"
    (alarm,) = event.walk("VALARM")
    assert alarm.decoded("TRIGGER") == -timedelta(hours=1) and str(alarm["ACTION"]) == "DISPLAY"
    # events.ics holds every event, each the same as in its own file.
    every = _events(_calendar(site / "events.ics"))
    singles = {}
    for path in (site / "events").glob("*.ics"):
        singles.update(_events(_calendar(path)))
    assert len(singles) >= 4 and set(every) == set(singles)
    for uid, single in singles.items():
        assert every[uid].decoded("DTSTART") == single.decoded("DTSTART"), uid
        assert single.decoded("DTEND") > single.decoded("DTSTART"), uid


def test_uids_and_times_stay_the_same_from_build_to_build(events_tree: Path, tmp_path: Path):
    first = _render(events_tree, tmp_path / "a", date(2026, 11, 21))
    second = _render(events_tree, tmp_path / "b", date(2026, 12, 30))
    for name in ("events.ics", "events/december.ics", "events/january.ics"):
        a, b = _events(_calendar(first / name)), _events(_calendar(second / name))
        assert set(a) == set(b) and a
        for uid in a:
            assert a[uid].decoded("DTSTART") == b[uid].decoded("DTSTART")
    assert set(_events(_calendar(first / "events.ics"))) == {
        f"december@{HOST}", f"january@{HOST}", f"november@{HOST}"}
    # The same build date gives the same bytes: nothing is rewritten needlessly.
    again = _render(events_tree, tmp_path / "c", date(2026, 11, 21))
    assert (again / "events.ics").read_bytes() == (first / "events.ics").read_bytes()


def test_ics_files_are_served_as_text_calendar(sample_site: BuildResult):
    client = Client(SiteFiles(sample_site.out))
    for path in ("/events.ics", f"/events/{SAMPLE_EVENT}.ics"):
        response = client.get(path)
        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith("text/calendar"), path
    feed = client.get("/feed.xml")
    assert feed.headers["Content-Type"] == "application/atom+xml; charset=utf-8"


def test_the_nginx_sample_serves_ics_as_text_calendar(tmp_path: Path,
                                                     sample_site: BuildResult):
    """Debian's mime.types has no .ics: the sample's own location gives the type, with
    every security header of the other static locations."""
    port = free_port()
    conf = _filled_sample(tmp_path, sample_site.out, port)
    log = tmp_path / "error.log"
    server = subprocess.Popen([_nginx(), "-c", str(conf), "-p", str(tmp_path), "-e", str(log)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE

    def get(path: str) -> http.client.HTTPResponse:
        connection = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=5)
        connection.request("GET", path)
        response = connection.getresponse()
        response.body = response.read()
        connection.close()
        return response

    try:
        for _ in range(200):
            try:
                get("/")
                break
            except OSError:
                if server.poll() is not None:
                    pytest.fail(log.read_text(encoding="utf-8", errors="replace"))
                time.sleep(0.05)
        for path in ("/events.ics", f"/events/{SAMPLE_EVENT}.ics"):
            response = get(path)
            assert response.status == 200, path
            assert response.headers["Content-Type"] == "text/calendar; charset=utf-8", path
            assert response.body == (sample_site.out / path.lstrip("/")).read_bytes()
            for name, value in SECURITY.items():
                assert response.headers[name] == value, (path, name)
            assert response.headers["Content-Security-Policy"], path
            assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
        assert get("/events/nothing.ics").status == 404
        feed = get("/feed.xml")
        assert feed.headers["Content-Type"] == "application/atom+xml; charset=utf-8"
        assert feed.headers["X-Content-Type-Options"] == "nosniff"
    finally:
        server.terminate()
        server.wait(timeout=10)


# -- the section and the pages -------------------------------------------------------------
def test_upcoming_come_before_past_by_the_build_date(events_tree: Path, tmp_path: Path):
    page = (_render(events_tree, tmp_path / "a", date(2026, 11, 21)) / "events" /
            "index.md").read_text(encoding="utf-8")
    upcoming, past = page.split("## 往期活动")
    assert "## 近期活动" in upcoming
    assert upcoming.index("12月主题党日") < upcoming.index("1月主题党日")
    assert "11月主题党日" in past and "11月主题党日" not in upcoming
    # A day after the December event ends it has moved to 往期; on its own day it has not.
    later = (_render(events_tree, tmp_path / "b", date(2026, 12, 21)) / "events" /
             "index.md").read_text(encoding="utf-8")
    upcoming, past = later.split("## 往期活动")
    assert "12月主题党日" in past and "1月主题党日" in upcoming
    assert past.index("12月主题党日") < past.index("11月主题党日")  # latest first
    same_day = (_render(events_tree, tmp_path / "c", date(2026, 12, 20)) / "events" /
                "index.md").read_text(encoding="utf-8")
    assert "12月主题党日" in same_day.split("## 往期活动")[0]


def test_sample_events_section_lists_upcoming_first(sample_site: BuildResult):
    html = (sample_site.out / "events" / "index.html").read_text(encoding="utf-8")
    article = html.split("<article", 1)[1].split("</article>", 1)[0]  # not the navigation
    upcoming, past = article.split("往期活动</h2>")
    assert f"{SAMPLE_EVENT}.html" in upcoming and f"{SAMPLE_PAST}.html" in past
    assert f"{SAMPLE_PAST}.html" not in upcoming
    assert 'href="../events.ics"' in upcoming


def test_event_page_gives_the_time_in_chinese_and_a_calendar_button(sample_site: BuildResult):
    html = (sample_site.out / "events" / f"{SAMPLE_EVENT}.html").read_text(encoding="utf-8")
    assert "2026年12月20日（星期日）19:30–21:00" in html
    assert "<dt>线上</dt>" in html and "<dt>对象</dt>" in html and "<dt>请带</dt>" in html
    assert re.search(rf'<a class="md-button md-button--primary" href="{SAMPLE_EVENT}\.ics">'
                     r"加入手机日历</a>", html)
    salon = (sample_site.out / "events" / "2026-q4-red-salon.html").read_text(encoding="utf-8")
    assert "<dt>地点</dt>" in salon and "星期三" in salon
    past = (sample_site.out / "events" / f"{SAMPLE_PAST}.html").read_text(encoding="utf-8")
    assert "已结束" in past and "加入手机日历" not in past


def test_events_are_reached_from_the_home_page(sample_site: BuildResult):
    home = (sample_site.out / "index.html").read_text(encoding="utf-8")
    assert re.search(r'href="events/index\.html"[^>]*>\s*(<strong>)?活动', home)
    assert f'href="events/{SAMPLE_EVENT}.html"' in home  # 近期活动
    assert f'href="events/{SAMPLE_PAST}.html"' not in home


def test_a_notice_shows_the_event_it_announces(sample_site: BuildResult):
    html = (sample_site.out / "notices" / "red-salon-q4.html").read_text(encoding="utf-8")
    assert 'href="../events/2026-q4-red-salon.html"' in html
    assert 'href="../events/2026-q4-red-salon.ics"' in html
    assert "2027年2月3日（星期三）14:30–17:00" in html


def test_event_pages_load_nothing_from_another_host(sample_site: BuildResult):
    pages = [*(sample_site.out / "events").glob("*.html"), sample_site.out / "index.html",
             sample_site.out / "news" / "index.html"]
    for page in pages:
        parser = _Loads()
        parser.feed(page.read_text(encoding="utf-8"))
        assert [u for u in parser.urls if FOREIGN.match(u)] == [], page


# -- content errors ------------------------------------------------------------------------
def test_a_notice_naming_an_unknown_event_is_an_error_with_its_place(events_tree: Path,
                                                                       capsys):
    path = events_tree / "notices" / "check.yaml"
    write_yaml(path, make_notice(event="no-such-event"))
    _, problems = check(events_tree)
    (problem,) = errors_only(problems)
    lines = path.read_text(encoding="utf-8").splitlines()
    line = next(n for n, text in enumerate(lines, 1) if text.startswith("event:"))
    assert (problem.line, problem.column, problem.field) == (line, 8, "event")
    assert problem.path.endswith("notices/check.yaml")
    assert "no-such-event" in problem.message and "december" in problem.message
    assert main(["check", "--content", str(events_tree)]) == 1
    out = capsys.readouterr().out
    assert re.search(rf"notices/check\.yaml:{line}:8: event: 活动 no-such-event 不存在", out)


def test_a_notice_naming_a_known_event_passes(events_tree: Path):
    write_yaml(events_tree / "notices" / "check.yaml", make_notice(event="december"))
    assert errors_only(check(events_tree)[1]) == []


def test_a_notice_naming_an_event_needs_the_events_section(events_tree: Path):
    write_yaml(events_tree / "site.yaml", make_site(public_url=PUBLIC))  # no "events"
    write_yaml(events_tree / "notices" / "check.yaml", make_notice(event="december"))
    (problem,) = errors_only(check(events_tree)[1])
    assert problem.field == "event" and "sections 里没有 events" in problem.message


@pytest.mark.parametrize(("overrides", "field", "message"), [
    ({"end": "2026-12-20 18:00"}, "end", "结束时间 2026-12-20 18:00 应晚于开始时间 2026-12-20 19:30"),
    ({"end": "2026-12-20 19:30"}, "end", "应晚于开始时间"),
    ({"start": None}, "start", "必填字段缺失"),
    ({"start": "2026-12-20"}, "start", "时间应写成 YYYY-MM-DD HH:MM（北京时间）"),
    ({"start": "2026-02-30 19:30"}, "start", "时间应写成 YYYY-MM-DD HH:MM"),
    ({"end": "21:00"}, "end", "时间应写成 YYYY-MM-DD HH:MM"),
    ({"online": None}, "", "请写明地点（place）或线上参加的方式（online）"),
    ({"audience": None}, "audience", "必填字段缺失"),
])
def test_a_malformed_event_is_reported_with_file_line_and_field(events_tree: Path, overrides,
                                                                field, message):
    data = make_event(**overrides)
    data = {k: v for k, v in data.items() if v is not None}
    path = events_tree / "events" / "broken.yaml"
    path.parent.mkdir(exist_ok=True)
    text = "\n".join(f"{k}: {v!r}" if isinstance(v, list) else f"{k}: {v}"
                     for k, v in data.items()) + "\n"
    path.write_text(text.replace("'", '"'), encoding="utf-8")
    _, problems = check(events_tree)
    (problem,) = errors_only(problems)
    assert problem.path.endswith("events/broken.yaml")
    assert problem.field == field and message in problem.message
    if field in data:
        lines = text.splitlines()
        assert problem.line == next(n for n, t in enumerate(lines, 1) if t.startswith(field))
    assert re.match(r".+events/broken\.yaml:\d+:\d+: ", str(problem))


# -- the Atom feed -------------------------------------------------------------------------
def test_the_feed_is_valid_atom_with_news_notices_and_themes(sample_site: BuildResult):
    raw = (sample_site.out / "feed.xml").read_bytes()
    parsed = feedparser.parse(raw)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    assert parsed.feed.id == PUBLIC and parsed.feed.link == PUBLIC
    entries = parsed.entries
    assert 0 < len(entries) <= FEED_ENTRIES
    links = [e.link for e in entries]
    for section in ("news", "notices", "themes"):
        assert any(link.startswith(f"{PUBLIC}{section}/") for link in links), section
    for entry in entries:
        assert entry.id == entry.link and entry.link.startswith(PUBLIC)
        page = sample_site.out / entry.link.removeprefix(PUBLIC)
        assert page.is_file(), entry.link
        assert entry.title and entry.summary
    stamps = [e.updated_parsed for e in entries]
    assert stamps == sorted(stamps, reverse=True)  # newest first
    # Nothing dated after the build date (2026-11-21): next week's theme waits for its week.
    assert all(e.updated[:10] <= "2026-11-21" for e in entries)
    # And as plain XML: Atom's required elements.
    root = ET.fromstring(raw)
    assert root.tag == f"{ATOM}feed"
    for name in ("id", "title", "updated"):
        assert root.find(f"{ATOM}{name}") is not None, name
    assert root.find(f"{ATOM}link[@rel='alternate']").get("href") == PUBLIC
    for entry in root.findall(f"{ATOM}entry"):
        for name in ("id", "title", "updated", "summary"):
            assert entry.find(f"{ATOM}{name}") is not None, name
        assert entry.find(f"{ATOM}link[@rel='alternate']").get("href").startswith(PUBLIC)


def test_every_page_links_the_feed_and_news_offers_to_subscribe(sample_site: BuildResult):
    for rel, href in (("index.html", "feed.xml"), ("news/index.html", "../feed.xml"),
                      (f"events/{SAMPLE_EVENT}.html", "../feed.xml")):
        html = (sample_site.out / rel).read_text(encoding="utf-8")
        assert re.search(r'<link rel="alternate" type="application/atom\+xml" title="[^"]+" '
                         rf'href="{re.escape(href)}">', html), rel
    news = (sample_site.out / "news" / "index.html").read_text(encoding="utf-8")
    assert "订阅更新（可以不用）" in news and f"{PUBLIC}feed.xml" in news


def test_feed_titles_stay_text_and_ids_stay_put(events_tree: Path, tmp_path: Path):
    title = "学习<script>alert(1)</script> & 讨论 > 一切"
    write_yaml(events_tree / "news" / "odd.yaml", make_news(
        title=title, date="2026-11-20", summary="摘要里也有 <b> 和 &amp;"))
    first = (_render(events_tree, tmp_path / "a", date(2026, 11, 21)) / "feed.xml").read_bytes()
    assert b"<script>" not in first and b"&lt;script&gt;" in first
    parsed = feedparser.parse(first)
    assert parsed.bozo == 0
    odd = next(e for e in parsed.entries if e.link.endswith("/news/odd.html"))
    assert odd.title == title and odd.summary == "摘要里也有 <b> 和 &amp;"
    assert odd.id == f"{PUBLIC}news/odd.html"
    ET.fromstring(first)
    second = (_render(events_tree, tmp_path / "b", date(2026, 11, 25)) / "feed.xml").read_bytes()
    assert [e.id for e in feedparser.parse(second).entries] == [e.id for e in parsed.entries]


def test_the_feed_holds_a_bounded_number_of_entries(events_tree: Path, tmp_path: Path):
    for n in range(FEED_ENTRIES + 10):
        write_yaml(events_tree / "news" / f"item-{n:02d}.yaml",
                   make_news(title=f"消息 {n}", date=f"2026-{1 + n // 28:02d}-{1 + n % 28:02d}"))
    parsed = feedparser.parse((_render(events_tree, tmp_path / "a", date(2026, 11, 21)) /
                               "feed.xml").read_bytes())
    assert len(parsed.entries) == FEED_ENTRIES
    links = [e.link for e in parsed.entries]
    assert f"{PUBLIC}news/launch.html" in links  # 2026-11-02, newer than all of them
    assert f"{PUBLIC}news/item-00.html" not in links  # 2026-01-01, the oldest, left out


def test_no_site_address_means_no_feed(content_tree: Path, tmp_path: Path):
    out = _render(content_tree, tmp_path / "a", date(2026, 11, 21))
    assert not (out / "feed.xml").exists()
    assert "订阅更新（可以不用）" not in (out / "news" / "index.md").read_text(encoding="utf-8")
