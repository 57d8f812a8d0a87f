"""The weekly theme in the branch's WeChat group: a message to paste and a poster to save.

Both carry the theme page's absolute address, so they exist only when site.yaml has a
`public_url`. The poster is a PNG 750 px wide (WeChat's own share-card width) drawn with
Pillow in a CJK font found on this machine, with a QR code of the page's address; posters
are kept in a cache beside the site, named by a hash of what they show, and drawn again
only when that changes.
"""

from __future__ import annotations

import functools
import hashlib
import os
from pathlib import Path

from generator.errors import ContentError, Problem
from generator.loader import Content, Item

POSTER_WIDTH = 750
POSTER_VERSION = "3"  # bump when the drawing changes, so cached posters are redrawn
# Looked for in this order; DANGXIAO_CJK_FONT (a .ttc/.otf/.ttf path) comes first.
# fonts-noto-cjk on Debian (scripts/setup.sh installs it), then other common CJK fonts.
FONT_CANDIDATES = [
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
     "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"),
    ("/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
     "/usr/share/fonts/noto-cjk/NotoSansCJK-Bold.ttc"),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", None),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", None),
]
NO_FONT = ("生成每周主题的分享海报需要中文字体，本机没有找到。请安装 fonts-noto-cjk"
           "（sudo apt-get install fonts-noto-cjk，scripts/setup.sh 会自动安装），"
           "或把环境变量 DANGXIAO_CJK_FONT 设为一个中文字体文件的路径")

RED = (178, 34, 34)
INK = (34, 34, 34)
GREY = (102, 102, 102)
PAPER = (255, 253, 248)


def theme_page(theme: Item) -> str:
    """The theme page's path in the site (use_directory_urls is off)."""
    return f"themes/{theme.slug}.html"


def poster_path(theme: Item) -> str:
    return f"themes/{theme.slug}.png"


def share_lines(theme: Item) -> list[str]:
    """The three lines a message and poster carry: the theme's first discussion questions."""
    return list(theme.model.questions[:3])


def share_message(theme: Item, dates: str, public_url: str) -> str:
    """The text an organiser pastes into the WeChat group."""
    lines = [f"【每周主题】{theme.model.topic}", f"学习时间：{dates}"]
    lines += [f"{n}. {line}" for n, line in enumerate(share_lines(theme), start=1)]
    lines.append(f"点开学习：{public_url}{theme_page(theme)}")
    return "\n".join(lines)


