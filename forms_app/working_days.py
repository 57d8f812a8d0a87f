"""Working time on mainland China's official calendar (Beijing time, no DST).

A working day counts all of its 24 hours; public holidays and weekends count nothing, and
the adjusted working weekends (调休上班) count like any working day. chinese-calendar knows
the years the State Council has announced; an override file adds later years. A date that
neither knows falls back to Monday-Friday and is reported as uncertain, so the queue can
show a warning instead of a silently wrong due time.
"""

from __future__ import annotations

import logging
import re
import threading
import time as clock
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path

import chinese_calendar
import yaml

log = logging.getLogger(__name__)

BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")
DAY = 86_400
MAX_DAYS = 400  # no holiday run is longer; stops a loop on a broken override file


ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
DATE_HINT = "应写成 YYYY-MM-DD，或 YYYY-MM-DD..YYYY-MM-DD 表示一段连续的日子"
KINDS = {"holidays": False, "workdays": True}  # the key and what its dates become


class CalendarFileError(ValueError):
    """The overrides file cannot be used; says where, as `dangxiao check` does."""

    def __init__(self, path: Path, mark: yaml.Mark | None, field: str | None, message: str):
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        super().__init__(f"{path}:{line}:{column}: {field or '文件'}: {message}")


def _day(text: str) -> date:
    if not ISO_DATE.fullmatch(text):
        raise ValueError(text)
    return date.fromisoformat(text)


class _BadRange(ValueError):
    """Two real dates that make no range; the message is the Chinese reason."""


