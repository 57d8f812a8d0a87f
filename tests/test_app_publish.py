"""Publish: YAML into a git work tree of content/, one commit by the editor, a rebuilt site
that shows the article, nothing personal anywhere, and no duplicates when run again."""

from __future__ import annotations

from pathlib import Path

import yaml
from conftest import TODAY, ask, code_of, confirm_public, git, item_by_code, voice
from test_app_public import HOSTILE, executable

from forms_app import db, publish
from generator.checks import check, errors_only

ARTICLE = ("在外打工的日子里，我每周都在网上党校学一课。\n\n"
           "工地上休息的时候，我用手机听课程音频，遇到讨薪的难题，也从法律课里找到了办法。\n\n")
# The clause an editor ticks on 公开前核对 for these answers (content/basis/).
PICK = {"basis": ["central-1994-card:内容"]}


def prepare(app, editor):
    member = app.test_client()
    vcode = code_of(voice(member, title="工地上的党课 $(rm -rf /) ../../etc",
                          author="-老李", body=ARTICLE + HOSTILE))
    qcode = code_of(ask(member, allow_publish="y",
                        question="我叫张三，电话13812345678，外出务工半年，党费怎么交？"))
    private = code_of(ask(member, question="这个问题不要公开"))
    v, q, p = (item_by_code(app, c) for c in (vcode, qcode, private))
    editor.post(f"/app/editor/item/{v.id}", data={"action": "approve", "version": v.version})
    for item in (q, p):
        editor.post(f"/app/editor/item/{item.id}", data={
            "action": "answer", "version": item.version,
            "text": "可以通过网上党费交纳渠道按月交纳，也可以回原支部交纳。"})
    confirm_public(app, editor, qcode, **PICK)
    return vcode, qcode, private


def test_publish_commit_rebuild_twice(publishing):
    app, editor, repo = publishing
    content = repo / "content"
    vcode, qcode, private = prepare(app, editor)
    response = editor.post("/app/editor/publish", follow_redirects=True)
    assert "已写入 2 条，正在重新生成网站" in response.get_data(as_text=True)
    app.extensions["dx_rebuild"].join(timeout=300)
    queue = editor.get("/app/editor/").get_data(as_text=True)
    assert "成功，2 条已上线" in queue

    voice_item, question = item_by_code(app, vcode), item_by_code(app, qcode)
    assert voice_item.state == question.state == "published"
    assert item_by_code(app, private).state == "answered"  # the asker did not allow it
    voice_file = content / voice_item.published_path
    faq_file = content / question.published_path
    assert voice_file.name.endswith(f"-voice-{voice_item.id}.yaml")
    assert faq_file == content / "faq" / f"mailbox-{question.id}.yaml"

    # The YAML round-trips through safe_load and passes the content schema.
    for path in (voice_file, faq_file):
        text = path.read_text(encoding="utf-8")
        assert yaml.safe_load(text) == yaml.safe_load(publish.dump_yaml(yaml.safe_load(text)))
        for personal in ("13812345678", "城关镇", "张三"):
            assert personal not in text
        assert "<script" not in text and "<iframe" not in text and "javascript:" not in text
    _, problems = check(content, TODAY)
    assert errors_only(problems) == []
    assert yaml.safe_load(faq_file.read_text(encoding="utf-8"))["basis"] == [
        {"doc": "central-1994-card", "clause": "内容"}]

    # One commit, by the editor, with exactly the two files.
    assert git(repo, "log", "-1", "--format=%an") == "编辑甲"
    assert git(repo, "rev-list", "--count", "HEAD") == "2"
    assert sorted(git(repo, "show", "--name-only", "--format=", "HEAD").splitlines()) == sorted(
        [f"content/{question.published_path}", f"content/{voice_item.published_path}"])
    assert git(repo, "status", "--porcelain") == ""

    # The rebuilt site has the article, sanitized.
    site = Path(app.config["SITE_DIR"])
    page = (site / "voices" / f"{voice_file.stem}.html").read_text(encoding="utf-8")
    assert "工地上休息的时候" in page and "-老李" in page
    body = page.split('class="dx-member-text"', 1)[1].split("</article>", 1)[0]
    assert executable(body) == []
    faq_page = (site / "faq" / f"{faq_file.stem}.html").read_text(encoding="utf-8")
    assert "党费怎么交" in faq_page and "13812345678" not in faq_page

    # The member's tracking page says so.
    member = app.test_client()
    assert "已发表在网上党校" in member.get(f"/app/voice/{vcode}").get_data(as_text=True)

    # Publishing again finds nothing, writes nothing, commits nothing.
    again = editor.post("/app/editor/publish", follow_redirects=True)
    assert "没有待发布的内容" in again.get_data(as_text=True)
    assert git(repo, "rev-list", "--count", "HEAD") == "2"
    assert len(list((content / "voices").glob(f"*-voice-{voice_item.id}.yaml"))) == 1


