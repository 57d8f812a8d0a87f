"""content/search.yaml: the words members search with, kept by the editors.

`words` teaches the segmenter (jieba) terms it should keep whole, so 党员证明信 is one
searchable word; `synonyms` says which everyday words mean the terms the pages use, so
a member who types 做生意 finds the pages about 经商; `ignore` lists the question words
(怎么, 什么, 吗) a query is searched without. generator/search_terms.py applies them when
the site is built.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field, ValidationInfo, field_validator, model_validator

from generator.models.common import Strict

# The search index splits words at white space, zero-width spaces and hyphens
# (site_src/mkdocs.yml, search separator): a word holding one would be split in two.
_SPLITS = re.compile(r"[\s\u200b\-]")
MAX_WORD = 20


def _check_word(value: str) -> str:
    if _SPLITS.search(value):
        raise ValueError("一个词里不能有空格或连字符；几个词请分开写成列表的几项")
    if len(value) < 2:
        raise ValueError("至少两个字：单个字搜索时本来就能找到")
    if len(value) > MAX_WORD:
        raise ValueError(f"一个词最多 {MAX_WORD} 个字")
    return value


Word = Annotated[str, AfterValidator(_check_word)]


def _check_ignored(value: str) -> str:
    if _SPLITS.search(value) or not value:
        raise ValueError("不能为空，也不能有空格或连字符")
    if len(value) > MAX_WORD:
        raise ValueError(f"一个词最多 {MAX_WORD} 个字")
    return value


# Words left out of a query when it holds others (怎么, 吗); one character is enough.
Ignored = Annotated[str, AfterValidator(_check_ignored)]


class Synonym(Strict):
    """Members say one of `says`; the pages say one of `means`."""

    says: list[Word] = Field(min_length=1)
    means: list[Word] = Field(min_length=1)

    @model_validator(mode="after")
    def _distinct(self) -> Synonym:
        same = sorted(set(self.says) & set(self.means))
        if same:
            raise ValueError(f"同一个词不能既在 says 又在 means 里：{'、'.join(same)}")
        return self


class SearchTerms(Strict):
    words: list[Word] = []
    synonyms: list[Synonym] = []
    ignore: list[Ignored] = []

    @field_validator("words")
    @classmethod
    def _no_repeats(cls, words: list[str]) -> list[str]:
        repeated = sorted({w for w in words if words.count(w) > 1})
        if repeated:
            raise ValueError(f"词重复：{'、'.join(repeated)}")
        return words

    @field_validator("ignore")
    @classmethod
    def _not_searched_too(cls, ignore: list[str], info: ValidationInfo) -> list[str]:
        searched = set(info.data.get("words", []))
        for synonym in info.data.get("synonyms", []):
            searched |= {*synonym.says, *synonym.means}
        both = sorted(set(ignore) & searched)
        if both:
            raise ValueError(f"这些词在别处要搜索，不能忽略：{'、'.join(both)}")
        return ignore
