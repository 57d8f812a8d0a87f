"""Lesson media read from the files themselves at build time: each audio or video's length,
a video's frame shape, and a JPEG poster taken from its first visible frame (PyAV), cached
by the file's content so a rebuild reads only what changed."""

from __future__ import annotations

import hashlib
from fractions import Fraction
from pathlib import Path

from generator.checks import media_length
from generator.loader import Content
from generator.models.common import MediaFacts

POSTER_WIDTH = 640  # the widest poster made: a 360-px phone screen at twice its pixels
_DARK = 24  # mean brightness (0-255) under which a first frame is taken for a fade-in


def read_media(content: Content, cache: Path) -> dict[str, Path]:
    """Give every audio and video of the lessons what its file says: its length and, for a
    video, the shape it is shown in and a poster made from the film (unless the editor gave
    one). Posters are kept in cache, named by the film's size and time, and made again only
    when the film changes. Returns the posters to put into the site, by their path there.
    A file that cannot be read gets no facts: its caption keeps the editor's duration and
    the video a neutral box (`dangxiao check` warns about it)."""
    posters: dict[str, Path] = {}
    for course in content.of("courses"):
        for lesson in course.model.lessons:
            for media in lesson.media:
                path = content.root / media.file
                if media.type == "image" or not path.is_file():
                    continue
                seconds = media_length(path)
                if media.type == "audio" or seconds is None:
                    media.read(MediaFacts(seconds=seconds))
                    continue
                rel = f"{media.file}.jpg"  # media/clip.mp4 -> media/clip.mp4.jpg
                wanted = not media.poster and not (content.root / rel).exists()
                shape, made = _video_shape_and_poster(path, cache if wanted else None)
                if made is not None:
                    posters[rel] = made
                width, height = shape or (None, None)
                media.read(MediaFacts(seconds=seconds, width=width, height=height,
                                      poster=rel if made is not None else None))
    if cache.is_dir():
        for old in cache.iterdir():
            if old not in posters.values():
                old.unlink()
    return posters


def _video_shape_and_poster(path: Path, cache: Path | None
                            ) -> tuple[tuple[int, int] | None, Path | None]:
    """The size a video is shown at (rotation and pixel shape applied) and, when cache is
    given, its poster there (made now or earlier). (None, None) if it cannot be decoded."""
    import av  # FFmpeg's libraries, loaded only by a build that has a video

    stat = path.stat()
    key = hashlib.blake2b(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}".encode(),
                          digest_size=10).hexdigest()
    if cache is not None:
        for made in cache.glob(f"{key}-*.jpg"):  # the shape is kept in the name
            width, _, height = made.stem.split("-")[1].partition("x")
            return (int(width), int(height)), made
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                return None, None
            stream = container.streams.video[0]
            frame = _poster_frame(container, stream)
            if frame is None:
                return None, None
            aspect = stream.sample_aspect_ratio or 1
            turn = round(getattr(frame, "rotation", 0) or 0) % 360
            width = max(1, round(frame.width * aspect))
            shape = (frame.height, width) if turn in (90, 270) else (width, frame.height)
            if cache is None:
                return shape, None
            data = _jpeg(frame, width, turn, min(1.0, POSTER_WIDTH / shape[0]))
    except (av.FFmpegError, OSError, ValueError):
        return None, None
    cache.mkdir(parents=True, exist_ok=True)
    made = cache / f"{key}-{shape[0]}x{shape[1]}.jpg"
    tmp = made.with_suffix(".tmp")
    tmp.write_bytes(data)
    tmp.replace(made)
    return shape, made


def _poster_frame(container, stream):
    """The first frame or, if it is dark (a fade-in), the first bright one of the first
    1.5 seconds."""
    first = None
    for frame in container.decode(stream):
        if first is None:
            first = frame
        luma = bytes(frame.planes[0])[::97]
        if sum(luma) / max(1, len(luma)) >= _DARK:
            return frame
        if frame.time is not None and frame.time >= 1.5:
            break
    return first


# The display matrix turns the picture counter-clockwise by this many degrees.
_TURNS = {90: ["transpose=cclock"], 180: ["hflip", "vflip"], 270: ["transpose=clock"]}


def _jpeg(frame, width: int, turn: int, scale: float) -> bytes:
    """The frame as a JPEG in the shape it is shown in, at most POSTER_WIDTH wide."""
    import av

    def even(n: int) -> int:
        return max(2, int(n * scale) // 2 * 2)

    image = frame.reformat(width=even(width), height=even(frame.height), format="yuvj420p")
    if turn in _TURNS:
        graph = av.filter.Graph()
        last = graph.add_buffer(width=image.width, height=image.height, format="yuvj420p",
                                time_base=Fraction(1, 25))
        for step in _TURNS[turn]:
            name, _, args = step.partition("=")
            node = graph.add(name, args or None)
            last.link_to(node)
            last = node
        last.link_to(graph.add("buffersink"))
        graph.configure()
        image.pts = 0
        graph.push(image)
        image = graph.pull()
    encoder = av.CodecContext.create("mjpeg", "w")
    encoder.width, encoder.height = image.width, image.height
    encoder.pix_fmt = "yuvj420p"
    encoder.time_base = Fraction(1, 25)
    encoder.options = {"qmin": "2", "qmax": "8"}
    packets = [*encoder.encode(image), *encoder.encode(None)]
    return b"".join(bytes(packet) for packet in packets)


