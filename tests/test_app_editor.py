"""The editors' queue: counts, masking, actions, conflicts, bulk, audit, the pause."""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import add_user, ask, code_of, item_by_code, login, voice
from sqlalchemy import select, text

from forms_app import db
from forms_app.models import AuditEntry, Submission


def act(client, item, action, text=None, version=None, preset=None):
    data = {"action": action, "version": item.version if version is None else version}
    if text is not None:
        data["text"] = text
    if preset is not None:
        data["preset"] = preset
    return client.post(f"/app/editor/item/{item.id}", data=data)


def audit_rows(app, item_id=None):
    with app.app_context():
        query = select(AuditEntry).order_by(AuditEntry.id)
        if item_id is not None:
            query = query.where(AuditEntry.submission_id == item_id)
        return db.session().scalars(query).all()


def test_queue_counts_masks_and_orders_oldest_due_first(app, client, editor):
    first = item_by_code(app, code_of(ask(client)))
    code_of(voice(client))
    second = item_by_code(app, code_of(ask(client, contact="13987654321", name="李四")))
    page = editor.get("/app/editor/").get_data(as_text=True)
    assert "138****5678" in page and "139****4321" in page
    assert "13812345678" not in page and "李四" not in page and "李*" in page
    assert page.index(f"#{first.id} ") < page.index(f"#{second.id} ")
    counts = editor.get("/app/editor/?kind=question&state=received").get_data(as_text=True)
    assert f"#{first.id} " in counts and "流动党员之声：在外打工" not in counts


def test_answer_shows_on_tracking_page(app, client, editor):
    code = code_of(ask(client))
    item = item_by_code(app, code)
    empty = act(editor, item, "answer", text="")
    assert empty.status_code == 400 and "请填写答复内容。" in empty.get_data(as_text=True)
    assert act(editor, item, "answer", text="外出半年以上且地点固定，应转移组织关系。"
               ).status_code == 303
    page = client.get(f"/app/ask/{code}").get_data(as_text=True)
    assert "已答复" in page and "应转移组织关系" in page
    rows = audit_rows(app, item.id)
    assert [(r.action, r.from_state, r.to_state, r.actor) for r in rows] == [
        ("submit", None, "received", "member"),
        ("answer", "received", "answered", "编辑甲")]


def test_two_editors_on_one_item_conflict(app, client, editor):
    add_user(app, "编辑乙", role="editor")
    other = app.test_client()
    login(other, "编辑乙")
    item = item_by_code(app, code_of(voice(client)))
    assert act(editor, item, "approve").status_code == 303
    late = act(other, item, "reject", text="与栏目主题无关")  # loaded the same version
    assert late.status_code == 409
    assert "刚被其他编辑处理过" in late.get_data(as_text=True)
    item = item_by_code(app, item.code)
    assert (item.state, item.reason, item.version) == ("approved", None, 2)
    assert [r.action for r in audit_rows(app, item.id)] == ["submit", "approve"]


def test_reject_with_preset_reason_and_request_changes(app, client, editor):
    item = item_by_code(app, code_of(voice(client)))
    assert act(editor, item, "reject").status_code == 400  # a reason is required
    act(editor, item, "reject", preset="内容与已发表文章重复")
    item = item_by_code(app, item.code)
    assert (item.state, item.reason) == ("rejected", "内容与已发表文章重复")
    page = client.get(f"/app/voice/{item.code}").get_data(as_text=True)
    assert "未采用" in page and "内容与已发表文章重复" in page


def test_action_not_allowed_in_state(app, client, editor):
    item = item_by_code(app, code_of(ask(client)))
    response = act(editor, item, "approve")  # articles are approved, questions answered
    assert response.status_code == 409 and "当前状态下不能" in response.get_data(as_text=True)
    assert item_by_code(app, item.code).state == "received"


