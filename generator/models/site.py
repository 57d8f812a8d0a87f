"""content/site.yaml: the site's title, section order and service information."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, field_validator

from generator.models.common import Markdown, Strict, Text

SECTIONS: dict[str, str] = {
    "news": "党建动态",
    "guides": "党务指南",
    "courses": "在线学习",
    "service": "信息服务",
    "showcase": "党员风采",
    "notices": "公告通知",
    "voices": "流动党员之声",
    "faq": "政策问答",
    "themes": "每周主题",
    "events": "活动",
}
Section = Literal["news", "guides", "courses", "service", "showcase", "notices", "voices", "faq",
                  "themes", "events"]


def _check_public_url(value: str) -> str:
    """An http(s) address of a host, with an optional path; always ends in /."""
    if not re.fullmatch(r"https?://[A-Za-z0-9.-]+(:\d+)?(/[A-Za-z0-9._~/-]*)?", value):
        raise ValueError("网站地址应以 https:// 开头，只含域名和路径，如 https://dangxiao.example.cn/")
    return value if value.endswith("/") else value + "/"


class ServiceCentre(Strict):
    name: Text
    address: Text
    hours: list[Text] = Field(min_length=1)
    phone: Text


class Service(Strict):
    hotline: Text
    hotline_note: Text
    centre: ServiceCentre
    promise_days: int = Field(ge=1, le=30)
    promise: Text
    handling_steps: list[Text] = Field(min_length=1)
    must_visit: list[Text] = Field(min_length=1)
    body: Markdown


class SiteConfig(Strict):
    title: Text
    description: Text
    welcome: Markdown
    sections: list[Section] = Field(min_length=1)
    service: Service
    # The site's address as members reach it, e.g. https://dangxiao.example.cn/: the Atom
    # feed and the calendar files need absolute links. Without it no feed is written.
    public_url: Annotated[str, AfterValidator(_check_public_url)] | None = None

    @field_validator("sections")
    @classmethod
    def _no_repeats(cls, sections: list[str]) -> list[str]:
        repeated = sorted({s for s in sections if sections.count(s) > 1})
        if repeated:
            raise ValueError(f"栏目重复：{', '.join(repeated)}")
        return sections
