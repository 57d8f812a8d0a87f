"""The public forms end to end through the test client, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from conftest import VOICE_BODY, add_user, ask, code_of, item_by_code, login, make_app, voice

from forms_app.tracking_code import ALPHABET, display, normalize

HOSTILE = ("<script>alert('x')</script><img src=x onerror=alert(1)>"
           "[点我](javascript:alert(1)) <iframe src='//evil.example'></iframe>"
           "<svg onload=alert(1)><script>alert(2)</script></svg> {{ 7*7 }} {{ 7919 + 7919 }} "
           "{% if 1 %}x{% endif %}"
           "<a href='#' onclick='alert(3)'>a</a>")


class _Executable(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "script" and values.get("src") == "/app/static/app.js":
            return  # the app's own script is the only one allowed
        if tag in ("script", "iframe", "svg", "object", "embed", "frame"):
            self.found.append(tag)
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"{tag}[{name}]")
            if name in ("href", "src", "action") and (value or "").strip().lower().startswith(
                    ("javascript:", "data:text/html", "vbscript:")):
                self.found.append(f"{tag}[{name}={value}]")


def executable(html: str) -> list[str]:
    """What in a page a browser would run: script-capable tags, on* handlers, script URLs."""
    parser = _Executable()
    parser.feed(html)
    return parser.found


def count(app, model="Submission") -> int:
    from sqlalchemy import func, select

    from forms_app import db, models

    with app.app_context():
        return db.session().scalar(select(func.count()).select_from(getattr(models, model)))


def test_ask_starts_with_the_situation_the_helper_gives(app, client):
    situation = "我的情况：为什么外出：务工经商。想请支部确认：" + HOSTILE
    page = client.get("/app/ask", query_string={"category": "组织关系",
                                               "question": situation}).get_data(as_text=True)
    textarea = re.search(r'<textarea[^>]*name="question"[^>]*>(.*?)</textarea>', page, re.S)[1]
    assert textarea.strip().startswith("我的情况：为什么外出：务工经商。")
    assert "&lt;script&gt;" in textarea and executable(page) == []
    assert count(app) == 0  # nothing is stored until the member sends it


def test_ask_end_to_end(app, client):
    response = ask(client)
    code = code_of(response)
    assert response.headers["Location"] == f"/app/ask/{code}"
    assert normalize(code) == code and len(code) == 16
    page = client.get(f"/app/ask/{code}").get_data(as_text=True)
    # The code is shown one group of four at a time (a narrow screen breaks between groups).
    shown = re.search(r'id="tracking-code">(.*?)</p>', page)[1]
    assert re.sub(r"<[^>]+>", "", shown) == display(code) and "复制查询码" in page
    assert "我在外地打工半年" in page and "已登记，待处理" in page
    # The tracking page never shows the asker's contact data.
    assert "13812345678" not in page and "张三" not in page and "城关镇" not in page
    item = item_by_code(app, code)
    assert (item.kind, item.state, item.category, item.contact) == (
        "question", "received", "组织关系", "13812345678")
    assert item.allow_publish is False  # unticked unless the asker ticks it


def test_a_signed_in_member_can_ask_and_send_an_article(app, client):
    # Loading the member opens the request's write transaction; the submission's group
    # commit must not wait on it (it did, until the busy timeout: a 503 for members).
    add_user(app, "宁波老李")
    login(client, "宁波老李")
    code = code_of(ask(client))
    assert item_by_code(app, code).state == "received"
    assert item_by_code(app, code_of(voice(client))).kind == "voice"


def test_voice_end_to_end_with_preview(app, client):
    preview = client.post("/app/voice", data={"title": "标题", "author": "老李",
                                              "body": "第一段**加粗**", "preview": "预览"})
    text = preview.get_data(as_text=True)
    assert "<strong>加粗</strong>" in text
    assert "正文请写 50 到 20000 字。" in text  # messages beside the preview
    assert count(app) == 0  # a preview stores nothing
    code = code_of(voice(client))
    page = client.get(f"/app/voice/{code}").get_data(as_text=True)
    assert "在外打工也不忘学习" in page and "<strong>感谢支部的关心</strong>" in page
    assert item_by_code(app, code).consent is True


@pytest.mark.parametrize("fields,field,message", [
    ({"question": ""}, "question", "请填写您的问题。"),
    ({"question": "问" * 2001}, "question", "问题请控制在 2000 字以内。"),
    ({"category": "不存在"}, "category", "请从列表中选择问题类别。"),
    ({"contact": "1" * 101}, "contact", "联系方式请控制在 100 字以内。"),
])
def test_ask_errors_beside_fields_keep_input(app, client, fields, field, message):
    response = ask(client, **fields)
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert f'<p class="error" id="{field}-err">{message}</p>' in text
    assert "城关镇第一支部" in text  # what was typed is still in the form
    assert count(app) == 0


def test_voice_requires_consent(app, client):
    response = voice(client, consent="")
    assert response.status_code == 400
    assert "投稿须同意公开发表，请勾选。" in response.get_data(as_text=True)
    assert VOICE_BODY.splitlines()[0] in response.get_data(as_text=True)
    assert count(app) == 0


def test_personal_fields_are_optional(app, client):
    code = code_of(ask(client, name="", branch="", contact=""))
    item = item_by_code(app, code)
    assert (item.name, item.branch, item.contact) == (None, None, None)


def test_honeypot_stores_nothing(app, client):
    response = ask(client, website="http://spam.example")
    assert response.status_code == 400
    assert "提交未通过检查" in response.get_data(as_text=True)
    assert count(app) == 0


def test_double_submit_gives_one_item(app, client):
    first = code_of(ask(client, form_key="k" * 22))
    second = code_of(ask(client, form_key="k" * 22))
    assert first == second and count(app) == 1


def test_fields_the_form_does_not_offer_are_ignored(app, client):
    code = code_of(ask(client, state="approved", id="999", kind="voice", answer="已批准",
                       version="7", role="admin"))
    item = item_by_code(app, code)
    assert (item.state, item.kind, item.answer, item.version) == (
        "received", "question", None, 1)
    assert item.id != 999


def test_sql_metacharacters_are_stored_literally(app, client):
    text = "'; DROP TABLE submissions; -- \" OR 1=1 /* 党费 */"
    code = code_of(ask(client, question=text))
    assert item_by_code(app, code).body == text
    assert text.replace('"', "&#34;").replace("'", "&#39;") in client.get(
        f"/app/ask/{code}").get_data(as_text=True)


def test_hostile_markdown_is_inert_in_preview_and_tracking_page(app, client):
    preview = client.post("/app/voice", data={"title": HOSTILE[:60], "author": "x",
                                              "body": HOSTILE, "preview": "预览"})
    assert executable(preview.get_data(as_text=True)) == []
    code = code_of(voice(client, title="<script>alert(1)</script>", body=HOSTILE * 2))
    page = client.get(f"/app/voice/{code}").get_data(as_text=True)
    assert executable(page) == []
    # Template syntax stays literal text (the page's times may well contain "49").
    assert "{{ 7919 + 7919 }}" in page and str(7919 + 7919) not in page
    # The title is plain text, as on the site: its tags dropped (generator/plaintext.py).
    assert "<h2>alert(1)</h2>" in page
    assert "&lt;script&gt;alert('x')&lt;/script&gt;" in page  # the body shows it as text
    qcode = code_of(ask(client, question=HOSTILE))
    assert executable(client.get(f"/app/ask/{qcode}").get_data(as_text=True)) == []


def test_tracking_codes_are_random_readable_and_lookup_works(app, client):
    codes = {code_of(ask(client)) for _ in range(20)}
    assert len(codes) == 20
    assert all(set(c) <= set(ALPHABET) for c in codes)
    assert not set("01OILU") & set(ALPHABET)
    code = sorted(codes)[0]
    typed = display(code).lower().replace("-", " ")
    response = client.post("/app/track", data={"code": typed})
    assert response.status_code == 303 and response.headers["Location"] == f"/app/ask/{code}"
    wrong = client.post("/app/track", data={"code": "ABCD-EFGH-JKMN-PQRS"})
    assert wrong.status_code == 404 and "没有找到这个查询码" in wrong.get_data(as_text=True)
    assert client.get("/app/ask/ABCDEFGHJKMNPQRS").status_code == 404
    # A question's code does not open an article page.
    assert client.get(f"/app/voice/{code}").status_code == 404


def test_member_withdraws_and_erases(app, client):
    code = code_of(ask(client))
    response = client.post(f"/app/ask/{code}", data={"action": "withdraw"})
    assert response.status_code == 303
    assert item_by_code(app, code).state == "withdrawn"
    page = client.get(f"/app/ask/{code}").get_data(as_text=True)
    assert "已撤回" in page
    # Deleting asks once more first, and changes nothing until confirmed.
    ask_first = client.post(f"/app/ask/{code}", data={"action": "erase"})
    assert ask_first.status_code == 200 and "不能恢复" in ask_first.get_data(as_text=True)
    assert item_by_code(app, code).personal_erased_at is None
    client.post(f"/app/ask/{code}", data={"action": "erase", "confirm": "yes"})
    item = item_by_code(app, code)
    assert (item.name, item.branch, item.contact) == (None, None, None)
    assert "打工" not in item.body and item.personal_erased_at is not None
    page = client.get(f"/app/ask/{code}").get_data(as_text=True)
    assert "电子信箱：已删除" in page and "打工" not in page
    # Withdrawing twice changes nothing and says why.
    again = client.post(f"/app/ask/{code}", data={"action": "withdraw"},
                        follow_redirects=True)
    assert "状态已经变化" in again.get_data(as_text=True)


def test_author_revises_after_request_for_changes(app, client):
    add_user(app, "编辑甲", role="editor")
    code = code_of(voice(client))
    item = item_by_code(app, code)
    login(client, "编辑甲")
    client.post(f"/app/editor/item/{item.id}", data={
        "action": "request_changes", "version": item.version, "text": "请补充一个具体事例。"})
    client.post("/app/logout")
    page = client.get(f"/app/voice/{code}").get_data(as_text=True)
    assert "请补充一个具体事例。" in page and "修改稿件" in page
    client.post(f"/app/voice/{code}", data={"action": "revise", "title": "新标题",
                                            "body": VOICE_BODY + "\n\n补充：去年冬天……"})
    item = item_by_code(app, code)
    assert (item.state, item.title) == ("received", "新标题") and "补充" in item.body


def test_security_headers_and_no_store(client):
    response = client.get("/app/ask")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "object-src 'none'" in csp
    assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cache-Control"] == "no-store"
    urls = re.findall(r"(?:src|href|action)=\"([^\"]*)\"", response.get_data(as_text=True))
    # Only this host (a tel: link dials the hotline; it loads nothing).
    assert urls and all(u.startswith(("/", "#", "tel:")) and not u.startswith("//") for u in urls)


def test_oversized_body_and_too_many_fields_get_413(app, client):
    big = client.post("/app/voice", data={"title": "t", "author": "a", "consent": "y",
                                          "body": "字" * 40_000})
    assert big.status_code == 413
    assert "提交的内容太长，未保存" in big.get_data(as_text=True)
    many = client.post("/app/ask", data={f"f{i}": "x" for i in range(80)} | {"question": "q"})
    assert many.status_code == 413
    assert count(app) == 0


def test_not_found_and_crash_pages_are_chinese_without_traceback(app):
    @app.get("/app/boom")
    def boom():
        raise RuntimeError("secret internals")

    client = app.test_client()
    missing = client.get("/app/nothing-here")
    assert missing.status_code == 404 and "没有找到这个页面" in missing.get_data(as_text=True)
    crash = client.get("/app/boom")
    text = crash.get_data(as_text=True)
    assert crash.status_code == 500 and "服务器出了点问题" in text
    assert "Traceback" not in text and "secret internals" not in text


def test_every_form_links_the_privacy_notice(client):
    for url in ("/app/ask", "/app/voice", "/app/register"):
        assert 'href="/app/privacy"' in client.get(url).get_data(as_text=True)
    notice = client.get("/app/privacy").get_data(as_text=True)
    for words in ("保存多久", "删除", "365 天", "查询码"):
        assert words in notice


def test_rate_limit_on_submissions_and_forged_forwarded_for(tmp_path, sqlite_url):
    app = make_app(tmp_path, sqlite_url, SUBMIT_LIMIT="2 per minute")
    client = app.test_client()
    for _ in range(2):
        code_of(ask(client))
    refused = client.post("/app/ask", data={"question": "第三次"},
                          headers={"X-Forwarded-For": "203.0.113.9"})
    assert refused.status_code == 429
    assert "操作太频繁" in refused.get_data(as_text=True)
    assert count(app) == 2


def test_forwarded_for_counts_only_behind_a_trusted_proxy(tmp_path, sqlite_url):
    app = make_app(tmp_path, sqlite_url, SUBMIT_LIMIT="1 per minute", TRUSTED_PROXIES=1)
    client = app.test_client()
    for ip in ("203.0.113.1", "203.0.113.2"):
        response = client.post("/app/ask", data={"question": "问", "category": "其他"},
                               headers={"X-Forwarded-For": ip})
        assert response.status_code == 303
    again = client.post("/app/ask", data={"question": "问", "category": "其他"},
                        headers={"X-Forwarded-For": "203.0.113.1"})
    assert again.status_code == 429


def test_guessing_tracking_codes_is_rate_limited(tmp_path, sqlite_url):
    app = make_app(tmp_path, sqlite_url, LOOKUP_LIMIT="5 per minute")
    client = app.test_client()
    statuses = [client.get(f"/app/ask/{'A' * 15}{c}").status_code for c in "23456789"]
    assert statuses[:5] == [404] * 5 and statuses[5:] == [429] * 3


def test_a_tracking_code_of_the_wrong_length_is_named_as_such(client):
    short = client.post("/app/track", data={"code": "ABCD-EFGH"}).get_data(as_text=True)
    assert "查询码是 16 位字母和数字" in short and "您输入了 8 位" in short
    wrong = client.post("/app/track", data={"code": "ABCD-EFGH-JKMN-PQRS"})
    assert wrong.status_code == 404 and "没有找到这个查询码" in wrong.get_data(as_text=True)
