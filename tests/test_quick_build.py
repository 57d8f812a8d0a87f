"""The quick build after a Publish (generator/quick_build.py): only the changed pages are
built, into a hard-linked copy of the site that replaces it whole; the new page is
served, listed on its section's index and found by the app's search; every other page
and search row stays as it was, and the live site is never written to."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import threading
from pathlib import Path

import pytest
from conftest import TODAY
from werkzeug.test import Client

from forms_app.combined import SiteFiles
from generator.build import BuildResult, build_lock
from generator.errors import ContentError
from generator.quick_build import quick_build
from generator.site_search import INDEX_FILE, Index

VOICE = """title: {title}
author: 宁波老李
date: 2026-11-20
body: |
  每天凌晨交班后，我在集装箱堆场的休息室里用手机学一课。
"""


@pytest.fixture
def built(sample_site: BuildResult, tmp_path: Path) -> Path:
    """A copy of the built sample (content, rendered Markdown, site), times kept."""
    base = tmp_path / "b"
    shutil.copytree(sample_site.out.parent, base, copy_function=shutil.copy2, symlinks=True)
    return base


def publish_voice(base: Path, slug: str, title: str):
    (base / "content" / "voices" / f"{slug}.yaml").write_text(
        VOICE.format(title=title), encoding="utf-8")
    return quick_build(base / "content", base / "site", work=base / "docs", today=TODAY)


def files(site: Path) -> dict[str, str]:
    return {p.relative_to(site).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in site.rglob("*") if p.is_file()}


def pages(site: Path) -> set[str]:
    return {p.relative_to(site).as_posix() for p in site.rglob("*.html")
            if p.name != "404.html"}


def rows(site: Path) -> list[str]:
    db = sqlite3.connect(site / INDEX_FILE)
    try:
        return [r[0] for r in db.execute("SELECT path FROM pages")]
    finally:
        db.close()


def found(site: Path, query: str) -> list[str]:
    index = Index(site / INDEX_FILE)
    try:
        return [hit.path for hit in index.search(query).hits]
    finally:
        index.close()


def test_only_the_new_page_and_its_index_are_built_and_the_rest_stays(built: Path):
    site = built / "site"
    before = files(site)
    old_pages = pages(site)
    # A second name for every file of the live site: if anything wrote into them, these
    # would show it after the swap.
    shutil.copytree(site, built / "old", copy_function=os.link)

    result = publish_voice(built, "2026-11-20-voice-901", "港口夜班的学习时间")
    assert result.quick
    assert set(result.pages) == {"voices/2026-11-20-voice-901.html", "voices/index.html"}

    # Served, listed, found.
    client = Client(SiteFiles(site))
    page = client.get("/voices/2026-11-20-voice-901.html")
    assert page.status_code == 200 and "集装箱堆场" in page.get_data(as_text=True)
    assert "2026-11-20-voice-901.html" in client.get("/voices/").get_data(as_text=True)
    assert found(site, "港口夜班")[0] == "voices/2026-11-20-voice-901.html"

    # Nothing lost: every page, one search row each; the pages not rebuilt unchanged.
    assert pages(site) == old_pages | {"voices/2026-11-20-voice-901.html"}
    assert sorted(rows(site)) == sorted(pages(site))
    after = files(site)
    rebuilt = set(result.pages)
    for rel in old_pages - rebuilt:
        assert after[rel] == before[rel], rel
    assert found(site, "党费")[0] == "guides/dues.html"
    # The old site's files were never written to.
    assert files(built / "old") == before


def test_a_content_error_leaves_the_site_as_it_was(built: Path):
    site = built / "site"
    before, inode = files(site), site.stat().st_ino
    (built / "content" / "voices" / "broken.yaml").write_text(
        "title: 没有日期\nbody: 正文\n", encoding="utf-8")
    with pytest.raises(ContentError):
        quick_build(built / "content", site, work=built / "docs", today=TODAY)
    assert site.stat().st_ino == inode and files(site) == before


def test_two_publishes_in_a_row_keep_both(built: Path):
    site = built / "site"
    first = publish_voice(built, "2026-11-20-voice-902", "冷库搬运工的早读")
    second = publish_voice(built, "2026-11-20-voice-903", "港口夜班的学习时间")
    assert first.quick and second.quick
    index = Client(SiteFiles(site)).get("/voices/").get_data(as_text=True)
    assert "voice-902.html" in index and "voice-903.html" in index
    assert found(site, "冷库搬运工")[0] == "voices/2026-11-20-voice-902.html"
    assert found(site, "港口夜班")[0] == "voices/2026-11-20-voice-903.html"
    assert len(rows(site)) == len(pages(site))


def test_a_removed_item_leaves_the_site_and_its_search(built: Path):
    site = built / "site"
    publish_voice(built, "2026-11-20-voice-904", "冷库搬运工的早读")
    (built / "content" / "voices" / "2026-11-20-voice-904.yaml").unlink()
    result = quick_build(built / "content", site, work=built / "docs", today=TODAY)
    assert result.quick
    assert not (site / "voices" / "2026-11-20-voice-904.html").exists()
    assert "voices/2026-11-20-voice-904.html" not in rows(site)
    assert len(rows(site)) == len(pages(site))


def test_a_quick_build_waits_for_a_build_in_progress(built: Path):
    site = built / "site"
    (built / "content" / "voices" / "2026-11-20-voice-905.yaml").write_text(
        VOICE.format(title="冷库搬运工的早读"), encoding="utf-8")
    done = threading.Event()

    def publish() -> None:
        quick_build(built / "content", site, work=built / "docs", today=TODAY)
        done.set()

    with build_lock(site.resolve()):
        thread = threading.Thread(target=publish)
        thread.start()
        thread.join(1)
        # Held by another build: nothing swapped in yet.
        assert not done.is_set()
        assert not (site / "voices" / "2026-11-20-voice-905.html").exists()
    thread.join(120)
    assert done.is_set() and (site / "voices" / "2026-11-20-voice-905.html").is_file()


def test_a_site_built_with_other_templates_is_built_whole(built: Path):
    site = built / "site"
    (site / ".build-stamp").write_text("other\n", encoding="utf-8")
    result = publish_voice(built, "2026-11-20-voice-906", "冷库搬运工的早读")
    assert not result.quick
    assert (site / "voices" / "2026-11-20-voice-906.html").is_file()
    assert len(rows(site)) == len(pages(site))
