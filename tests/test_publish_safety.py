"""Publishing can never be stopped by one item, says what it could not do, publishes no
personal data without an editor's confirmation, and takes erased items off the site."""

from __future__ import annotations

from pathlib import Path

import yaml
from conftest import ask, code_of, confirm_public, git, item_by_code, voice
from sqlalchemy import select, text
from test_app_publish import ARTICLE, PICK

from forms_app import db
from forms_app.models import AuditEntry


def _approve(editor, app, code):
    item = item_by_code(app, code)
    response = editor.post(f"/app/editor/item/{item.id}",
                           data={"action": "approve", "version": item.version})
    assert response.status_code == 303


def _answer(editor, app, code, answer="可以回原支部交纳，也可以按月网上交纳。"):
    item = item_by_code(app, code)
    response = editor.post(f"/app/editor/item/{item.id}", data={
        "action": "answer", "version": item.version, "text": answer})
    assert response.status_code == 303


def _publish(app, editor) -> str:
    page = editor.post("/app/editor/publish", follow_redirects=True).get_data(as_text=True)
    thread = app.extensions.get("dx_rebuild")
    if thread is not None:
        thread.join(timeout=300)
    return page


def test_one_item_that_fails_its_check_stays_in_the_queue_and_the_rest_publish(publishing):
    app, editor, repo = publishing
    member = app.test_client()
    good = code_of(voice(member, title="在工地上学党章", body=ARTICLE * 2))
    bad = code_of(voice(member, title="会被拒绝的稿件", body=ARTICLE * 2))
    for code in (good, bad):
        _approve(editor, app, code)
    # Data the exporter cannot publish (a title that is empty once invisible characters go).
    with app.app_context():
        db.session().execute(text("UPDATE submissions SET title = :t WHERE code = :c"),
                             {"t": "\u200b\u3000 ", "c": bad})
        db.session().commit()

    page = _publish(app, editor)
    assert "已写入 1 条" in page and "1 条未能发布" in page
    assert item_by_code(app, good).state == "published"
    refused = item_by_code(app, bad)
    assert refused.state == "approved" and refused.published_path is None
    assert "title：不能为空" in refused.publish_error
    queue = editor.get("/app/editor/").get_data(as_text=True)
    assert "未能发布" in queue and "title：不能为空" in queue
    item_page = editor.get(f"/app/editor/item/{refused.id}").get_data(as_text=True)
    assert "上次发布未成功" in item_page
    assert not list((repo / "content" / "voices").glob(f"*-voice-{refused.id}.yaml"))
    site = Path(app.config["SITE_DIR"])
    assert (site / item_by_code(app, good).published_path.replace(".yaml", ".html")).is_file()
    # The editor can still send the refused article back to its author.
    response = editor.post(f"/app/editor/item/{refused.id}", data={
        "action": "request_changes", "version": refused.version, "text": "请补上标题。"})
    assert response.status_code == 303
    assert item_by_code(app, bad).state == "changes_requested"


def test_a_failed_rebuild_is_shown_and_nothing_is_marked_published(publishing):
    app, editor, repo = publishing
    content = repo / "content"
    member = app.test_client()
    code = code_of(voice(member, body=ARTICLE * 2))
    _approve(editor, app, code)
    broken = content / "news" / "broken.yaml"
    broken.write_text("title: [未闭合\n", encoding="utf-8")  # an editor's mistake

    page = _publish(app, editor)
    assert "正在重新生成网站" in page
    item = item_by_code(app, code)
    assert item.state == "approved" and "内容检查未通过" in item.publish_error
    queue = editor.get("/app/editor/").get_data(as_text=True)
    assert "上次重新生成网站失败" in queue and "broken.yaml" in queue
    assert "发布到网站（1 条待发布）" in queue  # still waiting, nothing lost

    broken.unlink()
    _publish(app, editor)
    item = item_by_code(app, code)
    assert item.state == "published" and item.publish_error is None
    assert "成功，1 条已上线" in editor.get("/app/editor/").get_data(as_text=True)
    # Its file was committed once, with the first Publish.
    assert git(repo, "rev-list", "--count", "HEAD") == "2"


