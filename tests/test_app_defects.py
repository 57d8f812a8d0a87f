"""Defects found by the first tour of the forms app, each proved by what a person sees or
what is stored: the article preview, the tracking page, the copy button, the member's copy
of their data, the study form, the editors' pages, `dangxiao editor add` on a fresh
install, compression under `dangxiao serve`, and the words on the pages."""

from __future__ import annotations

import gzip
import json
import os
import re
import sqlite3
import subprocess
import sys
from datetime import date, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import (
    VOICE_BODY,
    add_user,
    ask,
    code_of,
    confirm_public,
    item_by_code,
    login,
    make_app,
    voice,
)
from sqlalchemy import select, update
from werkzeug.test import Client

from forms_app import db
from forms_app.models import StudyLog, Submission, User
from forms_app.states import QUESTION_REJECT_REASONS, VOICE_REJECT_REASONS
from generator.markup import render_markdown

PASSWORD = "长江黄河都是好风景"
LESSON = "courses/party-spirit/identity"


# -- helpers -------------------------------------------------------------------------------
def inner_html(page: str, element_id: str) -> str:
    """The markup inside the element with this id, exactly as the page carries it."""
    start = re.search(rf'<(\w+)\b[^>]*\bid="{element_id}"[^>]*>', page)
    assert start, f"no element #{element_id}"
    tag, depth = start[1], 1
    for m in re.finditer(rf"<(/?){tag}\b[^>]*>", page[start.end():]):
        depth += -1 if m[1] else 1
        if depth == 0:
            return page[start.end():start.end() + m.start()]
    raise AssertionError(f"#{element_id} is not closed")


