"""Dated items: news (党建动态), notices (公告通知), showcase (党员风采), voices."""

from __future__ import annotations

from pydantic import model_validator

from generator.models.common import IsoDate, Markdown, Media, Ref, Slug, Strict, Text


class NewsItem(Strict):
    title: Text
    date: IsoDate
    summary: Text
    body: Markdown
    source: Text | None = None
    related: list[Ref] = []


class Notice(Strict):
    title: Text
    date: IsoDate
    expires: IsoDate | None = None
    important: bool = False
    body: Markdown
    # The id of an event (a file name in content/events/) this notice announces.
    event: Slug | None = None

    @model_validator(mode="after")
    def _expires_after_date(self) -> Notice:
        if self.expires is not None and self.expires < self.date:
            raise ValueError("expires 不能早于 date")
        return self


class ShowcaseStory(Strict):
    title: Text
    name: Text
    branch: Text
    date: IsoDate
    summary: Text
    body: Markdown
    photo: Media | None = None


class Voice(Strict):
    """A member article for 流动党员之声; written by the forms app on publish."""

    title: Text
    author: Text
    date: IsoDate
    body: Markdown
