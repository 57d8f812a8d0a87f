"""Builders for small content trees, and a build of the sample site shared by tests."""

from __future__ import annotations

import shutil
import threading
from datetime import date
from functools import partial
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator.build import DEFAULT_CONTENT, DEFAULT_SITE_SRC, BuildResult, build_site
from generator.serve import SiteHandler

TODAY = date(2026, 11, 21)
FIXTURES = Path(__file__).parent / "fixtures"


def write_yaml(path: Path, data: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def make_site(**overrides: Any) -> dict[str, Any]:
    data = {
        "title": "测试党校",
        "description": "测试用站点",
        "welcome": "欢迎学习。",
        "sections": ["courses", "guides", "faq", "themes", "news", "notices", "service",
                     "showcase", "voices"],
        "service": {
            "hotline": "12371",
            "hotline_note": "专人接听。",
            "centre": {"name": "服务中心", "address": "县委组织部", "hours": ["工作日"],
                       "phone": "12371"},
            "promise_days": 2,
            "promise": "两个工作日内办结。",
            "handling_steps": ["登记备案", "办结反馈"],
            "must_visit": ["生活困难的"],
            "body": "其他联系方式。",
        },
    }
    data.update(overrides)
    return data


def make_lesson(**overrides: Any) -> dict[str, Any]:
    data = {"slug": "first", "title": "第一课", "minutes": 10, "body": "学习组织关系转接。"}
    data.update(overrides)
    return data


def make_course(**overrides: Any) -> dict[str, Any]:
    data = {"title": "测试课程", "topic": "党性教育", "summary": "简介。",
            "lessons": [make_lesson()]}
    data.update(overrides)
    return data


def make_faq(**overrides: Any) -> dict[str, Any]:
    data = {"question": "党费怎么交?", "answer": "按月交纳。", "basis": ["某文件"],
            "reviewed_on": "2026-11-01", "tags": ["党费"]}
    data.update(overrides)
    return data


def make_guide(**overrides: Any) -> dict[str, Any]:
    data = {"title": "活动证", "summary": "怎么领。", "body": "到支部领取。",
            "basis": ["某通知"], "reviewed_on": "2026-11-01"}
    data.update(overrides)
    return data


def make_news(**overrides: Any) -> dict[str, Any]:
    data = {"title": "网上党校开通", "date": "2026-11-02", "summary": "开通了。",
            "body": "正文。"}
    data.update(overrides)
    return data


def make_notice(**overrides: Any) -> dict[str, Any]:
    data = {"title": "年审通知", "date": "2026-11-10", "body": "请年审。"}
    data.update(overrides)
    return data


def make_theme(**overrides: Any) -> dict[str, Any]:
    data = {"week": "2026-W47", "topic": "组织生活", "intro": "本周学习。",
            "materials": [{"ref": "faq/dues"}], "questions": ["你怎么看?"]}
    data.update(overrides)
    return data


def make_voice(**overrides: Any) -> dict[str, Any]:
    data = {"title": "我的体会", "author": "一名党员", "date": "2026-11-05", "body": "有收获。"}
    data.update(overrides)
    return data


def make_showcase(**overrides: Any) -> dict[str, Any]:
    data = {"title": "先锋", "name": "张三", "branch": "东风村党支部", "date": "2026-10-01",
            "summary": "事迹。", "body": "正文。"}
    data.update(overrides)
    return data


@pytest.fixture
def content_tree(tmp_path: Path) -> Path:
    """A small valid content tree: one item of every type."""
    root = tmp_path / "content"
    write_yaml(root / "site.yaml", make_site())
    write_yaml(root / "courses" / "basics.yaml", make_course())
    write_yaml(root / "guides" / "card.yaml", make_guide())
    write_yaml(root / "faq" / "dues.yaml", make_faq())
    write_yaml(root / "news" / "launch.yaml", make_news())
    write_yaml(root / "notices" / "check.yaml", make_notice())
    write_yaml(root / "showcase" / "zhang.yaml", make_showcase())
    write_yaml(root / "themes" / "w47.yaml", make_theme())
    write_yaml(root / "voices" / "2026-11-05-mine.yaml", make_voice())
    return root


@pytest.fixture(scope="session")
def sample_site(tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    """The sample content of the repository, built once into a temporary folder."""
    base = tmp_path_factory.mktemp("sample")
    content = base / "content"
    shutil.copytree(DEFAULT_CONTENT, content)
    return build_site(content, base / "site", work=base / "docs", site_src=DEFAULT_SITE_SRC,
                      today=TODAY)


@pytest.fixture(scope="session")
def site_url(sample_site: BuildResult):
    """The sample site served over HTTP on 127.0.0.1, as dangxiao serve serves it."""
    handler = partial(SiteHandler, directory=str(sample_site.out))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (no browser download)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"],
        )
        yield chromium
        chromium.close()