class _Visible(HTMLParser):
    """The text a person reads on a page, with the attributes a browser shows; not the
    tracking code (letters by design), code samples, or the honeypot no one sees."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip: tuple[str, int] | None = None  # (tag, depth) of the element left out

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if self._skip:
            if tag == self._skip[0]:
                self._skip = (tag, self._skip[1] + 1)
            return
        if tag in ("script", "style", "code") or values.get("id") == "tracking-code" or (
                "hp" in (values.get("class") or "").split()):
            self._skip = (tag, 1)
            return
        for name in ("placeholder", "aria-label", "title", "alt"):
            if values.get(name):
                self.parts.append(values[name] or "")
        if tag == "input" and values.get("type") == "submit":
            self.parts.append(values.get("value") or "")

    def handle_endtag(self, tag: str) -> None:
        if self._skip and tag == self._skip[0]:
            depth = self._skip[1] - 1
            self._skip = (tag, depth) if depth else None

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def visible_text(page: str) -> str:
    parser = _Visible()
    parser.feed(page)
    return " ".join(" ".join(parser.parts).split())


def register(client, username="老王"):
    return client.post("/app/register", data={"username": username, "password": PASSWORD,
                                              "confirm": PASSWORD})


def study(client, **fields):
    data = {"day": date.today().isoformat(), "lesson": LESSON, "minutes": "30",
            "mode": "网上学", "reflection": "身在外地，组织就在身边。", **fields}
    return client.post("/app/study", data=data)


def act(client, item, action, **fields):
    return client.post(f"/app/editor/item/{item.id}", data={
        "action": action, "version": item.version, **fields})


# -- 1. the article preview ------------------------------------------------------------------
def test_preview_shows_the_preview_not_the_consent_error(app, client):
    response = client.post("/app/voice", data={
        "title": "在外打工也不忘学习", "author": "老李", "body": VOICE_BODY, "preview": "预览"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "投稿须同意公开发表" not in page  # nobody has tried to submit yet
    assert 'class="error"' not in page
    # The preview is what the published page will show: the one renderer, nothing else.
    assert inner_html(page, "preview-body") == render_markdown(VOICE_BODY)
    assert "<strong>感谢支部的关心</strong>" in page
    with app.app_context():
        assert db.session().scalar(select(Submission.id)) is None  # a preview stores nothing


def test_preview_still_shows_real_problems_of_the_text(app, client):
    page = client.post("/app/voice", data={"title": "题", "author": "老李",
                                           "body": "太短了**加粗**", "preview": "预览"}
                       ).get_data(as_text=True)
    assert "正文请写 50 到 20000 字。" in page
    assert "投稿须同意公开发表" not in page
    assert inner_html(page, "preview-body") == render_markdown("太短了**加粗**")
    # Submitting without consent still says why.
    refused = voice(client, consent="").get_data(as_text=True)
    assert "投稿须同意公开发表，请勾选。" in refused


def test_tracking_page_and_editor_page_render_the_body_with_render_markdown(app, client, editor):
    body = VOICE_BODY + "\n\n- 第一条\n- 第二条\n\n[共产党员网](https://www.12371.cn)"
    code = code_of(voice(client, body=body))
    page = client.get(f"/app/voice/{code}").get_data(as_text=True)
    assert inner_html(page, "member-body") == render_markdown(item_by_code(app, code).body)
    item = item_by_code(app, code)
    desk = editor.get(f"/app/editor/item/{item.id}").get_data(as_text=True)
    assert inner_html(desk, "member-body") == render_markdown(item.body)
    assert app.jinja_env.filters["member_md"](body) == render_markdown(body)


# -- 2. the tracking page: Markdown without blank gaps, the code whole per group ------------
def test_tracking_page_renders_markdown_as_blocks_and_questions_as_typed(app, client, editor):
    code = code_of(voice(client))
    page = client.get(f"/app/voice/{code}").get_data(as_text=True)
    # Rendered Markdown is marked so it does not keep the newlines between its blocks.
    assert re.search(r'<div class="[^"]*\bmember-md\b[^"]*" id="member-body">', page)
    qcode = code_of(ask(client, question="第一行\n第二行"))
    question = client.get(f"/app/ask/{qcode}").get_data(as_text=True)
    assert re.search(r'<div class="member-text" id="member-body">第一行\n第二行</div>', question)
    # An editor's answer is Markdown too, shown as the public FAQ will show it.
    item = item_by_code(app, qcode)
    act(editor, item, "answer", text="请按以下办理：\n\n- **先**联系支部\n- 再办手续")
    answered = client.get(f"/app/ask/{qcode}").get_data(as_text=True)
    assert inner_html(answered, "answer-body") == render_markdown(
        "请按以下办理：\n\n- **先**联系支部\n- 再办手续")
    assert "**先**" not in answered


def test_tracking_code_is_marked_up_one_group_at_a_time(app, client):
    code = code_of(ask(client))
    page = client.get(f"/app/ask/{code}").get_data(as_text=True)
    groups = re.findall(r'<span class="code-group">([^<]*)</span>', inner_html(page, "tracking-code"))
    assert "".join(groups) == f"{code[:4]}-{code[4:8]}-{code[8:12]}-{code[12:]}"
    assert [g.rstrip("-") for g in groups] == [code[i:i + 4] for i in range(0, 16, 4)]


# -- 3. the copy button --------------------------------------------------------------------
def test_copy_button_is_hidden_until_script_shows_it(app, client):
    code = code_of(ask(client))
    page = client.get(f"/app/ask/{code}").get_data(as_text=True)
    assert re.search(r'<button[^>]*data-copy="tracking-code"[^>]*\bhidden\b', page)
    css = (Path(app.static_folder) / "app.css").read_text(encoding="utf-8")
    assert re.search(r"\[hidden\]\s*\{\s*display:\s*none\s*!important", css)
    script = (Path(app.static_folder) / "app.js").read_text(encoding="utf-8")
    assert "已选中，请长按复制" in script


# -- 4. the member's copy of their data ----------------------------------------------------
def test_my_data_is_a_readable_chinese_page(app, client):
    register(client)
    study(client, day="2026-11-20")
    with app.app_context():
        s = db.session()
        # Saved at 17:30 UTC: 01:30 the next morning in Beijing.
        s.execute(update(StudyLog).values(created_at=datetime(2026, 11, 20, 17, 30),
                                          confirmed_at=datetime(2026, 11, 21, 1, 5)))
        s.execute(update(User).values(created_at=datetime(2026, 11, 19, 16, 0)))
        s.commit()
    mine = client.get("/app/me").get_data(as_text=True)
    assert 'href="/app/me/data"' in mine
    response = client.get("/app/me/data")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and response.mimetype == "text/html"
    text = visible_text(page)
    for words in ("我的全部记录", "用户名", "老王", "注册时间", "2026-11-20 00:00",
                  "学习日期", "2026-11-20", "学习内容", "流动不流失：在外也是合格党员 · 党员流动不流失",
                  "学习时长", "30 分钟", "学习方式", "网上学", "学习心得", "身在外地，组织就在身边。",
                  "记录时间", "2026-11-21 01:30", "已确认", "2026-11-21 09:05", "北京时间"):
        assert words in text, words
    assert "study_logs" not in text and "\\u" not in page and "minutes" not in text
    link = re.search(r'<a[^>]*href="([^"]+)"[^>]*>下载数据文件</a>', page)
    assert link and link[1] == "/app/me/export.json"


@pytest.mark.parametrize("url", ["/app/me/export.json", "/app/me/export"])
def test_my_data_downloads_as_a_utf8_json_file(app, client, url):
    register(client)
    study(client)
    response = client.get(url)
    assert response.status_code == 200 and response.mimetype == "application/json"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and ".json" in disposition
    raw = response.get_data()
    assert "老王".encode() in raw and "身在外地".encode() in raw and b"\\u" not in raw
    data = json.loads(raw.decode("utf-8"))
    assert data["username"] == "老王" and data["study_logs"][0]["minutes"] == 30
    assert data["study_logs"][0]["lesson_title"] == "流动不流失：在外也是合格党员 · 党员流动不流失"


# -- 5. the study form ---------------------------------------------------------------------
@pytest.fixture
def beijing_clock(monkeypatch):
    """Sets the server's clock (UTC) for the study form."""
    import forms_app.forms

    def set_clock(moment: datetime) -> None:
        monkeypatch.setattr(forms_app.forms, "utcnow", lambda: moment)

    return set_clock


