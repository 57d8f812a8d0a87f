"""Field types and the strict base model shared by every content type."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationInfo,
    field_validator,
    model_validator,
)

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
# A reference to another page of the site, e.g. faq/dues or courses/law/contract.
REF_RE = re.compile(
    r"^(courses|guides|faq|news|notices|showcase|themes|voices|events)(/[a-z0-9][a-z0-9-]*){1,2}$"
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


def format_duration(seconds: float) -> str:
    """A length as players show it, whole seconds cut off: 18.9 s is 0:18, 1 h 2 min 1:02:00."""
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def duration_seconds(value: str) -> int:
    minutes, secs = value.split(":")
    return int(minutes) * 60 + int(secs)


@dataclass(frozen=True)
class MediaFacts:
    """What the build read from a media file itself (generator/media.py, read_media)."""

    seconds: float | None = None
    width: int | None = None  # a video's size as shown, rotation and pixel shape applied
    height: int | None = None
    poster: str | None = None  # media/... of the poster image the build made from the film


def _check_media_path(value: str) -> str:
    if not value.startswith("media/") or ".." in value.split("/"):
        raise ValueError("媒体文件应放在 content/media/ 下，写作 media/文件名")
    return value


class Media(Strict):
    """An image, audio or video file under content/media/ shown on a page."""

    type: Literal["image", "audio", "video"]
    file: Text
    caption: Text
    duration: Annotated[str, AfterValidator(_check_duration)] | None = None
    poster: Text | None = None
    # Set by the build from the file itself; not part of the YAML.
    _facts: MediaFacts | None = PrivateAttr(default=None)

    @field_validator("file")
    @classmethod
    def _check_file(cls, value: str, info: ValidationInfo) -> str:
        _check_media_path(value)
        kind = info.data.get("type")
        if kind in MEDIA_SUFFIXES and not value.lower().endswith(MEDIA_SUFFIXES[kind]):
            allowed = "、".join(MEDIA_SUFFIXES[kind])
            raise ValueError(f"{kind} 文件的扩展名应为 {allowed} 之一")
        return value

    @field_validator("poster")
    @classmethod
    def _check_poster(cls, value: str) -> str:
        _check_media_path(value)
        if not value.lower().endswith(MEDIA_SUFFIXES["image"]):
            raise ValueError("封面图片的扩展名应为 " + "、".join(MEDIA_SUFFIXES["image"]) + " 之一")
        return value

    @model_validator(mode="after")
    def _poster_only_for_video(self) -> Media:
        if self.poster is not None and self.type != "video":
            raise ValueError("只有视频（type: video）可以设置 poster 封面图片")
        return self

    def read(self, facts: MediaFacts | None) -> None:
        """Remember what the build read from the file (the model stays frozen)."""
        self._facts = facts

    @property
    def length(self) -> str | None:
        """The length shown in the caption: the file's own when it could be read."""
        if self._facts is not None and self._facts.seconds is not None:
            return format_duration(self._facts.seconds)
        return self.duration

    @property
    def poster_image(self) -> str | None:
        """The editor's poster, else the one the build made from the film."""
        return self.poster or (self._facts.poster if self._facts else None)

    @property
    def frame(self) -> tuple[int, int] | None:
        """A video's width and height as shown, when the build could read them."""
        facts = self._facts
        if facts is None or not facts.width or not facts.height:
            return None
        return facts.width, facts.height
