"""Working time on mainland China's official calendar (Beijing time, no DST).

A working day counts all of its 24 hours; public holidays and weekends count nothing, and
the adjusted working weekends (调休上班) count like any working day. chinese-calendar knows
the years the State Council has announced; an override file adds later years. A date that
neither knows falls back to Monday-Friday and is reported as uncertain, so the queue can
show a warning instead of a silently wrong due time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path

import chinese_calendar
import yaml

log = logging.getLogger(__name__)

BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")
DAY = 86_400
MAX_DAYS = 400  # no holiday run is longer; stops a loop on a broken override file


def _dates(items: list) -> list[date]:
    out: list[date] = []
    for item in items or []:
        text = str(item)
        if ".." in text:
            first, last = (date.fromisoformat(p.strip()) for p in text.split(".."))
            out.extend(first + timedelta(days=n) for n in range((last - first).days + 1))
        else:
            out.append(date.fromisoformat(text))
    return out


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
        """Read `YEAR: {holidays: [...], workdays: [...]}`; dates or `FIRST..LAST`."""
        cal = cls()
        if path is None or not path.is_file():
            return cal
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for year, days in data.items():
            cal.override_years.add(int(year))
            for d in _dates((days or {}).get("holidays", [])):
                cal.overrides[d] = False
            for d in _dates((days or {}).get("workdays", [])):
                cal.overrides[d] = True
        return cal

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


def as_utc(moment: datetime) -> datetime:
    """Naive UTC, as the database stores it."""
    return moment.astimezone(UTC).replace(tzinfo=None)


def from_db(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC)


def beijing(moment: datetime) -> datetime:
    return from_db(moment).astimezone(BEIJING)
