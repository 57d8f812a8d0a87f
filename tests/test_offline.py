"""The offline copy (`dangxiao offline`): the sample site as a zip, unzipped and opened from
file:// in Chromium with every request to any host refused: navigation, a lesson's audio,
the policy helper and search work; no absolute link is left; the forms app is a note with
its online address; every page carries the stamp; without video the zip is smaller."""

from __future__ import annotations

import re
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from generator.build import DEFAULT_CONTENT
from generator.cli import main
from generator.loader import load_file
from generator.models.helper import Helper
from generator.offline import (
    OfflineResult,
    build_offline_site,
    drop_unused_lunr,
    offline_page,
    pack,
)
from tests.conftest import PHONE, TODAY, type_search, write_yaml
from tests.test_helper import g, tap_answers

STAMP = f"本副本生成于 {TODAY.year}年{TODAY.month}月{TODAY.day}日"
# The sample's public address (content/site.yaml).
ONLINE = yaml.safe_load((Path(__file__).parent.parent / "content" / "site.yaml").read_text(
    encoding="utf-8"))["public_url"]


@dataclass
class Copies:
    full: OfflineResult
    small: OfflineResult
    root: Path  # the full copy, unzipped


@pytest.fixture(scope="session")
def copies(tmp_path_factory: pytest.TempPathFactory) -> Copies:
    """The sample content built once, packed with and then without video."""
    base = tmp_path_factory.mktemp("offline")
    content = base / "content"
    shutil.copytree(DEFAULT_CONTENT, content)
    built = build_offline_site(content, base / "work", today=TODAY)
    full = pack(built, base / "full.zip")
    small = pack(built, base / "small.zip", video=False)
    root = base / "unzipped"
    with zipfile.ZipFile(full.out) as archive:
        archive.extractall(root)
    return Copies(full, small, root)


def pages(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): p.read_text(encoding="utf-8")
            for p in sorted(root.rglob("*.html"))}


def test_every_page_is_relative_stamped_and_keeps_the_app_as_a_note(copies: Copies):
    found = pages(copies.root)
    assert "index.html" in found and len(found) > 30
    for rel, text in found.items():
        assert not re.search(r'(href|src|poster|action)="/', text), rel
        assert 'href="/app' not in text and "app/" not in re.sub(
            re.escape(ONLINE) + "app/", "", text), rel
        assert STAMP in text, rel
        assert f'<a href="{ONLINE}">{ONLINE}</a>' in text, rel
    lesson = found["courses/party-spirit/identity.html"]
    assert ("记录学习<span class=\"dx-offline-note\">（联网后可用：<a href=\""
            f"{ONLINE}app/study?lesson=courses/party-spirit/identity\">{ONLINE}app/study</a>）"
            in lesson)
    assert "联网后可用" in found["service/index.html"]
    names = zipfile.ZipFile(copies.full.out).namelist()
    assert names == sorted(names)
    assert "search/search_index.js" in names
    assert not [n for n in names if n.endswith((".gz", ".map")) or "/." in n or
                n.startswith(".")]


def test_without_video_the_copy_leaves_video_out_and_is_smaller(copies: Copies):
    full = set(zipfile.ZipFile(copies.full.out).namelist())
    small = zipfile.ZipFile(copies.small.out)
    names = set(small.namelist())
    assert {"media/before-leaving.mp4", "media/before-leaving.mp4.jpg"} <= full
    assert full - names == {"media/before-leaving.mp4", "media/before-leaving.mp4.jpg"}
    assert "media/identity-talk.mp3" in names  # audio stays
    page = small.read("courses/livelihood/before-leaving.html").decode()
    assert "<video" not in page and "这段视频没有收入本副本" in page
    assert copies.small.size < copies.full.size