def test_crash_between_files_and_database_exports_once(publishing):
    app, editor, repo = publishing
    app.config["REBUILD_AFTER_PUBLISH"] = False
    vcode, qcode, _ = prepare(app, editor)
    content = repo / "content"
    # A first run died after writing the files, before committing or marking anything.
    with app.app_context():
        for code in (vcode, qcode):
            rel, data = publish.export(item_by_code(app, code))
            publish.write_atomic(content / rel, publish.dump_yaml(data))
    editor.post("/app/editor/publish")
    assert git(repo, "rev-list", "--count", "HEAD") == "2"
    assert len(git(repo, "show", "--name-only", "--format=", "HEAD").splitlines()) == 2
    with app.app_context():
        assert publish.pending_count(db.session()) == 0
    assert not list(content.rglob(".*.yaml.*"))  # no temporary files left behind


def test_publish_on_a_built_site_rebuilds_only_the_new_pages(publishing):
    """With the site already built, Publish puts the article in by the quick build: the
    pages not rebuilt are the same files (same inodes), the new page is served, listed
    and found by /app/search, and every page has its search row."""
    import sqlite3

    from werkzeug.test import Client

    from forms_app.combined import combined
    from generator.build import build_site
    from generator.site_search import INDEX_FILE

    app, editor, repo = publishing
    app.config["FULL_BUILD_AFTER_PUBLISH"] = False  # the quick build's site is looked at
    site = Path(app.config["SITE_DIR"])
    build_site(repo / "content", site)
    untouched = (site / "guides" / "dues.html").stat().st_ino
    vcode, _, _ = prepare(app, editor)
    editor.post("/app/editor/publish")
    app.extensions["dx_rebuild"].join(timeout=300)
    assert "成功，2 条已上线" in editor.get("/app/editor/").get_data(as_text=True)
    voice_item = item_by_code(app, vcode)
    page = voice_item.published_path.removesuffix(".yaml") + ".html"
    assert (site / "guides" / "dues.html").stat().st_ino == untouched

    client = Client(combined(site, app))
    assert "工地上休息的时候" in client.get(f"/{page}").get_data(as_text=True)
    assert Path(page).name in client.get("/voices/").get_data(as_text=True)
    results = client.get("/app/search?q=工地上的党课").get_data(as_text=True)
    assert f'class="search-hit" href="/{page}"' in results
    db = sqlite3.connect(site / INDEX_FILE)
    rows = db.execute("SELECT count(*) FROM pages").fetchone()[0]
    db.close()
    assert rows == sum(1 for p in site.rglob("*.html") if p.name != "404.html")


def test_publishes_in_a_row_each_go_in_quickly_and_one_whole_build_follows(publishing,
                                                                             caplog):
    """The whole-site rebuild after a Publish holds the build lock for a whole build: it
    waits for FULL_BUILD_DELAY seconds of quiet, so a second Publish soon after the first
    goes in by its own quick build, and one whole build follows both."""
    import logging

    from forms_app import publish
    from generator.build import build_site

    app, editor, repo = publishing
    app.config["FULL_BUILD_DELAY"] = 3600  # released by hand below
    site = Path(app.config["SITE_DIR"])
    build_site(repo / "content", site)
    caplog.set_level(logging.INFO, logger="forms_app.publish")
    member = app.test_client()
    pages = []
    for title in ("第一篇：夜班后的一课", "第二篇：工地上的党课"):
        code = code_of(voice(member, title=title, body=ARTICLE))
        item = item_by_code(app, code)
        editor.post(f"/app/editor/item/{item.id}",
                    data={"action": "approve", "version": item.version})
        editor.post("/app/editor/publish")
        app.extensions["dx_rebuild"].join(timeout=300)
        published = item_by_code(app, code)
        assert published.state == "published", published.publish_error
        pages.append(published.published_path.removesuffix(".yaml") + ".html")
        assert (site / pages[-1]).is_file()
    # Both went in by quick builds; no whole build has run yet, one is waiting.
    messages = [r.getMessage() for r in caplog.records]
    assert "site rebuilt after publish" not in messages
    assert len([m for m in messages if m.startswith("site updated after publish (")
                and m.endswith("pages rebuilt)")]) == 2
    waiting = publish._pending.pop(site)
    waiting.cancel()  # instead of an hour: run it now, as the timer would
    publish._reconcile_later(repo / "content", site)
    assert [r.getMessage() for r in caplog.records].count("site rebuilt after publish") == 1
    for page in pages:  # still there after the whole build
        assert (site / page).is_file()