def test_bulk_approve_and_reject(app, client, editor):
    items = [item_by_code(app, code_of(voice(client))) for _ in range(3)]
    values = [f"{i.id}:{i.version}" for i in items]
    act(editor, items[0], "spam")  # someone else got there first
    response = editor.post("/app/editor/bulk", data={"action": "approve", "item": values},
                           follow_redirects=True)
    assert "已采用 2 条。1 条已被他人处理或不适用" in response.get_data(as_text=True)
    states = [item_by_code(app, i.code).state for i in items]
    assert states == ["spam", "approved", "approved"]
    missing_reason = editor.post("/app/editor/bulk", data={"action": "reject", "item": values},
                                 follow_redirects=True)
    assert "批量不予采用需要选择理由" in missing_reason.get_data(as_text=True)


def test_reveal_is_audited_and_logs_hold_no_full_phone(app, client, editor):
    item = item_by_code(app, code_of(ask(client)))
    page = editor.get(f"/app/editor/item/{item.id}").get_data(as_text=True)
    assert "138****5678" in page and "13812345678" not in page
    shown = editor.post(f"/app/editor/item/{item.id}/reveal").get_data(as_text=True)
    assert "13812345678" in shown
    rows = audit_rows(app)
    assert ("reveal", "编辑甲") in [(r.action, r.actor) for r in rows]
    assert all("13812345678" not in (r.detail or "") for r in rows)
    assert all(r.ip == "127.0.0.1" for r in rows if r.action == "reveal")


def test_audit_log_is_append_only_in_the_database(app, client, editor):
    code_of(ask(client))
    with app.app_context():
        s = db.session()
        for statement in ("UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log"):
            with pytest.raises(Exception, match="append-only"):
                s.execute(text(statement))
            s.rollback()
        actors = s.scalars(select(AuditEntry.actor).order_by(AuditEntry.id)).all()
        assert actors == ["编辑甲", "member"]  # the login, then the submission


def test_pause_while_referred_then_resume(app, client, editor):
    item = item_by_code(app, code_of(ask(client)))
    act(editor, item, "refer")
    referred = item_by_code(app, item.code)
    assert referred.state == "referred" and referred.paused_remaining > 0
    page = editor.get("/app/editor/").get_data(as_text=True)
    assert "呈报批示中，暂停计时" in page
    act(editor, referred, "resume")
    resumed = item_by_code(app, item.code)
    assert resumed.state == "received" and resumed.paused_remaining is None
    # The new due time is the remaining working time counted from the return.
    assert resumed.due_at >= referred.due_at - timedelta(seconds=5)


def test_overdue_and_due_today_stand_out(app, client, editor):
    old = item_by_code(app, code_of(ask(client)))
    with app.app_context():
        s = db.session()
        s.execute(text("UPDATE submissions SET due_at = :d WHERE id = :i"),
                  {"d": old.due_at - timedelta(days=10), "i": old.id})
        s.commit()
    page = editor.get("/app/editor/").get_data(as_text=True)
    assert 'class="due-overdue"' in page and "已超期" in page


def test_calendar_gap_is_visible(app, client, editor):
    item = item_by_code(app, code_of(ask(client)))
    with app.app_context():
        s = db.session()
        s.execute(text("UPDATE submissions SET calendar_uncertain = :t WHERE id = :i"),
                  {"t": True, "i": item.id})
        s.commit()
    assert "日历未覆盖" in editor.get("/app/editor/").get_data(as_text=True)


def test_queue_pages_by_keyset(app, client, editor):
    with app.app_context():
        s = db.session()
        first = item_by_code(app, code_of(ask(client)))
        base = s.get(Submission, first.id)
        for n in range(60):
            s.add(Submission(kind="question", code=f"{n:02d}".rjust(16, "A"), state="received",
                             due_at=base.due_at + timedelta(minutes=n), body=f"第{n}个问题",
                             created_at=base.created_at, updated_at=base.created_at))
        s.commit()
    page = editor.get("/app/editor/").get_data(as_text=True)
    assert page.count('name="item"') == 50 and "下一页" in page
    import re

    after = re.search(r"after=([^\"&]+)", page)[1]
    rest = editor.get(f"/app/editor/?after={after}").get_data(as_text=True)
    assert rest.count('name="item"') == 11 and "下一页" not in rest
    assert "第59个问题" in rest and "第59个问题" not in page
