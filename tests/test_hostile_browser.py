"""The hostile corpus (tests/hostile_corpus.py), sent through the real forms, approved,
confirmed and published into a real site, then opened in Chromium: on no page it reaches
(the preview, the tracking pages, the editor's pages, every built page with its navigation
and footer, the section lists and the search results) does any of it run."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest
from conftest import code_of, confirm_public, item_by_code, type_search
from hostile_corpus import AUTHORS, BODIES, QUESTIONS, TITLES
from werkzeug.serving import make_server

from forms_app.combined import combined
from generator.checks import check, errors_only

# Filled in by a page where something ran; the payloads set it or call alert().
PROBE = """() => {
    const found = [];
    if (window.__dx_pwned !== undefined) found.push('window.__dx_pwned=' + window.__dx_pwned);
    for (const el of document.querySelectorAll('*')) {
        for (const a of el.attributes) {
            const name = a.name.toLowerCase();
            const value = a.value.replace(/[\\u0000-\\u0020]/g, '').toLowerCase();
            if (name.startsWith('on')) found.push(el.tagName + '[' + name + ']');
            if (['href', 'src', 'action', 'formaction', 'data', 'background'].includes(name)
                && /^(javascript|vbscript|data:text\\/html)/.test(value))
                found.push(el.tagName + '[' + name + '=' + a.value + ']');
        }
        if (['IFRAME', 'OBJECT', 'EMBED', 'FRAME'].includes(el.tagName)) found.push(el.tagName);
    }
    for (const s of document.querySelectorAll('script')) {
        if (/alert|__dx_pwned/.test(s.textContent)) found.push('script: ' + s.textContent);
    }
    return found;
}"""


@pytest.fixture
def database_url(sqlite_url):
    """One database is enough here: what is rendered does not depend on it."""
    return sqlite_url


def _typeable(text: str) -> bool:
    # NUL and other controls are refused by the forms themselves (tests/test_hardening.py).
    return not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", text)


@pytest.fixture
def hostile_site(publishing):
    """Every hostile title, author, body and question submitted, approved or answered,
    confirmed, published and rebuilt; the site and the app served on one port."""
    app, editor, repo = publishing
    member = app.test_client()
    voices, questions = [], []
    bodies = [b for b in BODIES if _typeable(b)]
    for n, title in enumerate(t for t in TITLES if _typeable(t)):
        authors = [a for a in AUTHORS if _typeable(a)]
        response = member.post("/app/voice", data={
            "title": title, "author": authors[n % len(authors)],
            "body": bodies[n % len(bodies)], "consent": "y"})
        voices.append(code_of(response))
    for body in bodies[len(voices):]:  # the bodies no title carried
        voices.append(code_of(member.post("/app/voice", data={
            "title": "投稿", "author": "一名流动党员", "body": body, "consent": "y"})))
    for question in (q for q in QUESTIONS if _typeable(q)):
        questions.append(code_of(member.post("/app/ask", data={
            "question": question, "category": "组织关系", "allow_publish": "y"})))
    for code in voices:
        item = item_by_code(app, code)
        assert editor.post(f"/app/editor/item/{item.id}", data={
            "action": "approve", "version": item.version}).status_code == 303
    for n, code in enumerate(questions):
        item = item_by_code(app, code)
        assert editor.post(f"/app/editor/item/{item.id}", data={
            "action": "answer", "version": item.version,
            "text": f"请回原支部办理。{bodies[n % len(bodies)]}"}).status_code == 303
        confirm_public(app, editor, code, basis=["central-1994-transfer:转移-1"])
    editor.post("/app/editor/publish")
    app.extensions["dx_rebuild"].join(timeout=600)

    site = Path(app.config["SITE_DIR"])
    server = make_server("127.0.0.1", 0, combined(site, app.wsgi_app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app, f"http://127.0.0.1:{server.server_port}", voices, questions, site
    server.shutdown()
    server.server_close()


class _Browser:
    def __init__(self, browser, base: str):
        self.context = browser.new_context(viewport={"width": 360, "height": 740},
                                           locale="zh-CN")
        self.ran: list[str] = []
        self.foreign: list[str] = []
        self.context.on("page", lambda p: p.on(
            "dialog", lambda d: (self.ran.append(f"{p.url}: dialog {d.message}"),
                                 d.dismiss())))
        self.context.route(re.compile(r"^(?!" + re.escape(base) + ")"), self._block)
        self.page = self.context.new_page()

    def _block(self, route) -> None:
        if not route.request.url.startswith(("data:", "blob:", "about:")):
            self.foreign.append(route.request.url)
        route.abort()

    def visit(self, url: str) -> None:
        self.page.goto(url, wait_until="load")
        self.probe()

    def probe(self) -> None:
        self.ran += [f"{self.page.url}: {f}" for f in self.page.evaluate(PROBE)]


def test_hostile_input_runs_nowhere_it_reaches(browser, hostile_site):
    app, base, voices, questions, site = hostile_site
    items = [item_by_code(app, c) for c in voices + questions]
    # Each publish exported or refused each item, with a reason, and the site rebuilt.
    for item in items:
        assert item.state == "published" or item.publish_error, (item.id, item.state)
    published = [i for i in items if i.state == "published"]
    assert len(published) >= 100 and len(published) == len(items)
    _, problems = check(Path(app.config["CONTENT_DIR"]))
    assert errors_only(problems) == []  # the content `dangxiao check` sees is still valid

    b = _Browser(browser, base)
    try:
        # Every built page of both sections, with their navigation, header and footer.
        for item in published:
            b.visit(f"{base}/{item.published_path.removesuffix('.yaml')}.html")
        for page in ("/voices/", "/faq/", "/"):
            b.visit(base + page)
        # The titles are text in the navigation (no ＜script＞ became a tag).
        # (the page of the article titled `"><script>alert(8)</script>`: its own entry is
        # in the navigation it shows, whatever group the section is cut into)
        eighth = next(i for i in published if i.title == TITLES[7])
        b.visit(f"{base}/{eighth.published_path.removesuffix('.yaml')}.html")
        nav = b.page.locator("nav.md-nav--primary").inner_text()
        # Search results: the index holds the hostile titles and bodies.
        type_search(b.page, "点我")
        assert b.page.locator("a.search-hit").count() > 0
        b.probe()
        # The member's tracking pages and the article preview.
        for code in voices:
            b.visit(f"{base}/app/voice/{code}")
        for code in questions:
            b.visit(f"{base}/app/ask/{code}")
        b.visit(f"{base}/app/voice")
        b.page.fill("#title", TITLES[0])
        b.page.fill("#author", AUTHORS[1])
        b.page.fill("#body", "\n\n".join(BODIES[:40]))
        b.page.get_by_role("button", name="预览").click()
        b.page.wait_for_load_state("load")
        assert b.page.locator("section.preview").count() == 1
        b.probe()
        # The editor's queue and item pages.
        b.visit(f"{base}/app/login")
        b.page.fill("#username", "编辑甲")
        b.page.fill("#password", "长江黄河都是好风景")
        b.page.get_by_role("button", name="登录").click()
        b.page.wait_for_load_state("load")
        b.visit(f"{base}/app/editor/?state=all")
        for item in items:
            b.visit(f"{base}/app/editor/item/{item.id}")
        b.visit(f"{base}/app/editor/audit")
    finally:
        b.context.close()
    assert b.ran == []
    assert b.foreign == []
    # The titles are text in the navigation: `"><script>alert(8)</script>` lost its tags
    # and its quote and bracket became full-width.
    assert "＂＞alert(8)" in nav and "<script" not in nav