def _dates(text: str) -> list[date]:
    """`2027-01-01` or `2027-02-06..2027-02-12`; ValueError if not that."""
    if ".." not in text:
        return [_day(text.strip())]
    first, last = (_day(part.strip()) for part in text.split("..", 1))
    if last < first:
        raise _BadRange(f"日期范围 {text} 的结束日期早于开始日期")
    if (last - first).days >= MAX_DAYS:
        raise _BadRange(f"日期范围 {text} 超过 {MAX_DAYS} 天，请检查年份")
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _is_null(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null"


@dataclass
class WorkCalendar:
    """Answers whether a date is a working day, and whether anyone really knows."""

    overrides: dict[date, bool] = field(default_factory=dict)
    override_years: set[int] = field(default_factory=set)
    # Answers already worked out: chinese-calendar scans its whole holiday table per call,
    # and every mailbox question asks about the same few days.
    _answers: dict[date, tuple[bool, bool]] = field(default_factory=dict, repr=False)

    @classmethod
    def from_file(cls, path: Path | None) -> WorkCalendar:
        """Read `YEAR: {holidays: [...], workdays: [...]}`; dates or `FIRST..LAST`.

        No file is an empty calendar; a file that is not exactly that raises
        CalendarFileError naming its line and field (`2027.holidays[1]`)."""
        cal = cls()
        if path is None or not path.is_file():
            return cal
        try:
            root = yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
        except UnicodeDecodeError:
            raise CalendarFileError(path, None, None, "文件不是 UTF-8 编码") from None
        except OSError:
            raise CalendarFileError(path, None, None, "无法读取这个文件，请检查权限") from None
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
            raise CalendarFileError(path, mark, None, (
                "不是有效的 YAML，请检查这一行附近的缩进、引号和括号")) from None
        if root is None or _is_null(root):
            return cal
        if not isinstance(root, yaml.MappingNode):
            raise CalendarFileError(path, root.start_mark, None,
                                    "应按年份列出，如 2027: {holidays: [...], workdays: [...]}")
        for year_node, days_node in root.value:
            year = str(year_node.value) if isinstance(year_node, yaml.ScalarNode) else ""
            if not re.fullmatch(r"\d{4}", year):
                raise CalendarFileError(path, year_node.start_mark, year or None,
                                        "年份应写成四位数字，如 2027")
            if int(year) in cal.override_years:
                raise CalendarFileError(path, year_node.start_mark, year, "这一年份重复出现")
            cal.override_years.add(int(year))
            if _is_null(days_node):
                continue  # the year is covered, Monday to Friday
            if not isinstance(days_node, yaml.MappingNode):
                raise CalendarFileError(path, days_node.start_mark, year,
                                        "应写成 holidays（放假）和 workdays（调休上班）两项")
            cal._read_kinds(path, year, days_node)
        return cal

    def _read_kinds(self, path: Path, year: str, days_node: yaml.MappingNode) -> None:
        seen: set[str] = set()
        for kind_node, list_node in days_node.value:
            kind = str(kind_node.value)
            where = f"{year}.{kind}"
            if kind not in KINDS:
                raise CalendarFileError(path, kind_node.start_mark, where,
                                        "未知的项，只能是 holidays（放假）或 workdays（调休上班）")
            if kind in seen:
                raise CalendarFileError(path, kind_node.start_mark, where, "这一项重复出现")
            seen.add(kind)
            if _is_null(list_node):
                continue
            if not isinstance(list_node, yaml.SequenceNode):
                raise CalendarFileError(path, list_node.start_mark, where, (
                    '应写成日期的列表，如 ["2027-01-01", "2027-02-06..2027-02-12"]'))
            for n, item in enumerate(list_node.value):
                field = f"{where}[{n}]"
                text = str(item.value) if isinstance(item, yaml.ScalarNode) else ""
                try:
                    days = _dates(text)
                except _BadRange as exc:
                    raise CalendarFileError(path, item.start_mark, field, str(exc)) from None
                except ValueError:
                    raise CalendarFileError(path, item.start_mark, field, (
                        f"“{text}”不是有效的日期，{DATE_HINT}")) from None
                for day in days:
                    if self.overrides.get(day, KINDS[kind]) != KINDS[kind]:
                        raise CalendarFileError(path, item.start_mark, field, (
                            f"{day} 同时列在 holidays 和 workdays 里"))
                    self.overrides[day] = KINDS[kind]

    def is_workday(self, day: date) -> tuple[bool, bool]:
        """(working day?, known?)"""
        answer = self._answers.get(day)
        if answer is None:
            answer = self._answers[day] = self._look_up(day)
        return answer

    def _look_up(self, day: date) -> tuple[bool, bool]:
        if day in self.overrides:
            return self.overrides[day], True
        if day.year in self.override_years:
            return day.weekday() < 5, True
        try:
            return chinese_calendar.is_workday(day), True
        except NotImplementedError:
            return day.weekday() < 5, False

    def add(self, start: datetime, seconds: int) -> tuple[datetime, bool]:
        """The moment `seconds` of working time after start, and whether it is certain."""
        t = start.astimezone(BEIJING)
        certain = True
        for _ in range(MAX_DAYS):
            workday, known = self.is_workday(t.date())
            certain &= known
            midnight = datetime.combine(t.date() + timedelta(days=1), time(), BEIJING)
            if workday:
                available = int((midnight - t).total_seconds())
                if seconds <= available:
                    return t + timedelta(seconds=seconds), certain
                seconds -= available
            t = midnight
        raise ValueError("日历覆盖文件有误：找不到足够的工作日")

    def between(self, start: datetime, end: datetime) -> int:
        """Working seconds from start to end (0 if end is not later)."""
        t, end = start.astimezone(BEIJING), end.astimezone(BEIJING)
        total = 0
        while t < end:
            midnight = datetime.combine(t.date() + timedelta(days=1), time(), BEIJING)
            if self.is_workday(t.date())[0]:
                total += int((min(midnight, end) - t).total_seconds())
            t = midnight
        return total


def override_path(setting: str | None, instance_path: str | Path) -> Path:
    """The overrides file: the CALENDAR_OVERRIDES setting, else instance/calendar.yaml."""
    return Path(setting) if setting else Path(instance_path) / "calendar.yaml"


class OverrideFile:
    """The calendar of one overrides file, read again when the file changes.

    `load()` reads it at start-up and raises CalendarFileError for a broken file.
    `current()` looks at the file's mtime at most every CHECK_SECONDS: a changed file is
    read again, a broken one keeps the last good calendar (a warning is logged once per
    change), a removed one leaves only the package's calendar.
    """

    CHECK_SECONDS = 5.0

    def __init__(self, path: Path):
        self.path = path
        self._calendar = WorkCalendar()
        self._signature: tuple[int, int, int] | None = None  # of the file last read
        self._checked = float("-inf")
        self._lock = threading.Lock()

    def load(self) -> OverrideFile:
        signature = self._stat()
        self._calendar = WorkCalendar.from_file(self.path)
        self._signature, self._checked = signature, clock.monotonic()
        return self

    def current(self) -> WorkCalendar:
        if clock.monotonic() - self._checked >= self.CHECK_SECONDS:
            with self._lock:
                if clock.monotonic() - self._checked >= self.CHECK_SECONDS:
                    self._refresh()
                    self._checked = clock.monotonic()
        return self._calendar

    def _stat(self) -> tuple[int, int, int] | None:
        try:
            st = self.path.stat()
        except OSError:
            return None
        return st.st_mtime_ns, st.st_size, st.st_ino

    def _refresh(self) -> None:
        signature = self._stat()  # before reading: a change while reading is seen next time
        if signature == self._signature:
            return
        self._signature = signature
        try:
            calendar = WorkCalendar.from_file(self.path)
        except Exception as exc:  # noqa: BLE001 - whatever is wrong, questions go on
            log.warning("calendar overrides %s are broken, keeping the last good calendar: %s",
                        self.path, exc)
            return
        self._calendar = calendar
        log.info("calendar overrides %s read again", self.path)


def as_utc(moment: datetime) -> datetime:
    """Naive UTC, as the database stores it."""
    return moment.astimezone(UTC).replace(tzinfo=None)


def from_db(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC)


def beijing(moment: datetime) -> datetime:
    return from_db(moment).astimezone(BEIJING)