def test_personal_data_in_a_question_is_removed_shown_and_confirmed_before_publishing(
        publishing):
    app, editor, repo = publishing
    member = app.test_client()
    question = ("我叫王小明，在东莞打工，电话 138 1234 5678，也可以打 +86-139-8765-4321，"
                "宿舍座机 0769-2233 4455，"
                "微信：wx_laowang88，邮箱 laowang@example.com，住在东莞市长安镇振安路88号3栋501室。"
                "我的身份证号 44190019900101123X。外出半年，组织关系要不要转？")
    code = code_of(ask(member, question=question, name="小明哥", allow_publish="y"))
    _answer(editor, app, code, "请和王小明同志所在支部联系：0769-8512 3456。按规定办理转接。")
    item = item_by_code(app, code)

    # Not confirmed yet: Publish exports nothing and says why.
    queue = editor.get("/app/editor/").get_data(as_text=True)
    assert "需先在条目页“公开前核对”" in queue and "发布到网站（0 条待发布）" in queue
    page = editor.get(f"/app/editor/item/{item.id}").get_data(as_text=True)
    for label in ("隐去手机号", "隐去微信号", "隐去电子邮箱", "隐去住址", "隐去身份证号",
                  "隐去姓名", "隐去固定电话"):
        assert label in page, label
    assert "<mark>138****5678</mark>" in page  # masked until an audited reveal
    assert "138 1234 5678" not in page and "wx_laowang88" not in page

    # An edit that puts a phone number back is shown again, marked, and not stored.
    again = editor.post(f"/app/editor/item/{item.id}/public", data={
        "version": item.version, "title": "组织关系要不要转？",
        "question": "电话 13712345678，组织关系要不要转？",
        "answer": "按规定办理。", **PICK})
    assert again.status_code == 400
    assert "还有 1 处个人信息" in again.get_data(as_text=True)
    assert item_by_code(app, code).public_confirmed_at is None

    proposed = confirm_public(app, editor, code, **PICK)
    assert "［已隐去手机号］" in proposed["question"]
    _publish(app, editor)
    item = item_by_code(app, code)
    assert item.state == "published"
    published = (repo / "content" / item.published_path).read_text(encoding="utf-8")
    built = (Path(app.config["SITE_DIR"]) / item.published_path.replace(".yaml", ".html")
             ).read_text(encoding="utf-8")
    for personal in ("王小明", "小明哥", "1234 5678", "8765", "wx_laowang88", "laowang@",
                     "振安路88号", "44190019900101123X", "2233 4455"):
        assert personal not in published and personal not in built, personal
    # The branch's office number in the editor's answer stays: members are to call it.
    assert "0769-8512 3456" in built
    assert "组织关系要不要转" in built and "［已隐去手机号］" in built
    data = yaml.safe_load(published)
    assert data["letter"].startswith("我叫［已隐去姓名］")
    assert data["question"] == "外出半年，组织关系要不要转？"  # the suggested title


def test_erasing_a_published_article_takes_it_off_the_site_and_out_of_every_record(
        publishing):
    app, editor, repo = publishing
    content, site = repo / "content", Path(app.config["SITE_DIR"])
    member = app.test_client()
    vcode = code_of(voice(member, title="我在深圳的日子", author="老李", body=ARTICLE * 2))
    qcode = code_of(ask(member, question="我叫张三，党费怎么交？", allow_publish="y"))
    _approve(editor, app, vcode)
    _answer(editor, app, qcode, "张三同志，党费可以按月交纳。")
    _publish(app, editor)
    article = item_by_code(app, vcode)
    page = site / article.published_path.replace(".yaml", ".html")
    assert page.is_file()

    for kind, code in (("voice", vcode), ("ask", qcode)):
        response = member.post(f"/app/{kind}/{code}", data={"action": "erase", "confirm": "yes"},
                               follow_redirects=True)
        text = response.get_data(as_text=True)
        assert "个人信息和内容已删除" in text and "：已删除" in text
        assert "阅读网上的文章" not in text and "公开在" not in text
    question = item_by_code(app, qcode)
    assert question.body == question.answer == "（内容已应提交人要求删除）"
    assert question.public_question is None and question.name is None

    # Taken off the site at once, without waiting for an editor's Publish.
    app.extensions["dx_rebuild"].join(timeout=300)
    article = item_by_code(app, vcode)
    assert "工地上休息" not in article.body
    assert article.published_path is None and not article.remove_from_site
    assert not page.exists()  # the rebuilt site no longer has it
    assert not list((content / "voices").glob(f"*-voice-{article.id}.yaml"))
    assert git(repo, "status", "--porcelain") == ""
    assert "撤下 1 条" in git(repo, "log", "-1", "--format=%s")
    assert item_by_code(app, qcode).state == "answered"  # never published
    # No audit row holds what the member or the editor wrote about them.
    with app.app_context():
        details = " ".join(e.detail or "" for e in db.session().scalars(select(AuditEntry)))
    for word in ("张三", "党费可以按月", "工地上休息", "老李"):
        assert word not in details, word


def test_another_worker_counts_what_one_worker_approved(tmp_path, database_url):
    """gunicorn runs two workers: the queue's counts kept by one must not hide from the
    editor what was just approved through the other (发布到网站（0 条待发布）)."""
    from conftest import add_user, login, make_app

    (tmp_path / "instance").mkdir(exist_ok=True)  # where the SQLite variant's file lives
    first = make_app(tmp_path / "a", database_url)
    second = make_app(tmp_path / "b", database_url)
    try:
        add_user(first, "编辑甲", role="editor")
        on_first, on_second = first.test_client(), second.test_client()
        login(on_first, "编辑甲")
        login(on_second, "编辑甲")
        code = code_of(voice(first.test_client(), body=ARTICLE * 2))
        assert "发布到网站（0 条待发布）" in on_first.get("/app/editor/").get_data(as_text=True)
        _approve(on_second, second, code)  # the other worker
        assert "发布到网站（1 条待发布）" in on_first.get("/app/editor/").get_data(as_text=True)
    finally:
        db.close(first)
        db.close(second)