def test_a_member_uses_the_copy_from_file_without_any_host(copies: Copies, browser):
    context = browser.new_context(**PHONE)
    attempted: list[str] = []

    def only_files(route):
        url = route.request.url
        if url.startswith("file://"):
            route.continue_()
        else:
            attempted.append(url)
            route.abort()

    context.route("**/*", only_files)
    context.on("request", lambda r: None if r.url.startswith(("file://", "data:", "about:"))
               else attempted.append(r.url))
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto((copies.root / "index.html").as_uri())
        assert STAMP in page.locator(".md-banner").inner_text()
        # home -> a course -> a lesson, by tapping
        page.locator(".dx-thumb-bar").get_by_role("link", name="学习").tap()
        page.wait_for_url("**/courses/index.html")
        page.locator(".md-content a[href$='party-spirit/index.html']").first.tap()
        page.wait_for_url("**/courses/party-spirit/index.html")
        page.locator(".md-content a[href$='identity.html']").first.tap()
        page.wait_for_url("**/courses/party-spirit/identity.html")
        assert page.evaluate("""() => {
            const m = document.querySelector('audio');
            m.muted = true;
            return m.play().then(() => new Promise(resolve =>
                setTimeout(() => resolve(m.currentTime), 1500)));
        }""") > 0.3
        assert page.get_by_text("联网后可用").count() >= 1
        # guides -> the helper answers
        page.locator(".dx-thumb-bar").get_by_role("link", name="指南").tap()
        page.wait_for_url("**/guides/index.html")
        page.locator(".md-content").get_by_role("link", name="外出前该办什么手续").first.tap()
        page.wait_for_url("**/guides/departure-helper.html")
        item, _ = load_file(DEFAULT_CONTENT / "helper" / "departure-helper.yaml", Helper)
        assert item is not None
        helper = item.model
        tap_answers(page, helper, g(reason="work", months="lt3", fixed_place="yes",
                                    group="no"))
        page.get_by_role("button", name="看看该办什么").tap()
        result = page.locator("#dx-helper-result")
        assert "领取《流动党员活动证》" in result.locator("h3").inner_text()
        assert result.locator("a[href^='/'], a[href^='../app']").count() == 0
        assert "联网后可用" in result.inner_text()
        # search, from the index shipped as a script, in a worker run in a frame
        type_search(page, "活动证")
        titles = page.locator(".md-search-result__article h1").all_inner_texts()
        assert titles, "search found nothing"
        assert any("活动证" in t.replace("\u200b", "") for t in titles)
        page.locator(".md-search-result__link").first.click()
        page.wait_for_url("file://**.html*")
        assert page.locator(".md-content h1").count() == 1
        # a lesson's video plays too
        page.goto((copies.root / "courses/livelihood/before-leaving.html").as_uri())
        assert page.evaluate("""() => {
            const m = document.querySelector('video');
            m.muted = true;
            return m.play().then(() => new Promise(resolve =>
                setTimeout(() => resolve(m.currentTime), 1000)));
        }""") > 0.2
    finally:
        context.close()
    assert attempted == []
    assert errors == []


def test_offline_command_refuses_bad_content(tmp_path: Path, capsys):
    write_yaml(tmp_path / "content" / "site.yaml", {"title": ""})
    out = tmp_path / "copy.zip"
    assert main(["offline", "--content", str(tmp_path / "content"), "--out", str(out),
                 "--no-video"]) == 1
    assert not out.exists()
    assert "未生成离线副本" in capsys.readouterr().err


def test_without_public_url_the_notes_name_no_address():
    page = offline_page('<html lang="zh"><p><a class="md-button" href="/app/ask">提问</a> '
                        '<a href="/">首页</a> <a href="/application.html">申请</a></p>',
                        "faq/dues.html", "")
    assert page == ('<html data-dx-online="" lang="zh"><p><span class="dx-offline-app">提问'
                    '<span class="dx-offline-note">（联网后可用）</span></span> '
                    '<a href="../index.html">首页</a> <a href="../application.html">申请</a>'
                    '</p>')
    page = offline_page('<p><a href="/app">网上办事</a></p>', "index.html", ONLINE)
    assert page == ('<p><span class="dx-offline-app">网上办事<span class="dx-offline-note">'
                    f'（联网后可用：<a href="{ONLINE}app/">{ONLINE}app/</a>）</span></span></p>')


def test_only_the_lunr_files_the_worker_loads_are_kept(tmp_path: Path):
    lunr = tmp_path / "assets" / "javascripts" / "lunr"
    for name in ("tinyseg.js", "wordcut.js", "min/lunr.ja.min.js", "min/lunr.zh.min.js",
                 "min/lunr.multi.min.js", "min/lunr.stemmer.support.min.js"):
        (lunr / name).parent.mkdir(parents=True, exist_ok=True)
        (lunr / name).write_text("//")
    drop_unused_lunr(tmp_path, ["en", "ja"])
    assert sorted(p.relative_to(lunr).as_posix() for p in lunr.rglob("*.js")) == [
        "min/lunr.ja.min.js", "min/lunr.multi.min.js", "min/lunr.stemmer.support.min.js",
        "tinyseg.js"]
    drop_unused_lunr(tmp_path, ["en"])
    assert not lunr.exists() or not any(lunr.rglob("*.js"))


def test_a_copy_made_with_this_machines_address_is_warned_about():
    """The sample's public_url is where `dangxiao serve` runs: a copy for a 电教室 made
    with it would send members to the PC that made it."""
    from generator.offline import local_address_warning

    warning = local_address_warning(ONLINE)
    assert warning and ONLINE in warning and "改成党员能打开的公开地址" in warning
    for address in ("http://localhost:8000/", "http://127.0.0.1/dangxiao/"):
        assert local_address_warning(address)
    assert local_address_warning("https://dangxiao.example.cn/") is None
    assert local_address_warning("") is None