def test_study_date_defaults_to_beijing_today(app, client, beijing_clock):
    register(client)
    beijing_clock(datetime(2026, 11, 20, 17, 0))  # 01:00 on 21 November in Beijing
    page = client.get("/app/study").get_data(as_text=True)
    assert re.search(r'<input[^>]*name="day"[^>]*value="2026-11-21"', page)
    assert study(client, day="2026-11-21").status_code == 303  # today in Beijing


def test_study_date_not_in_the_future_of_beijing(app, client, beijing_clock):
    register(client)
    beijing_clock(datetime(2026, 11, 21, 4, 0))  # noon on 21 November in Beijing
    refused = study(client, day="2026-11-22")
    assert refused.status_code == 400
    assert "学习日期不能晚于今天。" in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session().scalar(select(StudyLog.id)) is None


def test_my_study_counts_the_month_of_beijing(app, client, beijing_clock):
    register(client)
    beijing_clock(datetime(2026, 11, 30, 17, 0))  # 01:00 on 1 December in Beijing
    assert study(client, day="2026-12-01", minutes="20").status_code == 303
    assert study(client, day="2026-11-30", minutes="40").status_code == 303
    assert 'id="month-minutes">20<' in client.get("/app/me").get_data(as_text=True)


def test_after_saving_a_lesson_my_study_leads_back_to_it(app, client):
    register(client)
    response = study(client)
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    back = re.search(r'<a[^>]*href="([^"]+)"[^>]*>返回课程：([^<]+)</a>', page)
    assert back and back[1] == f"/{LESSON}.html" and back[2] == "党员流动不流失"
    # An offline study has no lesson to go back to; a made-up one is not linked.
    offline = study(client, lesson="", topic="支部集中学习党章")
    assert "返回课程" not in client.get(offline.headers["Location"]).get_data(as_text=True)
    forged = client.get("/app/me?lesson=courses/none/none").get_data(as_text=True)
    assert "返回课程" not in forged


def test_lesson_picker_shows_every_lesson_by_name_under_its_course(app, client):
    register(client)
    page = client.get(f"/app/study?lesson={LESSON}").get_data(as_text=True)
    assert "<select" not in inner_html(page, "lesson")
    text = visible_text(inner_html(page, "lesson"))
    assert "流动不流失：在外也是合格党员" in text and "第1课 党员流动不流失" in text
    assert "第3课 当好家乡农产品的“推销员”" in text and "线下学习（不对应网上课程）" in text
    assert re.search(rf'<input[^>]*type="radio"[^>]*value="{LESSON}"[^>]*checked', page)
    # A lesson chosen in the picker is stored.
    assert study(client, lesson="courses/livelihood/sell-local-produce").status_code == 303
    with app.app_context():
        assert db.session().scalar(select(StudyLog.lesson)) == "courses/livelihood/sell-local-produce"


# -- 6. the editors' side ------------------------------------------------------------------
def _history(page: str) -> str:
    return re.search(r'<ol class="history">(.*?)</ol>', page, re.S)[1]


def test_item_history_names_everyone_in_chinese(app, client, editor):
    qcode = code_of(ask(client, allow_publish="y"))
    question = item_by_code(app, qcode)
    act(editor, question, "answer", text="外出半年以上且地点固定，应转移组织关系。")
    confirm_public(app, editor, qcode, basis=["central-1994-transfer:转移-1"])
    vcode = code_of(voice(client))
    client.post(f"/app/voice/{vcode}", data={"action": "withdraw"})
    for item, who in ((item_by_code(app, qcode), "提问人"), (item_by_code(app, vcode), "投稿人")):
        history = visible_text(_history(editor.get(f"/app/editor/item/{item.id}").get_data(
            as_text=True)))
        assert who in history, history
        assert not re.search(r"[A-Za-z]{2,}", history), history  # no "member", no "confirm_public"
    assert "确认公开内容" in visible_text(_history(editor.get(
        f"/app/editor/item/{question.id}").get_data(as_text=True)))


