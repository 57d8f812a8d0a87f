"""Due times on mainland China's official calendar, holidays, adjusted Saturdays, pauses."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from forms_app.working_days import BEIJING, DAY, WorkCalendar

CAL = WorkCalendar()


def bj(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=BEIJING)


@pytest.mark.parametrize("arrived,due", [
    # An ordinary week: Monday 10:00 -> Wednesday 10:00.
    ("2026-11-16 10:00", "2026-11-18 10:00"),
    # Friday afternoon: the weekend does not count.
    ("2026-11-20 15:00", "2026-11-24 15:00"),
    # Saturday: the clock starts on Monday morning.
    ("2026-11-21 09:30", "2026-11-25 00:00"),
    # National Day 2026: 1-7 October off; Sunday 20 September and Saturday 10 October
    # are working days (调休).
    ("2026-09-30 10:00", "2026-10-09 10:00"),
    # Friday 9 Oct: 14 h, Saturday 10 Oct (working): 24 h, Sunday off, Monday: 10 h.
    ("2026-10-09 10:00", "2026-10-12 10:00"),
    ("2026-09-19 12:00", "2026-09-22 00:00"),  # Saturday 19 off, Sunday 20 works, Monday 21 works
    # Spring Festival 2026: 15-23 February off; Saturdays 14 and 28 February are working days.
    ("2026-02-13 15:00", "2026-02-24 15:00"),
    ("2026-02-27 09:00", "2026-03-02 09:00"),
])
def test_due_two_working_days_after_arrival(arrived, due):
    moment, certain = CAL.add(bj(arrived), 2 * DAY)
    assert moment == bj(due) and certain


def test_pause_for_a_leaders_instruction_keeps_the_remaining_time():
    arrived = bj("2026-09-29 10:00")  # Tuesday
    due, _ = CAL.add(arrived, 2 * DAY)
    assert due == bj("2026-10-08 10:00")  # Tue 14 h, Wed 24 h, the holiday week, Thu 10 h
    paused = bj("2026-09-30 10:00")
    left = CAL.between(paused, due)
    assert left == DAY  # one working day used, one left
    # Sent to a leader on 30 September, back on Monday 12 October: one working day from then.
    resumed, _ = CAL.add(bj("2026-10-12 09:00"), left)
    assert resumed == bj("2026-10-13 09:00")


def test_years_the_package_does_not_know_are_flagged():
    moment, certain = CAL.add(bj("2027-02-01 10:00"), 2 * DAY)
    assert moment == bj("2027-02-03 10:00") and not certain


def test_override_file_covers_a_new_year(tmp_path: Path):
    path = tmp_path / "calendar.yaml"
    path.write_text("2027:\n  holidays: ['2027-02-05..2027-02-11']\n"
                    "  workdays: ['2027-02-13']\n", encoding="utf-8")
    cal = WorkCalendar.from_file(path)
    moment, certain = cal.add(bj("2027-02-04 12:00"), 2 * DAY)
    # Thu 4 Feb: 12 h; holiday 5-11; Fri 12 Feb: 24 h; Sat 13 (working): 12 h.
    assert moment == bj("2027-02-13 12:00") and certain
