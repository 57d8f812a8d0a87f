"""Events (活动): 主题党日, 红色沙龙 and the like, with a start and end in Beijing time."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Annotated

from pydantic import BeforeValidator, ValidationInfo, field_validator, model_validator

from generator.models.common import Markdown, Ref, Strict, Text

# Mainland China keeps one offset all year (no daylight saving since 1991), so a fixed
# offset is exact and needs no time-zone database on the server.
BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")
WEEKDAYS = "一二三四五六日"
_MOMENT = re.compile(r"(\d{4}-\d{2}-\d{2})[ T](\d{1,2}):(\d{2})")
MOMENT_HINT = "时间应写成 YYYY-MM-DD HH:MM（北京时间），如 2026-12-20 19:30"


def _parse_moment(value: object) -> datetime:
    """'2026-12-20 19:30' (Beijing time) to an aware datetime."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=BEIJING)
    match = _MOMENT.fullmatch(value.strip()) if isinstance(value, str) else None
    if match:
        try:
            day = datetime.fromisoformat(match[1])
            return day.replace(hour=int(match[2]), minute=int(match[3]), tzinfo=BEIJING)
        except ValueError:
            pass
    raise ValueError(MOMENT_HINT)


Moment = Annotated[datetime, BeforeValidator(_parse_moment)]


class Event(Strict):
    """One event; the file name is its id, which a notice's `event:` names."""

    title: Text
    kind: Text  # 主题党日, 红色沙龙, 集中学习 ...: shown before the title
    start: Moment
    # A full moment too: a bare 21:00 would reach us from YAML as the number 1260.
    end: Moment
    place: Text | None = None  # where to come; with online both are offered
    online: Text | None = None  # how to join online, e.g. 在“流动党员之家”微信群里视频连线
    audience: Text  # who it is for
    bring: list[Text] = []
    summary: Text
    body: Markdown | None = None
    related: list[Ref] = []

    @field_validator("end")
    @classmethod
    def _end_after_start(cls, value: datetime, info: ValidationInfo) -> datetime:
        start = info.data.get("start")
        if start is not None and value <= start:
            raise ValueError(f"结束时间 {value:%Y-%m-%d %H:%M} 应晚于开始时间 "
                             f"{start:%Y-%m-%d %H:%M}")
        return value

    @model_validator(mode="after")
    def _somewhere(self) -> Event:
        if self.place is None and self.online is None:
            raise ValueError("请写明地点（place）或线上参加的方式（online），至少一项")
        return self


def cn_day(moment: datetime) -> str:
    """2026年12月20日（星期日）"""
    return f"{moment.year}年{moment.month}月{moment.day}日（星期{WEEKDAYS[moment.weekday()]}）"


def when(event: Event) -> str:
    """The time in words: 2026年12月20日（星期日）19:30–21:00, or across days
    2027年2月3日（星期三）14:30 至 2月4日（星期四）11:30."""
    start, end = event.start.astimezone(BEIJING), event.end.astimezone(BEIJING)
    if start.date() == end.date():
        return f"{cn_day(start)}{start:%H:%M}–{end:%H:%M}"
    tail = cn_day(end) if end.year != start.year else cn_day(end).split("年", 1)[1]
    return f"{cn_day(start)}{start:%H:%M} 至 {tail}{end:%H:%M}"
