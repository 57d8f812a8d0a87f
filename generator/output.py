"""Writing the rendered tree: only changed files, stale ones removed, and a manifest that
lets a re-render over unchanged inputs skip the work entirely."""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

MANIFEST = ".render-manifest.json"
_CODE = Path(__file__).resolve().parent


@dataclass
class RenderResult:
    nav: list[Any]
    written: list[str] = field(default_factory=list)
    unchanged: int = 0
    removed: list[str] = field(default_factory=list)


def _stat_lines(folder: Path | None, digest: Any) -> None:
    if folder is None or not folder.is_dir():
        return
    for path in sorted(folder.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            stat = path.stat()
            digest.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())


def fingerprint(content_root: Path, assets: Path | None, today: date) -> str:
    """What the rendered tree depends on: the content, the assets, the renderer's own code
    and templates (by path, size and modification time, like make), and the date, which
    decides expired notices and the current theme."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(today.isoformat().encode())
    for folder in (content_root, assets, _CODE):
        _stat_lines(folder, digest)
    return digest.hexdigest()


def cached(out: Path, stamp: str) -> RenderResult | None:
    """The previous result, if it was made from the same inputs and its files are there."""
    try:
        manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if manifest.get("fingerprint") != stamp:
        return None
    files = manifest.get("files", [])
    if not all((out / rel).is_file() for rel in files):
        return None
    return RenderResult(nav=manifest["nav"], unchanged=len(files))


def write_tree(out: Path, pages: dict[str, bytes], copies: dict[str, Path], nav: list[Any],
               stamp: str) -> RenderResult:
    """Write pages whose bytes changed and copies whose size or time changed; remove the rest."""
    result = RenderResult(nav=nav)
    out.mkdir(parents=True, exist_ok=True)
    (out / MANIFEST).unlink(missing_ok=True)
    for rel, data in pages.items():
        target = out / rel
        if target.is_file() and target.stat().st_size == len(data) and \
                target.read_bytes() == data:
            result.unchanged += 1
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_bytes(data)
        tmp.replace(target)
        result.written.append(rel)
    for rel, source in copies.items():
        target = out / rel
        stat = source.stat()
        if target.is_file() and target.stat().st_size == stat.st_size and \
                target.stat().st_mtime_ns == stat.st_mtime_ns:
            result.unchanged += 1
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
        result.written.append(rel)
    keep = set(pages) | set(copies)
    for path in sorted(out.rglob("*"), reverse=True):
        rel = path.relative_to(out).as_posix()
        if path.is_file() and rel not in keep:
            path.unlink()
            result.removed.append(rel)
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    manifest = {"fingerprint": stamp, "files": sorted(keep), "nav": nav}
    (out / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    return result