def _presets(page: str) -> list[str]:
    select_html = re.search(r'<select id="preset"[^>]*>(.*?)</select>', page, re.S)[1]
    return [v for v in re.findall(r'<option value="([^"]*)"', select_html) if v]


def test_each_kind_is_offered_only_its_own_rejection_reasons(app, client, editor):
    question = item_by_code(app, code_of(ask(client)))
    article = item_by_code(app, code_of(voice(client)))
    asked = editor.get(f"/app/editor/item/{question.id}").get_data(as_text=True)
    sent = editor.get(f"/app/editor/item/{article.id}").get_data(as_text=True)
    assert _presets(asked) == list(QUESTION_REJECT_REASONS)
    assert _presets(sent) == list(VOICE_REJECT_REASONS)
    assert "不属于本网站答复范围" in asked and "与流动党员之声栏目主题无关" not in asked
    assert "不属于本网站答复范围" not in sent
    # A question's reason is stored and shown to the asker.
    act(editor, question, "reject", preset=QUESTION_REJECT_REASONS[0])
    assert item_by_code(app, question.code).reason == QUESTION_REJECT_REASONS[0]
    assert QUESTION_REJECT_REASONS[0] in client.get(f"/app/ask/{question.code}").get_data(
        as_text=True)


def test_bulk_reject_sends_a_reason_only_to_its_own_kind(app, client, editor):
    question = item_by_code(app, code_of(ask(client)))
    article = item_by_code(app, code_of(voice(client)))
    done = editor.post("/app/editor/bulk", data={
        "action": "reject", "reason": VOICE_REJECT_REASONS[0],
        "item": [f"{question.id}:{question.version}", f"{article.id}:{article.version}"]},
        follow_redirects=True).get_data(as_text=True)
    assert "已不予采用 1 条。1 条已被他人处理或不适用" in done
    assert item_by_code(app, question.code).state == "received"
    assert item_by_code(app, article.code).reason == VOICE_REJECT_REASONS[0]
    queue = editor.get("/app/editor/?kind=question").get_data(as_text=True)
    bulk = re.search(r'<select id="bulk-reason"[^>]*>(.*?)</select>', queue, re.S)[1]
    assert QUESTION_REJECT_REASONS[0] in bulk and VOICE_REJECT_REASONS[0] not in bulk


def test_a_preset_reason_never_becomes_an_answer(app, client, editor):
    question = item_by_code(app, code_of(ask(client)))
    response = act(editor, question, "answer", preset=QUESTION_REJECT_REASONS[0])
    assert response.status_code == 400 and "请填写答复内容。" in response.get_data(as_text=True)
    assert item_by_code(app, question.code).state == "received"


def test_the_hint_points_where_the_box_is(app, client, editor):
    item = item_by_code(app, code_of(voice(client)))
    page = editor.get(f"/app/editor/item/{item.id}").get_data(as_text=True)
    box, presets = page.index('<textarea id="text"'), page.index('<select id="preset"')
    assert box < presets  # the box is above the list of reasons
    assert "在下面填写" not in page
    assert "上面" in visible_text(page[presets:page.index("</select>", presets)])


@pytest.fixture
def own_content(tmp_path, database_url, content_repo):
    """An app whose Publish writes into a copy of the content in its own git work tree,
    never into the repository's content/."""
    app = make_app(tmp_path, database_url, CONTENT_DIR=str(content_repo / "content"))
    add_user(app, "编辑甲", role="editor")
    editor = app.test_client()
    login(editor, "编辑甲")
    yield app, editor, content_repo
    db.close(app)


def test_publish_asks_for_confirmation_first(own_content):
    app, editor, repo = own_content
    client = app.test_client()
    article = item_by_code(app, code_of(voice(client)))
    act(editor, article, "approve")
    queue = editor.get("/app/editor/").get_data(as_text=True)
    assert 'action="/app/editor/publish"' not in queue  # no one-tap publish from the queue
    link = re.search(r'<a[^>]*href="(/app/editor/publish)"[^>]*>发布到网站', queue)
    assert link
    confirm = editor.get(link[1])
    page = confirm.get_data(as_text=True)
    assert confirm.status_code == 200
    assert "在外打工也不忘学习" in visible_text(page)  # what will be published
    assert item_by_code(app, article.code).state == "approved"  # looking publishes nothing
    form = re.search(r'<form method="post" action="(/app/editor/publish)"', page)
    assert form
    done = editor.post(form[1], follow_redirects=True).get_data(as_text=True)
    assert "已发布 1 条到网站" in done
    assert item_by_code(app, article.code).state == "published"
    assert list((repo / "content" / "voices").glob(f"*-voice-{article.id}.yaml"))


