"""The append-only audit log: logins, refusals, moderation, reveals, exports."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from forms_app.models import AuditEntry, Submission, User
from forms_app.states import DEPARTURE, HELP, QUESTION, REJECT_REASONS, RETURN, THOUGHT, VOICE

log = logging.getLogger(__name__)

ACTION_LABELS = {
    "submit": "提交", "answer": "答复", "refer": "呈报批示", "resume": "批示返回",
    "approve": "采用", "request_changes": "请作者修改", "reject": "不予采用",
    "spam": "标为垃圾信息", "publish": "发布到网站", "archive": "归档", "withdraw": "撤回",
    "revise": "作者修改后重新提交", "erase": "删除个人信息", "reveal": "查看完整个人信息",
    "login": "登录", "login_failed": "登录失败", "logout": "退出登录", "export": "导出",
    "export_ledger": "导出台账",
    # Account recovery (forms_app/recovery.py); the codes themselves are never logged.
    "recovery_code": "重新生成恢复码", "reset_code": "生成重设密码码",
    "password_reset": "凭恢复码或重设码重设密码", "password_reset_failed": "重设密码未成功",
    "confirm_study": "确认学习记录", "confirm_orglife": "确认组织生活记录",
    "declare_duties": "更新党费和活动证信息", "password": "修改密码", "pair": "结对帮学",
    "set_mobile": "标记是否流动党员",
    "confirm_public": "确认公开内容", "publish_refused": "未能发布", "unpublish": "从网站撤下",
    "rebuild_ok": "网站重新生成成功", "rebuild_failed": "网站重新生成失败",
    # 结对帮学 (forms_app/pairs): what a study buddy records for a paired member.
    "contact_note": "记录联系（结对帮学）", "home_study": "代记学习（送学上门）",
    "buddy_notice": "发出通报（结对帮学）",
    "record_visit": "记录走访", "acknowledge": "已阅并记录", "reopen": "求助人说问题还没解决",
}
# What a member sees of an item's history on its tracking page (never who or where).
PUBLIC_LABELS = {
    "submit": "已登记", "answer": "已答复", "refer": "呈报领导批示",
    "resume": "批示已返回，继续办理", "approve": "已采用",
    "request_changes": "请作者修改", "reject": "未采用",
    "publish": "已发布到网站", "withdraw": "已撤回", "revise": "作者已修改",
    "erase": "个人信息和内容已删除", "archive": "已归档", "unpublish": "已从网站撤下",
    "record_visit": "支部已走访或来电", "acknowledge": "支部已阅",
    "reopen": "您说问题还没解决，支部将再联系您",
}


# A member is recorded as "member:<user id>", never by username: the log keeps who did
# what without naming the person, and deleting the account leaves nothing that names them.
# Editors and admins keep their username (staff are accountable by name). Registered
# usernames cannot contain ":", so a pseudonym never equals a member's username.
PSEUDONYM_PREFIX = "member:"
# Actors that are not accounts: someone using a tracking code, a failed login.
GENERIC_ACTORS = {"member": "投稿人（凭查询码）", "anonymous": "未登录的访客"}
# On an item's page the one holding its code is that item's asker or author.
CODE_HOLDER_LABELS = {"member": {QUESTION: "提问人（凭查询码）", VOICE: "投稿人（凭查询码）",
                                 HELP: "求助人（凭查询码）", DEPARTURE: "报告人",
                                 RETURN: "报告人", THOUGHT: "报告人"}}
DELETED_MEMBER = "已删除的成员"


def actor_name(user: User) -> str:
    """The name the audit log records for a signed-in user acting."""
    if user.is_editor:
        return user.username
    return f"{PSEUDONYM_PREFIX}{user.id}"


def fixed_detail(text: str | None) -> str | None:
    """What of an answer or reason may go into the log: only a fixed phrase of the reason
    list. Free text can quote a member's personal data and stays out of the log."""
    return text if text in REJECT_REASONS else None


def _member_id(actor: str) -> int | None:
    ident = actor.removeprefix(PSEUDONYM_PREFIX)
    if actor.startswith(PSEUDONYM_PREFIX) and ident.isdigit():
        return int(ident)
    return None


def actor_labels(session: Session, entries: Iterable[AuditEntry]) -> dict[int, str]:
    """A readable label for each entry's actor, by entry id: a member's username while the
    account exists, 已删除的成员 after it was deleted. An account created after the entry
    is not the one that acted (SQLite may give a deleted member's id to a new account)."""
    entries = list(entries)
    ids = {i for i in (_member_id(e.actor) for e in entries) if i is not None}
    users: dict[int, tuple[str, datetime]] = {}
    if ids:
        users = {ident: (name, created) for ident, name, created in session.execute(
            select(User.id, User.username, User.created_at).where(User.id.in_(ids)))}
    labels = {}
    for e in entries:
        ident = _member_id(e.actor)
        if ident is None:
            labels[e.id] = GENERIC_ACTORS.get(e.actor, e.actor)
        elif ident in users and users[ident][1] <= e.at:
            labels[e.id] = users[ident][0]
        else:
            labels[e.id] = f"{DELETED_MEMBER}（编号 {ident}）"
    return labels


def record(session: Session, actor: str, action: str, ip: str | None = None,
           item: Submission | None = None, from_state: str | None = None,
           to_state: str | None = None, detail: str | None = None) -> None:
    """Add one row to the session's transaction; the caller commits."""
    session.add(AuditEntry(actor=actor[:40], ip=ip, action=action,
                           submission_id=item.id if item is not None else None,
                           from_state=from_state, to_state=to_state, detail=detail))
    log.info("audit %s %s item=%s %s->%s", actor, action,
             item.id if item is not None else "-", from_state, to_state)
