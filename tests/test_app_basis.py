"""The basis of an answer published from the mailbox: the editor picks clauses of
content/basis/ on 公开前核对, Publish writes exactly those as the FAQ entry's `basis:`, and
nothing is published without one, not even an item confirmed before editors picked them."""

from __future__ import annotations

import json
import re

import yaml
from conftest import (
    add_user,
    ask,
    code_of,
    confirm_public,
    item_by_code,
    login,
    make_app,
    write_yaml,
)
from sqlalchemy import text
from test_app_defects import inner_html, visible_text

from forms_app import db, migrate, publish
from generator.checks import check, check_new_file, errors_only

QUESTION = "我在外地打工半年多了，住处固定，组织关系要不要转过来？"
ANSWER = "外出六个月以上且有固定地点的，应当转移正式组织关系。"
CARD_2 = "central-1994-card:使用-2"
TRANSFER_1 = "central-1994-transfer:转移-1"
SCHOOL = "school-interim-rules:二（二）"
SCHOOL_NAME = "学校《流动党员管理工作暂行规定》"
SCHOOL_HINT = f"依据学校规定的答复，请在答复中写明“{SCHOOL_NAME}”"


def _answered(app, editor, answer: str = ANSWER) -> str:
    code = code_of(ask(app.test_client(), question=QUESTION, allow_publish="y"))
    item = item_by_code(app, code)
    response = editor.post(f"/app/editor/item/{item.id}", data={
        "action": "answer", "version": item.version, "text": answer})
    assert response.status_code == 303
    return code


def _post(editor, item, **fields):
    data = {"version": item.version, "title": "组织关系要不要转？", "question": QUESTION,
            "answer": ANSWER, **fields}
    return editor.post(f"/app/editor/item/{item.id}/public", data=data)


def _publish(app, editor) -> str:
    app.config["REBUILD_AFTER_PUBLISH"] = False  # the files are what is tested here
    return editor.post("/app/editor/publish", follow_redirects=True).get_data(as_text=True)


def test_picked_clauses_are_published_exactly_and_pass_the_check(publishing):
    app, editor, repo = publishing
    content = repo / "content"
    code = _answered(app, editor)
    item = item_by_code(app, code)

    # The picker: a folding block per document, titled with its kind; a checkbox per clause
    # labelled with its label and the start of its text.
    page = editor.get(f"/app/editor/item/{item.id}").get_data(as_text=True)
    picker = inner_html(page, "basis-picker")
    assert "<summary>关于试行《流动党员活动证》制度的通知（中央规定）</summary>" in picker
    assert picker.count("<details") == len(list((content / "basis").glob("*.yaml")))
    assert "<details open" not in picker  # nothing picked yet: all folded
    label = re.search(rf'<label class="check"><input type="checkbox" name="basis" id="[^"]+" '
                      rf'value="{CARD_2}"> (.*?)</label>', picker)
    assert visible_text(label[1]) == ("活动证的使用：不能使用的第（2）种情况 （2）长期（六个月以上）"
                                      "外出务工经商且有固定地点的党员，应转移正式组织关系。")

    # Posted in any order: kept once each, in the registry's order.
    confirm_public(app, editor, code, basis=[TRANSFER_1, CARD_2, CARD_2])
    item = item_by_code(app, code)
    picks = [{"doc": "central-1994-card", "clause": "使用-2"},
             {"doc": "central-1994-transfer", "clause": "转移-1"}]
    assert json.loads(item.public_basis) == picks
    page = editor.get(f"/app/editor/item/{item.id}").get_data(as_text=True)
    picker = inner_html(page, "basis-picker")
    assert picker.count("<details open") == 2 and picker.count(" checked") == 2
    assert "已选 1 条" in picker

    assert "已发布 1 条到网站" in _publish(app, editor)
    item = item_by_code(app, code)
    assert item.state == "published"
    written = (content / item.published_path).read_text(encoding="utf-8")
    assert yaml.safe_load(written)["basis"] == picks
    assert "网上党校电子信箱答复" not in written
    assert errors_only(check_new_file(content, item.published_path, written)) == []
    # `dangxiao check` of the whole tree says nothing against it.
    _, problems = check(content)
    assert [p for p in errors_only(problems) if p.path.endswith(item.published_path)] == []


def test_confirming_without_a_clause_is_refused_and_nothing_is_stored(app, editor):
    item = item_by_code(app, _answered(app, editor))
    response = _post(editor, item)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    picker = inner_html(page, "basis-picker")
    assert '<p class="error" id="basis-err">请选择答复所依据的条款（至少一条）</p>' in picker
    assert 'aria-describedby="basis-err"' in page
    assert ANSWER in page  # what the editor typed is still there
    again = item_by_code(app, item.code)
    assert again.public_confirmed_at is None and again.public_basis is None
    assert again.version == item.version
    with app.app_context():
        assert publish.pending_count(db.session()) == 0


def test_a_forged_clause_is_refused_and_nothing_is_stored(app, editor):
    item = item_by_code(app, _answered(app, editor))
    for forged in (["central-1994-card:使用-9"], ["no-such-doc:第一条"],
                   [CARD_2, "central-1994-card"], ["<script>alert(1)</script>"]):
        response = _post(editor, item, basis=forged)
        assert response.status_code == 400, forged
        page = response.get_data(as_text=True)
        assert "所选条款不在依据文件库中（文件可能刚被修改），请重新勾选。" in inner_html(
            page, "basis-picker")
        assert "<script>alert" not in page
    again = item_by_code(app, item.code)
    assert again.public_confirmed_at is None and again.public_basis is None