def test_publish_confirmation_with_nothing_to_publish(app, editor):
    page = editor.get("/app/editor/publish").get_data(as_text=True)
    assert "没有待发布的内容" in page and 'action="/app/editor/publish"' not in page


def test_publish_confirmation_is_for_editors_only(app):
    add_user(app, "党员")
    anonymous, member = app.test_client(), app.test_client()
    login(member, "党员")
    assert anonymous.get("/app/editor/publish").status_code == 302
    assert member.get("/app/editor/publish").status_code == 403


def test_editor_login_offers_no_registration(app):
    client = app.test_client()
    to_login = client.get("/app/editor/")
    assert to_login.status_code == 302
    page = client.get(to_login.headers["Location"]).get_data(as_text=True)
    assert "登录" in page and "注册" not in visible_text(page)
    assert "/app/register" not in page
    members = client.get("/app/login").get_data(as_text=True)
    assert "注册" in visible_text(members) and "/app/register" in members
    study_login = client.get("/app/login?next=/app/study").get_data(as_text=True)
    assert "/app/register?next=/app/study" in study_login


# -- 7. dangxiao editor add on a fresh install ---------------------------------------------
def test_editor_add_before_the_database_exists(tmp_path: Path):
    env = {**os.environ, "DANGXIAO_INSTANCE": str(tmp_path / "instance")}
    env.pop("DANGXIAO_DATABASE_URL", None)
    result = subprocess.run([sys.executable, "-m", "generator", "editor", "add", "王编辑"],
                            input="县委组织部网上党校编辑\n", capture_output=True, text=True,
                            env=env, timeout=120)
    assert "Traceback" not in result.stderr and "no such table" not in result.stderr
    assert result.returncode == 0, result.stderr
    assert "已创建编辑 王编辑" in result.stderr
    with sqlite3.connect(tmp_path / "instance" / "dangxiao.sqlite3") as conn:
        assert conn.execute("SELECT username, role FROM users").fetchall() == [("王编辑", "editor")]


def test_editor_add_with_an_unreachable_database_says_so_in_chinese(tmp_path: Path):
    env = {**os.environ, "DANGXIAO_INSTANCE": str(tmp_path / "instance"),
           "DANGXIAO_DATABASE_URL": f"sqlite:///{tmp_path / 'missing-dir' / 'x.sqlite3'}"}
    result = subprocess.run([sys.executable, "-m", "generator", "editor", "add", "王编辑"],
                            input="县委组织部网上党校编辑\n", capture_output=True, text=True,
                            env=env, timeout=120)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and "无法打开数据库" in result.stderr


# -- 8. compression under dangxiao serve ---------------------------------------------------
@pytest.fixture
def served(app, tmp_path):
    from forms_app.combined import combined

    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("<!doctype html><title>站</title>", encoding="utf-8")
    client = Client(combined(site, app.wsgi_app))

    def get(url, headers=None):  # buffered: the app's body is read and closed
        return client.get(url, headers=headers or {}, buffered=True)

    return get


GZIP = {"Accept-Encoding": "gzip, deflate, br"}


@pytest.mark.parametrize("url,words", [("/app/ask", "电子信箱"),
                                       ("/app/static/app.css", "--red")])
def test_app_responses_come_gzipped(served, url, words):
    plain = served(url)
    packed = served(url, headers=GZIP)
    assert packed.status_code == plain.status_code == 200
    assert packed.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed.headers["Vary"] and "Accept-Encoding" in plain.headers["Vary"]
    assert "Content-Encoding" not in plain.headers
    body = gzip.decompress(packed.get_data())
    assert words in body.decode("utf-8")
    assert int(packed.headers["Content-Length"]) == len(packed.get_data()) < len(body)


def test_gzipped_static_files_keep_a_correct_etag(served):
    plain = served("/app/static/app.css")
    packed = served("/app/static/app.css", headers=GZIP)
    assert plain.headers["ETag"] != packed.headers["ETag"]  # two representations, two tags
    again = served("/app/static/app.css", headers={
        **GZIP, "If-None-Match": packed.headers["ETag"]})
    assert again.status_code == 304 and again.headers["ETag"] == packed.headers["ETag"]
    assert "Accept-Encoding" in again.headers["Vary"]
    unchanged = served("/app/static/app.css", headers={"If-None-Match": plain.headers["ETag"]})
    assert unchanged.status_code == 304


