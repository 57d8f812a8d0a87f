"""Horizontal bar pictures as SVG, written on the server (no script, nothing from another
host, no `style` attribute: the CSP allows no inline style; presentation attributes such as
`fill` are not style). Every bar carries its value in words beside it, so colour is never
the only sign, and the page puts a table with the same numbers under each picture.

The picture is 360 units wide with `width="100%"` and a viewBox: on a 360-px phone one unit
is about one pixel, and it grows with a wider screen. Labels stay short (2026年11月,
3–5 天); the tables beside carry the longer wording.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 360
LABEL_RIGHT = 76  # labels end here (text-anchor end)
BAR_X = 82
BAR_MAX = 186  # the longest bar; its value text still fits after it
BAR_H = 12
BAR_GAP = 3
ROW_PAD = 9
HEADING_H = 24
LEGEND_H = 22
TOP = 6
INK = "#212121"
GRID = "#9e9e9e"

# Colours with at least 4.5:1 contrast on white, each also named in words (legend, units).
RED = "#b71c1c"
BLUE = "#1565c0"
GREEN = "#2e7d32"


@dataclass(frozen=True)
class Bar:
    fraction: float  # of the longest bar, 0 to 1
    text: str  # the value in words, written after the bar: 67%（2/3）, 120 分钟
    fill: str = RED


@dataclass(frozen=True)
class Row:
    label: str
    bars: tuple[Bar, ...]


@dataclass(frozen=True)
class Group:
    heading: str | None
    rows: tuple[Row, ...]


def _text(x: float, y: float, text: str, size: int = 12, anchor: str = "start",
          weight: str | None = None) -> str:
    bold = f' font-weight="{weight}"' if weight else ""
    return (f'<text x="{x:g}" y="{y:g}" font-size="{size}" fill="{INK}" '
            f'text-anchor="{anchor}"{bold}>{escape(text)}</text>')


def _row_height(row: Row) -> int:
    n = max(len(row.bars), 1)
    return n * BAR_H + (n - 1) * BAR_GAP + ROW_PAD


def hbars(ident: str, title: str, desc: str, groups: Sequence[Group],
          legend: Sequence[tuple[str, str]] = (), scale: str | None = None) -> Markup:
    """One picture: optional legend (colour, words) at the top, then each group's heading
    and rows; a row is a label and one or more bars, each followed by its value text.
    `scale` labels a thin line at the full length of a bar (e.g. 100%)."""
    parts: list[str] = []
    y = TOP
    if legend:
        x = 4
        for colour, words in legend:
            parts.append(f'<rect x="{x}" y="{y + 3}" width="12" height="12" fill="{colour}"/>')
            parts.append(_text(x + 16, y + 13, words, size=11))
            x += 16 + 12 * len(words) + 14
        y += LEGEND_H
    if scale:
        parts.append(_text(BAR_X + BAR_MAX, y + 10, scale, size=10, anchor="middle"))
        y += 14
    body_top = y
    for group in groups:
        if group.heading:
            parts.append(_text(4, y + 16, group.heading, size=12, weight="bold"))
            y += HEADING_H
        for row in group.rows:
            height = _row_height(row)
            middle = y + (height - ROW_PAD) / 2
            parts.append(_text(LABEL_RIGHT, middle + 4, row.label, anchor="end"))
            bar_y = y
            for bar in row.bars:
                width = round(BAR_MAX * min(max(bar.fraction, 0.0), 1.0), 1)
                if width > 0:
                    parts.append(f'<rect x="{BAR_X}" y="{bar_y}" width="{width:g}" '
                                 f'height="{BAR_H}" fill="{bar.fill}"/>')
                parts.append(_text(BAR_X + width + 4, bar_y + BAR_H - 2, bar.text, size=11))
                bar_y += BAR_H + BAR_GAP
            y += height
    # The baseline every bar starts from, and the full-length line when there is a scale.
    parts.append(f'<line x1="{BAR_X}" y1="{body_top}" x2="{BAR_X}" y2="{y}" '
                 f'stroke="{GRID}" stroke-width="1"/>')
    if scale:
        parts.append(f'<line x1="{BAR_X + BAR_MAX}" y1="{body_top}" x2="{BAR_X + BAR_MAX}" '
                     f'y2="{y}" stroke="{GRID}" stroke-width="1" stroke-dasharray="3 3"/>')
    height = y + 4
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
            f'viewBox="0 0 {WIDTH} {height}" width="100%" '
            f'preserveAspectRatio="xMinYMin meet" '
            f'aria-labelledby="{ident}-title {ident}-desc">'
            f'<title id="{ident}-title">{escape(title)}</title>'
            f'<desc id="{ident}-desc">{escape(desc)}</desc>')
    return Markup(head + "".join(parts) + "</svg>")
