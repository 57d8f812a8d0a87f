"""Courses (在线学习): a topic, a summary and lessons in order."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from generator.models.basis import Citation
from generator.models.common import Markdown, Media, Ref, Slug, Strict, Text

# The seed documents group course topics by what they strengthen.
TOPIC_GROUPS: dict[str, str] = {
    "党性教育": "增强党性观念",
    "党风廉政": "增强党性观念",
    "创业技能": "增强致富本领",
    "种养殖技术": "增强致富本领",
    "法律法规": "依法维护权益",
}
Topic = Literal["党性教育", "党风廉政", "创业技能", "种养殖技术", "法律法规"]


class Question(Strict):
    """A self-check question with its options, the right one and why."""

    question: Text
    options: list[Text] = Field(min_length=2)
    answer: Text
    explanation: Text
    # The clauses an explanation rests on, when it states a rule (content/basis/); shown
    # under the explanation. A question of plain knowledge (what 三会一课 means) has none.
    basis: list[Citation] = []

    @model_validator(mode="after")
    def _answer_is_an_option(self) -> Question:
        if self.answer not in self.options:
            raise ValueError("answer 必须与 options 中的某一项完全相同")
        return self


class Lesson(Strict):
    slug: Slug
    title: Text
    minutes: int = Field(ge=1, le=240)
    body: Markdown
    media: list[Media] = []
    questions: list[Question] = []
    related: list[Ref] = []


class Course(Strict):
    title: Text
    topic: Topic
    summary: Text
    order: int = 100
    lessons: list[Lesson] = Field(min_length=1)

    @property
    def topic_group(self) -> str:
        return TOPIC_GROUPS[self.topic]

    @property
    def minutes(self) -> int:
        return sum(lesson.minutes for lesson in self.lessons)