def test_tiny_refused_and_streaming_responses_are_left_alone(app, served):
    from flask import Response

    @app.get("/app/stream-test")
    def stream_test():
        return Response((f"第{n}行\n" * 200 for n in range(3)), mimetype="text/plain")

    tiny = served("/app/healthz", headers=GZIP)
    assert tiny.status_code == 200 and "Content-Encoding" not in tiny.headers
    refused = served("/app/ask", headers={"Accept-Encoding": "gzip;q=0"})
    assert "Content-Encoding" not in refused.headers and "电子信箱" in refused.get_data(as_text=True)
    streamed = served("/app/stream-test", headers=GZIP)
    assert "Content-Encoding" not in streamed.headers
    assert streamed.get_data(as_text=True).startswith("第0行\n第0行")


# -- 9. words on the pages -----------------------------------------------------------------
ENGLISH = re.compile(r"[A-Za-z]{2,}")
# An ASCII bracket next to Chinese text: full-width （） belong there.
HALF_WIDTH_BRACKET = re.compile(r"[\u4e00-\u9fff]\(|\([\u4e00-\u9fff]|\)[\u4e00-\u9fff]")


def test_article_body_label_says_what_a_member_can_do(client):
    page = client.get("/app/voice").get_data(as_text=True)
    label = re.search(r'<label for="body">([^<]*)</label>', page)[1]
    assert label == "正文（50 到 20000 字）"  # the length asked for, before sending
    assert "Markdown" not in visible_text(page) and "https://网址" not in visible_text(page)


def test_member_and_editor_pages_speak_chinese(app, client, editor):
    qcode = code_of(ask(client))
    vcode = code_of(voice(client))
    preview = client.post("/app/voice", data={"title": "标题", "author": "老李",
                                              "body": VOICE_BODY, "preview": "预览"})
    member = app.test_client()
    register(member)
    study(member)
    pages = {url: client.get(url) for url in (
        "/app/", "/app/ask", "/app/voice", "/app/track", "/app/privacy", f"/app/ask/{qcode}",
        f"/app/voice/{vcode}", "/app/login", "/app/register")}
    pages |= {url: member.get(url) for url in (
        "/app/study", "/app/me", "/app/me/data", "/app/password", "/app/buddy")}
    pages |= {url: editor.get(url) for url in (
        "/app/editor/", "/app/editor/study", "/app/editor/people", "/app/editor/publish",
        "/app/editor/risk", "/app/editor/orglife",
        f"/app/editor/item/{item_by_code(app, qcode).id}",
        f"/app/editor/item/{item_by_code(app, vcode).id}")}
    pages["preview"] = preview
    for url, response in pages.items():
        assert response.status_code == 200, url
        text = visible_text(response.get_data(as_text=True))
        english = set(ENGLISH.findall(text))
        assert not english, (url, english)
        assert not HALF_WIDTH_BRACKET.search(text), (url, HALF_WIDTH_BRACKET.search(text))


# -- the same, as a phone shows it (Chromium at 360 px) -------------------------------------
PHONE = {"viewport": {"width": 360, "height": 740}, "device_scale_factor": 2,
         "is_mobile": True, "has_touch": True, "locale": "zh-CN"}


def open_page(context, url: str):
    page = context.new_page()
    page.goto(url)
    return page


CHARACTER_TOPS = """(id) => {
    const tops = [];
    const walker = document.createTreeWalker(document.getElementById(id), NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        for (let i = 0; i < node.data.length; i++) {
            const range = document.createRange();
            range.setStart(node, i);
            range.setEnd(node, i + 1);
            tops.push([node.data[i], Math.round(range.getBoundingClientRect().top)]);
        }
    }
    return tops;
}"""

BLOCK_GAPS = """(id) => {
    const el = document.getElementById(id);
    const kids = [...el.children].map(k => k.getBoundingClientRect());
    const gaps = kids.slice(1).map((r, i) => r.top - kids[i].bottom);
    return {gaps, lineHeight: parseFloat(getComputedStyle(el).lineHeight),
            height: el.getBoundingClientRect().height};
}"""


