"""Field types and the strict base model shared by every content type."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
# A reference to another page of the site, e.g. faq/dues or courses/law/contract.
REF_RE = re.compile(
    r"^(courses|guides|faq|news|notices|showcase|themes|voices)(/[a-z0-9][a-z0-9-]*){1,2}$"
)
MEDIA_SUFFIXES = {
    "audio": (".mp3", ".m4a", ".ogg"),
    "video": (".mp4", ".webm"),
    "image": (".jpg", ".jpeg", ".png", ".webp", ".gif"),
}


class Strict(BaseModel):
    """Every content model forbids unknown keys, so a mistyped key is an error."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _parse_date(value: object) -> object:
    if isinstance(value, date):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError("日期无效，应为 YYYY-MM-DD 格式的真实日期，如 2026-03-01")


def _check_slug(value: str) -> str:
    if not SLUG_RE.match(value):
        raise ValueError("只能用小写英文字母、数字和连字符，如 dues-basics")
    return value


def _check_ref(value: str) -> str:
    if not REF_RE.match(value):
        raise ValueError(
            "链接格式应为 栏目/标识，如 faq/dues、guides/activity-card、courses/law/contract"
        )
    return value


def _check_duration(value: str) -> str:
    if not re.fullmatch(r"\d{1,2}:[0-5]\d", value):
        raise ValueError("时长格式应为 分：秒，如 1:05")
    return value


IsoDate = Annotated[date, BeforeValidator(_parse_date)]
Text = Annotated[str, Field(min_length=1)]
Slug = Annotated[str, AfterValidator(_check_slug)]
Ref = Annotated[str, AfterValidator(_check_ref)]
Markdown = Annotated[str, Field(min_length=1)]


class Media(Strict):
    """An image, audio or video file under content/media/ shown on a page."""

    type: Literal["image", "audio", "video"]
    file: Text
    caption: Text
    duration: Annotated[str, AfterValidator(_check_duration)] | None = None

    @field_validator("file")
    @classmethod
    def _check_file(cls, value: str, info: ValidationInfo) -> str:
        if not value.startswith("media/") or ".." in value.split("/"):
            raise ValueError("媒体文件应放在 content/media/ 下，写作 media/文件名")
        kind = info.data.get("type")
        if kind in MEDIA_SUFFIXES and not value.lower().endswith(MEDIA_SUFFIXES[kind]):
            allowed = "、".join(MEDIA_SUFFIXES[kind])
            raise ValueError(f"{kind} 文件的扩展名应为 {allowed} 之一")
        return value