def test_an_answer_on_school_rules_is_reminded_to_name_them_but_not_stopped(publishing):
    app, editor, repo = publishing
    code = _answered(app, editor, "每年至少向流出地党组织汇报一次思想、工作情况。")
    item = item_by_code(app, code)
    page = editor.get(f"/app/editor/item/{item.id}").get_data(as_text=True)
    assert f"依据本文件答复时，请在答复中写明“{SCHOOL_NAME}”。" in page  # said before picking
    assert SCHOOL_HINT not in page

    confirm_public(app, editor, code, basis=[SCHOOL])  # not blocked
    page = editor.get(f"/app/editor/item/{item.id}").get_data(as_text=True)
    assert SCHOOL_HINT in visible_text(inner_html(page, "basis-picker"))
    rel, data = _export(app, code)
    assert errors_only(check_new_file(repo / "content", rel, publish.dump_yaml(data))) == []

    confirm_public(app, editor, code, basis=[SCHOOL],
                   answer=f"按照{SCHOOL_NAME}，每年至少向流出地党组织汇报一次。")
    page = editor.get(f"/app/editor/item/{item.id}").get_data(as_text=True)
    assert SCHOOL_HINT not in page


def _export(app, code):
    with app.app_context():
        return publish.export(item_by_code(app, code))


def test_a_document_added_to_the_registry_is_offered_without_a_restart(publishing):
    app, editor, repo = publishing
    item = item_by_code(app, _answered(app, editor))
    url = f"/app/editor/item/{item.id}"
    assert "某县流动党员服务办法" not in editor.get(url).get_data(as_text=True)
    write_yaml(repo / "content" / "basis" / "county-service.yaml", {
        "title": "某县流动党员服务办法", "cite_as": "有的县", "issuer": "某县委组织部",
        "date": "2025年", "kind": "地方做法", "scope": "该县的流动党员",
        "clauses": [{"id": "第三条", "text": "流动党员可以在服务站参加组织生活。"}]})
    page = editor.get(url).get_data(as_text=True)
    assert "某县流动党员服务办法（地方做法）" in page
    response = _post(editor, item, basis=["county-service:第三条"])
    assert response.status_code == 303


def test_a_clause_gone_from_the_registry_since_the_pick_stops_only_that_item(publishing):
    app, editor, repo = publishing
    code = _answered(app, editor)
    confirm_public(app, editor, code, basis=[CARD_2])
    (repo / "content" / "basis" / "central-1994-card.yaml").unlink()
    page = _publish(app, editor)
    assert "1 条未能发布" in page
    item = item_by_code(app, code)
    assert item.state == "answered" and "依据文件 central-1994-card 不存在" in item.publish_error
    queue = editor.get("/app/editor/").get_data(as_text=True)
    assert "未能发布" in queue and "依据文件 central-1994-card 不存在" in queue


def test_erasing_clears_the_picked_clauses(app, editor):
    code = _answered(app, editor)
    confirm_public(app, editor, code, basis=[CARD_2])
    assert item_by_code(app, code).public_basis is not None
    member = app.test_client()
    response = member.post(f"/app/ask/{code}", data={"action": "erase", "confirm": "yes"})
    assert response.status_code in (200, 303)
    item = item_by_code(app, code)
    assert item.public_basis is None and item.public_confirmed_at is None
    assert item.personal_erased_at is not None


def test_an_item_confirmed_before_basis_picks_waits_for_one(tmp_path, database_url,
                                                             content_repo):
    # A question answered and confirmed while the database was at 0003 (before picks).
    if database_url.startswith("sqlite"):
        (tmp_path / "instance").mkdir(parents=True, exist_ok=True)
    migrate.upgrade(database_url, "0003")
    engine = db.make_engine(database_url)
    at = "2026-11-20 08:00:00"
    try:
        with engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO submissions (id, kind, code, state, version, created_at, "
                "updated_at, due_at, calendar_uncertain, body, category, allow_publish, "
                "consent, answer, public_title, public_question, public_answer, "
                "public_confirmed_at) VALUES (7, 'question', 'OLDCODE', 'answered', 3, :at, "
                ":at, :at, false, :q, '组织关系', true, false, :a, '组织关系要不要转？', :q, "
                ":a, :at)"), {"at": at, "q": QUESTION, "a": ANSWER})
    finally:
        engine.dispose()
    app = make_app(tmp_path, database_url, CONTENT_DIR=str(content_repo / "content"),
                   SITE_DIR=str(tmp_path / "site"))
    try:
        add_user(app, "编辑甲", role="editor")
        editor = app.test_client()
        login(editor, "编辑甲")
        item = item_by_code(app, "OLDCODE")
        assert item.public_confirmed_at is not None and item.public_basis is None

        # Not published, and the queue says which one and why.
        queue = editor.get("/app/editor/").get_data(as_text=True)
        assert "发布到网站（0 条待发布）" in queue
        assert "待选答复依据" in queue and 'href="/app/editor/item/7"' in queue
        assert "还没有选择答复所依据的条款" in queue
        page = editor.get("/app/editor/item/7").get_data(as_text=True)
        assert "确认公开内容，但还没有选择答复所依据的条款，暂不发布" in page
        assert "没有待发布的内容" in _publish(app, editor)
        assert not (content_repo / "content" / "faq" / "mailbox-7.yaml").exists()
        assert item_by_code(app, "OLDCODE").state == "answered"

        # Once its basis is picked, it is published.
        confirm_public(app, editor, "OLDCODE", basis=[TRANSFER_1])
        assert "待选答复依据" not in editor.get("/app/editor/").get_data(as_text=True)
        assert "已发布 1 条到网站" in _publish(app, editor)
        written = yaml.safe_load((content_repo / "content" / "faq" / "mailbox-7.yaml")
                                 .read_text(encoding="utf-8"))
        assert written["basis"] == [{"doc": "central-1994-transfer", "clause": "转移-1"}]
    finally:
        db.close(app)