def test_phone_tracking_page_has_no_blank_gaps_and_keeps_code_groups_whole(live, browser):
    app, base = live
    member = app.test_client()
    body = VOICE_BODY + "\n\n- 第一条\n- 第二条\n\n最后一段。"
    vcode = code_of(voice(member, body=body))
    qcode = code_of(ask(member, question="第一行\n第二行"))
    context = browser.new_context(**PHONE)
    try:
        page = open_page(context, f"{base}/app/voice/{vcode}")
        blocks = page.evaluate(BLOCK_GAPS, "member-body")
        assert len(blocks["gaps"]) == 3  # two paragraphs, the list, the last paragraph
        # Between paragraphs and the list only their margins: no empty line.
        assert all(0 <= gap < blocks["lineHeight"] for gap in blocks["gaps"]), blocks
        tops = page.evaluate(CHARACTER_TOPS, "tracking-code")
        text = "".join(ch for ch, _ in tops)
        assert re.fullmatch(r"[A-Z0-9]{4}(-[A-Z0-9]{4}){3}", text), text
        for start in range(0, 19, 5):  # each group with its dash on one line
            assert len({top for _, top in tops[start:start + 5]}) == 1, tops
        # and at 360 px the whole code on one line: none of it is missed when copied by hand
        assert len({top for _, top in tops}) == 1, tops
        assert page.evaluate("() => { const c = document.getElementById('tracking-code');"
                             " return c.scrollWidth <= c.clientWidth; }")
        page = open_page(context, f"{base}/app/ask/{qcode}")
        question = page.evaluate(BLOCK_GAPS, "member-body")
        assert question["height"] >= 1.9 * question["lineHeight"]  # the asker's line break
    finally:
        context.close()


def test_phone_copy_button(live, browser):
    app, base = live
    code = code_of(ask(app.test_client()))
    url = f"{base}/app/ask/{code}"
    shown = f"{code[:4]}-{code[4:8]}-{code[8:12]}-{code[12:]}"
    without_script = browser.new_context(**PHONE, java_script_enabled=False)
    try:
        page = open_page(without_script, url)
        assert not page.locator("button[data-copy]").is_visible()
        assert page.locator("#tracking-code").inner_text() == shown
    finally:
        without_script.close()
    old_webview = browser.new_context(**PHONE)
    # An old WebView or a page over plain http: no navigator.clipboard.
    old_webview.add_init_script(
        "Object.defineProperty(Navigator.prototype, 'clipboard', {get: () => undefined,"
        " configurable: true});")
    try:
        page = open_page(old_webview, url)
        button = page.get_by_role("button", name="复制查询码")
        assert button.is_visible()
        button.tap()
        assert page.evaluate("() => window.getSelection().toString()") == shown
        assert page.get_by_text("已选中，请长按复制").is_visible()
    finally:
        old_webview.close()


def sign_in(context, base: str, name: str) -> None:
    page = context.new_page()
    page.goto(f"{base}/app/login")
    page.get_by_label("用户名").fill(name)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/app/me")


def test_phone_lesson_picker_shows_whole_names(live, browser):
    app, base = live
    add_user(app, "老王")
    context = browser.new_context(**PHONE)
    try:
        sign_in(context, base, "老王")
        page = open_page(context, f"{base}/app/study?lesson=courses/livelihood/sell-local-produce")
        chosen = page.get_by_label("第3课 当好家乡农产品的“推销员”")
        assert chosen.is_checked()
        label = page.locator("label", has=chosen)
        box = label.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 360
        assert label.evaluate("l => l.scrollWidth <= l.clientWidth")
        assert "当好家乡农产品的“推销员”" in label.inner_text()
        page.get_by_label("学习时长（分钟）").fill("20")
        page.get_by_label("网上学").check()
        page.get_by_role("button", name="保存学习记录").click()
        page.wait_for_url("**/app/me?**")
        back = page.get_by_role("link", name="返回课程：当好家乡农产品的“推销员”")
        assert back.get_attribute("href") == "/courses/livelihood/sell-local-produce.html"
    finally:
        context.close()


def test_phone_form_sent_back_names_its_mistakes_at_the_top(live, browser):
    """The messages stand under their fields, a screen or two down: the page sent back
    says at its top that nothing was saved and links each mistake to its field."""
    app, base = live
    add_user(app, "老王")
    context = browser.new_context(**PHONE)
    try:
        sign_in(context, base, "老王")
        page = open_page(context, f"{base}/app/study")
        page.get_by_role("button", name="保存学习记录").click()
        summary = page.locator("#error-summary")
        assert summary.is_visible() and summary.bounding_box()["y"] < 740
        assert "还没有保存：有 3 处需要修改" in summary.inner_text()
        # Every link leads to a field on the page.
        for href in summary.locator("a").evaluate_all("as => as.map(a => a.hash)"):
            assert page.locator(href).count() == 1, href
        to_minutes = summary.get_by_role("link", name="学习时长（分钟）：请填写学习时长。")
        assert to_minutes.bounding_box()["height"] >= 44
        summary.get_by_role("link", name="学习方式：请选择学习方式。").tap()
        assert page.evaluate("() => location.hash") == "#mode-0"
        assert page.get_by_label("网上学").is_visible()
    finally:
        context.close()


