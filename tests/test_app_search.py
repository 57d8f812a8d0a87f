"""The site's search served by the app (/app/search?q=, forms_app/search.py over the index
the build writes, generator/site_search.py): members find the page that answers them,
with or without JavaScript; what they type is text; searches that found nothing are
kept for the editors as words and a day only, for 90 days."""

from __future__ import annotations

import sqlite3
import threading
import urllib.parse
from datetime import timedelta

import pytest
from conftest import PHONE, add_user, login, make_app
from sqlalchemy import inspect, select, update
from test_search_ranking import TABLE

from forms_app import db
from forms_app.combined import combined
from forms_app.models import SearchMiss
from generator.build import BuildResult
from generator.site_search import INDEX_FILE, Index, snippet


@pytest.fixture(scope="module")
def search_app(sample_site: BuildResult, tmp_path_factory: pytest.TempPathFactory):
    base = tmp_path_factory.mktemp("search-app")
    app = make_app(base, f"sqlite:///{base / 'instance' / 'dangxiao.sqlite3'}",
                   SITE_DIR=str(sample_site.out))
    yield app
    db.close(app)


@pytest.fixture(scope="module")
def product_url(search_app, sample_site: BuildResult):
    """The built sample site and the app on one port, as `dangxiao serve` serves them."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, combined(sample_site.out, search_app), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def hits(client, query: str) -> list[str]:
    page = client.get("/app/search?" + urllib.parse.urlencode({"q": query}))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    return [part.split('"', 1)[0] for part in html.split('class="search-hit" href="/')[1:]]


@pytest.mark.parametrize(("query", "expected"), TABLE, ids=[f"{q}->{p}" for q, p in TABLE])
def test_the_relevance_table_through_the_app(search_app, query, expected):
    found = hits(search_app.test_client(), query)
    assert expected in found[:3], f"{query}: {found[:5]}"


def test_results_show_title_and_the_words_in_their_text(search_app):
    html = search_app.test_client().get("/app/search?q=党费代交").get_data(as_text=True)
    assert "不能按时交党费，可以请人代交或补交吗？" in html
    assert "<mark>代交</mark>" in html
    assert "找到" in html and "个相关页面" in html


def test_the_build_writes_the_index_into_the_site_and_it_is_never_served(
        sample_site: BuildResult, product_url):
    index = sample_site.out / INDEX_FILE
    pages = sqlite3.connect(index).execute("SELECT count(*) FROM pages").fetchone()[0]
    assert pages == sum(1 for p in sample_site.out.rglob("*.html") if p.name != "404.html")
    assert fetch(f"{product_url}/{INDEX_FILE}")[0] == 404


# -- the contract: /?q=WORDS, and search without JavaScript ---------------------------------

def fetch(url: str) -> tuple[int, dict[str, str], str]:
    """One GET, redirects not followed: status, headers, body."""
    import http.client

    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        connection.request("GET", parts.path + (f"?{parts.query}" if parts.query else ""))
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read().decode("utf-8")
    finally:
        connection.close()


@pytest.mark.parametrize("path", ["/", "/index.html"])
def test_a_shared_link_opens_the_results(product_url, path):
    status, headers, _ = fetch(f"{product_url}{path}?" + urllib.parse.urlencode({"q": "活动证"}))
    assert status == 303
    assert headers["Location"] == "/app/search?q=%E6%B4%BB%E5%8A%A8%E8%AF%81"
    status, _, html = fetch(product_url + headers["Location"])
    first = html.split('class="search-hit" href="/')[1].split('"', 1)[0]
    assert first == "guides/activity-card.html"


def test_the_home_page_without_a_query_is_the_home_page(product_url):
    status, _, html = fetch(f"{product_url}/?q=")
    assert status == 200 and 'class="dx-home-search"' in html


def test_search_from_the_home_page_without_javascript(browser, product_url):
    context = browser.new_context(**PHONE, java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(f"{product_url}/index.html")
        box = page.get_by_label("搜索课程、指南和问答")
        assert box.is_visible()
        box.fill("证明信")
        page.get_by_role("button", name="搜索", exact=True).first.click()
        page.wait_for_url("**/app/search?q=*")
        titles = page.locator("a.search-hit").all_inner_texts()
        assert titles[0] == "外出半年以内，开党员证明信还是领《流动党员活动证》？", titles
        page.locator("a.search-hit").first.click()
        assert page.url.endswith("/faq/letter-or-card.html")
    finally:
        context.close()


def test_search_from_the_thumb_bar_with_javascript(browser, product_url):
    """With scripts on, the header's search is the same form: Material's bundle runs
    without its own search and no page error appears."""
    context = browser.new_context(**PHONE)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    try:
        page.goto(f"{product_url}/courses/index.html")
        page.locator(".dx-thumb-bar label[for='__search']").click()
        box = page.locator("input.md-search__input")
        box.wait_for(state="visible")
        box.fill("讨薪")
        box.press("Enter")
        page.wait_for_url("**/app/search?q=*")
        first = page.locator("a.search-hit").first
        assert first.get_attribute("href") == "/courses/law-rights/unpaid-wages.html"
        assert not [u for u in requested if "search_index" in u or "workers/search" in u]
        assert not [u for u in requested if not u.startswith(product_url)]
    finally:
        context.close()
    assert errors == []


# -- what a member types is text ------------------------------------------------------------

HOSTILE = ['<script>alert("搜")</script>', '"><img src=x onerror=alert(1)>', "党费 OR",
           'NEAR(党费 "', "*", "党费*^2 -", "\u202e党费", "AND", "'; DROP TABLE pages; --"]


@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_queries_are_text(search_app, query):
    page = search_app.test_client().get("/app/search?" + urllib.parse.urlencode({"q": query}))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<script>alert" not in html and "<img src=x" not in html
    assert 'value="' in html  # the box keeps what was typed, escaped


def test_a_very_long_query_is_cut_and_an_empty_one_shows_the_form(search_app):
    client = search_app.test_client()
    long = client.get("/app/search?q=" + urllib.parse.quote("党费" * 5000))
    assert long.status_code == 200
    assert ("党费" * 50) in long.get_data(as_text=True)
    assert ("党费" * 51) not in long.get_data(as_text=True)
    empty = client.get("/app/search?q=%20")
    assert empty.status_code == 200
    html = empty.get_data(as_text=True)
    assert 'name="q"' in html and "相关页面" not in html and "没有找到" not in html


def test_snippets_escape_the_text_they_show():
    shown = snippet("教材写道 <b>党费</b> & 证明信", ["党费"])
    assert str(shown) == "教材写道 &lt;b&gt;<mark>党费</mark>&lt;/b&gt; &amp; 证明信"


def test_without_an_index_the_page_says_so(tmp_path, sqlite_url):
    app = make_app(tmp_path, sqlite_url, SITE_DIR=str(tmp_path / "no-site"))
    try:
        page = app.test_client().get("/app/search?q=党费")
        assert page.status_code == 503
        assert "搜索暂时不可用" in page.get_data(as_text=True)
    finally:
        db.close(app)


def test_the_index_splits_a_query_into_its_words(sample_site: BuildResult):
    index = Index(sample_site.out / INDEX_FILE)
    try:
        assert index.segment("党费怎么交") == [("党费", True), ("交", False)]
        assert index.segment("查询码") == [("查询码", True)]
    finally:
        index.close()


# -- searches that found nothing ------------------------------------------------------------

@pytest.fixture
def miss_app(tmp_path, database_url, sample_site: BuildResult):
    app = make_app(tmp_path, database_url, SITE_DIR=str(sample_site.out))
    yield app
    db.close(app)


def test_a_search_that_found_nothing_is_kept_as_words_and_a_day(miss_app):
    client = miss_app.test_client()
    client.get("/app/search?q=量子纠缠", environ_base={"REMOTE_ADDR": "10.1.2.3"})
    client.get("/app/search?q=量子纠缠")
    client.get("/app/search?q=党费")                 # found: not kept
    client.get("/app/search?q=13812345678")          # a phone number: not kept
    client.get("/app/search?q=x@example.cn")         # an e-mail address: not kept
    with miss_app.app_context():
        s = db.session()
        rows = s.execute(select(SearchMiss.query, SearchMiss.count)).all()
        assert rows == [("量子纠缠", 2)]
        s.commit()  # SQLite: the inspector below opens a second connection
        columns = {c["name"] for c in inspect(s.get_bind()).get_columns("search_misses")}
        assert columns == {"id", "query", "day", "count"}


def test_editors_see_what_was_not_found(miss_app):
    client = miss_app.test_client()
    for query in ["量子纠缠", "量子纠缠", "<量子纠缠>"]:
        client.get("/app/search?" + urllib.parse.urlencode({"q": query}))
    assert client.get("/app/editor/search").status_code == 302  # not signed in
    add_user(miss_app, "member1")
    login(client, "member1")
    assert client.get("/app/editor/search").status_code == 403
    client.post("/app/logout")
    add_user(miss_app, "editor1", role="editor")
    login(client, "editor1")
    html = client.get("/app/editor/search").get_data(as_text=True)
    assert "<td>量子纠缠</td><td>2</td>" in html
    assert "<td>&lt;量子纠缠&gt;</td><td>1</td>" in html and "<量子纠缠>" not in html
    assert html.index("<td>量子纠缠") < html.index("&lt;量子纠缠&gt;")


def test_searches_that_found_nothing_are_forgotten_after_90_days(miss_app):
    from forms_app.personal import purge_expired
    from forms_app.search import today

    client = miss_app.test_client()
    for query in ["旧词甲", "旧词乙"]:
        client.get("/app/search?" + urllib.parse.urlencode({"q": query}))
    with miss_app.app_context():
        s = db.session()
        s.execute(update(SearchMiss).where(SearchMiss.query == "旧词甲").values(
            day=today() - timedelta(days=91)))
        s.execute(update(SearchMiss).where(SearchMiss.query == "旧词乙").values(
            day=today() - timedelta(days=89)))
        s.commit()
        purge_expired(s, miss_app.config["RETENTION_DAYS"])
        s.commit()
        assert s.scalars(select(SearchMiss.query)).all() == ["旧词乙"]