def message_rows(message: str, per_row: int = 17) -> int:
    """Rows the message box needs on a 360-px phone (about 17 Chinese characters a row, a
    Latin letter half of one), so the whole message shows without scrolling inside it."""
    rows = 0
    for line in message.split("\n"):
        width = sum(0.55 if char.isascii() else 1 for char in line)
        rows += max(1, -(-int(width + 0.99) // per_row))
    return rows


# -- the font --------------------------------------------------------------------------------
def find_cjk_font() -> tuple[str, str] | None:
    """(regular, bold) font files with Chinese glyphs; bold may be the regular file."""
    chosen = os.environ.get("DANGXIAO_CJK_FONT")
    if chosen:
        return (chosen, chosen) if Path(chosen).is_file() else None
    for regular, bold in FONT_CANDIDATES:
        if Path(regular).is_file():
            return regular, bold if bold and Path(bold).is_file() else regular
    return None


@functools.lru_cache(maxsize=16)
def _font(path: str, size: int):
    """The Simplified Chinese face of a font collection (Noto's .ttc holds JP, KR, SC...)."""
    from PIL import ImageFont

    if path.endswith(".ttc"):
        for index in range(12):
            try:
                face = ImageFont.truetype(path, size, index=index)
            except OSError:
                break
            if " SC" in face.getname()[0] and "Mono" not in face.getname()[0]:
                return face
    return ImageFont.truetype(path, size)


# Characters a Chinese line may not start with: they stay at the end of the line before.
_NO_START = set("，。、；：？！）》」』”’…—,.;:?!)")


def wrap(text: str, font, width: int) -> list[str]:
    """Break Chinese text into lines no wider than width (Latin words kept whole)."""
    tokens: list[str] = []
    for char in text:
        if tokens and char.isascii() and char.isalnum() and tokens[-1][-1:].isascii() \
                and tokens[-1][-1:].isalnum():
            tokens[-1] += char
        else:
            tokens.append(char)
    lines: list[str] = []
    line = ""
    for token in tokens:
        if line and font.getlength(line + token) > width and token not in _NO_START:
            lines.append(line.rstrip())
            line = token.lstrip()
        else:
            line += token
    if line:
        lines.append(line)
    return lines


def draw_poster(site_title: str, topic: str, dates: str, lines: list[str], url: str,
                fonts: tuple[str, str]) -> bytes:
    """The poster as PNG bytes: POSTER_WIDTH wide, as tall as its text needs."""
    import io

    import qrcode
    from PIL import Image, ImageDraw

    regular, bold = fonts
    margin, inner = 48, POSTER_WIDTH - 96
    f_site, f_topic = _font(bold, 30), _font(bold, 52)
    f_dates, f_line, f_small = _font(regular, 30), _font(regular, 34), _font(regular, 24)
    topic_lines = wrap(topic, f_topic, inner)
    body = [wrap(f"{n}. {line}", f_line, inner) for n, line in enumerate(lines, start=1)]

    code = qrcode.QRCode(border=2, error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(url)
    code.make(fit=True)
    matrix = code.get_matrix()
    cell = max(4, 260 // len(matrix))
    qr_size = cell * len(matrix)

    height = 120 + 40 + 66 * len(topic_lines) + 20 + 46 + 40
    height += sum(48 * len(block) + 18 for block in body) + 30
    height += qr_size + 40 + 36 + 34 * len(wrap(url, f_small, inner)) + 30
    image = Image.new("RGB", (POSTER_WIDTH, height), PAPER)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, POSTER_WIDTH, 120), fill=RED)
    draw.text((margin, 60), site_title, font=f_site, fill=(255, 255, 255), anchor="lm")
    draw.text((POSTER_WIDTH - margin, 60), "每周主题", font=f_site, fill=(255, 236, 180),
              anchor="rm")
    y = 160
    for text in topic_lines:
        draw.text((margin, y), text, font=f_topic, fill=RED)
        y += 66
    y += 20
    draw.text((margin, y), f"学习时间：{dates}", font=f_dates, fill=GREY)
    y += 46 + 24
    draw.line((margin, y, POSTER_WIDTH - margin, y), fill=(230, 200, 190), width=2)
    y += 16
    for block in body:
        for text in block:
            draw.text((margin, y), text, font=f_line, fill=INK)
            y += 48
        y += 18
    y += 30
    left = (POSTER_WIDTH - qr_size) // 2
    qr = Image.new("1", (len(matrix), len(matrix)), 1)
    qr.putdata([0 if dark else 1 for row in matrix for dark in row])
    image.paste(qr.resize((qr_size, qr_size), Image.NEAREST), (left, y))
    y += qr_size + 30
    draw.text((POSTER_WIDTH // 2, y), "长按识别二维码，打开本期学习", font=f_dates, fill=INK,
              anchor="mt")
    y += 44
    for text in wrap(url, f_small, inner):  # a long address breaks rather than runs off
        draw.text((POSTER_WIDTH // 2, y), text, font=f_small, fill=GREY, anchor="mt")
        y += 34
    # A few colours are enough for text on flat colour: a palette PNG is a fraction of RGB.
    small = image.quantize(colors=32, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
    out = io.BytesIO()
    small.save(out, "PNG", compress_level=6)  # level 9 saves 7 % for 7 times the time
    return out.getvalue()


def make_posters(content: Content, cache: Path, dates_of) -> dict[str, Path]:
    """Draw (or take from cache) the poster of every theme; returns them by their path in
    the site. No public_url: no posters. No CJK font: ContentError naming the first theme."""
    site = content.site
    themes = content.of("themes")
    if site is None or site.public_url is None or not themes or "themes" not in site.sections:
        return {}
    fonts = find_cjk_font()
    if fonts is None:
        raise ContentError([Problem(themes[0].path, 1, 1, "", NO_FONT)])
    posters: dict[str, Path] = {}
    for theme in themes:
        url = site.public_url + theme_page(theme)
        args = (site.title, theme.model.topic, dates_of(theme), share_lines(theme), url)
        key = hashlib.blake2b(repr((POSTER_VERSION, args, fonts)).encode(),
                              digest_size=10).hexdigest()
        made = cache / f"{theme.slug}-{key}.png"
        if not made.is_file():
            cache.mkdir(parents=True, exist_ok=True)
            tmp = made.with_suffix(".tmp")
            tmp.write_bytes(draw_poster(*args, fonts))
            tmp.replace(made)
        posters[poster_path(theme)] = made
    if cache.is_dir():
        for old in cache.iterdir():
            if old not in posters.values():
                old.unlink()
    return posters