SENT_EMPTY = ["/app/ask", "/app/voice", "/app/track", "/app/register", "/app/login",
              "/app/password", "/app/study", "/app/help", "/app/orglife", "/app/me/duties",
              "/app/report?kind=departure", "/app/report?kind=return",
              "/app/report?kind=thought", "/app/me/recovery-code", "/app/recover"]


@pytest.mark.parametrize("path", SENT_EMPTY)
def test_every_form_sent_back_links_each_mistake_to_a_field_on_the_page(live, path):
    app, _ = live
    add_user(app, "老王")
    client = app.test_client()
    client.post("/app/login", data={"username": "老王", "password": PASSWORD})
    response = client.post(path, data={})
    page = response.get_data(as_text=True)
    summary = re.search(r'<div class="error-summary".*?</div>', page, re.S)
    if response.status_code == 400:  # sent back with mistakes: named at the top
        assert summary, path
    if summary is None:  # nothing required (duties), or a lookup that says so itself
        return
    anchors = re.findall(r'<a href="#([^"]+)">', summary.group(0))
    assert anchors, path
    for anchor in anchors:
        assert f'id="{anchor}"' in page, (path, anchor)


def test_study_form_from_a_lesson_starts_with_its_time_and_online(live):
    """记录学习 under a lesson: the lesson chosen and named at the top of the picker, its
    estimated minutes and 网上学 filled in, all still to change."""
    app, _ = live
    add_user(app, "老王")
    client = app.test_client()
    client.post("/app/login", data={"username": "老王", "password": PASSWORD})
    page = client.get("/app/study?lesson=courses/party-spirit/identity&selfcheck=1/2")
    html = page.get_data(as_text=True)
    assert "已选好：流动不流失：在外也是合格党员 · 党员流动不流失" in html
    assert re.search(r'<input[^>]*id="minutes"[^>]*value="8"', html), html
    assert re.search(r'<input[^>]*checked[^>]*value="网上学"|<input[^>]*value="网上学"[^>]*checked',
                     html)
    assert "自测：答对 1/2 题" in html
    plain = client.get("/app/study").get_data(as_text=True)
    assert "已选好" not in plain and not re.search(r'id="minutes"[^>]*value="\d', plain)


def test_a_lookup_sent_back_says_nothing_was_looked_up_not_saved(live):
    app, _ = live
    page = app.test_client().post("/app/track", data={"code": ""}).get_data(as_text=True)
    assert "还没有查询：有 1 处需要修改" in page and "还没有保存" not in page


def test_phone_editor_tables_scroll_in_their_box_not_the_page(live, browser):
    """结对帮学 and 审计日志 on a 360-px phone: their wide tables scroll sideways inside
    their own box (as the other editor tables do), so the page itself keeps the screen's
    width and its form and tabs never slide half off the screen."""
    app, base = live
    add_user(app, "管理员老陈", role="admin")
    for i in range(3):
        add_user(app, f"在宁波港打工的流动党员{i}号")
    context = browser.new_context(**PHONE)
    try:
        page = context.new_page()
        page.goto(f"{base}/app/login")
        page.get_by_label("用户名").fill("管理员老陈")
        page.get_by_label("密码").fill(PASSWORD)
        page.get_by_role("button", name="登录").tap()
        page.wait_for_load_state()
        for tab, heading in (("结对帮学", "结对帮学"), ("审计日志", "审计日志")):
            page.locator("nav.tabs").get_by_role("link", name=tab).tap()
            page.wait_for_load_state()
            assert page.get_by_role("heading", level=1).inner_text().startswith(heading)
            assert page.evaluate("() => document.documentElement.scrollWidth") <= 360, tab
            region = page.locator(".scroll[role=region]").filter(has=page.locator("table"))
            assert region.count() == 1, tab
            box = region.bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= 360, tab
            # Headers on one line each, not a character a line.
            heights = region.locator("th").evaluate_all(
                "ths => ths.map(th => th.getBoundingClientRect().height)")
            assert max(heights) < 1.6 * min(heights), (tab, heights)
            # Everything in the table can be reached by scrolling its box.
            assert region.evaluate("r => r.scrollWidth >= r.querySelector('table')"
                                   ".getBoundingClientRect().width"), tab
            if os.environ.get("DX_SHOTS"):  # for looking at them by hand
                page.screenshot(path=f"{os.environ['DX_SHOTS']}/editor-{tab}.png")
    finally:
        context.close()
