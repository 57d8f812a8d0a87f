"""The built site in Debian's Chromium at phone size: media and hosts (search, served by
the app: tests/test_app_search.py)."""

from __future__ import annotations

import pytest
from conftest import PHONE


@pytest.fixture
def phone(browser, site_url):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    seen: dict[str, list[str]] = {"requests": [], "errors": []}
    page.on("request", lambda r: seen["requests"].append(r.url))
    page.on("pageerror", lambda e: seen["errors"].append(str(e)))
    page.on("console", lambda m: m.type == "error" and seen["errors"].append(m.text))
    yield page, seen
    context.close()
    assert seen["errors"] == []
    assert [u for u in seen["requests"] if not u.startswith(site_url)] == []


def _media_duration(page, selector: str) -> float:
    """Seconds of the media element's file, once the browser has loaded its metadata."""
    return page.evaluate("""(selector) => new Promise((resolve, reject) => {
        const m = document.querySelector(selector);
        if (m.readyState >= 1) return resolve(m.duration);
        m.addEventListener('loadedmetadata', () => resolve(m.duration));
        m.addEventListener('error', () => reject(new Error(selector + ' failed to load')));
        m.load();
    })""", selector)


def test_lesson_media_load_and_can_play(phone, site_url):
    page, _ = phone
    page.goto(f"{site_url}/courses/livelihood/before-leaving.html")
    assert page.locator("video").get_attribute("playsinline") is not None
    assert 10 < _media_duration(page, "video") < 20
    page.goto(f"{site_url}/courses/party-spirit/identity.html")
    assert 25 < _media_duration(page, "audio") < 40


def test_pages_fit_a_phone_screen(phone, site_url):
    page, _ = phone
    for path in ("index.html", "courses/law-rights/unpaid-wages.html",
                 "guides/transfer-relationship.html", "faq/index.html"):
        page.goto(f"{site_url}/{path}")
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 360, path
        bar = page.locator(".dx-thumb-bar")
        assert bar.is_visible()
        box = bar.bounding_box()
        assert box is not None and box["y"] + box["height"] <= 740 + 1


def test_old_webview_gets_the_polyfill_from_this_site(browser, site_url):
    """Material loads a ResizeObserver polyfill where the browser has none (old WebViews);
    it must come from the site itself, not a foreign CDN."""
    context = browser.new_context(**PHONE)
    context.add_init_script("delete window.ResizeObserver;")
    page = context.new_page()
    requests: list[str] = []
    errors: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.on("pageerror", lambda e: errors.append(str(e)))
    with page.expect_response("**/resize-observer-polyfill.js") as polyfill:
        page.goto(f"{site_url}/courses/index.html")
    assert polyfill.value.status == 200
    page.wait_for_function("() => typeof window.ResizeObserver === 'function'")
    context.close()
    assert errors == []
    assert [u for u in requests if not u.startswith(site_url)] == []


def test_thumb_bar_opens_navigation_and_search(phone, site_url):
    page, _ = phone
    page.goto(f"{site_url}/faq/dues-by-mail.html")
    drawer = page.locator("nav.md-nav--primary")
    assert not drawer.is_visible() or drawer.bounding_box()["x"] < 0
    page.locator(".dx-thumb-bar").get_by_role("button", name="目录").tap()
    page.wait_for_timeout(400)  # the drawer slides in
    box = drawer.bounding_box()
    assert box is not None and box["x"] >= 0 and drawer.is_visible()
    page.goto(f"{site_url}/faq/dues-by-mail.html")
    page.locator(".dx-thumb-bar").get_by_role("button", name="搜索").tap()
    page.locator("input.md-search__input").wait_for(state="visible")
