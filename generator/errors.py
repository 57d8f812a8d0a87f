"""The one domain error type of the generator and the problems it carries."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong (or worth a warning) in one content file."""

    path: str
    line: int
    column: int
    field: str
    message: str
    warning: bool = False

    def __str__(self) -> str:
        prefix = "警告：" if self.warning else ""
        field = self.field or "文件"
        return f"{self.path}:{self.line}:{self.column}: {field}: {prefix}{self.message}"


class ContentError(Exception):
    """Raised when content does not validate; carries every problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))
